"""Domain actions: the one place that changes the world and tells whoever
must know (docs/architecture.md, "Domain actions").

Command handlers decide whether an action is allowed and reply to their
user; these functions do it. Services (NickServ, ChanServ, nick
protection) and the panel call the same functions, so a rename or a kick
is written once. A cluster backplane plugs in here: every state change and
every delivery passes through this module (delivery itself is
``delivery.deliver``, mode changes ``mode_changes.set_modes`` and
``set_user_modes``, re-exported here).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from hubbub.protocol import numerics as rpl
from hubbub.server.api import Context, ModeChange
from hubbub.server.delivery import Event, deliver, deliver_split
from hubbub.server.mode_changes import set_modes, set_user_modes
from hubbub.server.state import PREFIX_MODES, Channel, User, WhowasEntry

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

__all__ = [
    "change_host",
    "create_channel",
    "deliver",
    "discard_channel",
    "invite",
    "join",
    "kick",
    "kill",
    "login",
    "logout",
    "oper_up",
    "part",
    "quit",
    "rename",
    "set_away",
    "set_modes",
    "set_realname",
    "set_topic",
    "set_user_modes",
]


# --- nicks, hosts, accounts ------------------------------------------------------------


def rename(ctx: Context, new: str) -> None:
    """Change a registered user's nick (already checked free and valid):
    NICK to neighbours and the user, MONITOR, WHOWAS, then the hooks."""
    user = ctx.user
    server = ctx.server
    world = server.world
    old_source = user.source
    old_nick = user.nick
    recipients = world.neighbours(user)
    recipients.add(user)
    server.notify_monitors_offline(user)
    world.set_nick(user, new)
    deliver(recipients, old_source, "NICK", [new], Event(user))
    world.whowas.appendleft(WhowasEntry(old_nick, user.user, user.host, user.realname, time.time()))
    server.notify_monitors_online(user)
    for hook in server.hooks.nick_changed:
        hook(ctx, old_nick)


def change_host(
    server: ServerApi, user: User, new_user: str, new_host: str, *, cycle: bool = True
) -> None:
    """Give ``user`` a new user@host (vhost, cloak) and tell whoever can see it.

    Neighbours (and the user) with ``chghost`` get ``:old CHGHOST user host``;
    neighbours without it, when ``cycle`` is on, see the user quit and rejoin
    every shared channel (with its prefixes restored by a server MODE).
    """
    if new_user == user.user and new_host == user.host:
        return
    old_source = user.source
    neighbours = server.world.neighbours(user)
    user.user = new_user
    user.host = new_host
    event = Event(user)
    with_cap = [u for u in neighbours if "chghost" in u.caps]
    if "chghost" in user.caps:
        with_cap.append(user)
    deliver(with_cap, old_source, "CHGHOST", [new_user, new_host], event)
    if not cycle:
        return
    without_cap = {u for u in neighbours if "chghost" not in u.caps}
    if not without_cap:
        return
    deliver(without_cap, old_source, "QUIT", ["Changing host"], event)
    account = user.account or "*"
    for channel in user.channels.values():
        watchers = [m for m in channel.members if m in without_cap]
        if not watchers:
            continue
        deliver_split(
            watchers,
            "extended-join",
            (user.source, "JOIN", [channel.name, account, user.realname]),
            (user.source, "JOIN", [channel.name]),
            event,
        )
        prefix = channel.members.get(user, "")
        if prefix:
            modes = "+" + "".join(m for m in PREFIX_MODES if m in prefix)
            deliver(
                watchers,
                server.name,
                "MODE",
                [channel.name, modes] + [user.nick] * (len(modes) - 1),
            )
        if user.away is not None:
            notify = [m for m in watchers if "away-notify" in m.caps]
            if notify:
                deliver(notify, user.source, "AWAY", [user.away])


def login(ctx: Context, account: str) -> None:
    """Mark ``ctx.user`` as logged in to ``account`` (900 + account-notify).
    SASL, NickServ IDENTIFY and account registration all end here. Its
    private-history key is looked up here, once, not per message."""
    user = ctx.user
    user.account = account
    user.history_party = ctx.server.store.accounts.party(account)
    ctx.reply(rpl.RPL_LOGGEDIN, user.source, account, f"You are now logged in as {account}")
    _notify_account(ctx, account)


def logout(ctx: Context) -> None:
    user = ctx.user
    if user.account is None:
        return
    user.account = None
    user.history_party = None
    ctx.reply(rpl.RPL_LOGGEDOUT, user.source, "You are now logged out")
    _notify_account(ctx, "*")


def _notify_account(ctx: Context, account: str) -> None:
    user = ctx.user
    if not user.registered:
        return
    watchers = [u for u in ctx.server.world.neighbours(user) if "account-notify" in u.caps]
    if "account-notify" in user.caps:
        watchers.append(user)
    deliver(watchers, user.source, "ACCOUNT", [account])


def set_away(ctx: Context, text: str | None) -> bool:
    """Mark ``ctx.user`` away with ``text`` (None: back) and tell its
    neighbours with away-notify; False (and nobody told) when it was not
    away and still is not."""
    user = ctx.user
    if text is None and user.away is None:
        return False
    user.away = text
    watchers = [u for u in ctx.server.world.neighbours(user) if "away-notify" in u.caps]
    if watchers:
        deliver(watchers, user.source, "AWAY", [text] if text else [], Event(user))
    return True


def set_realname(ctx: Context, realname: str) -> None:
    """Change ``ctx.user``'s realname (already valid): SETNAME to whoever has ``setname``."""
    user = ctx.user
    user.realname = realname
    recipients = [u for u in ctx.server.world.neighbours(user) if "setname" in u.caps]
    if "setname" in user.caps:
        recipients.append(user)
    deliver(recipients, user.source, "SETNAME", [realname], Event(user))


