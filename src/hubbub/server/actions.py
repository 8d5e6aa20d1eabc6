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
from functools import partial
from typing import TYPE_CHECKING

from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import fold
from hubbub.server.api import Context, ModeChange
from hubbub.server.audience import told_of
from hubbub.server.channel_events import announce
from hubbub.server.delivery import Event, deliver, deliver_split
from hubbub.server.devices import connections_with, expand, siblings
from hubbub.server.member_lines import tell_members
from hubbub.server.mode_changes import set_modes, set_user_modes
from hubbub.server.remote import RemoteSink
from hubbub.server.state import PREFIX_MODES, Channel, User, WhowasEntry

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

__all__ = [
    "announce",
    "announce_away",
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
    "rename_channel",
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
    case_only = fold(old_nick) == fold(new)  # the same nick to MONITOR
    if not case_only:
        server.notify_monitors_offline(user)
    world.set_nick(user, new)
    event = Event(server.event_ids, user)
    channels = list(user.channels.values())
    line = partial(deliver, source=old_source, command="NICK", params=[new], event=event)
    tell_members(server, recipients, line, actor=user, channels=channels)
    announce(server, channels, old_source, "NICK", [new], event)
    world.whowas.appendleft(WhowasEntry(old_nick, user.user, user.host, user.realname, time.time()))
    if not case_only:
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
    event = Event(server.event_ids, user)
    told = told_of(server.world, user, "chghost")
    told.update(connections_with([user], "chghost"))
    deliver(told, old_source, "CHGHOST", [new_user, new_host], event)
    _user_changed(server, user, "host")
    if not cycle:
        return
    without_cap = {u for u in expand(neighbours) if "chghost" not in u.caps}
    if not without_cap:
        return
    deliver(without_cap, old_source, "QUIT", ["Changing host"], event)
    account = user.account or "*"
    for channel in user.channels.values():
        watchers = [m for m in expand(channel.members) if m in without_cap]
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


def announce_away(server: ServerApi, user: User) -> None:
    """``user.away`` changed without a command of its own (an always-on
    user's last device left, or one came back): AWAY to away-notify neighbours."""
    watchers = connections_with(server.world.neighbours(user), "away-notify")
    params = [user.away] if user.away is not None else []
    deliver(watchers, user.source, "AWAY", params, Event(server.event_ids, user))


def login(ctx: Context, account: str) -> None:
    """Mark ``ctx.user`` as logged in to ``account`` (900 + account-notify).
    SASL, NickServ IDENTIFY and account registration all end here. Its
    private-history key is looked up here, once, not per message."""
    user = ctx.user
    ctx.server.world.set_account(user, account)
    user.history_party = ctx.server.store.accounts.party(account)
    ctx.reply(rpl.RPL_LOGGEDIN, user.source, account, f"You are now logged in as {account}")
    _notify_account(ctx, account)
    for hook in ctx.server.hooks.logged_in:
        hook(ctx, account)


def logout(ctx: Context) -> None:
    user = ctx.user
    if user.account is None:
        return
    ctx.server.world.set_account(user, None)
    user.history_party = None
    ctx.reply(rpl.RPL_LOGGEDOUT, user.source, "You are now logged out")
    _notify_account(ctx, "*")


def _notify_account(ctx: Context, account: str) -> None:
    user = ctx.user
    if not user.registered:
        return
    watchers = told_of(ctx.server.world, user, "account-notify")
    watchers.update(connections_with([user], "account-notify"))
    deliver(watchers, user.source, "ACCOUNT", [account])
    for hook in ctx.server.hooks.account_changed:
        hook(ctx)


def set_away(ctx: Context, text: str | None) -> bool:
    """Mark ``ctx.user`` away with ``text`` (None: back) and tell its
    neighbours with away-notify, and its other devices with away-notify
    (which share its channels); False (and nobody told) when it was not
    away and still is not."""
    user = ctx.user
    if text is None and user.away is None:
        return False
    user.away = text
    watchers = told_of(ctx.server.world, user, "away-notify")
    watchers.update(connections_with(siblings(user, ctx.conn), "away-notify"))
    if watchers:
        deliver(
            watchers, user.source, "AWAY", [text] if text else [], Event(ctx.server.event_ids, user)
        )
    for hook in ctx.server.hooks.away_changed:
        hook(ctx)
    return True


def set_realname(ctx: Context, realname: str) -> None:
    """Change ``ctx.user``'s realname (already valid): SETNAME to whoever has ``setname``."""
    user = ctx.user
    user.realname = realname
    recipients = told_of(ctx.server.world, user, "setname")
    recipients.update(connections_with([user], "setname"))
    deliver(recipients, user.source, "SETNAME", [realname], Event(ctx.server.event_ids, user))
    _user_changed(ctx.server, user, "realname")


def _user_changed(server: ServerApi, user: User, what: str) -> None:
    """The ``user_changed`` hooks (a cluster tells the other nodes)."""
    if user.registered:
        for hook in server.hooks.user_changed:
            hook(server, user, what)


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
    (extended-join where asked for), the joiner's AWAY to away-notify, the
    ``join_burst`` hooks (a read marker goes before the 366), then the
    ``joined`` hooks (the joiner's topic and NAMES, ChanServ's prefix,
    the history replay: in the order ``features.py`` installs them)."""
    user = ctx.user
    ctx.server.world.add_member(channel, user, prefix)
    account = user.account or "*"
    event = Event(ctx.server.event_ids, user)
    extended = [channel.name, account, user.realname]
    line = partial(
        deliver_split,
        cap="extended-join",
        with_cap=(user.source, "JOIN", extended),
        without_cap=(user.source, "JOIN", [channel.name]),
        event=event,
    )
    tell_members(ctx.server, channel.members, line, actor=user, channels=[channel])
    announce(ctx.server, [channel], user.source, "JOIN", extended, event)
    if user.away is not None:
        others = (m for m in channel.members if m is not user)
        watchers = connections_with(others, "away-notify")
        away = partial(deliver, source=user.source, command="AWAY", params=[user.away])
        tell_members(ctx.server, watchers, away, actor=user, channels=[channel])
    for burst in ctx.server.hooks.join_burst:
        burst(ctx, channel)
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
    event = Event(ctx.server.event_ids, user)
    deliver([target], user.source, "INVITE", [target.nick, channel.name], event)
    may_see = (
        m
        for m in channel.members
        if m is not user and ("i" not in channel.modes or channel.is_op(m))
    )
    notify = connections_with(may_see, "invite-notify")
    deliver(notify, user.source, "INVITE", [target.nick, channel.name], event)
    for hook in ctx.server.hooks.invited:
        hook(ctx, channel, target, record)


def part(ctx: Context, channel: Channel, reason: str = "") -> None:
    """``ctx.user`` leaves ``channel``; its members (and the user) see PART."""
    user = ctx.user
    params = [channel.name, reason] if reason else [channel.name]
    event = Event(ctx.server.event_ids, user)
    line = partial(deliver, source=user.source, command="PART", params=params, event=event)
    tell_members(ctx.server, channel.members, line, actor=user, channels=[channel])
    announce(ctx.server, [channel], user.source, "PART", params, event)
    ctx.server.world.remove_member(channel, user)
    for hook in ctx.server.hooks.parted:
        hook(ctx.server, channel, user, reason)
    for on_left in ctx.server.hooks.left:
        on_left(ctx.server, channel, user)


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
    params = [channel.name, target.nick, reason]
    event = Event(server.event_ids, actor)
    line = partial(deliver, source=source, command="KICK", params=params, event=event)
    tell_members(server, channel.members, line, actor=actor, channels=[channel], keep=target)
    announce(server, [channel], source, "KICK", params, event)
    server.world.remove_member(channel, target)
    for hook in server.hooks.kicked:
        hook(server, channel, target, source, reason)
    for on_left in server.hooks.left:
        on_left(server, channel, target)


def rename_channel(
    server: ServerApi,
    channel: Channel,
    new: str,
    reason: str,
    *,
    source: str,
    actor: User | None,
    mirrored: Event | None = None,
) -> list[User]:
    """Rename ``channel`` (already allowed, ``new`` free): members with
    ``draft/channel-rename`` see RENAME; the others, unless only the case
    changed, see themselves PART the old name and JOIN the new one. Returns
    those others (connections: a shared user's devices each as it asked):
    the caller sends them the topic and names a JOIN brings. ``mirrored``
    is the event of a rename made on another cluster node: its node
    already moved the stored state, so the hooks do not run here."""
    old = channel.name
    case_only = fold(old) == fold(new)
    server.world.rename_channel(channel, new)
    event = Event(server.event_ids, actor) if mirrored is None else mirrored
    with_cap = connections_with(channel.members, "draft/channel-rename")
    renamed = set(with_cap)
    deliver(with_cap, source, "RENAME", [old, new, reason], event)
    fallback = [] if case_only else [m for m in expand(channel.members) if m not in renamed]
    part_params = [old, reason] if reason else [old]
    for conn in fallback:
        member = conn.owner or conn
        deliver([conn], member.source, "PART", part_params, event)
        deliver_split(
            [conn],
            "extended-join",
            (member.source, "JOIN", [new, member.account or "*", member.realname]),
            (member.source, "JOIN", [new]),
            event,
        )
    if mirrored is None:
        for hook in server.hooks.channel_renamed:
            hook(server, channel, old)
        for told in server.hooks.rename_told:
            told(server, channel, old, reason, source)
    return fallback


def set_topic(ctx: Context, channel: Channel, text: str, setter: str) -> None:
    """Change the topic (already allowed) and tell the channel, then the hooks."""
    channel.topic = text[: ctx.server.config.limits.topiclen]
    channel.topic_by = setter
    channel.topic_at = int(time.time())
    params = [channel.name, channel.topic]
    event = Event(ctx.server.event_ids, ctx.user)
    line = partial(deliver, source=setter, command="TOPIC", params=params, event=event)
    tell_members(ctx.server, channel.members, line, actor=ctx.user, channels=[channel])
    announce(ctx.server, [channel], setter, "TOPIC", params, event)
    for listener in ctx.server.hooks.topic_changed:
        listener(ctx, channel)


# --- leaving the server ----------------------------------------------------------------


def kill(server: ServerApi, target: User, reason: str, *, by: str, source: str) -> None:
    """Disconnect ``target`` as an operator's KILL does: a KILL line to it,
    then a QUIT ``Killed (<by> (<reason>))`` to its neighbours."""
    text = f"Killed ({by} ({reason}))"
    if isinstance(target.sink, RemoteSink):  # a cluster: its own node does both
        target.sink.kill(source, text)
        return
    deliver([target], source, "KILL", [target.nick, text])
    server.disconnect(target, text, quit_message=text)


def quit(server: ServerApi, user: User, reason: str, quit_message: str | None = None) -> None:
    """Remove ``user`` from the world: QUIT to its neighbours, MONITOR
    watchers told, memberships and invites dropped. Closing the connection
    is the server's (``ServerApi.disconnect``, which calls this)."""
    text = quit_message if quit_message is not None else reason
    if user.registered:
        event = Event(server.event_ids, user)
        channels = list(user.channels.values())
        line = partial(deliver, source=user.source, command="QUIT", params=[text], event=event)
        tell_members(server, server.world.neighbours(user), line, actor=user, channels=channels)
        announce(server, channels, user.source, "QUIT", [text], event)
        server.notify_monitors_offline(user)
    for hook in server.hooks.quitted:
        hook(server, user, text)
    server.world.remove_user(user)
    for on_quit in server.hooks.quit:
        on_quit(server, user)
