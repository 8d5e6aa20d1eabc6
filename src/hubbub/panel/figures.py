"""The key figures the panel shows live: users, messages per second, the
history store's queue and the event-loop lag. Read on the server's loop
(:func:`read_figures`), turned into a rate and a line of text on the Tk side."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from hubbub.server.app import Server
from hubbub.server.metrics import MESSAGE_KINDS


@dataclass(frozen=True, slots=True)
class Figures:
    users: int
    messages: int  # PRIVMSG, NOTICE and TAGMSG received since start
    store_queue: int  # history messages waiting to be written
    loop_lag: float  # seconds, last probe


def read_figures(server: Server) -> Figures:
    """Runs on the server's loop (ServerRunner.call)."""
    metrics = server.metrics
    try:
        queue = server.store.history.writer_stats.depth()
    except RuntimeError:  # the store is not open
        queue = 0
    return Figures(
        server.world.registered_count(),
        sum(metrics.received(kind) for kind in MESSAGE_KINDS),
        queue,
        metrics.loop_lag_last,
    )


class RateMeter:
    """Messages per second over the last ``window`` samples (bounded)."""

    def __init__(self, window: int = 10) -> None:
        self._samples: deque[tuple[float, int]] = deque(maxlen=window)

    def add(self, at: float, total: int) -> float:
        """Record ``total`` at time ``at`` (monotonic seconds); the rate now."""
        self._samples.append((at, total))
        (first_at, first), (last_at, last) = self._samples[0], self._samples[-1]
        return (last - first) / (last_at - first_at) if last_at > first_at else 0.0

    def clear(self) -> None:
        self._samples.clear()


def describe(figures: Figures, rate: float) -> str:
    users = f"{figures.users} user{'s' if figures.users != 1 else ''}"
    return (
        f"{users} · {figures.messages} messages ({rate:.1f}/s) · "
        f"store queue {figures.store_queue} · loop lag {figures.loop_lag * 1000:.0f} ms"
    )
