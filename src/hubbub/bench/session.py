"""State shared by all the clients of one run: counters, latency
histograms and the phase flags the receive path checks."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from hubbub.bench.histogram import Histogram

_MAX_NOTES = 20


@dataclass(slots=True)
class Session:
    """Counters are plain attributes because the receive path bumps them
    once per read, and an attribute increment is the cheapest thing Python has."""

    sent: int = 0
    delivered: int = 0
    expected: int = 0
    registered: int = 0
    failed: int = 0
    joined: int = 0
    errors: int = 0
    disconnects: int = 0
    window_resets: int = 0
    skipped: int = 0
    connect_retries: int = 0
    sending: bool = False
    measuring: bool = False
    finished: bool = False
    latency: Histogram = field(default_factory=Histogram)
    registration: Histogram = field(default_factory=Histogram)
    notes: int = 0
    login: str | None = None  # the SASL password of every client, if any

    def note(self, message: str) -> None:
        """Tell the user about a problem, without flooding the terminal."""
        self.notes += 1
        if self.notes <= _MAX_NOTES:
            print(f"hubbub bench: {message}", file=sys.stderr)
        elif self.notes == _MAX_NOTES + 1:
            print("hubbub bench: (further messages suppressed)", file=sys.stderr)
