"""Stable nick colours: the same nick gets the same colour in every client and
every session, chosen from a palette readable on dark and light backgrounds."""

from __future__ import annotations

import zlib

from hubbub.protocol.casemap import fold

PALETTE = (
    "#e06c75",
    "#d19a66",
    "#c8a630",
    "#98c379",
    "#3fb39a",
    "#56b6c2",
    "#61afef",
    "#7f8cf0",
    "#c678dd",
    "#e86fb0",
    "#b5895b",
    "#7aa860",
)


def nick_colour(nick: str) -> str:
    return PALETTE[zlib.crc32(fold(nick).encode()) % len(PALETTE)]
