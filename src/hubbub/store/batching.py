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
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from hubbub.store.writer_stats import WriterStats

log = logging.getLogger(__name__)

T = TypeVar("T")

# Room between the congestion mark and the bound: what the one line being
# processed when congestion starts may still append (one message per
# target; the server's targmax is at most 100).
HEADROOM = 128


class BatchWriter(Generic[T]):
    """Buffers items and hands them to ``write`` in order, in batches."""

    def __init__(
        self,
        write: Callable[[list[T]], Awaitable[None]],
        interval: float,
        max_batch: int,
        max_pending: int | None = None,
    ) -> None:
        self._write = write
        self._interval = interval
        self._max_batch = max_batch
        self.max_pending = max_pending if max_pending is not None else 20 * max_batch
        self.high_water = max(1, self.max_pending - HEADROOM)
        self.low_water = self.high_water // 2
        self._pending: list[T] = []
        self._writing = 0  # items in the batch being written
        self.peak = 0  # most items held at once (buffered + being written)
        self.overruns = 0  # items appended beyond max_pending (nobody waited)
        self._congested = False
        self._drained: list[Callable[[], None]] = []
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.stats = WriterStats(lambda: self.held, self.max_pending)  # metrics, /healthz

    def start(self) -> None:
        """Start the writer task on the running loop."""
        self._task = asyncio.create_task(self._run(), name="hubbub-store-writer")

    @property
    def in_flight(self) -> int:
        """Items in the batch being written."""
        return self._writing

    @property
    def held(self) -> int:
        """Items buffered or being written."""
        return len(self._pending) + self._writing

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
        if self._closing:
            raise RuntimeError("the store is closed")
        pending = self._pending
        pending.append(item)
        held = len(pending) + self._writing
        if held > self.peak:
            self.peak = held
        if held >= self._max_batch:
            self._wake.set()
        if held >= self.high_water:
            self._note_congestion(held)

    def _note_congestion(self, held: int) -> None:
        self._wake.set()
        if not self._congested:
            self._congested = True
            log.warning(
                "history buffer congested (%d messages); senders wait for the writer",
                held,
                extra={"event": "history_buffer_congested"},
            )
        if held > self.max_pending:
            self.overruns += 1

    async def flush(self) -> None:
        """Write everything buffered so far; errors reach the caller.

        The caller may be cancelled meanwhile (a client asking for history
        disconnects): the write then still runs to its end, under the lock,
        so no batch is half written."""
        async with self._lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, []
            self._writing = len(batch)
            started = time.perf_counter()
            write = asyncio.ensure_future(self._write(batch))
            try:
                await asyncio.shield(write)
            finally:
                if not write.done():
                    await write
                self._writing = 0
                self._record(write, len(batch), started)
                self._check_drained()

    def _record(self, write: asyncio.Future[None], size: int, started: float) -> None:
        """Count one batch for metrics: written (size, latency) or lost."""
        if not write.done():
            return  # our caller was cancelled again; the write's end is not ours to see
        if write.cancelled() or write.exception() is not None:
            self.stats.failed()
            self.stats.dropped += size
        else:
            self.stats.wrote(size, time.perf_counter() - started)

    def _check_drained(self) -> None:
        if not self._congested or self.held > self.low_water:
            return
        self._congested = False
        log.info("history buffer drained; senders read again")
        callbacks, self._drained = self._drained, []
        loop = asyncio.get_running_loop()
        for callback in callbacks:  # each on its own, not inside this write
            loop.call_soon(callback)

    async def close(self) -> None:
        """Stop the task after a last flush."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        await self.flush()

    async def _run(self) -> None:
        while not self._closing:
            if len(self._pending) < self._max_batch and not self._congested:
                try:
                    async with asyncio.timeout(self._interval):
                        await self._wake.wait()
                except TimeoutError:
                    pass
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                # A batch that cannot be written is dropped rather than retried
                # forever; the writer must outlive a bad moment of the disk.
                log.exception(
                    "could not write a batch of history; it is lost",
                    extra={"event": "store_write_failed"},
                )
