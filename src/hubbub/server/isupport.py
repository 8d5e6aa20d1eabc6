"""RPL_ISUPPORT tokens (https://modern.ircdocs.horse/#rplisupport-005)."""

from __future__ import annotations

from collections.abc import Callable

from hubbub.protocol.casemap import CASEMAPPING, CHANTYPES
from hubbub.server.config import Config
from hubbub.server.state import FLAG_MODES, LIST_MODES, PREFIX_MODES, PREFIX_SYMBOLS

# Extra tokens contributed by later features (e.g. CHATHISTORY), by name.
_EXTRA: dict[str, Callable[[Config], str | None]] = {}


def register_token(name: str, value: Callable[[Config], str | None]) -> None:
    _EXTRA[name] = value


def tokens(config: Config) -> list[str]:
    limits = config.limits
    prefix = "(" + PREFIX_MODES + ")" + "".join(PREFIX_SYMBOLS[m] for m in PREFIX_MODES)
    targmax = limits.targmax
    values: dict[str, str | None] = {
        "AWAYLEN": str(limits.awaylen),
        "BOT": "B",
        "CASEMAPPING": CASEMAPPING,
        "CHANLIMIT": f"{CHANTYPES}:{limits.max_channels_per_user}",
        "CHANMODES": f"{LIST_MODES},k,l,{FLAG_MODES}",
        "CHANNELLEN": str(limits.channellen),
        "CHANTYPES": CHANTYPES,
        "ELIST": "CMNTU",
        "EXCEPTS": "e",
        "EXTBAN": "$,am",
        "HOSTLEN": "64",
        "INVEX": "I",
        "KICKLEN": str(limits.kicklen),
        "MAXLIST": f"{LIST_MODES}:{limits.max_list_entries}",
        "MAXTARGETS": str(targmax),
        "MODES": "4",
        "MONITOR": str(limits.monitor),
        "NETWORK": config.server.network,
        "NICKLEN": str(limits.nicklen),
        "PREFIX": prefix,
        "SAFELIST": None,
        "STATUSMSG": "".join(PREFIX_SYMBOLS[m] for m in PREFIX_MODES),
        "TARGMAX": (
            f"JOIN:,KICK:{targmax},LIST:,MONITOR:,NAMES:,NOTICE:{targmax},PART:,"
            f"PRIVMSG:{targmax},TAGMSG:{targmax},WHOIS:1"
        ),
        "TOPICLEN": str(limits.topiclen),
        "USERLEN": str(limits.userlen),
        "UTF8ONLY": None,
        "WHOX": None,
    }
    for name, make in _EXTRA.items():
        values[name] = make(config)
    return [name if value is None else f"{name}={value}" for name, value in values.items()]


def isupport_lines(config: Config, per_line: int = 13) -> list[list[str]]:
    """Token groups, each small enough for one 005 line."""
    all_tokens = tokens(config)
    return [all_tokens[i : i + per_line] for i in range(0, len(all_tokens), per_line)]
