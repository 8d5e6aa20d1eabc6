"""History batches written with the standard-library SQLite driver.

Measured on channel fan-out (500 clients, one core; docs/performance.md):

* SQLAlchemy's executemany cost a third of the throughput in per-row
  parameter processing, so batches go straight to ``sqlite3``;
* inserting from a worker thread cost a quarter: the thread and the event
  loop hand the GIL back and forth around every socket call and every row.
  Inserted on the loop, a 500-row batch is a few milliseconds of CPU and
  history costs nothing measurable.

What can wait on the disk is the WAL checkpoint (it syncs the database
file), so automatic checkpoints are off on the insert connection and
``checkpoint`` runs on a second connection, from a worker thread.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time

from hubbub.store.keys import conversation_key, name_key
from hubbub.store.records import HistoryRecord
from hubbub.store.timeutil import to_ms

log = logging.getLogger(__name__)

_INSERT = (
    "INSERT OR IGNORE INTO history (msgid, target_key, target, time_ms, sender, account,"
    " command, text, tags, party_a, party_b) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000")
CHECKPOINT_INTERVAL = 1.0  # seconds between checkpoints while history is written


def _row(record: HistoryRecord) -> tuple[object, ...]:
    parties = record.parties
    return (
        record.msgid,
        conversation_key(*parties) if parties else name_key(record.target),
        record.target,
        to_ms(record.time),
        record.sender,
        record.account,
        record.command,
        record.text,
        json.dumps(dict(record.tags), separators=(",", ":")) if record.tags else "{}",
        name_key(parties[0]) if parties else None,
        name_key(parties[1]) if parties else None,
    )


def _connect(path: str, *pragmas: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False)
    for pragma in (*_PRAGMAS, *pragmas):
        conn.execute(f"PRAGMA {pragma}")
    return conn


class SqliteBulkWriter:
    """An insert connection for the loop and a checkpoint connection for a
    worker thread."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._checkpoint_conn: sqlite3.Connection | None = None
        self._checkpoint_lock = threading.Lock()
        self._last_checkpoint = time.monotonic()

    def write(self, batch: list[HistoryRecord]) -> None:
        """Insert ``batch`` in one transaction; a msgid seen before is skipped."""
        rows = [_row(record) for record in batch]
        if self._conn is None:
            self._conn = _connect(self._path, "wal_autocheckpoint=0")
        conn = self._conn
        before = conn.total_changes
        with conn:
            conn.executemany(_INSERT, rows)
        skipped = len(rows) - (conn.total_changes - before)
        if skipped:
            log.warning("history: dropped %d message(s) with a duplicate msgid", skipped)

    def checkpoint_due(self) -> bool:
        return time.monotonic() - self._last_checkpoint >= CHECKPOINT_INTERVAL

    def checkpoint(self) -> None:
        """Copy the WAL into the database file without blocking writers
        (PASSIVE); meant for a worker thread."""
        with self._checkpoint_lock:
            if self._checkpoint_conn is None:
                self._checkpoint_conn = _connect(self._path)
            self._checkpoint_conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._last_checkpoint = time.monotonic()

    def close(self) -> None:
        with self._checkpoint_lock:
            for conn in (self._conn, self._checkpoint_conn):
                if conn is not None:
                    conn.close()
            self._conn = self._checkpoint_conn = None
