"""A histogram made of plain integers, for figures observed on hot paths.

prometheus-client's own Histogram takes a lock and looks up its labels on
every observation; this one costs a bisect and two additions, and is turned
into a Prometheus histogram only when someone scrapes (server/metrics_collector.py).
It has no imports from hubbub, so both the store and the server can use it.
"""

from __future__ import annotations

from bisect import bisect_left


class Histogram:
    """Counts per bucket (``le`` bounds, ascending) plus the sum of values."""

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.total = 0.0

    def observe(self, value: float, times: int = 1) -> None:
        self.counts[bisect_left(self.bounds, value)] += times
        self.total += value * times

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[str, int]]:
        """``(le, count of values <= le)`` pairs ending with ``+Inf``."""
        running = 0
        buckets: list[tuple[str, int]] = []
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += count
            buckets.append(("+Inf" if bound == float("inf") else repr(float(bound)), running))
        return buckets
