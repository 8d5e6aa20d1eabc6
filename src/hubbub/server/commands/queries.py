"""User queries and presence: WHO (with WHOX), WHOIS, WHOWAS, ISON, USERHOST,
and the list packing MONITOR shares (``presence.py`` has AWAY, SETNAME
and MONITOR, which change state).

Formats follow https://modern.ircdocs.horse and https://ircv3.net (whox,
away-notify, setname, monitor, chghost, bot-mode).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from hubbub.protocol import masks
from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import is_channel_name
from hubbub.protocol.integers import ascii_int
from hubbub.protocol.message import Message
from hubbub.server.api import Context
from hubbub.server.commands.registry import command
from hubbub.server.remote import RemoteSink
from hubbub.server.state import Channel, User

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

# Numerics not (yet) in hubbub.protocol.numerics.
RPL_WHOISBOT = "335"
# Budget for the list part of a numeric that packs several items in one line.
LIST_BUDGET = 400
# WHOX field letters in the order their values appear in RPL_WHOSPCRPL.
WHOX_ORDER = "tcuihsnfdlaor"
HIDDEN_IP = "255.255.255.255"


# --- helpers -------------------------------------------------------------------


def shares_channel(a: User, b: User) -> bool:
    if len(a.channels) > len(b.channels):
        a, b = b, a
    return any(folded in b.channels for folded in a.channels)


def _can_see(viewer: User, target: User) -> bool:
    """May ``viewer`` find ``target`` through a wildcard query (+i hides)?"""
    return (
        viewer is target
        or "i" not in target.modes
        or viewer.is_oper
        or shares_channel(viewer, target)
    )


def _show_ip(viewer: User, target: User) -> str:
    if viewer is target or viewer.is_oper or target.host == target.ip:
        return target.ip
    return HIDDEN_IP


def packed(items: Iterable[str], budget: int = LIST_BUDGET, sep: str = " ") -> list[str]:
    """Join ``items`` into as few strings of at most ``budget`` chars as fit."""
    lines: list[str] = []
    current = ""
    for item in items:
        if current and len(current) + len(sep) + len(item) > budget:
            lines.append(current)
            current = item
        else:
            current = current + sep + item if current else item
    if current:
        lines.append(current)
    return lines


def find_user(ctx: Context, nick: str) -> User | None:
    user = ctx.server.world.find_user(nick)
    return user if user is not None and user.registered else None


# --- WHO -----------------------------------------------------------------------


def _who_flags(viewer: User, target: User, channel: Channel | None) -> str:
    flags = "G" if target.away is not None else "H"
    if target.is_oper:
        flags += "*"
    if channel is not None:
        flags += channel.prefix_of(target, "multi-prefix" in viewer.caps)
    if "B" in target.modes:
        flags += "B"
    return flags


def server_of(server: ServerApi, user: User) -> str:
    """The server a user is connected to: this one, or another node's."""
    sink = user.sink
    return sink.server_name if isinstance(sink, RemoteSink) else server.name


def _who_reply(
    ctx: Context,
    target: User,
    channel: Channel | None,
    fields: str | None,
    token: str,
) -> None:
    viewer = ctx.user
    chan_name = channel.name if channel is not None else "*"
    flags = _who_flags(viewer, target, channel)
    if fields is None:
        ctx.reply(
            rpl.RPL_WHOREPLY,
            chan_name,
            target.user,
            target.host,
            server_of(ctx.server, target),
            target.nick,
            flags,
            f"0 {target.realname}",
        )
        return
    values: list[str] = []
    for letter in WHOX_ORDER:
        if letter not in fields:
            continue
        if letter == "t":
            values.append(token)
        elif letter == "c":
            values.append(chan_name)
        elif letter == "u":
            values.append(target.user)
        elif letter == "i":
            values.append(_show_ip(viewer, target))
        elif letter == "h":
            values.append(target.host)
        elif letter == "s":
            values.append(server_of(ctx.server, target))
        elif letter == "n":
            values.append(target.nick)
        elif letter == "f":
            values.append(flags)
        elif letter == "d":
            values.append("0")
        elif letter == "l":
            values.append(str(max(0, int(time.time() - target.last_active))))
        elif letter == "a":
            values.append(target.account or "0")
        elif letter == "o":
            values.append("n/a")
        elif letter == "r":
            # The realname is last; make it a trailing parameter even if it
            # has no spaces so that an empty realname survives.
            values.append(target.realname)
    ctx.reply(rpl.RPL_WHOSPCRPL, *values)


