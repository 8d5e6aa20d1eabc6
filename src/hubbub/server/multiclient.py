"""Several connections of one account share one user (issue 16).

A connection logged in to an account (SASL, NickServ IDENTIFY before
registration completes, PASS account:password) that asks for the nick of a
user logged in to the same account becomes one more device of that user
instead of a user of its own: one nick, one set of channels, one away
status; everyone else sees one user (server/devices.py has the model).

The user leaves the network when its last device goes, unless the account
is always-on (``[accounts] always_on``, NickServ SET ALWAYS-ON): then it
stays, marked away, and is kept in the store across restarts
(server/always_on.py).

Who may share is decided here: ``[accounts] multiclient`` and the
account's own SET MULTICLIENT.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import fold
from hubbub.server import actions, devices, nick_protection
from hubbub.server.api import Context
from hubbub.server.commands.channels import send_names, send_topic
from hubbub.server.delivery import deliver, deliver_split
from hubbub.server.presence_writer import PresenceWriter
from hubbub.server.state import Channel, User
from hubbub.store import AccountSettings

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

NO_DEVICES_AWAY = "no devices connected"


class AccountOptions:
    """One server's per-account choices (NickServ SET MULTICLIENT and
    ALWAYS-ON), by folded account name; read from the store at start."""

    __slots__ = ("settings",)

    def __init__(self) -> None:
        self.settings: dict[str, AccountSettings] = {}

    def get(self, account: str) -> AccountSettings:
        return self.settings.get(fold(account), AccountSettings())


def multiclient_allowed(server: ServerApi, account: str) -> bool:
    if not server.config.accounts.multiclient:
        return False
    chosen = server.feature(AccountOptions).get(account).multiclient
    return True if chosen is None else chosen


def always_on(server: ServerApi, account: str | None) -> bool:
    """Whether the account's user stays with no device connected."""
    policy = server.config.accounts.always_on
    if account is None or policy == "disabled":
        return False
    if policy == "mandatory":
        return True
    chosen = server.feature(AccountOptions).get(account).always_on
    return policy == "opt-out" if chosen is None else chosen


def shareable(server: ServerApi, holder: User) -> bool:
    """Whether a connection of ``holder``'s account may become its device:
    multiclient on, or an always-on user waiting with no device."""
    if not holder.registered or holder.owner is not None or holder.account is None:
        return False
    if multiclient_allowed(server, holder.account):
        return True
    return holder.devices == [] and always_on(server, holder.account)


def share_target(ctx: Context, holder: User) -> User | None:
    """At registration: the user this connection joins as a device
    (``holder``, who has the nick it asked for, is of its own account), or None."""
    conn = ctx.user
    if holder is conn or conn.account is None:
        return None
    if holder.account is None or fold(holder.account) != fold(conn.account):
        return None
    return holder if shareable(ctx.server, holder) else None


def account_user(ctx: Context) -> User | None:
    """The user of the account ``ctx.user`` logged in to, when it asked for
    the account's name as its nick and that user goes by another nick now
    (it renamed; an always-on user restored): it joins that user. A scan,
    done only in that case."""
    conn = ctx.user
    account = conn.account
    if account is None or conn.folded != fold(account):
        return None
    for user in ctx.server.world.users.values():
        same = user.account is not None and fold(user.account) == conn.folded
        if same and user is not conn and shareable(ctx.server, user):
            return user
    return None


@runtime_checkable
class _Attachable(Protocol):
    """A sink that knows its handler context (a session)."""

    context: Context


def attach(ctx: Context, holder: User) -> None:
    """Make the connection of ``ctx`` a device of ``holder``: from now on
    its commands act as ``holder`` (``ctx.user``) and reply to it
    (``ctx.conn``). The rest of the command speaks as this device."""
    conn = ctx.conn
    world = ctx.server.world
    _split(ctx.server, holder)
    world.forget_nick(conn)
    conn.nick, conn.folded = holder.nick, ""
    conn.registered = True
    conn.password = None
    world.add_device(holder, conn)
    ctx.user = holder
    devices.activate(holder, conn)


def _split(server: ServerApi, user: User) -> User | None:
    """Make ``user`` a user devices share, its own connection the first
    (whose session now acts as the user and replies to the record)."""
    if user.devices is not None:
        return None
    sink = user.sink
    record = devices.first_record(user)
    server.world.split_devices(user, record)
    if isinstance(sink, _Attachable):
        sink.context.conn = record
    return record


