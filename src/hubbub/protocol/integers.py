"""Strict parsing of the numbers clients send (limits, counts, versions).

``str.isdigit()`` is true for ``²`` and other scripts' digits, which
``int()`` then rejects or reads: numbers on the wire are ASCII decimals.
"""

from __future__ import annotations

# Longer numbers are not counts anyone means; int() on them is also slow.
MAX_DIGITS = 18


def ascii_int(text: str, max_digits: int = MAX_DIGITS) -> int | None:
    """The value of an unsigned ASCII decimal of at most ``max_digits``
    digits; None for anything else (sign, spaces, ``_``, ``²``, empty)."""
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None
