"""IRC message parsing and serialisation with IRCv3 tags (sans-I/O).

Follows https://modern.ircdocs.horse/#message-format and
https://ircv3.net/specs/extensions/message-tags. Nothing here touches a socket:
the network layer hands in one line (without its line ending) and gets a
:class:`Message` back, or hands in a :class:`Message` and gets bytes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The body (everything after the tags) may be 512 bytes including CR LF.
MAX_BODY_BYTES = 512
# Tags sent by a client may take 4094 bytes (plus '@' and ' ');
# the whole tag section of a server message may take 8191.
MAX_CLIENT_TAG_BYTES = 4096
MAX_TAG_BYTES = 8191
MAX_PARAMS = 15
# What a line we send may take before CR LF (tags not counted).
MAX_BODY_TEXT = MAX_BODY_BYTES - 2
# Bodies this short fit however they encode: UTF-8 takes at most 4 bytes a character.
_ALWAYS_FITS = MAX_BODY_TEXT // 4

_TAG_ESCAPES = {";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"}
_TAG_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
# A line starting with none of '@', ':', ' ' (nor empty) has no tags and no source.
_PLAIN_START = frozenset(chr(c) for c in range(0x21, 0x80) if chr(c) not in "@:")


class ProtocolError(ValueError):
    """A line that cannot be accepted; ``reason`` says why in a stable word."""

    def __init__(self, reason: str, command: str = "*") -> None:
        super().__init__(reason)
        self.reason = reason
        self.command = command


class EmptyLine(ProtocolError):
    def __init__(self) -> None:
        super().__init__("empty")


class InvalidUTF8(ProtocolError):
    def __init__(self, command: str) -> None:
        super().__init__("invalid-utf8", command)


class TagsTooLong(ProtocolError):
    def __init__(self, command: str = "*") -> None:
        super().__init__("tags-too-long", command)


class LineTooLong(ProtocolError):
    def __init__(self, command: str = "*") -> None:
        super().__init__("line-too-long", command)


class ForbiddenCharacter(ProtocolError):
    def __init__(self, command: str = "*") -> None:
        super().__init__("forbidden-character", command)


class TooManyParams(ProtocolError):
    def __init__(self, command: str) -> None:
        super().__init__("too-many-params", command)


@dataclass(slots=True)
class Message:
    """One IRC message. ``tags`` maps key to value ('' for a tag with no value)."""

    command: str
    params: list[str] = field(default_factory=list)
    source: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def param(self, index: int, default: str = "") -> str:
        return self.params[index] if index < len(self.params) else default

    def to_bytes(self) -> bytes:
        return serialize(self)

    def __str__(self) -> str:
        return serialize(self).decode("utf-8", "replace").rstrip("\r\n")


def escape_tag_value(value: str) -> str:
    if not any(ch in value for ch in _TAG_ESCAPES):
        return value
    return "".join(_TAG_ESCAPES.get(ch, ch) for ch in value)


def unescape_tag_value(raw: str) -> str:
    """Unescape per the message-tags spec: unknown escapes drop the backslash,
    a trailing lone backslash is dropped."""
    if "\\" not in raw:
        return raw
    out: list[str] = []
    i = 0
    n = len(raw)
    while i < n:
        ch = raw[i]
        if ch == "\\":
            if i + 1 < n:
                nxt = raw[i + 1]
                out.append(_TAG_UNESCAPES.get(nxt, nxt))
                i += 2
            else:
                i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def parse_tags(raw: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in raw.split(";"):
        if not item:
            continue
        key, eq, value = item.partition("=")
        if not key:
            continue
        tags[key] = unescape_tag_value(value) if eq else ""
    return tags


def _guess_command(data: bytes) -> str:
    """Best-effort command name of a line we are about to reject."""
    text = data.decode("utf-8", "replace")
    parts = text.split(" ")
    i = 0
    if parts and parts[0].startswith("@"):
        i += 1
    while i < len(parts) and not parts[i]:
        i += 1
    if i < len(parts) and parts[i].startswith(":"):
        i += 1
    while i < len(parts) and not parts[i]:
        i += 1
    command = parts[i].upper() if i < len(parts) else "*"
    if not command or any(not (c.isascii() and c.isalnum()) for c in command):
        return "*"
    return command


def parse_line(data: bytes, *, client: bool = True) -> Message:
    """Parse one line (without CR LF) received from the network.

    ``client`` selects the client-side tag limit (4094 bytes of tags). Raises a
    :class:`ProtocolError` subclass for a line that must be rejected.
    """
    tag_limit = MAX_CLIENT_TAG_BYTES if client else MAX_TAG_BYTES + 1
    if data.startswith(b"@"):
        space = data.find(b" ")
        tag_len = space if space != -1 else len(data)
        if tag_len + 1 > tag_limit:
            raise TagsTooLong(_guess_command(data[tag_len:]))
        body_len = len(data) - tag_len - 1
    else:
        body_len = len(data)
    if body_len + 2 > MAX_BODY_BYTES:
        raise LineTooLong(_guess_command(data))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidUTF8(_guess_command(data)) from None
    return parse(text)


def parse(text: str) -> Message:
    """Parse one line of text (no line ending) into a :class:`Message`."""
    if "\0" in text or "\r" in text or "\n" in text:
        raise ForbiddenCharacter(_guess_command(text.encode("utf-8", "replace")))
    if text[:1] in _PLAIN_START:
        # The common line (no tags, no source, no leading space), kept short:
        # this runs for every line every client sends.
        head, sep, trailing = text.partition(" :")
        words = head.split(" ")
        if "" in words:
            words = [w for w in words if w]
        if not words:
            raise EmptyLine()
        if sep:
            words.append(trailing)
        if len(words) > MAX_PARAMS + 1:
            raise TooManyParams(words[0].upper())
        return Message(words[0].upper(), words[1:], None, {})
    return _parse_general(text)


def _parse_general(text: str) -> Message:
    tags: dict[str, str] = {}
    source: str | None = None
    rest = text.lstrip(" ")
    if rest.startswith("@"):
        raw_tags, _, rest = rest[1:].partition(" ")
        tags = parse_tags(raw_tags)
        rest = rest.lstrip(" ")
    if rest.startswith(":"):
        source, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    if not rest:
        raise EmptyLine()
    trailing: str | None = None
    head, sep, tail = rest.partition(" :")
    if sep:
        trailing = tail
    elif rest.startswith(":"):
        head, trailing = "", rest[1:]
    words = [w for w in head.split(" ") if w]
    if not words:
        raise EmptyLine()
    command = words[0].upper()
    params = words[1:]
    if trailing is not None:
        params.append(trailing)
    if len(params) > MAX_PARAMS:
        raise TooManyParams(command)
    return Message(command, params, source, tags)


def _clean(value: str) -> str:
    if "\r" in value or "\n" in value or "\0" in value:
        return value.replace("\r", " ").replace("\n", " ").replace("\0", "")
    return value


def format_tags(tags: dict[str, str]) -> str:
    parts = []
    for key, value in tags.items():
        parts.append(f"{key}={escape_tag_value(value)}" if value else key)
    return ";".join(parts)


def fit_body(body: str) -> str:
    """``body`` cut to MAX_BODY_TEXT bytes at a character boundary.

    The 512-byte limit is the reader's buffer: a longer line is dropped or
    split by clients. What gets cut is the end, i.e. the trailing text.
    """
    if len(body) <= _ALWAYS_FITS:
        return body
    data = body.encode()
    if len(data) <= MAX_BODY_TEXT:
        return body
    return data[:MAX_BODY_TEXT].decode("utf-8", "ignore")  # drops a split character


def serialize_body(source: str | None, command: str, params: list[str]) -> str:
    """The part of a line after the tags, without CR LF, within 510 bytes."""
    parts: list[str] = []
    if source:
        parts.append(":" + _clean(source).replace(" ", ""))
    parts.append(command)
    last = len(params) - 1
    for i, param in enumerate(params):
        param = _clean(param)
        if i == last and (not param or " " in param or param.startswith(":")):
            parts.append(":" + param)
        else:
            # A middle parameter can hold no space and cannot start with ':'.
            parts.append(param.replace(" ", "").lstrip(":") or "*")
    return fit_body(" ".join(parts))


def serialize(msg: Message) -> bytes:
    """Serialise ``msg`` to one line with CR LF; CR, LF and NUL never get through."""
    body = serialize_body(msg.source, msg.command, msg.params)
    if msg.tags:
        return f"@{format_tags(msg.tags)} {body}\r\n".encode()
    return f"{body}\r\n".encode()
