"""Typed events the client library delivers, one dataclass per kind of news.

User interfaces and bots match on these instead of on raw IRC lines, so the
protocol details (numerics, batches, CAP) stay inside the library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from hubbub.protocol.message import Message

MessageKind = Literal["privmsg", "notice", "action"]


@dataclass(frozen=True, slots=True)
class Event:
    """Base of all events; ``time`` is the server-time when the server sent one."""

    time: datetime = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class Connected(Event):
    """Registration finished (001 received): we may now send commands."""

    nick: str
    server: str
    caps: frozenset[str]


@dataclass(frozen=True, slots=True)
class Disconnected(Event):
    """The connection ended; ``retry_in`` is the delay before the library
    reconnects, None when it gives up (quit, or a fatal error). ``requested``
    is True when it ended because we quit."""

    reason: str
    retry_in: float | None = None
    requested: bool = False

    @property
    def reconnecting(self) -> bool:
        return self.retry_in is not None


@dataclass(frozen=True, slots=True)
class MessageEvent(Event):
    """A PRIVMSG, NOTICE or CTCP ACTION. ``conversation`` is where a UI shows it:
    the channel, or the other person's nick for a private message."""

    kind: MessageKind
    source: str
    target: str
    text: str
    conversation: str
    own: bool = False
    history: bool = False
    msgid: str | None = None
    account: str | None = None


@dataclass(frozen=True, slots=True)
class Join(Event):
    nick: str
    channel: str
    own: bool = False
    account: str | None = None


@dataclass(frozen=True, slots=True)
class Part(Event):
    nick: str
    channel: str
    reason: str = ""
    own: bool = False


@dataclass(frozen=True, slots=True)
class Quit(Event):
    """Someone quit; ``channels`` lists the shared channels they were in."""

    nick: str
    reason: str
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Kick(Event):
    channel: str
    nick: str
    by: str
    reason: str
    own: bool = False


@dataclass(frozen=True, slots=True)
class NickChange(Event):
    old: str
    new: str
    channels: tuple[str, ...]
    own: bool = False


@dataclass(frozen=True, slots=True)
class TopicChange(Event):
    """A topic set now (``by`` given) or reported on join (``by`` None)."""

    channel: str
    topic: str
    by: str | None = None


@dataclass(frozen=True, slots=True)
class ModeChange(Event):
    target: str
    by: str
    modes: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Names(Event):
    """The complete member list of a channel (end of NAMES)."""

    channel: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Away(Event):
    """away-notify: ``message`` None means the user is back."""

    nick: str
    message: str | None


@dataclass(frozen=True, slots=True)
class Invite(Event):
    by: str
    channel: str


@dataclass(frozen=True, slots=True)
class ServerNotice(Event):
    """A NOTICE from the server itself (not from a user)."""

    text: str


@dataclass(frozen=True, slots=True)
class Numeric(Event):
    """A numeric reply worth showing (WHOIS, LIST, errors...); ``text`` is readable."""

    code: str
    params: tuple[str, ...]
    text: str

    @property
    def is_error(self) -> bool:
        return self.code.startswith(("4", "5")) or self.code in {"904", "905", "906"}


@dataclass(frozen=True, slots=True)
class Error(Event):
    """Something went wrong that a person should read (ERROR line, refused TLS...)."""

    message: str
    fatal: bool = False


@dataclass(frozen=True, slots=True)
class CertificatePinned(Event):
    """First TLS connection to a self-signed server: its certificate is now
    trusted on first use, and later connections must present the same one."""

    address: str
    fingerprint: str
    store: str


@dataclass(frozen=True, slots=True)
class Raw(Event):
    """Every line received, for bots and debugging; not shown by the UIs."""

    message: Message


AnyEvent = (
    Connected
    | Disconnected
    | MessageEvent
    | Join
    | Part
    | Quit
    | Kick
    | NickChange
    | TopicChange
    | ModeChange
    | Names
    | Away
    | Invite
    | ServerNotice
    | Numeric
    | Error
    | CertificatePinned
    | Raw
)
