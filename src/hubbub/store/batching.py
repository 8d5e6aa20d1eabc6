"""Write-behind buffer: the hot path appends to a list and returns; a task
writes the list in one batch every interval or once it is large.

The buffer is bounded (``max_pending`` items, counting the batch being
written). Nothing is dropped at the bound: from ``high_water`` on the buffer
is *congested*, and the server stops reading the lines of clients that send
storable messages (as flood control does) until the writer has brought it
back under ``low_water``, when the ``call_when_drained`` callbacks run. A
line holds at most a few messages (one per target), so with the server
checking before each line the buffer stays under ``max_pending``
(docs/reliability.md, "History writes never stall the server")."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Generic, TypeVar, cast

from hubbub.store.writer_stats import WriterStats

log = logging.getLogger(__name__)

T = TypeVar("T")

# Room between the congestion mark and the bound: what the one line being
# processed when congestion starts may still append (one message per
# target; the server's targmax is at most 100).
HEADROOM = 128
# Under a sustained load the buffer congests and drains several times a
# second: one warning per this many seconds, counting the episodes since
# (all of them are in the ``hubbub_history_congestions`` metric).
CONGESTION_WARNING_INTERVAL = 60.0


class BatchWriter(Generic[T]):
    """Buffers items and hands them to ``write`` in order, in batches.

    Up to ``depth`` batches are in flight at once. With a ``depth`` above 1,
    ``write`` must start its batch before it returns (its awaitable then
    only waits for the end), so that batches start in the order they were
    taken, and a full batch is sent by ``append`` itself; with a ``depth``
    of 1 a coroutine that does all the work is fine."""

    def __init__(
        self,
        write: Callable[[list[T]], Awaitable[object]],
        interval: float,
        max_batch: int,
        max_pending: int | None = None,
        depth: int = 1,
    ) -> None:
        self._write = write
        self._interval = interval
        self._max_batch = max_batch
        self._depth = depth
        self.max_pending = max_pending if max_pending is not None else 20 * max_batch
        # The most one batch takes when a backlog built up: large enough that
        # a writer behind never runs dry between two turns of the loop.
        self._batch_cap = max(max_batch, self.max_pending // 4)
        self.high_water = max(1, self.max_pending - HEADROOM)
        self.low_water = self.high_water // 2
        self._pending: list[T] = []
        self._writing = 0  # items in the batches being written
        self._in_flight: deque[asyncio.Future[object]] = deque()
        self._peak = 0  # most items held before the last write ended
        self.overruns = 0  # items appended beyond max_pending (nobody waited)
        self._congested = False
        self._warned_at: float | None = None  # monotonic time of the last warning
        self._unwarned = 0  # episodes begun since that warning
        self._drained: list[Callable[[], None]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.stats = WriterStats(lambda: self.held, self.max_pending)  # metrics, /healthz
        # How many buffered items make ``append`` look further: a full batch,
        # or the congestion mark (0 once closing: every append is refused).
        self._next_check = 0
        self._set_next_check()

    def start(self) -> None:
        """Start the writer task on the running loop."""
        self._task = asyncio.create_task(self._run(), name="hubbub-store-writer")

    @property
    def in_flight(self) -> int:
        """Items in the batches being written."""
        return self._writing

    @property
    def held(self) -> int:
        """Items buffered or being written."""
        return len(self._pending) + self._writing

    @property
    def peak(self) -> int:
        """The most items held at once. What is held falls only when a
        write ends, so the peak is taken there, and now."""
        return max(self._peak, self.held)

    def congested(self) -> bool:
        """True from ``high_water`` until the writer is back under ``low_water``."""
        return self._congested

    def call_when_drained(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the congestion is over (at once if it is)."""
        if self._congested:
            self._drained.append(callback)
        else:
            callback()

    def append(self, item: T) -> None:
        # Called for every message stored: one comparison unless something
        # is due (docs/performance.md, "Encoded when appended").
        pending = self._pending
        pending.append(item)
        if len(pending) >= self._next_check:
            self._after_append()

    def _after_append(self) -> None:
        """A full batch goes (or wakes the task); the congestion mark."""
        pending = self._pending
        if self._closing:
            pending.pop()
            raise RuntimeError("the store is closed")
        held = len(pending) + self._writing
        if len(pending) >= self._max_batch:
            if self._depth > 1 and len(self._in_flight) < self._depth:
                # Now, not from the task: under load the loop's next turn
                # can be 100 ms away, and the writer sat idle until then.
                self._send_batch()
            else:
                self._wake.set()
        if held >= self.high_water:
            self._note_congestion(held)
        self._set_next_check()

    def _set_next_check(self) -> None:
        self._next_check = (
            0 if self._closing else min(self._max_batch, self.high_water - self._writing)
        )

    def _note_congestion(self, held: int) -> None:
        self._wake.set()
        if not self._congested:
            self._congested = True
            self.stats.congestions += 1
            self._warn_of_congestion(held)
        if held > self.max_pending:
            self.overruns += 1

    def _warn_of_congestion(self, held: int) -> None:
        """The first episode, then at most one warning per
        ``CONGESTION_WARNING_INTERVAL``, with the count since the last."""
        self._unwarned += 1
        now = time.monotonic()
        if self._warned_at is not None and now - self._warned_at < CONGESTION_WARNING_INTERVAL:
            return
        log.warning(
            "history buffer congested (%d messages); senders wait for the writer"
            " (%d time(s) since the last warning)",
            held,
            self._unwarned,
            extra={"event": "history_buffer_congested"},
        )
        self._warned_at, self._unwarned = now, 0

    async def flush(self) -> None:
        """Write everything buffered so far and wait for it, and for the
        batches already on their way; the errors of the batches this call
        sent reach the caller (the others were logged by ``_written``).

        The caller may be cancelled meanwhile (a client asking for history
        disconnects): the writes then still run to their end, so no batch is
        half written."""
        mine: list[asyncio.Future[object]] = []
        while self._pending:
            while len(self._in_flight) >= self._depth:
                await asyncio.wait([self._in_flight[0]])
            mine.append(self._send_batch())
        waiting = list(self._in_flight)
        if waiting:
            await asyncio.wait(waiting)
        for write in mine:
            if not write.cancelled() and write.exception() is not None:
                raise cast(BaseException, write.exception())

    def _send_batch(self) -> asyncio.Future[object]:
        """Start writing the oldest items, at most ``_batch_cap`` of them."""
        pending = self._pending
        if len(pending) <= self._batch_cap:
            batch, self._pending = pending, []
        else:
            batch, self._pending = pending[: self._batch_cap], pending[self._batch_cap :]
        self._writing += len(batch)
        self._set_next_check()
        write: asyncio.Future[object]
        try:
            write = asyncio.ensure_future(self._write(batch))
        except Exception as exc:  # refused before it started: lost like a failed write
            write = asyncio.get_running_loop().create_future()
            write.set_exception(exc)
        self._in_flight.append(write)
        write.add_done_callback(partial(self._written, len(batch), time.perf_counter()))
        return write

    def _written(self, size: int, started: float, write: asyncio.Future[object]) -> None:
        """A batch's end: count it for metrics (written, or lost and logged),
        and let the senders go on if that ends a congestion."""
        self._in_flight.remove(write)
        self._peak = self.peak
        self._writing -= size
        self._set_next_check()
        if write.cancelled() or write.exception() is not None:
            self.stats.failed()
            self.stats.dropped += size
            # A batch that cannot be written is dropped rather than retried
            # forever; the writer must outlive a bad moment of the disk.
            log.error(
                "could not write a batch of history; it is lost",
                exc_info=None if write.cancelled() else write.exception(),
                extra={"event": "store_write_failed"},
            )
        else:
            self.stats.wrote(size, time.perf_counter() - started)
        self._check_drained()
        self._wake.set()  # room for the next batch

    def _check_drained(self) -> None:
        if not self._congested or self.held > self.low_water:
            return
        self._congested = False
        log.debug("history buffer drained; senders read again")
        callbacks, self._drained = self._drained, []
        loop = asyncio.get_running_loop()
        for callback in callbacks:  # each on its own, not inside this write
            loop.call_soon(callback)

    async def close(self) -> None:
        """Stop the task after a last flush."""
        self._closing = True
        self._set_next_check()
        self._wake.set()
        if self._task is not None:
            await self._task
        await self.flush()

    def _full_batch_waits(self) -> bool:
        """A batch may go now without waiting for the interval: a full one
        waits (or the buffer is congested), and there is room in flight."""
        pending = len(self._pending)
        return (
            pending > 0
            and len(self._in_flight) < self._depth
            and (pending >= self._max_batch or self._congested)
        )

    async def _run(self) -> None:
        """Send a batch when a full one waits (or the buffer is congested),
        else what is buffered every ``interval``; never more than ``depth``
        batches at once."""
        while not self._closing:
            interval_over = False
            if not self._full_batch_waits():
                try:
                    async with asyncio.timeout(self._interval):
                        await self._wake.wait()
                except TimeoutError:
                    interval_over = True
            self._wake.clear()
            if self._full_batch_waits() or (
                interval_over and self._pending and len(self._in_flight) < self._depth
            ):
                self._send_batch()
