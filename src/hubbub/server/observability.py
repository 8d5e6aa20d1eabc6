"""The metrics feature of a server: the event-loop lag probe (always: the
panel shows it too) and, when ``[metrics] listen`` is set, the listener
serving /metrics and /healthz."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from hubbub.server.loop_lag import watch_loop_lag

if TYPE_CHECKING:
    from hubbub.server.metrics_http import MetricsListener
    from hubbub.server.observed import ObservedServer

log = logging.getLogger(__name__)


class Observability:
    def __init__(self, server: ObservedServer) -> None:
        self.server = server
        self.listener: MetricsListener | None = None
        self.address: tuple[str, int] | None = None  # where /metrics is served
        self._lag: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._lag = asyncio.create_task(watch_loop_lag(self.server.metrics))
        settings = self.server.config.metrics
        if settings.address is None:
            return
        # Imported only when asked for: prometheus-client's thousands of
        # objects would otherwise make every garbage collection slower.
        from hubbub.server.metrics_http import MetricsListener

        self.listener = MetricsListener(self.server, settings.token)
        self.address = await self.listener.start(*settings.address)
        log.info("metrics on http://%s:%d/metrics", *self.address)

    def stop(self) -> None:
        """Stop probing and listening; a scrape under way may still finish."""
        if self._lag is not None:
            self._lag.cancel()
        if self.listener is not None:
            self.listener.stop()
