"""What a named device missed (issue 16): the server remembers when each
device (``alice@phone``, server/device_names.py) was last connected; when
it connects again it gets the messages of its channels and private
conversations since then, up to ``[history] missed_replay_max`` per
target: in a ``chathistory`` batch per target to a client with ``batch``
and ``server-time``, as plain lines otherwise.

Exactly once: the replay covers the time from the device's last
connection to the moment it connected again, and what comes after that is
delivered live; the last-seen time moves to "now" as the device connects,
leaves, and when the server stops."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from hubbub.protocol.casemap import fold
from hubbub.server.api import Context
from hubbub.server.delivery import boundary_ms
from hubbub.server.history import send_paced
from hubbub.server.history_lines import replay
from hubbub.server.logtext import for_log
from hubbub.server.presence_writer import PresenceWriter
from hubbub.server.state import User
from hubbub.store import HistoryRecord, conversation_key
from hubbub.store.timeutil import from_ms

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

log = logging.getLogger(__name__)
_NO_END = datetime.max.replace(tzinfo=UTC)


class DevicesSeen:
    """When each named device of each account was last connected (ms),
    and the named devices connected now: (account, device) by connection
    id, which a connection keeps when it becomes a device of a shared user."""

    __slots__ = ("connected", "last_seen")

    def __init__(self) -> None:
        self.last_seen: dict[str, dict[str, int]] = {}
        self.connected: dict[int, tuple[str, str]] = {}


def _seen(server: ServerApi, account: str, device: str, ms: int) -> None:
    """Record that the device was connected at ``ms``."""
    key = fold(account)
    server.feature(DevicesSeen).last_seen.setdefault(key, {})[device] = ms
    presence = server.store.presence
    server.feature(PresenceWriter).submit(
        ("device", key, device), lambda: presence.device_seen(account, device, ms)
    )


def device_connected(ctx: Context) -> None:
    """A registered connection (its own user or a device of a shared one):
    if it names its device, replay what that device missed since it was
    last here, and remember it is here now."""
    conn, user = ctx.conn, ctx.user
    account, device = user.account, conn.device_id
    if device is None or account is None:
        return
    server = ctx.server
    seen = server.feature(DevicesSeen)
    since = seen.last_seen.get(fold(account), {}).get(device)
    now = boundary_ms()
    seen.connected[conn.connection_id] = (account, device)
    _seen(server, account, device, now)
    limit = server.config.history.missed_replay_max
    if since is not None and limit > 0 and server.config.history.enabled:
        server.spawn(_replay(server, user, conn, since, now, limit))


async def _replay(
    server: ServerApi, user: User, conn: User, since: int, until: int, limit: int
) -> None:
    history = server.store.history
    # Both bounds exclusive: after ``since``, up to and including ``until``.
    end = from_ms(until + 1)
    try:
        targets: list[tuple[str, str]] = [(c.name, c.name) for c in user.channels.values()]
        party = user.history_party
        if party is not None:
            start = from_ms(since)
            # Conversations with news since ``since``, even those with newer
            # messages still (which TARGETS would leave out of a window).
            for found in await history.targets(party, start, _NO_END, 1000):
                other = await server.store.accounts.find_party(found.name) or fold(found.name)
                targets.append((conversation_key(party, other), found.name))
        for key, name in targets:
            stored = await history.before(key, end, limit, messages_only=True)
            records = [r for r in stored if r.time_ms > since]
            if conn.sink is None or getattr(conn.sink, "closed", False):
                return
            await _send(server, user, conn, name, records)
    except Exception:
        log.exception("missed replay for %s failed", for_log(conn.nick))


async def _send(
    server: ServerApi, user: User, conn: User, name: str, records: list[HistoryRecord]
) -> None:
    if not records:
        return
    ctx = Context(server, user, conn)
    batched = "batch" in conn.caps and "server-time" in conn.caps
    ref = ctx.start_batch("chathistory", name) if batched else None
    lines = replay(records, conn, ref)
    await send_paced(conn, lines, server.config.limits.sendq // 4)
    ctx.end_batch(ref)


def _gone(server: ServerApi, conn: User) -> None:
    named = server.feature(DevicesSeen).connected.pop(conn.connection_id, None)
    if named is not None:
        _seen(server, *named, boundary_ms())


def _device_left(server: ServerApi, user: User, device: User) -> None:
    _gone(server, device)


def _quit(server: ServerApi, user: User) -> None:
    _gone(server, user)  # a named device that was its own user


def _registered(ctx: Context) -> None:
    device_connected(ctx)


async def _load(server: ServerApi) -> None:
    server.feature(DevicesSeen).last_seen = server.feature(PresenceWriter).snapshot.devices


async def _at_stop(server: ServerApi) -> None:
    """Every named device still connected was here until now."""
    seen = server.feature(DevicesSeen)
    now = boundary_ms()
    for account, device in seen.connected.values():
        _seen(server, account, device, now)
    seen.connected.clear()
    await server.feature(PresenceWriter).flush()


def install(server: ServerApi, add: Callable[[object], None]) -> None:
    """Named devices: last seen kept, missed messages replayed on connect."""
    add(DevicesSeen())
    hooks = server.hooks
    hooks.startup.append(_load)
    hooks.registered.append(_registered)
    hooks.device_left.append(_device_left)
    hooks.quit.append(_quit)
    hooks.shutdown.append(_at_stop)