def oper_up(server: ServerApi, user: User, oper_name: str) -> None:
    """Make ``user`` an IRC operator under the oper block ``oper_name`` (+o)."""
    user.oper_name = oper_name
    set_user_modes(server, user, [ModeChange(True, "o")], allow_oper=True)


# --- channels -----------------------------------------------------------------------


def create_channel(ctx: Context, name: str) -> tuple[Channel, str]:
    """Create the channel ``name`` for ``ctx.user`` to join (it does not exist
    yet) and run the ``channel_create`` hooks, which may restore a
    registered channel's state; returns it with the prefix its creator gets
    ("o" unless a hook refused it). Nobody is in it until :func:`join`."""
    channel, _ = ctx.server.world.get_or_create_channel(name)
    allowed = all(hook(ctx, channel) for hook in ctx.server.hooks.channel_create)
    return channel, "o" if allowed else ""


def discard_channel(server: ServerApi, channel: Channel) -> None:
    """Forget a channel :func:`create_channel` made that nobody joined
    (its creator was refused after all)."""
    if not channel.members:
        server.world.channels.pop(channel.folded, None)


def join(ctx: Context, channel: Channel, prefix: str, created: bool = False) -> None:
    """Make ``ctx.user`` a member (already allowed in): JOIN to the channel
    (extended-join where asked for), the joiner's AWAY to away-notify, then
    the ``joined`` hooks (the joiner's topic and NAMES, ChanServ's prefix,
    the history replay: in the order ``features.py`` installs them)."""
    user = ctx.user
    ctx.server.world.add_member(channel, user, prefix)
    account = user.account or "*"
    deliver_split(
        channel.members,
        "extended-join",
        (user.source, "JOIN", [channel.name, account, user.realname]),
        (user.source, "JOIN", [channel.name]),
        Event(user),
    )
    if user.away is not None:
        watchers = [m for m in channel.members if m is not user and "away-notify" in m.caps]
        deliver(watchers, user.source, "AWAY", [user.away])
    for hook in ctx.server.hooks.joined:
        hook(ctx, channel, created)


def invite(ctx: Context, channel: Channel, target: User, *, record: bool) -> None:
    """``ctx.user`` invites ``target`` (already allowed): with ``record`` (a
    channel operator's invite) it lets ``target`` past +i/+k/+l/+b; then
    INVITE to the target and to the members with invite-notify who may see it."""
    user = ctx.user
    if record:
        settings = ctx.server.config.channels
        ctx.server.world.invite(
            channel, target, time.monotonic(), settings.invite_expiry, settings.max_invites
        )
    event = Event(user)
    deliver([target], user.source, "INVITE", [target.nick, channel.name], event)
    notify = [
        m
        for m in channel.members
        if m is not user
        and "invite-notify" in m.caps
        and ("i" not in channel.modes or channel.is_op(m))
    ]
    deliver(notify, user.source, "INVITE", [target.nick, channel.name], event)


def part(ctx: Context, channel: Channel, reason: str = "") -> None:
    """``ctx.user`` leaves ``channel``; its members (and the user) see PART."""
    user = ctx.user
    params = [channel.name, reason] if reason else [channel.name]
    deliver(channel.members, user.source, "PART", params, Event(user))
    ctx.server.world.remove_member(channel, user)


def kick(
    server: ServerApi,
    channel: Channel,
    target: User,
    reason: str,
    *,
    source: str,
    actor: User | None = None,
) -> None:
    """Remove ``target`` from ``channel`` (already allowed): the members see
    KICK from ``source`` (an operator, a service, the server)."""
    deliver(channel.members, source, "KICK", [channel.name, target.nick, reason], Event(actor))
    server.world.remove_member(channel, target)


def set_topic(ctx: Context, channel: Channel, text: str, setter: str) -> None:
    """Change the topic (already allowed) and tell the channel, then the hooks."""
    channel.topic = text[: ctx.server.config.limits.topiclen]
    channel.topic_by = setter
    channel.topic_at = int(time.time())
    deliver(channel.members, setter, "TOPIC", [channel.name, channel.topic], Event(ctx.user))
    for listener in ctx.server.hooks.topic_changed:
        listener(ctx, channel)


# --- leaving the server ----------------------------------------------------------------


def kill(server: ServerApi, target: User, reason: str, *, by: str, source: str) -> None:
    """Disconnect ``target`` as an operator's KILL does: a KILL line to it,
    then a QUIT ``Killed (<by> (<reason>))`` to its neighbours."""
    text = f"Killed ({by} ({reason}))"
    deliver([target], source, "KILL", [target.nick, text])
    server.disconnect(target, text, quit_message=text)


def quit(server: ServerApi, user: User, reason: str, quit_message: str | None = None) -> None:
    """Remove ``user`` from the world: QUIT to its neighbours, MONITOR
    watchers told, memberships and invites dropped. Closing the connection
    is the server's (``ServerApi.disconnect``, which calls this)."""
    if user.registered:
        text = quit_message if quit_message is not None else reason
        deliver(server.world.neighbours(user), user.source, "QUIT", [text], Event(user))
        server.notify_monitors_offline(user)
    server.world.remove_user(user)
