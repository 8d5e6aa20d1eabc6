"""One user, several connections (issue 16, "one account, many devices").

A user that several devices share is one ``User`` in the world (one nick,
one set of channels, one away status) whose ``devices`` are one record per
connection: a ``User`` too, holding what belongs to that connection (its
session as ``sink``, its capabilities and tag mask, address, device name)
and pointing back with ``owner``. Everything delivered to the user fans out
to its devices, each rendered for the tags that device asked for
(``delivery``); ``expand`` does the same for code that picks recipients by
capability.

While one device's command runs, the user carries that device's
capabilities, tag mask and sink (``activate``), so a handler reading
``ctx.user.caps`` or writing to ``ctx.user`` sees and reaches the device
that spoke. Between commands (``settle``) it carries the union of its
devices' capabilities (so others send it what any device asked for; each
device then gets only what it asked for through ``expand``) and its sink
writes to every device.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from hubbub.server.state import User


class Fanout:
    """The sink of a shared user between commands: every device gets the line."""

    __slots__ = ("user",)

    def __init__(self, user: User) -> None:
        self.user = user

    def write(self, data: bytes) -> None:
        for device in self.user.devices or ():
            device.sink.write(data)

    def write_unlabeled(self, data: bytes) -> None:
        for device in self.user.devices or ():
            device.sink.write_unlabeled(data)

    def close(self, reason: str) -> None:
        for device in list(self.user.devices or ()):
            device.sink.close(reason)

    def take_label(self) -> str | None:
        """Between commands there is no labeled reply to hand on."""
        return None


def expand(users: Iterable[User]) -> Iterator[User]:
    """``users`` with every shared user replaced by its devices: what to
    filter by capability and deliver to, one connection each."""
    for user in users:
        devices = user.devices
        if devices is None:
            yield user
        else:
            yield from devices


def connections_with(users: Iterable[User], cap: str) -> list[User]:
    """The connections behind ``users`` that negotiated ``cap``: a shared
    user's devices each as it asked, never by the union of their caps."""
    return [conn for conn in expand(users) if cap in conn.caps]


def connections_of(user: User) -> list[User]:
    """The connections behind ``user`` (itself, or its devices)."""
    return [user] if user.devices is None else list(user.devices)


def siblings(user: User, conn: User) -> list[User]:
    """The other devices of ``user`` than ``conn`` (none for a lone connection)."""
    return [d for d in user.devices or () if d is not conn]


def activate(user: User, conn: User) -> None:
    """While ``conn``'s command runs, ``user`` speaks with its capabilities."""
    user.caps = conn.caps
    user.tag_mask = conn.tag_mask
    user.sink = conn.sink


def settle(user: User) -> None:
    """Between commands: the union of the devices' capabilities, a tag mask
    every device can take, and a sink that reaches them all."""
    devices = user.devices
    if devices is None:
        return
    caps: set[str] = set()
    mask = -1
    for device in devices:
        caps |= device.caps
        mask &= device.tag_mask
    user.caps = caps
    user.tag_mask = mask if devices else 0
    user.sink = Fanout(user)


def first_record(user: User) -> User:
    """A record of ``user``'s own connection, to become its first device."""
    record = User(user.sink, user.ip, user.host, user.port, user.tls)
    record.cloak = user.cloak
    record.certfp = user.certfp
    record.nick = user.nick
    record.user = user.user
    record.realname = user.realname
    record.caps = user.caps
    record.cap_version = user.cap_version
    record.tag_mask = user.tag_mask
    record.registered = True
    record.signon = user.signon
    record.last_active = user.last_active
    record.account = user.account
    record.history_party = user.history_party
    record.connection_id = user.connection_id
    record.device_id = user.device_id
    user.caps = set(user.caps)
    return record
