"""IRCv3 ``draft/read-marker`` (https://ircv3.net/specs/extensions/read-marker):
the last message a user has read, per target, shared by its devices.

A logged-in user's markers belong to its account: kept in the store, read
whole at start (so a JOIN can answer before its 366 without waiting for the
disk) and written through. A guest's live only as long as its connection.
A marker only moves forward and never past now."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from hubbub.protocol.casemap import fold
from hubbub.server.api import Context
from hubbub.server.delivery import server_time
from hubbub.server.presence_writer import PresenceWriter
from hubbub.server.state import Channel, User

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

CAP = "draft/read-marker"
_TIMESTAMP = re.compile(r"timestamp=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?)Z")
# Guests' markers are bounded per connection (targets), like every queue.
MAX_GUEST_TARGETS = 1000


def parse_timestamp(text: str) -> int | None:
    """Milliseconds since the epoch of ``timestamp=...Z``, or None if malformed."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    try:
        when = datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(when.timestamp() * 1000)


def format_marker(ms: int | None) -> str:
    return "*" if ms is None else "timestamp=" + server_time(ms / 1000)


class ReadMarkers:
    """One server's read markers: by account name key, then by target key
    (folded channel name or nick), the target as written and the time."""

    __slots__ = ("accounts", "guests")

    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, tuple[str, int]]] = {}
        self.guests: dict[User, dict[str, tuple[str, int]]] = {}

    def _markers(self, user: User) -> dict[str, tuple[str, int]]:
        if user.account is not None:
            return self.accounts.setdefault(fold(user.account), {})
        return self.guests.setdefault(user, {})

    def get(self, user: User, target: str) -> int | None:
        found = self._markers(user).get(fold(target))
        return None if found is None else found[1]

    def advance(self, user: User, target: str, ms: int) -> tuple[int, bool]:
        """Move the marker to ``ms`` if later; the marker now, and whether it moved."""
        markers = self._markers(user)
        key = fold(target)
        current = markers.get(key)
        if current is not None and current[1] >= ms:
            return current[1], False
        if current is None and user.account is None and len(markers) >= MAX_GUEST_TARGETS:
            del markers[next(iter(markers))]
        markers[key] = (target, ms)
        return ms, True

    def forget_guest(self, user: User) -> None:
        self.guests.pop(user, None)


def clients_of(server: ServerApi, user: User) -> list[User]:
    """Every connection of the person behind ``user``: all connections
    logged in to its account, or the user alone (a guest)."""
    if user.account is None:
        return [user]
    return sorted(server.world.logged_in(user.account), key=lambda u: u.connection_id)


def send_marker(ctx: Context, target: str, ms: int | None) -> None:
    """MARKREAD to the client of ``ctx`` (whatever its caps: it asked)."""
    ctx.send("MARKREAD", target, format_marker(ms))


def broadcast(server: ServerApi, user: User, target: str, ms: int) -> None:
    """A marker moved: tell every client of the user that negotiated the cap."""
    _tell(server, clients_of(server, user), target, ms)


def _tell(server: ServerApi, clients: list[User], target: str, ms: int) -> None:
    line = f":{server.name} MARKREAD {target} {format_marker(ms)}\r\n".encode()
    for client in clients:
        if CAP in client.caps:
            client.sink.write(line)


def mark(ctx: Context, target: str, ms: int) -> None:
    """The MARKREAD client set command (the target and time already checked)."""
    server = ctx.server
    user = ctx.user
    ms = min(ms, int(time.time() * 1000))
    markers = server.feature(ReadMarkers)
    now, moved = markers.advance(user, target, ms)
    if not moved:
        send_marker(ctx, target, now)
        return
    broadcast(server, user, target, now)
    if CAP not in user.caps:
        send_marker(ctx, target, now)
    account = user.account
    if account is not None:
        key = fold(target)
        presence = server.store.presence
        server.feature(PresenceWriter).submit(
            ("marker", fold(account), key),
            lambda: presence.set_read_marker(account, key, target, now),
        )
        for hook in server.hooks.marker_moved:
            hook(server, account, target, now)


def moved_elsewhere(server: ServerApi, account: str, target: str, ms: int) -> None:
    """Another cluster node moved ``account``'s marker (and stored it): keep
    it, and tell this node's connections of the account that have the cap."""
    markers = server.feature(ReadMarkers).accounts.setdefault(fold(account), {})
    key = fold(target)
    current = markers.get(key)
    if current is not None and current[1] >= ms:
        return
    markers[key] = (target, ms)
    clients = sorted(server.world.logged_in(account), key=lambda u: u.connection_id)
    _tell(server, clients, target, ms)


def _on_join(ctx: Context, channel: Channel) -> None:
    """After the JOIN, before its 366: the joiner's marker for the channel."""
    if CAP in ctx.user.caps:
        send_marker(ctx, channel.name, ctx.server.feature(ReadMarkers).get(ctx.user, channel.name))


async def _load(server: ServerApi) -> None:
    snapshot = server.feature(PresenceWriter).snapshot
    server.feature(ReadMarkers).accounts = snapshot.read_markers


def _on_quit(server: ServerApi, user: User) -> None:
    server.feature(ReadMarkers).forget_guest(user)


def install(server: ServerApi, add: Callable[[object], None]) -> None:
    """Read markers: loaded at start, sent on JOIN, a guest's dropped at quit."""
    add(ReadMarkers())
    server.hooks.startup.append(_load)
    server.hooks.join_burst.append(_on_join)
    server.hooks.quit.append(_on_quit)
