"""Event-loop lag: a task asks to wake up every ``INTERVAL`` seconds and
records how late it was. A late wake-up means every client waited as long
(a slow command, a big fan-out, blocking I/O on the loop)."""

from __future__ import annotations

import asyncio

from hubbub.server.metrics import ServerMetrics

INTERVAL = 0.5


async def watch_loop_lag(metrics: ServerMetrics, interval: float = INTERVAL) -> None:
    loop = asyncio.get_running_loop()
    while True:
        expected = loop.time() + interval
        await asyncio.sleep(interval)
        lag = max(0.0, loop.time() - expected)
        metrics.loop_lag_last = lag
        metrics.loop_lag.observe(lag)
