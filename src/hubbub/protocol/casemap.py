"""Case-folding and validity rules for nicknames and channel names."""

from __future__ import annotations

CASEMAPPING = "ascii"
CHANTYPES = "#"

_NICK_SPECIAL = set("[]\\`_^{|}")
_NICK_FIRST = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") | _NICK_SPECIAL
_NICK_REST = _NICK_FIRST | set("0123456789-")
# Space, comma and BEL (modern IRC), ':' and every other control character
# (< 0x20 and DEL): a channel name is shown in clients and must not steer them.
_CHANNEL_FORBIDDEN = set(" ,:\x7f") | {chr(code) for code in range(0x20)}


def fold(name: str) -> str:
    """Fold a nick or channel name for comparison (CASEMAPPING=ascii)."""
    return name.lower() if name.isascii() else name.encode().lower().decode()


def is_channel_name(name: str) -> bool:
    return bool(name) and name[0] in CHANTYPES


def valid_nick(nick: str, maxlen: int) -> bool:
    if not nick or len(nick) > maxlen or nick[0] not in _NICK_FIRST:
        return False
    return all(ch in _NICK_REST for ch in nick)


def valid_channel(name: str, maxlen: int) -> bool:
    if len(name) < 2 or len(name) > maxlen or name[0] not in CHANTYPES:
        return False
    return not any(ch in _CHANNEL_FORBIDDEN for ch in name)