def _who_matches(mask: str, viewer: User, target: User, server_name: str) -> bool:
    """Whether a WHO mask finds ``target``; only operators (and the user
    themself) may search by the real address behind a cloak."""
    return (
        masks.match(mask, target.nick)
        or masks.match(mask, target.source)
        or masks.match(mask, target.user)
        or masks.match(mask, target.host)
        or masks.match(mask, target.realname)
        or masks.match(mask, server_name)
        or ((viewer.is_oper or viewer is target) and masks.match(mask, target.ip))
    )


@command("WHO", min_params=1, cost=2)
def who(ctx: Context, msg: Message) -> None:
    """WHO <mask> [<flags>[%<fields>[,<token>]]]: list users (WHOX supported)."""
    viewer = ctx.user
    world = ctx.server.world
    mask = msg.params[0]
    options = msg.param(1)
    flags, percent, spec = options.partition("%")
    fields: str | None = None
    token = "0"
    if percent:
        fields, _, raw_token = spec.partition(",")
        if raw_token:
            token = raw_token[:3]
    opers_only = "o" in flags

    def wanted(target: User) -> bool:
        return target.is_oper or not opers_only

    if is_channel_name(mask):
        channel = world.find_channel(mask)
        if channel is not None:
            member = viewer in channel.members
            if member or viewer.is_oper or "s" not in channel.modes:
                for target in list(channel.members):
                    if not member and not viewer.is_oper and "i" in target.modes:
                        continue
                    if wanted(target):
                        _who_reply(ctx, target, channel, fields, token)
    elif mask in ("*", "0") or "*" in mask or "?" in mask:
        everyone = mask in ("*", "0")
        for target in list(world.users.values()):
            if not target.registered or not wanted(target) or not _can_see(viewer, target):
                continue
            if everyone or _who_matches(mask, viewer, target, ctx.server.name):
                _who_reply(ctx, target, None, fields, token)
    else:
        found = find_user(ctx, mask)
        if found is not None:
            if wanted(found):
                _who_reply(ctx, found, None, fields, token)
        else:
            # Not a nick: a username, host or realname (e.g. WHO 127.0.0.1).
            for other in list(world.users.values()):
                if (
                    other.registered
                    and wanted(other)
                    and _can_see(viewer, other)
                    and _who_matches(mask, viewer, other, ctx.server.name)
                ):
                    _who_reply(ctx, other, None, fields, token)
    ctx.reply(rpl.RPL_ENDOFWHO, mask, "End of WHO list")


# --- WHOIS ---------------------------------------------------------------------


def _whois_channels(viewer: User, target: User) -> list[str]:
    multi = "multi-prefix" in viewer.caps
    shown: list[str] = []
    for channel in target.channels.values():
        visible = (
            viewer is target
            or viewer.is_oper
            or viewer in channel.members
            or ("s" not in channel.modes and "i" not in target.modes)
        )
        if visible:
            shown.append(channel.prefix_of(target, multi) + channel.name)
    return shown


def send_whois(ctx: Context, target: User) -> None:
    viewer = ctx.user
    server = ctx.server
    nick = target.nick
    ctx.reply(rpl.RPL_WHOISUSER, nick, target.user, target.host, "*", target.realname)
    channels = _whois_channels(viewer, target)
    budget = LIST_BUDGET - len(server.name) - len(viewer.nick) - len(nick)
    for line in packed(channels, budget):
        ctx.reply(rpl.RPL_WHOISCHANNELS, nick, line)
    if isinstance(target.sink, RemoteSink):  # on another node of the cluster
        ctx.reply(rpl.RPL_WHOISSERVER, nick, target.sink.server_name, "hubbub cluster node")
    else:
        ctx.reply(rpl.RPL_WHOISSERVER, nick, server.name, server.config.server.description)
    if target.is_oper:
        ctx.reply(rpl.RPL_WHOISOPERATOR, nick, "is an IRC operator")
    if "B" in target.modes:
        ctx.reply(RPL_WHOISBOT, nick, f"is a bot on {server.config.server.network}")
    if target.away is not None:
        ctx.reply(rpl.RPL_AWAY, nick, target.away)
    idle = max(0, int(time.time() - target.last_active))
    ctx.reply(
        rpl.RPL_WHOISIDLE, nick, str(idle), str(int(target.signon)), "seconds idle, signon time"
    )
    if target.account is not None:
        ctx.reply(rpl.RPL_WHOISACCOUNT, nick, target.account, "is logged in as")
    if target.plain_chat:
        ctx.reply(
            rpl.RPL_WHOISSPECIAL, nick, "is using plain chat (nc, telnet or a simple chat client)"
        )
    if target.tls:
        ctx.reply(rpl.RPL_WHOISSECURE, nick, "is using a secure connection")
    if viewer is target or viewer.is_oper:
        ctx.reply(
            rpl.RPL_WHOISHOST, nick, f"is connecting from {target.user}@{target.host} {target.ip}"
        )
        ctx.reply(rpl.RPL_WHOISACTUALLY, nick, target.ip, "Is actually using host")
    for hook in server.hooks.whois:
        hook(ctx, target)


