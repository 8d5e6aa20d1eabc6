"""Write-behind buffer: the hot path appends to a list and returns; a task
writes the list in one transaction every interval or once it is large.

The list is bounded (``max_pending``): while the database cannot keep up (a
stalled disk, a long-held write lock) messages beyond the bound are not
stored, counted in ``dropped`` and logged, instead of growing memory without
limit. Delivery never waits for history."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from hubbub.store.writer_stats import WriterStats

log = logging.getLogger(__name__)

T = TypeVar("T")


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
        self._max_pending = max_pending if max_pending is not None else 100 * max_batch
        self._pending: list[T] = []
        self.dropped = 0  # items refused because the buffer was full
        self._dropping = False  # logged once per episode of a full buffer
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.stats = WriterStats(lambda: len(self._pending), self._max_pending)

    def start(self) -> None:
        """Start the writer task on the running loop."""
        self._task = asyncio.create_task(self._run(), name="hubbub-store-writer")

    def append(self, item: T) -> None:
        if self._closing:
            raise RuntimeError("the store is closed")
        if len(self._pending) >= self._max_pending:
            if not self._dropping:
                self._dropping = True
                log.warning(
                    "history buffer full (%d); messages are not stored",
                    self._max_pending,
                    extra={"event": "history_buffer_full"},
                )
            self.dropped += 1
            self.stats.dropped += 1
            return
        self._pending.append(item)
        if len(self._pending) >= self._max_batch:
            self._wake.set()

    async def flush(self) -> None:
        """Write everything buffered so far; errors reach the caller.

        A write spans several loop passes, and the caller may be cancelled
        meanwhile (a client asking for history disconnects): the write then
        still runs to its end, under the lock, so no batch is half written."""
        async with self._lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, []
            self._dropping = False
            started = time.perf_counter()
            write = asyncio.ensure_future(self._write(batch))
            try:
                await asyncio.shield(write)
            finally:
                if not write.done():
                    await write
            self.stats.wrote(len(batch), time.perf_counter() - started)

    async def close(self) -> None:
        """Stop the task after a last flush."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        await self.flush()

    async def _run(self) -> None:
        while not self._closing:
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
                self.stats.failed()
                log.exception(
                    "could not write a batch of history; it is lost",
                    extra={"event": "store_write_failed"},
                )
