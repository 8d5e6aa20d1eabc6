"""Batches in flight to the history writer: the next batch goes out before
the last is acknowledged (with ``depth`` 2), in order; a backlog goes out in
capped batches; an acknowledgement does not send a tiny batch before the
interval; and a real writer process killed with two batches unacknowledged
gets both again from a new one, stored once."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import uvloop

from hubbub.store import Store, open_store
from hubbub.store.batching import BatchWriter
from hubbub.store.sql.writer_link import WriterLink, encode_record
from store.history_helpers import channel_message


class Gated:
    """A write function whose batches each wait for their own release."""

    def __init__(self) -> None:
        self.started: list[list[int]] = []
        self.releases: list[asyncio.Future[None]] = []
        self.changed = asyncio.Event()

    def write(self, batch: list[int]) -> asyncio.Future[None]:
        self.started.append(batch)
        release: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.releases.append(release)
        self.changed.set()
        return release

    async def until_started(self, count: int) -> None:
        while len(self.started) < count:
            self.changed.clear()
            await self.changed.wait()


def gated_writer(gated: Gated, max_batch: int, max_pending: int = 1000) -> BatchWriter[int]:
    """A buffer with two batches in flight at most (the history store allows 20)."""
    return BatchWriter(
        gated.write, interval=60, max_batch=max_batch, max_pending=max_pending, depth=2
    )


async def turns(count: int = 20) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_the_next_batch_goes_before_the_last_is_acknowledged() -> None:
    gated = Gated()
    writer = gated_writer(gated, max_batch=2)
    writer.start()
    for n in range(6):
        writer.append(n)
        await turns()  # a full batch goes as soon as there is room for it
    assert gated.started == [[0, 1], [2, 3]]  # the third waits: depth 2
    assert writer.in_flight == 4 and writer.held == 6
    gated.releases[0].set_result(None)
    await gated.until_started(3)
    assert gated.started[2] == [4, 5]
    flushed = asyncio.ensure_future(writer.flush())
    await turns()
    assert not flushed.done()  # flush waits for every batch in flight
    for release in gated.releases[1:]:
        release.set_result(None)
    await flushed
    assert writer.held == 0 and writer.stats.batch_sizes.count == 3
    await writer.close()


async def test_an_acknowledgement_does_not_send_a_tiny_batch_early() -> None:
    """What arrives while a batch is in flight waits for the interval or a
    full batch, not for the acknowledgement: one batch per message cost the
    loop more than relaying the message (counted with callgrind)."""
    gated = Gated()
    writer = gated_writer(gated, max_batch=3)
    writer.start()
    for n in range(3):
        writer.append(n)
    await gated.until_started(1)
    writer.append(3)
    gated.releases[0].set_result(None)
    await turns()
    assert gated.started == [[0, 1, 2]] and writer.held == 1
    writer.append(4)
    writer.append(5)  # a full batch again
    await gated.until_started(2)
    assert gated.started[1] == [3, 4, 5]
    gated.releases[1].set_result(None)
    await writer.close()


async def test_a_flush_raises_only_for_the_batches_it_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A batch that failed on its own is logged and lost; it does not fail
    a later flush (a CHATHISTORY query's), which raises only for its own."""
    gated = Gated()
    writer = gated_writer(gated, max_batch=2)
    writer.append(0)
    writer.append(1)  # full: sent by append
    writer.append(2)
    flushed = asyncio.ensure_future(writer.flush())
    await gated.until_started(2)
    gated.releases[0].set_exception(OSError("disk on fire"))
    gated.releases[1].set_result(None)
    await flushed  # its own batch, [2], was written
    assert "could not write a batch of history; it is lost" in caplog.text
    assert writer.stats.dropped == 2 and writer.held == 0
    writer.append(3)
    flushed = asyncio.ensure_future(writer.flush())
    await gated.until_started(3)
    gated.releases[2].set_exception(OSError("disk on fire again"))
    with pytest.raises(OSError, match="again"):
        await flushed


async def test_a_backlog_goes_out_in_capped_batches_in_order() -> None:
    gated = Gated()
    writer = gated_writer(gated, max_batch=2, max_pending=200)
    for n in range(120):
        writer.append(n)
    flushed = asyncio.ensure_future(writer.flush())
    while not flushed.done():
        await turns(1)
        for release in gated.releases:
            if not release.done():
                release.set_result(None)
    await flushed
    # Two full batches went as they filled; the backlog behind them in
    # batches of at most max_pending // 4.
    assert [len(batch) for batch in gated.started] == [2, 2, 50, 50, 16]
    assert [n for batch in gated.started for n in batch] == list(range(120))


async def test_a_killed_writer_gets_every_unacknowledged_batch_again(
    store: Store, db_path: Path
) -> None:
    """Two batches in flight to a real writer process, which is killed
    before it can answer (the database is locked by the test): a new process
    gets both, in order, and each message is stored once."""
    await store.flush()  # the schema exists
    link = WriterLink(str(db_path))
    blocker = sqlite3.connect(db_path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # the writer waits inside SQLite
        sent = []
        for n in range(2):
            sent.append(link.send([encode_record(channel_message(f"m{n}", n))]))
        while link.pid is None:
            await asyncio.sleep(0.01)
        first = link.pid
        await asyncio.sleep(0.3)
        assert not any(future.done() for future in sent)
        os.kill(first, signal.SIGKILL)
        while link.pid in (None, first):
            await asyncio.sleep(0.01)
        blocker.execute("ROLLBACK")
        assert [await future for future in sent] == [0, 0]  # no duplicates skipped
        assert link.starts == 2
    finally:
        blocker.close()
        await link.close()
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT msgid FROM history ORDER BY id").fetchall()
    assert rows == [("m0",), ("m1",)]


@pytest.mark.parametrize(
    "loop_factory", [asyncio.new_event_loop, uvloop.new_event_loop], ids=["asyncio", "uvloop"]
)
def test_a_writer_killed_while_idle_is_replaced_at_the_next_batch(
    db_path: Path,
    loop_factory: Callable[[], asyncio.AbstractEventLoop],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing in flight when it dies: the next batch finds its pipe closed
    (uvloop, which the server runs on, refuses that write at once; asyncio
    drops it), a new process stores it, and the log says so."""

    async def scenario() -> None:
        store = await open_store(db_path)
        await store.close()  # the schema exists
        link = WriterLink(str(db_path))
        try:
            for n, kill_first in ((0, False), (1, True)):
                if kill_first:
                    assert link.pid is not None
                    os.kill(link.pid, signal.SIGKILL)
                    await asyncio.sleep(0.5)  # the loop sees the pipe close
                message = encode_record(channel_message(f"m{n}", n))
                assert await asyncio.wait_for(link.send([message]), 30) == 0
            assert link.starts == 2
        finally:
            await link.close()

    with caplog.at_level(logging.WARNING), asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(scenario())
    assert "history writer process" in caplog.text  # "exited", or "died" if seen mid-write
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT msgid FROM history ORDER BY id").fetchall()
    assert rows == [("m0",), ("m1",)]
