"""A log-linear latency histogram (64 buckets per power of two, under 1.6%
error), the same shape ircload uses, so percentiles are comparable."""

from __future__ import annotations

_SUB_BITS = 6
_SUB = 1 << _SUB_BITS
_SIZE = 2 * _SUB + 58 * _SUB


def _index(value: int) -> int:
    if value < 2 * _SUB:
        return value
    exp = value.bit_length() - 1
    shift = exp - _SUB_BITS
    idx = 2 * _SUB + (exp - _SUB_BITS - 1) * _SUB + ((value >> shift) - _SUB)
    return min(idx, _SIZE - 1)


def _midpoint(idx: int) -> float:
    if idx < 2 * _SUB:
        return float(idx)
    k = idx - 2 * _SUB
    shift = k // _SUB + 1
    return float((k % _SUB + _SUB) << shift) + (1 << shift) / 2


class Histogram:
    """Weighted samples of non-negative integers (nanoseconds here).

    A weight lets one parsed timestamp stand for the other messages that
    arrived in the same read, which keeps parsing off the hot path."""

    __slots__ = ("_buckets", "count", "max", "samples")

    def __init__(self) -> None:
        self._buckets = [0] * _SIZE
        self.count = 0
        self.samples = 0
        self.max = 0

    def add(self, value: int, weight: int = 1) -> None:
        value = max(value, 0)
        self._buckets[_index(value)] += weight
        self.count += weight
        self.samples += 1
        if value > self.max:
            self.max = value

    def percentile(self, fraction: float) -> float | None:
        """The value below which ``fraction`` of the weight lies; None if empty."""
        if not self.count:
            return None
        target = max(1, int(fraction * self.count + 0.999999))
        seen = 0
        for idx, n in enumerate(self._buckets):
            seen += n
            if seen >= target:
                return min(_midpoint(idx), float(self.max))
        return float(self.max)

    def copy(self) -> Histogram:
        twin = Histogram()
        twin._buckets = list(self._buckets)
        twin.count, twin.samples, twin.max = self.count, self.samples, self.max
        return twin

    def since(self, earlier: Histogram) -> Histogram:
        """The samples added after ``earlier`` (a copy of this one): what a
        progress line reports for the last second. Its max is the overall one."""
        recent = Histogram()
        pairs = zip(self._buckets, earlier._buckets, strict=True)
        recent._buckets = [now - then for now, then in pairs]
        recent.count = self.count - earlier.count
        recent.samples = self.samples - earlier.samples
        recent.max = self.max
        return recent
