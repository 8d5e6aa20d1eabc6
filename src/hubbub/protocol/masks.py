"""Hostmask wildcard matching (``*`` and ``?``) for bans, exceptions, LIST and WHO.

Any connected user supplies masks (LIST, WHO, WHOIS, +b/+e/+I, ``$a:``), so
matching must never backtrack exponentially: a translated regex such as
``.*a.*a.*a.*b`` froze the event loop for seconds on a 16-byte mask. Here a
mask is split at its ``*`` into fixed-length pieces (literals and ``?``);
the first must match at the start, the last at the end, and each one between
is found greedily leftmost after the previous. Greedy leftmost is exact for
``*``-separated pieces, so no piece is ever retried: the work is at most
``len(mask) * len(text)`` character comparisons, done by the C regex engine
on quantifier-free patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from hubbub.protocol.casemap import fold

# A mask with more ``*`` than this (after ``**`` collapses to ``*``) matches
# nothing and is refused as a list mode. Real masks use a handful; each ``*``
# costs one search per match, and ban lists are matched on every message.
MAX_WILDCARDS = 16


def _piece(source: str) -> re.Pattern[str]:
    """A fixed-length pattern: literals and ``?`` only, hence no backtracking."""
    return re.compile("".join("." if ch == "?" else re.escape(ch) for ch in source), re.DOTALL)


@dataclass(frozen=True, slots=True)
class Glob:
    """A compiled mask: ``head * middle[0] * ... * tail`` (or one exact piece)."""

    head: re.Pattern[str]
    head_len: int
    middle: tuple[re.Pattern[str], ...]
    tail: re.Pattern[str] | None  # None: the mask has no ``*``
    tail_len: int
    usable: bool  # False: over MAX_WILDCARDS, matches nothing

    def matches(self, text: str) -> bool:
        if not self.usable:
            return False
        if self.tail is None:
            return self.head.fullmatch(text) is not None
        end = len(text) - self.tail_len
        if end < self.head_len or self.head.match(text) is None:
            return False
        if self.tail.fullmatch(text, end) is None:
            return False
        position = self.head_len
        for piece in self.middle:
            found = piece.search(text, position, end)
            if found is None:
                return False
            position = found.end()
        return True


def collapse_stars(mask: str) -> str:
    """``a**b`` -> ``a*b``: the same language, fewer pieces."""
    while "**" in mask:
        mask = mask.replace("**", "*")
    return mask


def within_wildcard_cap(mask: str) -> bool:
    """False for a mask over the wildcard cap (it would match nothing)."""
    return collapse_stars(mask).count("*") <= MAX_WILDCARDS


@lru_cache(maxsize=2048)
def compile_mask(mask: str) -> Glob:
    """Compile a mask once. The cache is bounded: a Glob at the wildcard cap
    with a 500-byte mask takes about 10 KB, so hostile masks cost 20 MB at most."""
    folded = collapse_stars(fold(mask))
    pieces = folded.split("*")
    if len(pieces) - 1 > MAX_WILDCARDS:
        return Glob(_piece(""), 0, (), None, 0, usable=False)
    if len(pieces) == 1:
        return Glob(_piece(folded), len(folded), (), None, 0, usable=True)
    head, *middle, tail = pieces  # no middle piece is empty once ** collapsed
    return Glob(
        _piece(head), len(head), tuple(map(_piece, middle)), _piece(tail), len(tail), usable=True
    )


def match(mask: str, text: str) -> bool:
    """True when ``text`` matches the wildcard ``mask`` (case-insensitively)."""
    return compile_mask(mask).matches(fold(text))


def normalize_ban_mask(mask: str) -> str:
    """Complete a partial mask the way servers do: ``nick`` -> ``nick!*@*``."""
    if mask.startswith("$"):
        return mask
    if "!" not in mask and "@" not in mask:
        if "." in mask or ":" in mask:
            return f"*!*@{mask}"
        return f"{mask}!*@*"
    if "!" not in mask:
        return f"*!{mask}"
    if "@" not in mask:
        return f"{mask}@*"
    return mask