@command("WHOIS", min_params=1, cost=2)
def whois(ctx: Context, msg: Message) -> None:
    """WHOIS [<server>] <nick>: who someone is."""
    server = ctx.server
    if len(msg.params) >= 2:
        where, nick = msg.params[0], msg.params[1]
        # The server may be given as a mask or as a nick on that server.
        if not masks.match(where, server.name) and find_user(ctx, where) is None:
            ctx.reply(rpl.ERR_NOSUCHSERVER, where, "No such server")
            return
    else:
        nick = msg.params[0]
    if not nick:
        ctx.reply(rpl.ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    target = find_user(ctx, nick.split(",")[0])
    if target is None:
        ctx.reply(rpl.ERR_NOSUCHNICK, nick, "No such nick/channel")
    else:
        send_whois(ctx, target)
    ctx.reply(rpl.RPL_ENDOFWHOIS, nick, "End of /WHOIS list")


# --- WHOWAS --------------------------------------------------------------------


@command("WHOWAS", cost=2)
def whowas(ctx: Context, msg: Message) -> None:
    """WHOWAS <nick> [<count>]: who used a nickname recently."""
    if not msg.params or not msg.params[0]:
        ctx.reply(rpl.ERR_NONICKNAMEGIVEN, "No nickname given")
        ctx.reply(rpl.RPL_ENDOFWHOWAS, "*", "End of WHOWAS")
        return
    raw = msg.params[0]
    count = (ascii_int(msg.params[1]) if len(msg.params) > 1 else None) or 0
    server = ctx.server
    for nick in raw.split(","):
        if not nick:
            continue
        if "*" in nick or "?" in nick:
            entries = [e for e in server.world.whowas if masks.match(nick, e.nick)]
        else:
            entries = list(server.world.whowas_for(nick))
        if count > 0:
            entries = entries[:count]
        if not entries:
            ctx.reply(rpl.ERR_WASNOSUCHNICK, nick, "There was no such nickname")
            continue
        for entry in entries:
            ctx.reply(rpl.RPL_WHOWASUSER, entry.nick, entry.user, entry.host, "*", entry.realname)
            left = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(entry.left_at))
            ctx.reply(rpl.RPL_WHOISSERVER, entry.nick, server.name, left)
    ctx.reply(rpl.RPL_ENDOFWHOWAS, raw, "End of WHOWAS")


# --- ISON, USERHOST ------------------------------------------------------------


@command("ISON", min_params=1)
def ison(ctx: Context, msg: Message) -> None:
    """ISON <nick>{ <nick>}: which of these nicks are online."""
    online: list[str] = []
    for param in msg.params:
        for nick in param.split():
            target = find_user(ctx, nick)
            if target is not None:
                online.append(target.nick)
    ctx.reply(rpl.RPL_ISON, " ".join(online))


@command("USERHOST", min_params=1)
def userhost(ctx: Context, msg: Message) -> None:
    """USERHOST <nick>{ <nick>}: user@host of up to five nicks."""
    replies: list[str] = []
    nicks = [n for param in msg.params for n in param.split()]
    for nick in nicks[:5]:
        target = find_user(ctx, nick)
        if target is None:
            continue
        oper = "*" if target.is_oper else ""
        away = "-" if target.away is not None else "+"
        host = target.ip if target is ctx.user else target.host
        replies.append(f"{target.nick}{oper}={away}{target.user}@{host}")
    ctx.reply(rpl.RPL_USERHOST, " ".join(replies))
