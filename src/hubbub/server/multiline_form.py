"""draft/multiline messages as lines (https://ircv3.net/specs/extensions/multiline):
the line composition kept with a stored message, and the two forms a
recipient gets, a ``draft/multiline`` batch or the fallback lines.

Shared by live delivery (``commands/multiline``) and history replay
(``history_lines``), so a replayed multiline message looks like the live one.
Pure functions: no I/O, no world.
"""

from __future__ import annotations

import itertools

from hubbub.protocol.message import serialize_body

CAP = "draft/multiline"
BATCH_TYPE = "draft/multiline"
CONCAT_TAG = "draft/multiline-concat"
# The stored tag that keeps a multiline message's line composition. It is
# never sent: only tags starting with "+" (client tags) are replayed.
COMPOSITION_KEY = "multiline"

Line = tuple[str, bool]  # text, joined to the previous line without a line feed

_refs = itertools.count(1)


def batch_reference() -> str:
    """A fresh reference for a batch the server opens."""
    return f"m{next(_refs)}"


def combine(lines: list[Line]) -> str:
    """The message's value: lines joined by a line feed, or by nothing
    where ``draft/multiline-concat`` was set."""
    parts: list[str] = []
    for index, (text, concat) in enumerate(lines):
        if index and not concat:
            parts.append("\n")
        parts.append(text)
    return "".join(parts)


def composition(lines: list[Line]) -> str:
    """How ``combine`` joined the lines: each line's length, ``c`` when it
    was concatenated (``5,8,9c``)."""
    return ",".join(f"{len(text)}{'c' if concat else ''}" for text, concat in lines)


def split(text: str, layout: str) -> list[Line] | None:
    """The lines back from ``combine``'s text and ``composition``'s layout;
    None if they do not match (a damaged row: replay it as one line)."""
    lines: list[Line] = []
    position = 0
    for index, entry in enumerate(layout.split(",")):
        concat = entry.endswith("c")
        digits = entry[:-1] if concat else entry
        if not digits.isdigit():
            return None
        if index and not concat:
            if text[position : position + 1] != "\n":
                return None
            position += 1
        end = position + int(digits)
        lines.append((text[position:end], concat))
        position = end
    return lines if position == len(text) else None


def _line(tags: list[str], body: str) -> bytes:
    prefix = "@" + ";".join(tag for tag in tags if tag) + " " if any(tags) else ""
    return (prefix + body + "\r\n").encode()


def batch_form(
    source: str,
    command: str,
    target: str,
    lines: list[Line],
    opener_tags: list[str],
    outer: str | None = None,
) -> list[bytes]:
    """The message as a ``draft/multiline`` batch: the message's tags on the
    opening BATCH, none but ``batch`` (and concat) on the lines."""
    ref = batch_reference()
    within = f"batch={outer}" if outer else ""
    opener = serialize_body(source, "BATCH", ["+" + ref, BATCH_TYPE, target])
    out = [_line([within, *opener_tags], opener)]
    for text, concat in lines:
        tags = ["batch=" + ref, CONCAT_TAG if concat else ""]
        out.append(_line(tags, serialize_body(source, command, [target, text])))
    out.append(_line([within], serialize_body(None, "BATCH", ["-" + ref])))
    return out


def fallback_form(
    source: str,
    command: str,
    target: str,
    lines: list[Line],
    first_tags: list[str],
    other_tags: list[str],
    outer: str | None = None,
) -> list[bytes]:
    """The message for a client without the cap: one line per line sent,
    blank ones left out, the msgid on the first only."""
    within = f"batch={outer}" if outer else ""
    out: list[bytes] = []
    for text, _concat in lines:
        if not text:
            continue
        tags = first_tags if not out else other_tags
        out.append(_line([within, *tags], serialize_body(source, command, [target, text])))
    return out
