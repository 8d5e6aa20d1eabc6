"""Presence, the commands that change a user's own state: AWAY (and
away-notify), SETNAME, MONITOR. The queries are in ``queries.py``.

Formats follow https://modern.ircdocs.horse and https://ircv3.net
(away-notify, setname, monitor).
"""

from __future__ import annotations

from collections.abc import Iterable

from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import fold, valid_nick
from hubbub.protocol.message import Message
from hubbub.server import actions, metadata
from hubbub.server.api import Context
from hubbub.server.commands.queries import LIST_BUDGET, find_user, packed
from hubbub.server.commands.registry import command
from hubbub.server.devices import siblings
from hubbub.server.state import User

# Numerics not (yet) in hubbub.protocol.numerics.
RPL_MONONLINE = "730"
RPL_MONOFFLINE = "731"
RPL_MONLIST = "732"
RPL_ENDOFMONLIST = "733"
ERR_MONLISTFULL = "734"

# The longest realname SETNAME accepts (USER truncates to the same length).
REALNAME_LEN = 200


# --- AWAY, SETNAME -------------------------------------------------------------


@command("AWAY")
def away(ctx: Context, msg: Message) -> None:
    """AWAY [:<message>]: mark yourself away, or back with no message. A
    user several devices share is away on all of them: each is told."""
    text = msg.param(0)[: ctx.server.config.limits.awaylen]
    actions.set_away(ctx, text or None)
    if text:
        reply = (rpl.RPL_NOWAWAY, "You have been marked as being away")
    else:
        reply = (rpl.RPL_UNAWAY, "You are no longer marked as being away")
    ctx.reply(*reply)
    for device in siblings(ctx.user, ctx.conn):
        Context(ctx.server, ctx.user, device).reply(*reply)


@command("SETNAME", min_params=1)
def setname(ctx: Context, msg: Message) -> None:
    """SETNAME :<realname>: change your realname (IRCv3 setname)."""
    realname = msg.params[0]
    if not realname or len(realname) > REALNAME_LEN:
        ctx.fail("SETNAME", "INVALID_REALNAME", description="Realname is not valid")
        return
    actions.set_realname(ctx, realname)


# --- MONITOR -------------------------------------------------------------------


def _send_monitor_status(ctx: Context, nicks: Iterable[str], *, adding: bool = False) -> None:
    """730/731 for ``nicks``; when ``adding`` them, also the metadata the
    user subscribed to of those online (IRCv3 metadata)."""
    online: list[User] = []
    offline: list[str] = []
    for nick in nicks:
        target = find_user(ctx, nick)
        if target is not None:
            online.append(target)
        else:
            offline.append(nick)
    budget = LIST_BUDGET - len(ctx.server.name) - len(ctx.user.nick)
    for line in packed((u.source for u in online), budget, ","):
        ctx.reply(RPL_MONONLINE, line)
    for line in packed(offline, budget, ","):
        ctx.reply(RPL_MONOFFLINE, line)
    if adding:
        for target in online:
            metadata.send_to_monitor(ctx, target)


@command("MONITOR", min_params=1)
def monitor(ctx: Context, msg: Message) -> None:
    """MONITOR +|-|C|L|S [<nick>[,<nick>]]: be told when nicks come and go."""
    user = ctx.user
    world = ctx.server.world
    sub = msg.params[0].upper()
    if sub in ("+", "-"):
        if len(msg.params) < 2 or not msg.params[1]:
            ctx.reply(rpl.ERR_NEEDMOREPARAMS, "MONITOR", "Not enough parameters")
            return
        nicklen = ctx.server.config.limits.nicklen
        targets = [t for t in msg.params[1].split(",") if t]
        if sub == "-":
            for nick in targets:
                world.monitor_remove(user, nick)
            return
        limit = ctx.server.config.limits.monitor
        added: list[str] = []
        for i, nick in enumerate(targets):
            if not valid_nick(nick, nicklen):
                continue
            if fold(nick) in user.monitoring:
                added.append(nick)
                continue
            if len(user.monitoring) >= limit:
                rest = ",".join(t for t in targets[i:] if valid_nick(t, nicklen))
                _send_monitor_status(ctx, added, adding=True)
                ctx.reply(ERR_MONLISTFULL, str(limit), rest, "Monitor list is full.")
                return
            world.monitor_add(user, nick)
            added.append(nick)
        _send_monitor_status(ctx, added, adding=True)
    elif sub == "C":
        world.monitor_clear(user)
    elif sub == "L":
        budget = LIST_BUDGET - len(ctx.server.name) - len(user.nick)
        for line in packed(sorted(user.monitoring), budget, ","):
            ctx.reply(RPL_MONLIST, line)
        ctx.reply(RPL_ENDOFMONLIST, "End of MONITOR list")
    elif sub == "S":
        _send_monitor_status(ctx, sorted(user.monitoring))
