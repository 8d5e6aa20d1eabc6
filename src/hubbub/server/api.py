"""What command handlers, services and features are written against.

``ServerApi`` is the narrow view of the server they may use (not
``app.Server``: handlers never import the application, so the import graph
of ``hubbub.server`` has no cycle; docs/architecture.md). ``Hooks`` are the
server's extension points, owned by each server and filled by the features
``features.py`` lists. ``Context`` is what one handler call gets.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeVar

from hubbub.protocol.message import serialize_body
from hubbub.server.delivery import Event, add_tag, render
from hubbub.server.state import Channel, User

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from hubbub.server.config import Config
    from hubbub.server.metrics import ServerMetrics
    from hubbub.server.world import World
    from hubbub.store import BanKind, ServerBan, Store

T = TypeVar("T")

_batch_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class ModeChange:
    """One ``+x param`` / ``-x`` change. ``param`` is None for flag modes."""

    adding: bool
    mode: str
    param: str | None = None

    def __str__(self) -> str:
        sign = "+" if self.adding else "-"
        return f"{sign}{self.mode}" + (f" {self.param}" if self.param is not None else "")


class Delivered(NamedTuple):
    """What was delivered, for listeners such as the history store."""

    server: ServerApi
    sender: User
    command: str
    target: str  # channel name or the recipient's nick
    recipient: User | None  # set for private messages
    text: str
    event: Event
    # what history keeps as the message's tags, when more than its client
    # tags (a multiline message's line composition)
    stored_tags: dict[str, str] | None = None
    # a channel message to members of a rank only (``@#chan``): its prefix;
    # history does not keep those
    status: str = ""


def private_listeners(
    hooks: Hooks, sender: User, recipient: User
) -> list[Callable[[Delivered], None]]:
    """Who hears of a private message from ``sender`` to ``recipient``:
    between two guests, only the listeners that asked for those."""
    if sender.history_party is None and recipient.history_party is None:
        return hooks.delivered_between_guests
    return hooks.delivered


class MessageOrder(Protocol):
    """Where what this node's users say or change in a channel waits for its
    turn before this node shows it to the channel's members (a cluster: the
    bus's one order, so every member on every node sees a channel's
    messages, JOINs, PARTs, ... in the same order)."""

    def holding(self) -> bool:
        """True while deliveries take their turn; False: deliver at once."""

    def hold(self, deliver: Callable[[], None]) -> None:
        """Call ``deliver`` at its turn: after what was held before it, once
        the change it shows has been told to the other nodes."""


@dataclass(frozen=True, slots=True)
class NetworkCounts:
    """What LUSERS says of a network this server is one server of (a cluster)."""

    servers: int  # this one included
    users: int
    invisible: int
    opers: int
    max_users: int  # the most users seen at once on the network, by this server


@dataclass(slots=True)
class ChannelEvent:
    """A change the members of ``channels`` saw (JOIN, PART, KICK, QUIT,
    NICK, TOPIC, MODE), for listeners such as draft/event-playback history.
    QUIT and NICK happen in every channel the user is in at once."""

    server: ServerApi
    channels: list[Channel]
    source: str
    command: str
    params: list[str]
    event: Event


ServiceHandler = Callable[["Context", str], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class Service:
    """A nick answered by the server (NickServ, ChanServ): its handler gets
    what people PRIVMSG it, and may be a coroutine (the sender's next
    command waits for it, so replies keep their order)."""

    nick: str
    handler: ServiceHandler
    description: str

    def source(self, server_name: str) -> str:
        return f"{self.nick}!{self.nick}@services.{server_name}"


@dataclass(slots=True)
class Hooks:
    """One server's extension points, called at fixed moments. Filled by
    ``features.install_features`` in a visible order; never at import."""

    # once the store is open (ChanServ loading registrations): hook(server)
    startup: list[Callable[[ServerApi], Awaitable[None]]] = field(default_factory=list)
    # once every client is gone, before the store closes: hook(server)
    shutdown: list[Callable[[ServerApi], Awaitable[None]]] = field(default_factory=list)
    # on every accepted connection before anything is read (D-lines):
    # a refusal reason or None
    connect_checks: list[Callable[[ServerApi, User], str | None]] = field(default_factory=list)
    # just before registration completes (K-lines): True if it refused
    registration_checks: list[Callable[[Context], bool]] = field(default_factory=list)
    # during the registration burst, before the MOTD (metadata's own batch)
    welcome_burst: list[Callable[[Context], None]] = field(default_factory=list)
    # once registration completed
    registered: list[Callable[[Context], None]] = field(default_factory=list)
    # after a login (SASL, NickServ, REGISTER): hook(ctx, account)
    logged_in: list[Callable[[Context, str], None]] = field(default_factory=list)
    # extra WHOIS lines about a target, before RPL_ENDOFWHOIS: hook(ctx, target)
    whois: list[Callable[[Context, User], None]] = field(default_factory=list)
    # before NICK gives a nick (a cluster claims it network-wide): hook(ctx, nick)
    # is True if it may, False if it is taken (433), None if it already told
    # the user why not
    nick_claims: list[Callable[[Context, str], Awaitable[bool | None]]] = field(
        default_factory=list
    )
    # after ctx.user's AWAY text was set or cleared (user.away)
    away_changed: list[Callable[[Context], None]] = field(default_factory=list)
    # after a registered ctx.user logged in or out (user.account)
    account_changed: list[Callable[[Context], None]] = field(default_factory=list)
    # after a registered user's realname ("realname"), user@host ("host") or
    # user modes ("modes") changed, on this node: hook(server, user, what)
    user_changed: list[Callable[[ServerApi, User, str], None]] = field(default_factory=list)
    # after a registered user's nick changed: hook(ctx, old_nick)
    nick_changed: list[Callable[[Context, str], None]] = field(default_factory=list)
    # after every delivered PRIVMSG/NOTICE/TAGMSG (history, the cluster),
    # except a private message between two users neither of whom is logged
    # in (no ``history_party``): that goes to ``delivered_between_guests``
    # only (``private_listeners``). History stores none of those, and on a
    # server of guests calling it for each cost a ninth of the relay.
    delivered: list[Callable[[Delivered], None]] = field(default_factory=list)
    # after a private message between two guests (the cluster: to a guest
    # on another node); a listener of every message is in both lists
    delivered_between_guests: list[Callable[[Delivered], None]] = field(default_factory=list)
    # where a channel PRIVMSG/NOTICE/TAGMSG (multiline too) of this node's
    # users, and the members' lines of a JOIN, PART, KICK, QUIT, NICK, TOPIC
    # or MODE made here (``member_lines``), wait for their turn before they
    # are delivered here (at most one: the cluster); none, or not
    # ``holding``: delivered at once
    message_order: list[MessageOrder] = field(default_factory=list)
    # after a JOIN, PART, KICK, QUIT, NICK, TOPIC or MODE was delivered to a
    # channel (history's event-playback); called from ``actions`` and modes
    channel_event: list[Callable[[ChannelEvent], None]] = field(default_factory=list)
    # a new channel is about to be created: all must return True
    channel_create: list[Callable[[Context, Channel], bool]] = field(default_factory=list)
    # right after the JOIN reached the joiner, before topic and NAMES
    # (draft/read-marker's MARKREAD goes before the 366): hook(ctx, channel)
    join_burst: list[Callable[[Context, Channel], None]] = field(default_factory=list)
    # after a JOIN: hook(ctx, channel, created)
    joined: list[Callable[[Context, Channel, bool], None]] = field(default_factory=list)
    # may this user join despite +i/+k/+l/+b: any True lets them in
    join_exemptions: list[Callable[[Context, Channel], bool]] = field(default_factory=list)
    # a refusal text for a KICK, or None
    kick_guards: list[Callable[[Context, Channel, User], str | None]] = field(default_factory=list)
    # a refusal text for a TOPIC change, or None
    topic_guards: list[Callable[[Context, Channel], str | None]] = field(default_factory=list)
    # a refusal text for a RENAME of a channel to a new name, or None
    rename_guards: list[Callable[[Context, Channel, str], str | None]] = field(default_factory=list)
    # after a channel was renamed: hook(server, channel, old_name)
    channel_renamed: list[Callable[[ServerApi, Channel, str], None]] = field(default_factory=list)
    # after RENAME was told to the members (the cluster tells the other
    # nodes): hook(server, channel, old_name, reason, source)
    rename_told: list[Callable[[ServerApi, Channel, str, str, str], None]] = field(
        default_factory=list
    )
    # after an INVITE reached its target: hook(ctx, channel, target, recorded)
    invited: list[Callable[[Context, Channel, User, bool], None]] = field(default_factory=list)
    # after a REDACT was relayed: hook(ctx, channel or None, the other party
    # of a private message or None, the REDACT's parameters)
    redacted: list[Callable[[Context, Channel | None, User | None, list[str]], None]] = field(
        default_factory=list
    )
    # after a user's or channel's metadata key changed (value None: unset):
    # hook(server, target, key, value)
    metadata_changed: list[Callable[[ServerApi, User | Channel, str, str | None], None]] = field(
        default_factory=list
    )
    # after an operator added a K/D-line here, stored and enforced here (the
    # cluster tells the other nodes): hook(server, ban)
    ban_added: list[Callable[[ServerApi, ServerBan], None]] = field(default_factory=list)
    # after an operator lifted a K/D-line here: hook(server, kind, mask as typed)
    ban_removed: list[Callable[[ServerApi, BanKind, str], None]] = field(default_factory=list)
    # after an account was created (REGISTER) or deleted (DROP) here:
    # hook(server, account name)
    account_registered: list[Callable[[ServerApi, str], None]] = field(default_factory=list)
    # after ChanServ wrote a change to a channel's registration (made, dropped,
    # access, topic, modes, lists, renamed): hook(server, channel name)
    registration_written: list[Callable[[ServerApi, str], None]] = field(default_factory=list)
    account_dropped: list[Callable[[ServerApi, str], None]] = field(default_factory=list)
    # a login attempt here took a token from its account's throttle bucket
    # (None: no account's) and its IP's (True), or gave them back (False: it
    # succeeded, or could not be checked): hook(server, account key, IP key, taken)
    login_tokens: list[Callable[[ServerApi, str | None, str, bool], None]] = field(
        default_factory=list
    )
    # LUSERS of the whole network, when this server is not all of it (at most one)
    network_counts: list[Callable[[], NetworkCounts]] = field(default_factory=list)
    # LINKS: the other live servers of the network, (name, description) each
    network_links: list[Callable[[], list[tuple[str, str]]]] = field(default_factory=list)
    # after an account's read marker moved: hook(server, account, target, ms)
    marker_moved: list[Callable[[ServerApi, str, str, int], None]] = field(default_factory=list)
    # after a topic change
    topic_changed: list[Callable[[Context, Channel], None]] = field(default_factory=list)
    # keep only the mode changes a feature allows
    mode_filters: list[Callable[[Context, Channel, list[ModeChange]], list[ModeChange]]] = field(
        default_factory=list
    )
    # after mode changes were applied: hook(server, channel, setter, applied)
    modes_changed: list[Callable[[ServerApi, Channel, str, list[ModeChange]], None]] = field(
        default_factory=list
    )
    # after a member PARTed a channel (the cluster tells the other nodes):
    # hook(server, channel, user, reason)
    parted: list[Callable[[ServerApi, Channel, User, str], None]] = field(default_factory=list)
    # after a KICK: hook(server, channel, target, source, reason)
    kicked: list[Callable[[ServerApi, Channel, User, str, str], None]] = field(default_factory=list)
    # a user (registered or not) is leaving the server, still in its
    # channels (the cluster tells the other nodes): hook(server, user, quit text)
    quitted: list[Callable[[ServerApi, User, str], None]] = field(default_factory=list)
    # a user left a channel by PART or KICK, whatever the reason (always-on
    # bookkeeping): hook(server, channel, user)
    left: list[Callable[[ServerApi, Channel, User], None]] = field(default_factory=list)
    # a device of a user several share disconnected: hook(server, user, device)
    device_left: list[Callable[[ServerApi, User, User], None]] = field(default_factory=list)
    # a user left the network (its memberships are gone): hook(server, user)
    quit: list[Callable[[ServerApi, User], None]] = field(default_factory=list)
    # service users by folded nick
    services: dict[str, Service] = field(default_factory=dict)


class ServerApi(Protocol):
    """The part of the server handlers, services and features may use."""

    @property
    def config(self) -> Config: ...

    @property
    def world(self) -> World: ...

    @property
    def store(self) -> Store: ...

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def started(self) -> float: ...

    @property
    def stopping(self) -> bool: ...

    @property
    def hooks(self) -> Hooks: ...

    @property
    def event_ids(self) -> Iterator[int]:
        """What ``Event`` draws its id from: history row ids of this
        server's boot (``event_ids.py``)."""

    @property
    def metrics(self) -> ServerMetrics:
        """Plain counters, read when scraped (server/metrics.py)."""

    @property
    def password_hasher(self) -> PasswordHasher | None: ...

    def feature(self, kind: type[T]) -> T:
        """The per-server state object of type ``kind`` a feature installed."""

    def disconnect(self, user: User, reason: str, quit_message: str | None = None) -> None: ...

    def spawn(self, coro: Awaitable[None]) -> asyncio.Future[None]:
        """Run a background job; the server cancels and awaits it at stop."""

    def rehash(self) -> None: ...

    async def stop(self, reason: str = ...) -> None: ...

    def notify_monitors_online(self, user: User) -> None: ...

    def notify_monitors_offline(self, user: User) -> None: ...


