"""Hostmask wildcard matching (``*`` and ``?``) for bans, exceptions and WHO."""

from __future__ import annotations

import re
from functools import lru_cache

from hubbub.protocol.casemap import fold


@lru_cache(maxsize=4096)
def _compile(mask: str) -> re.Pattern[str]:
    pattern = "".join(
        ".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in fold(mask)
    )
    return re.compile(pattern, re.DOTALL)


def match(mask: str, text: str) -> bool:
    """True when ``text`` matches the wildcard ``mask`` (case-insensitively)."""
    return _compile(mask).fullmatch(fold(text)) is not None


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
