"""The history write-behind buffer at its limits: a full buffer refuses (and
counts) what does not fit, and a batch the database rejects is dropped
without stopping the writer. Fast unit tests of BatchWriter, then the same
paths through a real SQLite store."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from hubbub.store import open_store
from hubbub.store.batching import BatchWriter
from store.history_helpers import channel_message


class Recorder:
    """A write function that stores batches, and can be held or made to fail."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_next = False
        self.writing = asyncio.Event()  # set once a write has begun

    async def write(self, batch: list[int]) -> None:
        self.writing.set()
        await self.gate.wait()
        if self.fail_next:
            self.fail_next = False
            raise OSError("disk on fire")
        self.batches.append(batch)


async def test_a_full_buffer_refuses_and_counts_what_does_not_fit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    writer: BatchWriter[int] = BatchWriter(recorder.write, interval=60, max_batch=5, max_pending=8)
    with caplog.at_level(logging.WARNING, logger="hubbub.store.batching"):
        for n in range(12):
            writer.append(n)
    assert writer.dropped == 4
    assert [r.getMessage() for r in caplog.records] == [
        "history buffer full (8); messages are not stored"
    ]
    await writer.flush()
    assert recorder.batches == [list(range(8))]  # the first 8, in order
    writer.append(100)  # room again once written
    await writer.flush()
    assert recorder.batches[-1] == [100] and writer.dropped == 4


async def test_the_buffer_fills_while_a_write_is_stuck_and_recovers() -> None:
    recorder = Recorder()
    writer: BatchWriter[int] = BatchWriter(recorder.write, interval=60, max_batch=3, max_pending=6)
    writer.start()
    recorder.gate.clear()  # the database stalls
    for n in range(3):
        writer.append(n)  # a full batch wakes the writer, which is then stuck
    await recorder.writing.wait()
    for n in range(3, 20):
        writer.append(n)
    assert writer.dropped == 11  # 6 waiting behind the stuck batch, the rest refused
    recorder.gate.set()
    await writer.close()
    assert recorder.batches == [[0, 1, 2], [3, 4, 5, 6, 7, 8]]


async def test_a_failed_batch_is_dropped_and_the_writer_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    writer: BatchWriter[int] = BatchWriter(recorder.write, interval=60, max_batch=2)
    writer.start()
    recorder.fail_next = True
    with caplog.at_level(logging.ERROR, logger="hubbub.store.batching"):
        writer.append(1)
        writer.append(2)  # a full batch: written by the task, which fails
        while not any(r.exc_info for r in caplog.records):
            await asyncio.sleep(0.01)
    assert "could not write a batch of history; it is lost" in caplog.records[0].getMessage()
    writer.append(3)
    writer.append(4)
    await writer.close()
    assert recorder.batches == [[3, 4]]


async def test_a_batch_sqlite_rejects_is_dropped_and_later_ones_are_stored(
    db_path: Path,
) -> None:
    """A real failure: the history table is made to refuse inserts (a trigger)
    while one batch is written; that batch is lost, the next one is stored."""
    store = await open_store(db_path, flush_interval=60)
    try:
        with sqlite3.connect(db_path) as conn:
            conn.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON history "
                "BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
            )
        store.history.append(channel_message("lost", 0))
        with pytest.raises(Exception, match="refused by test"):
            await store.flush()  # a flush's errors reach its caller
        with sqlite3.connect(db_path) as conn:
            conn.execute("DROP TRIGGER refuse")
        store.history.append(channel_message("kept", 1))
        await store.flush()
        assert [r.msgid for r in await store.history.latest("#chan", None, 10)] == ["kept"]
    finally:
        await store.close()
