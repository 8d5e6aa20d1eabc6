"""The history writer's figures for metrics and /healthz, kept by the
BatchWriter in the main process (the SQLite writes happen in the writer
process): queue depth counts the batch in flight, a written batch gives
its size and latency, a failed one counts as an error and its items as lost."""

from __future__ import annotations

import asyncio

import pytest

from hubbub.store.batching import BatchWriter
from store.test_history_buffer import Recorder


async def test_depth_counts_the_batch_being_written() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    writer: BatchWriter[int] = BatchWriter(recorder.write, interval=60, max_batch=1000)
    for n in range(3):
        writer.append(n)
    assert writer.stats.depth() == 3
    assert writer.stats.limit == writer.max_pending
    flushing = asyncio.ensure_future(writer.flush())
    await recorder.writing.wait()
    writer.append(3)
    assert writer.stats.depth() == 4  # three in flight, one buffered
    assert writer.stats.batch_sizes.count == 0  # not written yet
    recorder.gate.set()
    await flushing
    assert writer.stats.depth() == 1
    assert writer.stats.batch_sizes.count == 1 and writer.stats.batch_sizes.total == 3
    assert writer.stats.write_seconds.count == 1


async def test_a_failed_batch_is_an_error_and_lost_until_one_is_written() -> None:
    recorder = Recorder()
    writer: BatchWriter[int] = BatchWriter(recorder.write, interval=60, max_batch=1000)
    writer.append(1)
    writer.append(2)
    recorder.fail_next = True
    with pytest.raises(OSError):
        await writer.flush()
    stats = writer.stats
    assert (stats.errors, stats.dropped, stats.failing) == (1, 2, True)
    assert stats.batch_sizes.count == 0
    writer.append(3)
    await writer.flush()
    assert (stats.errors, stats.dropped, stats.failing) == (1, 2, False)
    assert stats.batch_sizes.count == 1
