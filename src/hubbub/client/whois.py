"""WHOIS replies as sentences (https://modern.ircdocs.horse/#whois-message):
each numeric names the person first, then fields whose meaning depends on
the code, which nobody should have to know to read the answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from hubbub.protocol import numerics as rpl

RPL_WHOISBOT = "335"


def duration(seconds: int) -> str:
    """``3725`` -> ``1h 2m 5s``: idle times read at a glance."""
    days, rest = divmod(max(0, seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if days or hours:
        parts.append(f"{hours}h")
    if days or hours or minutes:
        parts.append(f"{minutes}m")
    parts.append(f"{secs}s")
    return " ".join(parts)


def _idle(p: list[str]) -> str | None:
    if len(p) < 3 or not p[1].isdigit():
        return None
    text = f"{p[0]} has been idle {duration(int(p[1]))}"
    if p[2].isdigit():
        signon = datetime.fromtimestamp(int(p[2]), UTC).astimezone()
        text += f", signed on {signon:%Y-%m-%d %H:%M:%S}"
    return text


def _trailing(p: list[str]) -> str:
    return p[-1] if len(p) > 1 else ""


# code -> (fewest parameters after our nick, sentence from those parameters)
_FORMATS: dict[str, tuple[int, Callable[[list[str]], str | None]]] = {
    rpl.RPL_WHOISUSER: (5, lambda p: f"{p[0]} is {p[1]}@{p[2]} (real name: {p[4]})"),
    rpl.RPL_WHOISCHANNELS: (2, lambda p: f"{p[0]} is on {p[1]}"),
    rpl.RPL_WHOISSERVER: (3, lambda p: f"{p[0]} is connected to {p[1]} ({p[2]})"),
    rpl.RPL_WHOISOPERATOR: (1, lambda p: f"{p[0]} is an IRC operator"),
    RPL_WHOISBOT: (2, lambda p: f"{p[0]} {p[1]}"),
    rpl.RPL_AWAY: (2, lambda p: f"{p[0]} is away: {p[1]}"),
    rpl.RPL_WHOISIDLE: (3, _idle),
    rpl.RPL_WHOISACCOUNT: (2, lambda p: f"{p[0]} is logged in as {p[1]}"),
    rpl.RPL_WHOISSECURE: (1, lambda p: f"{p[0]} is using a secure connection (TLS)"),
    rpl.RPL_WHOISHOST: (2, lambda p: f"{p[0]} {_trailing(p)}"),
    rpl.RPL_WHOISACTUALLY: (
        2,
        lambda p: f"{p[0]} is actually connecting from {' '.join(p[1:-1]) or p[1]}",
    ),
    rpl.RPL_WHOISCERTFP: (2, lambda p: f"{p[0]} {_trailing(p)}"),
    rpl.RPL_WHOISREGNICK: (1, lambda p: f"{p[0]} has identified for this nick"),
    rpl.RPL_WHOISSPECIAL: (2, lambda p: f"{p[0]} {_trailing(p)}"),
    rpl.RPL_WHOISMODES: (2, lambda p: f"{p[0]} {_trailing(p)}"),
    rpl.RPL_ENDOFWHOIS: (1, lambda p: f"End of WHOIS for {p[0]}"),
}


def describe(code: str, params: list[str]) -> str | None:
    """The sentence for a WHOIS numeric (``params`` without our own nick), or
    None when ``code`` is not one or is too short to read."""
    entry = _FORMATS.get(code)
    if entry is None or len(params) < entry[0]:
        return None
    return entry[1](params)
