"""History writes: batching, private visibility, retention."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from hubbub.store import HistoryTarget, Store, conversation_key, open_store, run_retention
from hubbub.store.sql.history import SqlHistory
from store.history_helpers import at, channel_message, private_message


def rows_on_disk(db_path: Path) -> list[str]:
    """What another connection sees: only what has been committed."""
    with sqlite3.connect(db_path) as conn:
        return [msgid for (msgid,) in conn.execute("SELECT msgid FROM history ORDER BY id")]


async def wait_for_rows(db_path: Path, count: int, timeout: float = 2.0) -> list[str]:
    async with asyncio.timeout(timeout):
        while len(rows := rows_on_disk(db_path)) < count:
            await asyncio.sleep(0.01)
    return rows


async def test_append_buffers_and_the_writer_flushes_within_the_interval(
    store: Store, db_path: Path
) -> None:
    store.history.append(channel_message("m0", 0))
    store.history.append(channel_message("m1", 1))
    assert rows_on_disk(db_path) == []  # nothing awaited, nothing written yet
    assert await wait_for_rows(db_path, 2) == ["m0", "m1"]


async def test_a_full_buffer_is_written_before_the_interval(db_path: Path) -> None:
    store = await open_store(db_path, flush_interval=60, flush_max=10)
    try:
        for n in range(10):
            store.history.append(channel_message(f"m{n}", n))
        assert len(await wait_for_rows(db_path, 10)) == 10
    finally:
        await store.close()


async def test_flush_writes_now_and_queries_see_the_buffer(db_path: Path) -> None:
    store = await open_store(db_path, flush_interval=60)
    try:
        store.history.append(channel_message("m0", 0))
        assert [r.msgid for r in await store.history.latest("#chan", None, 5)] == ["m0"]
        store.history.append(channel_message("m1", 1))
        await store.flush()
        assert rows_on_disk(db_path) == ["m0", "m1"]
    finally:
        await store.close()


async def test_close_flushes_and_later_appends_are_refused(db_path: Path) -> None:
    store = await open_store(db_path, flush_interval=60)
    store.history.append(channel_message("m0", 0))
    await store.close()
    assert rows_on_disk(db_path) == ["m0"]
    with pytest.raises(RuntimeError):
        store.history.append(channel_message("m1", 1))


async def test_a_duplicate_msgid_does_not_lose_the_rest_of_the_batch(store: Store) -> None:
    store.history.append(channel_message("m0", 0))
    await store.flush()
    for msgid in ("m1", "m0", "m2"):
        store.history.append(channel_message(msgid, 1))
    await store.flush()
    assert [r.msgid for r in await store.history.latest("#chan", None, 10)] == ["m0", "m1", "m2"]


async def test_a_large_batch_round_trips(store: Store) -> None:
    for n in range(2000):
        store.history.append(channel_message(f"m{n}", n))
    await store.flush()
    assert len(await store.history.latest("#chan", None, 5000)) == 2000


async def test_a_cancelled_flush_still_writes_its_whole_batch(db_path: Path) -> None:
    """A client that asked for history may disconnect while the batch its
    request flushed is being written; the batch must not be rolled back."""
    store = await open_store(db_path, flush_interval=60, flush_max=10_000)
    try:
        for n in range(1000):
            store.history.append(channel_message(f"m{n}", n))
        flush = asyncio.create_task(store.history.flush())
        for _ in range(3):  # into the middle of the batch
            await asyncio.sleep(0)
        flush.cancel()
        with pytest.raises(asyncio.CancelledError):
            await flush
        store.history.append(channel_message("after", 2000))
        await store.flush()
        assert len(rows_on_disk(db_path)) == 1001
    finally:
        await store.close()


async def test_private_history_is_visible_to_both_parties_only(store: Store) -> None:
    store.history.append(private_message("p1", 1, "Alice", "Bob"))
    store.history.append(private_message("p2", 2, "Bob", "Alice"))
    store.history.append(private_message("p3", 3, "Alice", "Carol"))
    alice_bob = await store.history.latest(conversation_key("alice", "BOB"), None, 10)
    bob_alice = await store.history.latest(conversation_key("Bob", "alice"), None, 10)
    assert [r.msgid for r in alice_bob] == [r.msgid for r in bob_alice] == ["p1", "p2"]
    assert alice_bob[0].parties == ("alice", "bob") and alice_bob[1].target == "Alice"
    assert await store.history.latest(conversation_key("carol", "bob"), None, 10) == []
    # A PM is not filed under either nick as if it were a channel.
    assert await store.history.latest("bob", None, 10) == []
    assert await store.history.before(conversation_key("carol", "bob"), "p1", 10) == []


async def test_targets_lists_conversations_and_joined_channels(store: Store) -> None:
    store.history.append(channel_message("c1", 1, target="#chan"))
    store.history.append(private_message("p1", 2, "Alice", "Bob"))
    store.history.append(private_message("p2", 3, "Carol", "Alice"))
    store.history.append(channel_message("c2", 4, target="#secret"))
    store.history.append(private_message("p3", 5, "Dave", "Bob"))
    found = await store.history.targets("ALICE", at(0), at(10), 10, channels=["#Chan"])
    assert found == [
        HistoryTarget("#Chan", at(1)),
        HistoryTarget("bob", at(2)),
        HistoryTarget("carol", at(3)),
    ]
    assert [t.name for t in await store.history.targets("alice", at(0), at(10), 2)] == [
        "bob",
        "carol",
    ]
    assert [t.name for t in await store.history.targets("alice", at(10), at(0), 1)] == ["carol"]
    assert [t.name for t in await store.history.targets("alice", at(2.5), at(10), 10)] == ["carol"]
    assert [t.name for t in await store.history.targets("alice", at(0), at(2.5), 10)] == ["bob"]
    assert await store.history.targets("erin", at(0), at(10), 10) == []


async def test_targets_lists_a_conversation_with_oneself_once(store: Store) -> None:
    store.history.append(private_message("p1", 1, "Alice", "alice"))
    store.history.append(private_message("p2", 2, "alice", "Alice"))
    assert await store.history.targets("alice", at(0), at(10), 10) == [
        HistoryTarget("alice", at(2))
    ]


async def test_delete_older_than(store: Store) -> None:
    now = datetime.now(UTC)
    store.history.append(private_message("old", 0, "a", "b", when=now - timedelta(days=40)))
    store.history.append(private_message("new", 0, "a", "b", when=now - timedelta(days=1)))
    assert await store.history.delete_older_than(timedelta(days=30)) == 1
    assert [r.msgid for r in await store.history.latest(conversation_key("a", "b"), None, 9)] == [
        "new"
    ]


async def test_trim_per_target(store: Store) -> None:
    for n in range(5):
        store.history.append(channel_message(f"a{n}", n, target="#a"))
    store.history.append(channel_message("b0", 0, target="#b"))
    for n in range(3):
        store.history.append(private_message(f"p{n}", n, "x", "y"))
    assert await store.history.trim_per_target(2) == 4
    assert [r.msgid for r in await store.history.latest("#a", None, 9)] == ["a3", "a4"]
    assert [r.msgid for r in await store.history.latest("#b", None, 9)] == ["b0"]
    assert [r.msgid for r in await store.history.latest(conversation_key("y", "x"), None, 9)] == [
        "p1",
        "p2",
    ]


async def test_the_retention_job_applies_both_limits(store: Store) -> None:
    now = datetime.now(UTC)
    store.history.append(private_message("ancient", 0, "a", "b", when=now - timedelta(days=9)))
    for n in range(4):
        store.history.append(private_message(f"p{n}", 0, "a", "b", when=now + timedelta(seconds=n)))
    job = asyncio.create_task(
        run_retention(store.history, max_age=timedelta(days=7), max_per_target=2, interval=0.01)
    )
    try:
        async with asyncio.timeout(2):
            while len(await store.history.latest(conversation_key("a", "b"), None, 9)) > 2:
                await asyncio.sleep(0.01)
    finally:
        job.cancel()
    kept = await store.history.latest(conversation_key("a", "b"), None, 9)
    assert [r.msgid for r in kept] == ["p2", "p3"]


async def test_portable_writer_keeps_parties_too(store: Store) -> None:
    """The SQLAlchemy write path (what a PostgreSQL store will use) records
    conversations like the SQLite writer process does."""
    engine = store._engine  # type: ignore[attr-defined]
    history = SqlHistory(engine, 60, 1000, 20_000, writer_process=False)
    history.start()
    try:
        await _keeps_parties(history)
    finally:
        await history.close()


async def _keeps_parties(history: SqlHistory) -> None:
    history.append(private_message("p1", 1, "Alice", "Bob"))
    history.append(private_message("p2", 3, "Bob", "Alice"))
    await history.flush()
    history.append(private_message("p3", 2, "Alice", "Bob"))  # older than p2
    history.append(channel_message("c1", 4))
    assert await history.targets("bob", at(0), at(10), 10) == [HistoryTarget("alice", at(3))]
    # the older p3 did not move the conversation's latest time back to 2 s
    assert await history.targets("bob", at(2.5), at(10), 10) == [HistoryTarget("alice", at(3))]
    assert [m.msgid for m in await history.latest(conversation_key("alice", "bob"), None, 5)] == [
        "p1",
        "p3",
        "p2",
    ]


async def test_an_older_message_does_not_move_a_conversation_back(store: Store) -> None:
    store.history.append(private_message("p1", 3, "Alice", "Bob"))
    await store.history.flush()
    store.history.append(private_message("p2", 1, "Bob", "Alice"))  # arrives late
    assert await store.history.targets("bob", at(2.5), at(10), 10) == [
        HistoryTarget("alice", at(3))
    ]


async def test_a_conversation_emptied_by_retention_is_found_again_when_it_resumes(
    store: Store, db_path: Path
) -> None:
    store.history.append(private_message("old", 1, "Alice", "Bob"))
    await store.history.flush()
    assert await store.history.delete_older_than(timedelta(days=1)) == 1
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM history_parties").fetchone() == (0,)
    now = datetime.now(UTC)
    store.history.append(private_message("new", 0, "Bob", "Alice", when=now))
    found = await store.history.targets(
        "alice", now - timedelta(minutes=1), now + timedelta(minutes=1), 10
    )
    assert [t.name for t in found] == ["bob"]


async def test_a_flush_waits_for_a_store_transaction_without_blocking_the_loop(
    store: Store, db_path: Path
) -> None:
    """The store's other writes (ChanServ, NickServ) hold the database's write
    lock in a transaction that needs the event loop to commit. The history
    insert waits for that lock in the writer process, never on the loop
    (where it would stall the loop until the wait gave up)."""
    history = store.history
    assert isinstance(history, SqlHistory)
    store.history.append(channel_message("m0", 0))
    async with history._engine.begin() as conn:
        await conn.execute(text("UPDATE history SET text = text"))  # takes the write lock
        flush = asyncio.create_task(store.history.flush())
        # The loop keeps turning while the flush waits: 100 passes of ours
        # happen before it is done. (Had it blocked inside SQLite, it would
        # have finished, or failed, before our first pass.)
        for _ in range(100):
            await asyncio.sleep(0)
            assert not flush.done()
    await flush
    assert rows_on_disk(db_path) == ["m0"]