class Context:
    """What a handler gets: the server's narrow API, the user, and ways to
    reply. Replies go to the connection that sent the command (``conn``:
    the user itself, or one of the devices of a user several share, see
    server/devices.py), whose session routes them into the command's reply
    buffer when the command is labeled."""

    __slots__ = ("conn", "server", "user")

    def __init__(self, server: ServerApi, user: User, conn: User | None = None) -> None:
        self.server = server
        self.user = user
        self.conn = user if conn is None else conn

    @property
    def nick(self) -> str:
        """The nick replies are addressed to: ``*`` until registration completes."""
        return self.user.nick if self.user.registered else "*"

    def reply(self, numeric: str, *params: str) -> None:
        """Send a numeric: ``:server NUMERIC <nick> params...``."""
        body = serialize_body(self.server.name, numeric, [self.nick, *params])
        self.conn.sink.write((body + "\r\n").encode())

    def send(
        self,
        command: str,
        *params: str,
        source: str | None = None,
        event: Event | None = None,
        batch: str | None = None,
    ) -> None:
        """Send one message to this user only (server is the default source)."""
        body = serialize_body(source or self.server.name, command, list(params))
        data = render(body, event, self.conn.tag_mask)
        self.conn.sink.write(add_tag(data, "batch=" + batch) if batch else data)

    def fail(self, command: str, code: str, *context: str, description: str) -> None:
        """A standard-replies FAIL (https://ircv3.net/specs/extensions/standard-replies)."""
        self.send("FAIL", command, code, *context, description)

    def note(self, command: str, code: str, *context: str, description: str) -> None:
        self.send("NOTE", command, code, *context, description)

    def start_batch(self, kind: str, *params: str) -> str | None:
        """Open a batch if the client can take one; returns its reference."""
        if "batch" not in self.conn.caps:
            return None
        ref = f"b{next(_batch_ids)}"
        self.send("BATCH", "+" + ref, kind, *params)
        return ref

    def end_batch(self, ref: str | None) -> None:
        if ref is not None:
            self.send("BATCH", "-" + ref)