def make_shared(ctx: Context) -> None:
    """``ctx.user`` becomes a user devices share (always-on: its connection
    may go while it stays); the running command goes on as its device."""
    record = _split(ctx.server, ctx.user)
    if record is not None:
        devices.activate(ctx.user, record)


def burst(ctx: Context) -> None:
    """What a device that just attached needs to show the user as it is:
    its channels (JOIN, topic, names, read marker each) and its away state."""
    user = ctx.user
    if user.modes:
        ctx.send("MODE", user.nick, "+" + "".join(sorted(user.modes)), source=user.nick)
    for channel in list(user.channels.values()):
        _join_lines(ctx, channel)
        channel_burst(ctx, channel)
    if user.away == NO_DEVICES_AWAY:  # an always-on user has a device again
        user.away = None
        actions.announce_away(ctx.server, user)
    elif user.away is not None:
        ctx.reply(rpl.RPL_NOWAWAY, "You have been marked as being away")


def _join_lines(ctx: Context, channel: Channel) -> None:
    user = ctx.user
    deliver_split(
        [ctx.conn],
        "extended-join",
        (user.source, "JOIN", [channel.name, user.account or "*", user.realname]),
        (user.source, "JOIN", [channel.name]),
    )


def channel_burst(ctx: Context, channel: Channel) -> None:
    """Topic, NAMES and the read marker of ``channel`` to the device of ``ctx``."""
    for hook in ctx.server.hooks.join_burst:
        hook(ctx, channel)
    if channel.topic:
        send_topic(ctx, channel)
    if "draft/no-implicit-names" not in ctx.conn.caps:
        send_names(ctx, channel)


def _siblings_join(ctx: Context, channel: Channel, created: bool) -> None:
    """A device joined: the user's other devices saw the JOIN (it went to
    the channel); they get the topic and names too, as after their own JOIN."""
    user = ctx.user
    for sibling in devices.siblings(user, ctx.conn):
        devices.activate(user, sibling)
        channel_burst(Context(ctx.server, user, sibling), channel)
    if user.devices is not None:
        devices.activate(user, ctx.conn)


def device_left(
    server: ServerApi, user: User, device: User, reason: str, quit_message: str | None
) -> None:
    """A device of ``user`` disconnected (already out of its devices). The
    last one takes the user with it, unless the account is always-on."""
    for hook in server.hooks.device_left:
        hook(server, user, device)
    if user.devices:
        return
    if always_on(server, user.account):
        set_auto_away(server, user)
        return
    actions.quit(server, user, reason, quit_message)


def leave_as_guest(ctx: Context, reason: str) -> None:
    """The device of ``ctx`` logged out: its connection leaves the user and
    goes on as a user of its own, a guest under a new nick in no channel,
    as it sees by PART and NICK. Nobody else is told: the user stays on its
    other devices (or goes as when its last device disconnects)."""
    user, conn, server = ctx.user, ctx.conn, ctx.server
    old_source = user.source
    server.world.detach_device(conn)
    conn.history_party = None
    ctx.user = conn  # from now on its commands are its own
    devices.settle(user)
    ctx.reply(rpl.RPL_LOGGEDOUT, old_source, "You are now logged out")
    for channel in list(user.channels.values()):
        deliver([conn], old_source, "PART", [channel.name, reason])
    server.world.set_nick(conn, nick_protection.guest_nick(server.world, conn))
    deliver([conn], old_source, "NICK", [conn.nick])
    server.notify_monitors_online(conn)
    device_left(server, user, conn, reason, None)


def set_auto_away(server: ServerApi, user: User) -> None:
    """An always-on user with no device: away, told to away-notify neighbours."""
    if user.away is not None:
        return
    user.away = NO_DEVICES_AWAY
    actions.announce_away(server, user)


async def _load(server: ServerApi) -> None:
    snapshot = server.feature(PresenceWriter).snapshot
    server.feature(AccountOptions).settings = snapshot.settings


def install(server: ServerApi, add: Callable[[object], None]) -> None:
    """Multiclient: per-account settings loaded at start; a device's JOIN
    shown in full on the others."""
    add(AccountOptions())
    server.hooks.startup.append(_load)
    server.hooks.joined.append(_siblings_join)
