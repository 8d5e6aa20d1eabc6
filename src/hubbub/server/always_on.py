"""Always-on users (issue 16): a user whose account is always-on stays on
the network with no device connected, away ("no devices connected"), in
its channels with its modes, receiving private messages; and all that
survives a restart.

Such a user is always a user devices share (server/devices.py), from its
registration on, so a connection closing is a device leaving, never the
user quitting. Its state is written to the store whenever it changes
(registration, JOIN, PART, KICK, nick, prefix modes, the last device
leaving) and read back at start, before history decides which channels'
past to keep."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hubbub.protocol.casemap import fold
from hubbub.server import multiclient
from hubbub.server.api import Context, ModeChange
from hubbub.server.devices import Fanout
from hubbub.server.presence_writer import PresenceWriter
from hubbub.server.state import PREFIX_MODES, Channel, User
from hubbub.store import AlwaysOnUser

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi


def snapshot(user: User) -> AlwaysOnUser:
    assert user.account is not None
    channels = tuple((c.name, c.members.get(user, "")) for c in user.channels.values())
    modes = "".join(sorted(user.modes - {"o"}))  # operator status is not kept
    return AlwaysOnUser(
        user.account, user.nick, user.user, user.host, user.realname, modes, channels
    )


def save(server: ServerApi, user: User) -> None:
    """Queue the store write of ``user`` as it is now."""
    account = user.account
    if account is None or not user.registered:
        return
    state = snapshot(user)
    presence = server.store.presence
    server.feature(PresenceWriter).submit(
        ("always-on", fold(account)), lambda: presence.save_always_on(state)
    )


def forget(server: ServerApi, user: User) -> None:
    account = user.account
    if account is None:
        return
    presence = server.store.presence
    server.feature(PresenceWriter).submit(
        ("always-on", fold(account)), lambda: presence.forget_always_on(account)
    )


def _kept(server: ServerApi, user: User) -> bool:
    """Whether ``user`` is an always-on user (always one devices share)."""
    return user.devices is not None and multiclient.always_on(server, user.account)


# --- hooks -----------------------------------------------------------------------------
def _registered(ctx: Context) -> None:
    """A user of its own registered: the account's always-on user, unless
    the account has one already (a connection that asked for another nick
    is a user of its own, and leaves when it goes)."""
    user = ctx.user
    if multiclient.always_on(ctx.server, user.account) and not _has_another(ctx.server, user):
        multiclient.make_shared(ctx)
        save(ctx.server, user)


def _has_another(server: ServerApi, user: User) -> bool:
    account = fold(user.account or "")
    return any(
        other is not user and other.account is not None and fold(other.account) == account
        for other in server.world.users.values()
        if other.registered and other.owner is None
    )


def _joined(ctx: Context, channel: Channel, created: bool) -> None:
    if _kept(ctx.server, ctx.user):
        save(ctx.server, ctx.user)


def _renamed(ctx: Context, old_nick: str) -> None:
    if _kept(ctx.server, ctx.user):
        save(ctx.server, ctx.user)


def _left(server: ServerApi, channel: Channel, user: User) -> None:
    if _kept(server, user):
        save(server, user)


def _modes(server: ServerApi, channel: Channel, setter: str, applied: list[ModeChange]) -> None:
    for change in applied:
        if change.mode in PREFIX_MODES and change.param is not None:
            user = server.world.find_user(change.param)
            if user is not None and _kept(server, user):
                save(server, user)


def _quit(server: ServerApi, user: User) -> None:
    # (already out of the world: no longer a user devices share)
    if multiclient.always_on(server, user.account) and not _has_another(server, user):
        forget(server, user)  # killed, ghosted, K-lined: gone until it connects again


def _device_left(server: ServerApi, user: User, device: User) -> None:
    if not user.devices and _kept(server, user):
        save(server, user)


# --- restoring at start -------------------------------------------------------------------
async def _restore(server: ServerApi) -> None:
    for state in server.feature(PresenceWriter).snapshot.always_on:
        free = server.world.find_user(state.nick) is None
        if free and multiclient.always_on(server, state.account):
            restore(server, state)


def restore(server: ServerApi, state: AlwaysOnUser) -> User:
    """Put an always-on user back as it was, with no device (nobody is told:
    nobody is connected yet)."""
    world = server.world
    user = User(_NoSink(), "", state.host, 0, False)
    user.sink = Fanout(user)
    user.cloak = state.host  # masks match the host shown, never an address
    user.user = state.username
    user.realname = state.realname
    user.modes = set(state.modes)
    user.account = state.account
    user.history_party = server.store.accounts.party(state.account)
    user.away = multiclient.NO_DEVICES_AWAY
    world.set_nick(user, state.nick)
    world.restore_shared(user)
    ctx = Context(server, user)
    for name, prefix in state.channels:
        channel, created = world.get_or_create_channel(name)
        if created:
            for hook in server.hooks.channel_create:
                hook(ctx, channel)
        world.add_member(channel, user, prefix)
    return user


class _NoSink:
    """The sink of a user being built (replaced by its Fanout at once)."""

    def write(self, data: bytes) -> None:
        pass

    def write_unlabeled(self, data: bytes) -> None:
        pass

    def close(self, reason: str) -> None:
        pass

    def take_label(self) -> str | None:
        return None


def install(server: ServerApi, add: Callable[[object], None]) -> None:
    """Always-on users: restored at start, written to the store as they change."""
    del add  # no state of its own: the presence writer keeps the queue
    hooks = server.hooks
    hooks.startup.append(_restore)
    hooks.registered.append(_registered)
    hooks.joined.append(_joined)
    hooks.nick_changed.append(_renamed)
    hooks.left.append(_left)
    hooks.modes_changed.append(_modes)
    hooks.quit.append(_quit)
    hooks.device_left.append(_device_left)
