"""The world: users, channels, memberships, modes, mask lists and the rules.

Plain objects, no I/O. A user is reached only through its ``sink`` (the
connection's non-blocking ``write``), so the network layer stays outside.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from hubbub.protocol import masks
from hubbub.protocol.casemap import fold
from hubbub.server.multiline_batch import OpenBatch

# Prefix modes, highest first, with their NAMES/WHO symbols.
PREFIX_MODES = "ov"
PREFIX_SYMBOLS = {"o": "@", "v": "+"}
SYMBOL_TO_MODE = {v: k for k, v in PREFIX_SYMBOLS.items()}
LIST_MODES = "beI"
FLAG_MODES = "Cimnst"
USER_MODES = "iowB"


class Sink(Protocol):
    """What the world needs of a connection: queue bytes, close."""

    def write(self, data: bytes) -> None: ...

    def write_unlabeled(self, data: bytes) -> None:
        """Like ``write``, but never part of the running command's labeled
        response (a message one sends to oneself arrives as anyone's would)."""

    def close(self, reason: str) -> None: ...

    def take_label(self) -> str | None:
        """The running command's label, if any, taken from it: the command
        is answered later, by another (a multiline batch's opening BATCH is
        answered when the batch closes), so it gets no ACK now."""


class User:
    __slots__ = (
        "account",
        "away",
        "cap_negotiating",
        "cap_version",
        "caps",
        "certfp",
        "channels",
        "cloak",
        "connection_id",
        "device_id",
        "devices",
        "folded",
        "history_party",
        "host",
        "invites",
        "ip",
        "last_active",
        "metadata",
        "metadata_subs",
        "modes",
        "monitoring",
        "nick",
        "open_batch",
        "oper_name",
        "owner",
        "password",
        "plain_chat",
        "port",
        "realname",
        "registered",
        "signon",
        "sink",
        "tag_mask",
        "tls",
        "user",
    )

    def __init__(self, sink: Sink, ip: str, host: str, port: int, tls: bool) -> None:
        self.sink = sink
        self.ip = ip
        self.host = host
        self.port = port
        # The keyed hash shown instead of ``ip`` (None: cloaking is off).
        # Channel masks match it even after a vhost replaces ``host``.
        self.cloak: str | None = None
        self.tls = tls
        # SHA-256 of the client certificate, taken when the TLS handshake
        # finished (None: plaintext, or no certificate presented).
        self.certfp: str | None = None
        # Connected by plain chat (server/plainchat/): no IRC client, WHOIS says so.
        self.plain_chat = False
        self.nick = "*"
        self.folded = ""
        self.user = ""
        self.realname = ""
        self.modes: set[str] = set()
        self.away: str | None = None
        self.account: str | None = None
        # The account's key for private history (store.account_party), set
        # at login so the message path does not look it up; None: a guest,
        # who is served no private history.
        self.history_party: str | None = None
        self.caps: set[str] = set()
        self.cap_version = 0
        self.cap_negotiating = False
        self.password: str | None = None
        self.tag_mask = 0
        self.channels: dict[str, Channel] = {}
        # Channels holding an invite for this user, so that a nick change or
        # a quit can drop them without scanning every channel.
        self.invites: set[Channel] = set()
        self.monitoring: set[str] = set()
        # The draft/multiline batch this client is sending, if any.
        self.open_batch: OpenBatch | None = None
        # IRCv3 metadata set on this user, and the keys it subscribed to.
        self.metadata: dict[str, str] = {}
        self.metadata_subs: set[str] = set()
        self.registered = False
        self.signon = time.time()
        self.last_active = self.signon
        self.oper_name: str | None = None
        self.connection_id = 0
        # One account, many devices (server/devices.py). On a user several
        # connections share: one record per connection (None: the user is
        # its own, only connection). On such a record: the user it is a
        # device of. The device's name (alice@phone), if it gave one.
        self.devices: list[User] | None = None
        self.owner: User | None = None
        self.device_id: str | None = None

    @property
    def source(self) -> str:
        return f"{self.nick}!{self.user}@{self.host}"

    @property
    def is_oper(self) -> bool:
        return "o" in self.modes

    def send(self, data: bytes) -> None:
        self.sink.write(data)

    def __repr__(self) -> str:
        return f"<User {self.nick}>"


@dataclass(slots=True)
class Invite:
    """A pending invite: who may use it is the dict key (a User, never a nick)."""

    expires: float


@dataclass(slots=True)
class ListEntry:
    mask: str
    setter: str
    set_at: int


class Channel:
    __slots__ = (
        "created",
        "folded",
        "invited",
        "key",
        "limit",
        "lists",
        "members",
        "metadata",
        "modes",
        "name",
        "topic",
        "topic_at",
        "topic_by",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.folded = fold(name)
        self.members: dict[User, str] = {}
        self.topic = ""
        self.topic_by = ""
        self.topic_at = 0
        self.created = int(time.time())
        self.modes: set[str] = {"n", "t"}
        self.key: str | None = None
        self.limit: int | None = None
        self.lists: dict[str, list[ListEntry]] = {m: [] for m in LIST_MODES}
        # Invites by channel operators, keyed by the User invited (a later
        # holder of the nick gets nothing); bounded by World.invite().
        self.invited: dict[User, Invite] = {}
        self.metadata: dict[str, str] = {}  # IRCv3 metadata set by its operators

    # --- membership -------------------------------------------------------
    def prefix_of(self, user: User, multi: bool = False) -> str:
        modes = self.members.get(user, "")
        symbols = [PREFIX_SYMBOLS[m] for m in PREFIX_MODES if m in modes]
        if not symbols:
            return ""
        return "".join(symbols) if multi else symbols[0]

    def is_op(self, user: User) -> bool:
        return "o" in self.members.get(user, "")

    def is_voiced_or_op(self, user: User) -> bool:
        return bool(self.members.get(user, ""))

    def set_prefix(self, user: User, mode: str, on: bool) -> bool:
        """Give or take a prefix mode; False when nothing changed."""
        current = self.members[user]
        if on == (mode in current):
            return False
        updated = current + mode if on else current.replace(mode, "")
        self.members[user] = "".join(m for m in PREFIX_MODES if m in updated)
        return True

    # --- mask lists -------------------------------------------------------
    def matches_list(self, mode: str, user: User) -> bool:
        return any(mask_matches_user(entry.mask, user) for entry in self.lists[mode])

    def is_banned(self, user: User) -> bool:
        return self.matches_list("b", user) and not self.matches_list("e", user)

    def is_muted(self, user: User) -> bool:
        """A ``$m:<mask>`` entry of the ban list matches: may join, not speak;
        an exception (``<mask>`` or ``$m:<mask>`` in +e) lifts it."""
        return self._mute_matches("b", user) and not (
            self.matches_list("e", user) or self._mute_matches("e", user)
        )

    def _mute_matches(self, mode: str, user: User) -> bool:
        return any(
            entry.mask.startswith(MUTE_EXTBAN) and mask_matches_user(entry.mask[3:], user)
            for entry in self.lists[mode]
        )

    def has_invite(self, user: User, now: float) -> bool:
        invite = self.invited.get(user)
        return invite is not None and invite.expires > now

    def mode_string(self, reveal_key: bool) -> tuple[str, list[str]]:
        flags = "".join(sorted(self.modes))
        params: list[str] = []
        if self.key is not None:
            flags += "k"
            params.append(self.key if reveal_key else "*")
        if self.limit is not None:
            flags += "l"
            params.append(str(self.limit))
        return "+" + flags, params


MUTE_EXTBAN = "$m:"


def mask_matches_user(mask: str, user: User) -> bool:
    """Match a ban-style mask, including the ``$a:account`` extban (a
    ``$m:`` mute matches nobody here: see ``Channel.is_muted``)."""
    if mask.startswith(MUTE_EXTBAN):
        return False
    if mask.startswith("$a"):
        if user.account is None:
            return False
        if mask in ("$a", "$a:*"):
            return True
        return mask.startswith("$a:") and masks.match(mask[3:], user.account)
    if masks.match(mask, user.source):
        return True
    # A cloaked user's address stays hidden from channel masks (a channel
    # operator could otherwise probe it with bans); the cloak itself matches
    # even under a vhost. Uncloaked users match by IP as well.
    hidden = user.cloak if user.cloak is not None else user.ip
    return masks.match(mask, f"{user.nick}!{user.user}@{hidden}")


@dataclass(slots=True)
class WhowasEntry:
    nick: str
    user: str
    host: str
    realname: str
    left_at: float


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
        user.folded = fold(nick)
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
        if on:
            user.modes.add(mode)
        else:
            user.modes.discard(mode)
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
        user.monitoring.clear()
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
            user.invites.discard(channel)

    def remove_member(self, channel: Channel, user: User) -> None:
        user.channels.pop(channel.folded, None)
        self._drop_member(channel, user)

    def _drop_member(self, channel: Channel, user: User) -> None:
        channel.members.pop(user, None)
        if not channel.members:
            self.channels.pop(channel.folded, None)
            for invited in channel.invited:
                invited.invites.discard(channel)
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
                stale.invites.discard(channel)
        while len(channel.invited) >= limit:
            oldest = next(iter(channel.invited))
            del channel.invited[oldest]
            oldest.invites.discard(channel)
        channel.invited[user] = Invite(now + ttl)
        user.invites.add(channel)

    def drop_invites(self, user: User) -> None:
        """Forget every invite held by ``user`` (nick change, quit)."""
        for channel in user.invites:
            channel.invited.pop(user, None)
        user.invites.clear()

    def visible_channels(self, viewer: User) -> Iterable[Channel]:
        for channel in self.channels.values():
            if "s" not in channel.modes or viewer in channel.members:
                yield channel

    # --- monitor ----------------------------------------------------------
    def watchers_of(self, nick: str) -> set[User]:
        return self.monitors.get(fold(nick), set())

    def monitor_add(self, user: User, nick: str) -> None:
        folded = fold(nick)
        user.monitoring.add(folded)
        self.monitors.setdefault(folded, set()).add(user)

    def monitor_remove(self, user: User, nick: str) -> None:
        folded = fold(nick)
        user.monitoring.discard(folded)
        watchers = self.monitors.get(folded)
        if watchers is not None:
            watchers.discard(user)
            if not watchers:
                del self.monitors[folded]

    def monitor_clear(self, user: User) -> None:
        for folded in list(user.monitoring):
            self.monitor_remove(user, folded)
