"""What the history writer did, kept as plain numbers for metrics and the
health check: the server reads them when scraped, the writer only adds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hubbub.stats import Histogram

BATCH_SIZE_BUCKETS = (1, 5, 10, 50, 100, 250, 500, 1000, 2500)
WRITE_SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


@dataclass(slots=True)
class WriterStats:
    """``depth`` reads how many items wait now; ``failing`` is True from a
    failed batch until the next batch is written."""

    depth: Callable[[], int]
    limit: int
    batch_sizes: Histogram = field(default_factory=lambda: Histogram(BATCH_SIZE_BUCKETS))
    write_seconds: Histogram = field(default_factory=lambda: Histogram(WRITE_SECONDS_BUCKETS))
    errors: int = 0
    dropped: int = 0
    congestions: int = 0  # times the buffer reached its mark (senders waited)
    failing: bool = False

    def wrote(self, size: int, seconds: float) -> None:
        self.batch_sizes.observe(size)
        self.write_seconds.observe(seconds)
        self.failing = False

    def failed(self) -> None:
        self.errors += 1
        self.failing = True
