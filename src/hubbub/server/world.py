"""The world: every user and channel of one server, indexed by folded name,
with memberships, invites, WHOWAS, MONITOR watchers and the LUSERS counts.

Plain objects, no I/O; only the domain actions (``actions.py``) change it
once a user is registered.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator

from hubbub.protocol.casemap import fold
from hubbub.server.state import NOTHING, Channel, Invite, User, WhowasEntry, set_with, set_without


class World:
    """All users and channels of this server, indexed by folded name."""

    def __init__(self, whowas_size: int = 1000) -> None:
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.connections: set[User] = set()
        self.whowas: deque[WhowasEntry] = deque(maxlen=whowas_size)
        self.monitors: dict[str, set[User]] = {}
        # Logged-in users by folded account name: the clients of one person.
        self.accounts: dict[str, set[User]] = {}
        self.max_users = 0
        self._next_connection_id = 0
        # Told of each channel removed because it emptied (history forgets
        # an unregistered channel's past with it).
        self.channel_removed: list[Callable[[Channel], None]] = []
        # LUSERS runs at every registration: keep its counts instead of
        # scanning every user each time.
        self._registered = 0
        self._user_mode_counts: Counter[str] = Counter()  # registered users only
        # Connections that are devices of a shared user, and shared users.
        self._device_connections = 0
        self._shared_users = 0

    # --- users ------------------------------------------------------------
    def connect(self, user: User) -> None:
        self._next_connection_id += 1
        user.connection_id = self._next_connection_id
        self.connections.add(user)

    def set_account(self, user: User, account: str | None) -> None:
        """Log ``user`` in to ``account`` (None: out), keeping the index."""
        if user.account is not None:
            self._unindex_account(user)
        user.account = account
        if account is not None:
            self.accounts.setdefault(fold(account), set()).add(user)

    def _unindex_account(self, user: User) -> None:
        assert user.account is not None
        key = fold(user.account)
        users = self.accounts.get(key)
        if users is not None:
            users.discard(user)
            if not users:
                del self.accounts[key]

    def logged_in(self, account: str) -> set[User]:
        """The users logged in to ``account`` now."""
        return self.accounts.get(fold(account), set())

    def find_user(self, nick: str) -> User | None:
        return self.users.get(fold(nick))

    def nick_taken(self, nick: str, by: User) -> bool:
        other = self.users.get(fold(nick))
        return other is not None and other is not by

    def set_nick(self, user: User, nick: str) -> None:
        if user.folded and self.users.get(user.folded) is user:
            del self.users[user.folded]
        if user.folded != fold(nick):
            self.drop_invites(user)  # an invite was for the person under that nick
        user.nick = nick
        folded = fold(nick)
        # A nick already in lower case is its own folded form: one string, not two.
        user.folded = nick if folded == nick else folded
        self.users[user.folded] = user

    def forget_nick(self, user: User) -> None:
        """Drop an unregistered user's nick from the index (it asked for one
        it may only get by joining that nick's user as a device)."""
        if user.folded and self.users.get(user.folded) is user:
            del self.users[user.folded]

    def register(self, user: User) -> None:
        user.registered = True
        self._registered += 1
        self._user_mode_counts.update(user.modes)
        self.max_users = max(self.max_users, self._registered)

    def set_user_mode(self, user: User, mode: str, on: bool) -> bool:
        """Set or clear one user mode; False if it was already so."""
        if on == (mode in user.modes):
            return False
        user.modes = set_with(user.modes, mode) if on else set_without(user.modes, mode)
        if user.registered:
            self._user_mode_counts[mode] += 1 if on else -1
        return True

    def remove_user(self, user: User) -> list[Channel]:
        """Forget ``user`` everywhere; return the channels it left."""
        # Counted: a registered user with a connection of its own, or one
        # several devices share (not one of its devices); once.
        present = user in self.connections or user.devices is not None
        if present and user.registered and user.owner is None:
            if user.devices is not None:
                self._shared_users -= 1
            self._registered -= 1
            self._user_mode_counts.subtract(user.modes)
        user.devices = None
        self.connections.discard(user)
        if user.account is not None:
            self._unindex_account(user)
        if user.folded and self.users.get(user.folded) is user:
            del self.users[user.folded]
            if user.registered:
                self.whowas.appendleft(
                    WhowasEntry(user.nick, user.user, user.host, user.realname, time.time())
                )
        left = list(user.channels.values())
        for channel in left:
            self._drop_member(channel, user)
        user.channels.clear()
        self.drop_invites(user)
        for target in user.monitoring:
            watchers = self.monitors.get(target)
            if watchers is not None:
                watchers.discard(user)
                if not watchers:
                    del self.monitors[target]
        user.monitoring = NOTHING
        return left

    # --- devices (one user, several connections: server/devices.py) ---------------
    def split_devices(self, user: User, record: User) -> None:
        """``user``'s own connection becomes ``record``, its first device."""
        self.connections.discard(user)
        self.connections.add(record)
        if user.account is not None:
            self._unindex_account(user)
            self.accounts.setdefault(fold(user.account), set()).add(record)
        record.owner = user
        user.devices = [record]
        self._device_connections += 1
        self._shared_users += 1

    def add_device(self, user: User, record: User) -> None:
        """``record``, a registered connection, is now a device of ``user``."""
        assert user.devices is not None
        record.owner = user
        user.devices.append(record)
        self._device_connections += 1

    def restore_shared(self, user: User) -> None:
        """An always-on user put back at start: registered, with no device."""
        user.devices = []
        self._shared_users += 1
        self.register(user)

    def remove_device(self, record: User) -> None:
        """The device's connection is gone; its user stays."""
        if record in self.connections:
            self.connections.discard(record)
            self._device_connections -= 1
        if record.account is not None:
            self._unindex_account(record)
        owner = record.owner
        if owner is not None and owner.devices is not None and record in owner.devices:
            owner.devices.remove(record)

    def detach_device(self, record: User) -> None:
        """The device's connection leaves its user and goes on as a
        registered user of its own, logged in to no account."""
        self.remove_device(record)
        record.owner = None
        record.account = None
        self.connections.add(record)
        self.register(record)

    def registered_count(self) -> int:
        return self._registered

    def invisible_count(self) -> int:
        return self._user_mode_counts["i"]

    def oper_count(self) -> int:
        return self._user_mode_counts["o"]

    def unregistered_count(self) -> int:
        devices = self._device_connections
        return len(self.connections) - (self._registered - self._shared_users) - devices

    def neighbours(self, user: User) -> set[User]:
        """Everyone sharing at least one channel with ``user`` (not ``user``)."""
        seen: set[User] = set()
        for channel in user.channels.values():
            seen.update(channel.members)
        seen.discard(user)
        return seen

    def whowas_for(self, nick: str) -> Iterator[WhowasEntry]:
        folded = fold(nick)
        return (e for e in self.whowas if fold(e.nick) == folded)

    # --- channels ---------------------------------------------------------
    def find_channel(self, name: str) -> Channel | None:
        return self.channels.get(fold(name))

    def get_or_create_channel(self, name: str) -> tuple[Channel, bool]:
        folded = fold(name)
        channel = self.channels.get(folded)
        if channel is not None:
            return channel, False
        channel = Channel(name)
        self.channels[folded] = channel
        return channel, True

    def rename_channel(self, channel: Channel, name: str) -> None:
        """Give ``channel`` a new name (not taken by another channel): the
        same object, so members, modes, lists and invites stay."""
        old = channel.folded
        del self.channels[old]
        channel.name = name
        channel.folded = fold(name)
        self.channels[channel.folded] = channel
        for member in channel.members:
            del member.channels[old]
            member.channels[channel.folded] = channel

    def add_member(self, channel: Channel, user: User, prefix: str = "") -> None:
        channel.members[user] = prefix
        user.channels[channel.folded] = channel
        if channel.invited.pop(user, None) is not None:
            user.invites = set_without(user.invites, channel)

    def remove_member(self, channel: Channel, user: User) -> None:
        user.channels.pop(channel.folded, None)
        self._drop_member(channel, user)

    def _drop_member(self, channel: Channel, user: User) -> None:
        channel.members.pop(user, None)
        if not channel.members:
            self.channels.pop(channel.folded, None)
            for invited in channel.invited:
                invited.invites = set_without(invited.invites, channel)
            channel.invited.clear()
            for listener in self.channel_removed:
                listener(channel)

    # --- invites ----------------------------------------------------------
    def invite(self, channel: Channel, user: User, now: float, ttl: float, limit: int) -> None:
        """Record an invite valid for ``ttl`` seconds. At ``limit`` pending
        invites for the channel, expired ones go first, then the oldest."""
        channel.invited.pop(user, None)
        if len(channel.invited) >= limit:
            for stale in [u for u, i in channel.invited.items() if i.expires <= now]:
                del channel.invited[stale]
                stale.invites = set_without(stale.invites, channel)
        while len(channel.invited) >= limit:
            oldest = next(iter(channel.invited))
            del channel.invited[oldest]
            oldest.invites = set_without(oldest.invites, channel)
        channel.invited[user] = Invite(now + ttl)
        user.invites = set_with(user.invites, channel)

    def drop_invites(self, user: User) -> None:
        """Forget every invite held by ``user`` (nick change, quit)."""
        for channel in user.invites:
            channel.invited.pop(user, None)
        user.invites = NOTHING

    def visible_channels(self, viewer: User) -> Iterable[Channel]:
        for channel in self.channels.values():
            if "s" not in channel.modes or viewer in channel.members:
                yield channel

    # --- monitor ----------------------------------------------------------
    def watchers_of(self, nick: str) -> set[User]:
        return self.monitors.get(fold(nick), set())

    def monitor_add(self, user: User, nick: str) -> None:
        folded = fold(nick)
        user.monitoring = set_with(user.monitoring, folded)
        self.monitors.setdefault(folded, set()).add(user)

    def monitor_remove(self, user: User, nick: str) -> None:
        folded = fold(nick)
        user.monitoring = set_without(user.monitoring, folded)
        watchers = self.monitors.get(folded)
        if watchers is not None:
            watchers.discard(user)
            if not watchers:
                del self.monitors[folded]

    def monitor_clear(self, user: User) -> None:
        for folded in list(user.monitoring):
            self.monitor_remove(user, folded)
