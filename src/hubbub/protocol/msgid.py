"""The msgid the server gives a message, and the history row id it names.

A message's msgid is ``H`` then its row id in decimal, the id being
``boot << 40 | counter``: the boot number is handed out by the database at
each server start, the counter counts that boot's events. Storing a message
then needs no msgid index (the id is the primary key) and a msgid given back
(CHATHISTORY, REDACT) is found by decoding it. Decimal, not hex: formatting
it, once for every message sent with tags, is a third cheaper
(docs/performance.md, "The cheaper history row").

Only the exact form decodes: ``H``, ASCII digits, no leading zero, an id of
boot 1 or later. Every other msgid (those made before migration 0010, eight hex
digits and a hex counter, or whatever a test or an import stored) is never
mistaken for one: it is not derived, and is stored as text.
"""

from __future__ import annotations

PREFIX = "H"  # never in an older msgid (lowercase hex)
BOOT_SHIFT = 40  # the counter's bits: a boot hands out 2**40 ids at most
FIRST_ID = 1 << BOOT_SHIFT  # boot 1, counter 0: ids below are not derived
LAST_BOOT = (1 << (63 - BOOT_SHIFT)) - 1  # ids stay within a signed 64-bit integer
_END = (LAST_BOOT + 1) << BOOT_SHIFT


def first_id(boot: int) -> int:
    """The first id of ``boot``; its ids run up to ``first_id(boot + 1)``."""
    if not 1 <= boot <= LAST_BOOT:
        raise ValueError(f"boot number {boot} out of range 1..{LAST_BOOT}")
    return boot << BOOT_SHIFT


def msgid(row_id: int) -> str:
    """The msgid of the message stored as ``row_id`` (``Event.msgid`` inlines it)."""
    return f"{PREFIX}{row_id}"


def row_id(text: str) -> int | None:
    """The row id ``text`` names if it is a derived msgid, else None."""
    if text[:1] != PREFIX:
        return None
    try:
        value = int(text[1:])
    except ValueError:
        return None
    # int() also takes "+", "_", spaces, other scripts' digits and leading
    # zeros: only the one spelling ``msgid`` makes is derived.
    if not FIRST_ID <= value < _END or f"{PREFIX}{value}" != text:
        return None
    return value
