"""Token buckets by key in a table of bounded size: the arithmetic behind
login throttling and the per-IP registration limit, with no I/O.

Each attempt takes a token from every bucket it concerns (its account, its
IP); a bucket without a token refuses until one has come back. The table
never holds more than ``max_entries`` buckets: a full bucket carries no
information and is dropped, and when the table is full the least recently
used bucket is forgotten (its key starts again with a full bucket). The
alternative, refusing new keys, would let anyone who fills the table lock
everybody out.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence


class TokenBuckets:
    """``capacity`` tokens per key; one token returns every ``refill`` seconds."""

    def __init__(
        self,
        capacity: int,
        refill: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.refill = refill
        self.max_entries = max_entries
        self._clock = clock
        # key -> (tokens, when they were counted); least recently used first
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def __contains__(self, key: str) -> bool:
        return key in self._buckets

    def tokens(self, key: str) -> float:
        """Tokens ``key`` has now (a full bucket for a key not in the table)."""
        return self._current(key, self._clock())

    def wait(self, keys: Sequence[str]) -> float:
        """Seconds until every one of ``keys`` has a token; 0 when they do now."""
        now = self._clock()
        return max((max(0.0, 1.0 - self._current(k, now)) * self.refill for k in keys), default=0)

    def try_take(self, keys: Sequence[str]) -> float:
        """Take one token from each of ``keys`` if all have one (then 0.0);
        otherwise take nothing and return the seconds to wait."""
        delay = self.wait(keys)
        if delay > 0:
            return delay
        now = self._clock()
        for key in keys:
            self._store(key, self._current(key, now) - 1.0, now)
        return 0.0

    def charge(self, key: str) -> None:
        """Take the token an attempt made elsewhere took (another node of a
        cluster), even from an empty bucket: that attempt was made. The
        bucket goes down to ``-capacity`` at most, so the wait it imposes
        stays bounded (two buckets' worth of refills)."""
        now = self._clock()
        self._store(key, max(-float(self.capacity), self._current(key, now) - 1.0), now)

    def give_back(self, keys: Sequence[str]) -> None:
        """Return the token an attempt took (it succeeded: no penalty)."""
        now = self._clock()
        for key in keys:
            if key in self._buckets:
                self._store(key, self._current(key, now) + 1.0, now)

    def _current(self, key: str, now: float) -> float:
        entry = self._buckets.get(key)
        if entry is None:
            return float(self.capacity)
        tokens, counted = entry
        return min(float(self.capacity), tokens + (now - counted) / self.refill)

    def _store(self, key: str, tokens: float, now: float) -> None:
        if tokens >= self.capacity:
            self._buckets.pop(key, None)  # full: nothing to remember
            return
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_entries:
            self._buckets.popitem(last=False)


def ip_key(ip: str) -> str:
    """The bucket key of an address: the address, or its /64 for IPv6, since
    one IPv6 host commonly holds a whole /64."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "ip:" + ip
    if address.version == 6:
        return "ip:" + str(ipaddress.ip_network(f"{address}/64", strict=False))
    return "ip:" + str(address)
