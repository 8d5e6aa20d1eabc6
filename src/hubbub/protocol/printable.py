"""Text from the network made safe to show: another user's message must not
drive our terminal. ESC starts escape sequences that can rewrite the screen,
the window title or the clipboard; C1 controls (U+0080-U+009F) do the same on
many terminals; other C0 controls and DEL move the cursor or erase. Each is
replaced by a visible stand-in ("^[" for ESC, as ``cat -v`` shows it), so the
person sees that something was sent without it taking effect."""

from __future__ import annotations

import re

_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


def _stand_in(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x09:
        return " "
    if code < 0x20:
        return "^" + chr(code + 0x40)
    if code == 0x7F:
        return "^?"
    return f"<U+{code:04X}>"


def printable(text: str) -> str:
    """``text`` with every C0 control, DEL and C1 control made visible.
    Run it after removing the IRC formatting codes, which are controls too."""
    return _CONTROLS.sub(_stand_in, text)
