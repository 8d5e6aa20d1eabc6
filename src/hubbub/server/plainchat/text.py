"""Text made safe for a plain-chat user's terminal. nc and telnet write what
they get straight to it: another user's ESC sequence could rewrite the
screen or the window title, a C1 control likewise on many terminals. IRC
formatting codes (bold, colours...) are removed, since nothing would draw
them; every other control character is shown as ``cat -v`` shows it (``^[``,
:func:`hubbub.protocol.printable.printable`), so the reader sees that
something was sent without it taking effect."""

from __future__ import annotations

import re

from hubbub.protocol.printable import printable

# Colour (\x03 fg[,bg]), hex colour (\x04 rrggbb[,rrggbb]), then the
# one-character codes: bold, italics, underline, strikethrough, monospace,
# reverse, reset.
_FORMATTING = re.compile(
    r"\x03(?:\d{1,2}(?:,\d{1,2})?)?"
    r"|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?"
    r"|[\x02\x1d\x1f\x1e\x11\x16\x0f]"
)


def terminal_safe(text: str) -> str:
    """``text`` without IRC formatting and with no control character left."""
    return printable(_FORMATTING.sub("", text))


# Telnet commands (RFC 854): IAC WILL/WONT/DO/DONT <option>, or IAC <command>.
# telnet sends them when a key such as Ctrl-C is pressed; they are not text.
_TELNET_COMMAND = re.compile(rb"\xff[\xfb-\xfe].|\xff[\xf0-\xfa]", re.DOTALL)


def without_telnet_commands(raw: bytes) -> bytes:
    """``raw`` (one message as received) without telnet's command sequences."""
    return _TELNET_COMMAND.sub(b"", raw) if b"\xff" in raw else raw
