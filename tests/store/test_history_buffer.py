"""The history write-behind buffer at its limits: at its bound it is
congested (the server then makes senders wait) and refuses nothing; a batch
the database rejects is dropped without stopping the writer. Fast unit
tests of BatchWriter, then the same paths through a real SQLite store."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from hubbub.store import batching, open_store
from hubbub.store.batching import HEADROOM, BatchWriter
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


async def test_the_bound_congests_instead_of_dropping() -> None:
    """Reaching ``high_water`` marks the buffer congested; nothing is refused,
    and the drained callbacks run once a write brings it under ``low_water``."""
    recorder = Recorder()
    writer: BatchWriter[int] = BatchWriter(
        recorder.write, interval=60, max_batch=1000, max_pending=HEADROOM + 10
    )
    assert (writer.high_water, writer.low_water) == (10, 5)
    drained: list[str] = []
    writer.call_when_drained(lambda: drained.append("at once"))  # not congested: now
    for n in range(9):
        writer.append(n)
    assert not writer.congested()
    writer.append(9)
    assert writer.congested()
    writer.call_when_drained(lambda: drained.append("later"))
    writer.append(10)  # still taken: a line already being processed
    assert drained == ["at once"]
    await writer.flush()
    await asyncio.sleep(0)  # callbacks run on their own loop turn
    assert drained == ["at once", "later"] and not writer.congested()
    assert recorder.batches == [list(range(11))]  # all of it, in order
    assert writer.peak == 11 and writer.overruns == 0


async def test_a_stuck_write_keeps_the_buffer_congested_until_it_completes() -> None:
    """The batch being written counts against the bound: while the database
    stalls, the buffer stays congested, and the senders' callback waits."""
    recorder = Recorder()
    writer: BatchWriter[int] = BatchWriter(
        recorder.write, interval=60, max_batch=3, max_pending=HEADROOM + 6
    )
    writer.start()
    recorder.gate.clear()  # the database stalls
    for n in range(3):
        writer.append(n)  # a full batch wakes the writer, which is then stuck
    await recorder.writing.wait()
    for n in range(3, 6):
        writer.append(n)
    assert writer.held == 6 and writer.congested()
    resumed = asyncio.Event()
    writer.call_when_drained(resumed.set)
    for _ in range(20):  # the loop turns; the write does not finish
        await asyncio.sleep(0)
    assert not resumed.is_set() and writer.congested()
    recorder.gate.set()
    await resumed.wait()
    await writer.close()
    assert recorder.batches == [[0, 1, 2], [3, 4, 5]]
    assert writer.peak <= writer.max_pending and writer.overruns == 0


async def test_congestion_is_counted_each_time_and_warned_of_once_a_minute(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a sustained load the buffer congests and drains several times a
    second: each time is counted (the metric), the log gets one warning a
    minute with the count since the last."""
    clock = [1000.0]
    monkeypatch.setattr(batching.time, "monotonic", lambda: clock[0])
    writer: BatchWriter[int] = BatchWriter(
        Recorder().write, interval=60, max_batch=1000, max_pending=HEADROOM + 2
    )

    async def one_episode() -> None:
        for n in range(2):
            writer.append(n)
        assert writer.congested()
        await writer.flush()
        assert not writer.congested()

    with caplog.at_level(logging.WARNING, logger="hubbub.store.batching"):
        for _ in range(3):
            await one_episode()
            clock[0] += 1
        clock[0] += batching.CONGESTION_WARNING_INTERVAL
        await one_episode()
    warnings = [r.getMessage() for r in caplog.records if "congested" in r.getMessage()]
    assert writer.stats.congestions == 4
    assert len(warnings) == 2
    assert warnings[0].endswith("(1 time(s) since the last warning)")
    assert warnings[1].endswith("(3 time(s) since the last warning)")


def test_items_beyond_the_bound_are_kept_and_counted() -> None:
    """Someone who did not wait (nothing in the server appends without
    checking) still loses nothing; the overrun is counted for tests to see."""
    writer: BatchWriter[int] = BatchWriter(
        Recorder().write, interval=60, max_batch=1000, max_pending=HEADROOM + 2
    )
    for n in range(HEADROOM + 4):
        writer.append(n)
    assert writer.held == HEADROOM + 4 and writer.overruns == 2


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


async def test_an_append_after_close_is_refused_and_leaves_nothing() -> None:
    recorder = Recorder()
    writer: BatchWriter[int] = BatchWriter(recorder.write, interval=60, max_batch=1000)
    writer.append(0)
    await writer.close()
    with pytest.raises(RuntimeError, match="closed"):
        writer.append(1)
    assert writer.held == 0 and recorder.batches == [[0]]
    assert writer.peak == 1


async def test_the_peak_counts_what_was_held_before_a_write_ended() -> None:
    recorder = Recorder()
    writer: BatchWriter[int] = BatchWriter(recorder.write, interval=60, max_batch=4)
    for n in range(6):
        writer.append(n)  # (no task started: they wait for the flush)
    assert writer.peak == 6
    await writer.flush()
    assert writer.held == 0 and writer.peak == 6
    writer.append(6)
    assert writer.peak == 6
