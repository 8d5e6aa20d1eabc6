"""The world's objects: users, channels, memberships, modes, mask lists and
the rules (may this user do that here?). The indexes that hold them are
``world.World``.

Plain objects, no I/O. A user is reached only through its ``sink`` (the
connection's non-blocking ``write``), so the network layer stays outside.
"""

from __future__ import annotations

import time
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

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

T = TypeVar("T")

# The one empty set every user holds until it has something of its own: an
# empty ``set()`` costs 216 bytes, and most users never hold an invite,
# monitor a nick or subscribe to metadata (docs/performance.md, "Idle memory
# per client"). Frozen, so nobody adds to it by mistake; ``set_with`` and
# ``set_without`` below give a user a set of its own and take it back.
NOTHING: frozenset[Any] = frozenset()


def set_with(items: AbstractSet[T], item: T) -> set[T]:
    """``items`` with ``item`` in it: a user's own set grows in place; the
    shared empty one (or any frozen set) is replaced by a new set."""
    if isinstance(items, set):
        items.add(item)
        return items
    return {*items, item}


def set_without(items: AbstractSet[T], item: T) -> AbstractSet[T]:
    """``items`` without ``item``: the shared empty set once nothing is left,
    so that an emptied set's memory goes back."""
    if isinstance(items, set):
        items.discard(item)
        return items if items else NOTHING
    return (items - {item}) or NOTHING


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
        answered when the batch closes; in a cluster, a channel message's
        echo when it comes back from the bus), so it gets no ACK now. Taken
        once: a second call in the same command gets None."""


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
        # Sets a user may never use start as the shared NOTHING (see there).
        self.modes: AbstractSet[str] = NOTHING
        self.away: str | None = None
        self.account: str | None = None
        # The account's key for private history (store.account_party), set
        # at login so the message path does not look it up; None: a guest,
        # who is served no private history.
        self.history_party: str | None = None
        self.caps: AbstractSet[str] = NOTHING
        self.cap_version = 0
        self.cap_negotiating = False
        self.password: str | None = None
        self.tag_mask = 0
        self.channels: dict[str, Channel] = {}
        # Channels holding an invite for this user, so that a nick change or
        # a quit can drop them without scanning every channel.
        self.invites: AbstractSet[Channel] = NOTHING
        self.monitoring: AbstractSet[str] = NOTHING
        # The draft/multiline batch this client is sending, if any.
        self.open_batch: OpenBatch | None = None
        # IRCv3 metadata set on this user, and the keys it subscribed to.
        self.metadata: dict[str, str] = {}
        self.metadata_subs: AbstractSet[str] = NOTHING
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
        "origin",
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
        # In a cluster: when (time.time()), on which node and by whom it was
        # created; of two nodes creating it at once, the earlier creation
        # keeps its operator (docs/cluster.md). None on a single server.
        self.origin: tuple[float, str, User] | None = None

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
