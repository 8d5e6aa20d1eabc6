"""A writer killed with SIGKILL leaves a database that opens cleanly with
everything it had flushed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from hubbub.store import open_store

TESTS = Path(__file__).parent.parent


async def test_kill_9_loses_nothing_flushed(db_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    writer = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("crash_writer.py")), str(db_path)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "flushed\n"
        time.sleep(0.1)  # let it commit more batches, and be killed mid-way through one
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert writer.returncode == -signal.SIGKILL

    store = await open_store(db_path)
    try:
        assert await store.accounts.get("survivor") is not None
        history = await store.history.after("#chan", "m0", 10_000)
        stored = [record.msgid for record in history]
        assert stored[:99] == [f"m{n}" for n in range(1, 100)]
        assert stored == [f"m{n}" for n in range(1, len(stored) + 1)]  # no holes
    finally:
        await store.close()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
