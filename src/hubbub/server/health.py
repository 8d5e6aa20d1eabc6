"""The health check behind ``GET /healthz``: are the listeners up and can the
store still write? One probe at a time: requests arriving while one runs
share its answer, so a burst of checks never piles up threads or SQLite
connections."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hubbub.store.health import probe_writable

if TYPE_CHECKING:
    from hubbub.server.observed import ObservedServer

log = logging.getLogger(__name__)

# How long the probe may wait for SQLite's write lock. A writer holding it
# longer than this is itself a problem worth reporting.
PROBE_TIMEOUT = 1.0


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    listeners: str  # "up" or what is wrong
    store: str  # "ok" or what is wrong
    users: int

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "fail",
            "listeners": self.listeners,
            "store": self.store,
            "users": self.users,
        }


class HealthCheck:
    def __init__(self, server: ObservedServer) -> None:
        self.server = server
        self._running: asyncio.Future[str | None] | None = None
        self._last_store = "ok"

    async def check(self) -> Health:
        listeners = self._listeners()
        store = await self._store()
        if store != self._last_store:  # logged on change, not at every probe
            level = logging.INFO if store == "ok" else logging.ERROR
            log.log(
                level, "store health: %s", store, extra={"event": "store_health", "reason": store}
            )
            self._last_store = store
        ok = listeners == "up" and store == "ok"
        return Health(ok, listeners, store, self.server.world.registered_count())

    def _probe_done(self, _probe: asyncio.Future[str | None]) -> None:
        self._running = None

    def _listeners(self) -> str:
        server = self.server
        if server.stopping:
            return "stopping"
        if not server.listeners:
            return "none"
        down = [f"{x.host}:{x.port}" for x in server.listeners if not x.handle.is_serving()]
        return "down: " + ", ".join(down) if down else "up"

    async def _store(self) -> str:
        server = self.server
        try:
            stats = server.store.history.writer_stats
        except RuntimeError:
            return "not open"
        if server.config.database.url is not None:
            # PostgreSQL: no file to probe; a failing history write tells.
            return "the last history write failed" if stats.failing else "ok"
        if self._running is None:
            probe = asyncio.ensure_future(
                asyncio.to_thread(probe_writable, server.config.database_path, PROBE_TIMEOUT)
            )
            probe.add_done_callback(self._probe_done)
            self._running = probe
        problem = await asyncio.shield(self._running)
        if problem is not None:
            return f"not writable: {problem}"
        if stats.failing:
            return "the last history write failed"
        return "ok"
