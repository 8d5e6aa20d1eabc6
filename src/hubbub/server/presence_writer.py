"""The presence store as the server uses it: read whole once at start
(``snapshot``, for the features that need it: read markers, account
settings, devices, always-on users), and write-behind for it (read markers, device last-seen,
account settings, always-on users): a command never waits for the disk,
and nothing is lost at stop.

Writes are keyed by what they set (an account's marker for one target,
one device's last-seen time...): a newer write for the same key replaces
the one waiting, so the queue holds at most one write per row. A write
leaves the queue only once done; the server's stop runs what is left,
waiting at most ``STOP_PATIENCE`` for a busy database (every write is an
idempotent upsert, so one cut short runs again)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING

from hubbub.store import PresenceSnapshot

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

log = logging.getLogger(__name__)

Write = Callable[[], Awaitable[None]]
ATTEMPTS = 4  # for a write that fails for any reason but a busy database
RETRY_DELAY = 0.5  # seconds, times the attempt number, at most MAX_DELAY
MAX_DELAY = 2.0
STOP_PATIENCE = 10.0  # seconds the stop waits for a busy database


def _busy(exc: Exception) -> bool:
    """SQLite's lock held by another writer (the history writer process)
    past the busy timeout: worth waiting for, however long it takes."""
    text = str(exc)
    return "database is locked" in text or "database is busy" in text


class PresenceWriter:
    """One server's queue of presence writes, by key."""

    __slots__ = ("_draining", "_pending", "_server", "snapshot")

    def __init__(self, server: ServerApi) -> None:
        self._server = server
        # What the store held at start (the first startup hook reads it).
        self.snapshot = PresenceSnapshot({}, {}, {}, [])
        self._pending: dict[Hashable, Write] = {}
        self._draining = False

    def submit(self, key: Hashable, write: Write) -> None:
        self._pending.pop(key, None)  # re-queued at the end: after what it depends on
        self._pending[key] = write
        if not self._draining and not self._server.stopping:
            self._draining = True
            self._server.spawn(self._drain())

    async def _drain(self) -> None:
        try:
            await self.flush()
        finally:
            self._draining = False

    async def flush(self, patience: float | None = None) -> None:
        """Run every queued write, oldest first. A write that finds the
        database busy (past its timeout, while the history writer holds it)
        waits and tries again until it is done, or, at stop, for
        ``patience`` seconds; one that fails otherwise is tried a few times
        before it is dropped."""
        loop = asyncio.get_running_loop()
        deadline = None if patience is None else loop.time() + patience
        while self._pending:
            key, write = next(iter(self._pending.items()))
            attempt = 0
            while True:
                attempt += 1
                try:
                    await write()
                    break
                except Exception as exc:
                    out_of_time = deadline is not None and loop.time() > deadline
                    if out_of_time or (attempt >= ATTEMPTS and not _busy(exc)):
                        log.exception("presence: a write failed %d times, dropped", attempt)
                        break
                    await asyncio.sleep(min(RETRY_DELAY * attempt, MAX_DELAY))
            if self._pending.get(key) is write:
                del self._pending[key]


async def _load(server: ServerApi) -> None:
    server.feature(PresenceWriter).snapshot = await server.store.presence.load()


async def _flush_at_stop(server: ServerApi) -> None:
    await server.feature(PresenceWriter).flush(patience=STOP_PATIENCE)


def install(server: ServerApi, add: Callable[[object], None]) -> None:
    """Presence: read at start; writes queued, written in the background,
    flushed at stop."""
    add(PresenceWriter(server))
    server.hooks.startup.append(_load)
    server.hooks.shutdown.append(_flush_at_stop)
