"""A store call whose caller is cancelled still runs to its end, and leaves
the database writable (store/sql/uncancellable.py).

Before, a cancel landing inside an ``INSERT ... RETURNING`` left a closed
SQLite connection alive as a zombie holding the write lock: the history
writer process and every later write waited on it until the server exited."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from hubbub.store import Store

CANCELLED_CALLS = 200


def write_lock_is_free(path: Path) -> bool:
    """Whether another connection gets the write lock within 0.2 s."""
    conn = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


async def test_cancelled_writes_leave_the_database_writable(store: Store, db_path: Path) -> None:
    await store.accounts.create("alice", "password1")
    for i in range(CANCELLED_CALLS):
        # A write is cancelled at many points of its way through the
        # adapter's thread: before, inside and after the statement.
        call = asyncio.ensure_future(store.presence.set_read_marker("alice", "#tea", "#tea", i))
        await asyncio.sleep((i % 40) * 0.00005)
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await call
        assert write_lock_is_free(db_path), f"write lock held after cancel {i}"
    # every write ran to its end: the marker is the last one written
    snapshot = await store.presence.load()
    assert snapshot.read_markers["alice"]["#tea"] == ("#tea", CANCELLED_CALLS - 1)


async def test_the_caller_still_sees_its_cancel(store: Store) -> None:
    await store.accounts.create("alice", "password1")
    call = asyncio.ensure_future(store.accounts.get("alice"))
    await asyncio.sleep(0)
    call.cancel()
    try:
        await call
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("the cancel was swallowed")
    assert call.cancelled()
