"""History batches written with the standard-library SQLite driver.

Measured on channel fan-out (500 clients, one core; docs/performance.md):

* SQLAlchemy's executemany cost a third of the throughput in per-row
  parameter processing, so batches go straight to ``sqlite3``;
* inserting from a worker thread cost a quarter: the thread and the event
  loop hand the GIL back and forth around every socket call and every row.
  Inserted on the loop, a 1,000-row batch of channel messages is about
  10 ms of CPU, so it goes in slices of ``CHUNK_ROWS`` within one
  transaction, giving the loop a turn between slices.

What can wait on the disk is the WAL checkpoint (it syncs the database
file), so automatic checkpoints are off on the insert connection and
``checkpoint`` runs on a second connection, from a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import time

from hubbub.store.keys import conversation_key, name_key
from hubbub.store.records import HistoryRecord

log = logging.getLogger(__name__)

_INSERT = (
    "INSERT OR IGNORE INTO history (msgid, target_key, target, time_ms, sender, account,"
    " command, text, tags, party_a, party_b) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000")
CHECKPOINT_INTERVAL = 1.0  # seconds between checkpoints while history is written
# Page cache of the insert connection. Private messages land all over the
# conversation index; with SQLite's default 2 MiB a row cost 32 us, with
# 16 MiB 19 us (200,000 rows over 500 conversations, batches of 1,000).
CACHE_KIB = 16 * 1024
# Rows inserted per pass of the event loop: a 1,000-row batch in one go held
# the loop for about 10 ms; 100 rows are about 1 ms.
CHUNK_ROWS = 100
# How long a batch keeps retrying while another connection holds the write
# lock, and how long the loop runs between tries.
BUSY_PATIENCE = 10.0
BUSY_RETRY_DELAY = 0.005


def rows_and_parties(
    batch: list[HistoryRecord],
) -> tuple[list[tuple[object, ...]], set[tuple[str, str]]]:
    """The insert rows of ``batch``, and (party key, conversation key) of
    each private message in it: one pass, each key computed once."""
    rows: list[tuple[object, ...]] = []
    parties: set[tuple[str, str]] = set()
    for record in batch:
        pair = record.parties
        if pair is None:
            key, party_a, party_b = name_key(record.target), None, None
        else:
            key, party_a, party_b = conversation_key(*pair), name_key(pair[0]), name_key(pair[1])
            parties.add((party_a, key))
            parties.add((party_b, key))
        tags = record.tags
        rows.append(
            (
                record.msgid,
                key,
                record.target,
                record.time_ms,
                record.sender,
                record.account,
                record.command,
                record.text,
                json.dumps(dict(tags), separators=(",", ":")) if tags else "{}",
                party_a,
                party_b,
            )
        )
    return rows, parties


_INSERT_PARTY = "INSERT OR IGNORE INTO history_parties (party_key, conversation_key) VALUES (?, ?)"
# Pairs recently written, so a busy conversation costs no party write at
# all; forgotten wholesale past this size (a pair written twice is ignored).
KNOWN_PARTIES_MAX = 100_000


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY or one of its extended codes: another connection has the lock."""
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY


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
        self._known_parties: set[tuple[str, str]] = set()

    async def write(self, batch: list[HistoryRecord]) -> None:
        """Insert ``batch`` in one transaction, ``CHUNK_ROWS`` rows per pass of
        the event loop; a msgid seen before is skipped.

        The store's other writes hold the write lock in transactions that
        need the event loop to commit, so this connection never waits for
        the lock inside SQLite (that would stall the loop until the wait
        gave up): when the database is busy it rolls back, lets the loop
        run and tries again, for up to ``BUSY_PATIENCE`` seconds."""
        rows, parties = rows_and_parties(batch)
        if self._conn is None:
            self._conn = _connect(
                self._path, "wal_autocheckpoint=0", f"cache_size={-CACHE_KIB}", "busy_timeout=0"
            )
        deadline = time.monotonic() + BUSY_PATIENCE
        while True:
            try:
                inserted, new_parties = await self._insert(self._conn, rows, parties)
                break
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(BUSY_RETRY_DELAY)
        if len(self._known_parties) + len(new_parties) > KNOWN_PARTIES_MAX:
            self._known_parties.clear()
        self._known_parties |= new_parties
        skipped = len(rows) - inserted
        if skipped:
            log.warning("history: dropped %d message(s) with a duplicate msgid", skipped)

    async def _insert(
        self,
        conn: sqlite3.Connection,
        rows: list[tuple[object, ...]],
        parties: set[tuple[str, str]],
    ) -> tuple[int, set[tuple[str, str]]]:
        """One transaction: the rows, then the parties not known yet. Returns
        how many rows went in and which parties were written."""
        before = conn.total_changes
        with conn:
            for start in range(0, len(rows), CHUNK_ROWS):
                if start:
                    await asyncio.sleep(0)  # let the loop relay messages meanwhile
                conn.executemany(_INSERT, rows[start : start + CHUNK_ROWS])
            inserted = conn.total_changes - before
            new_parties = parties - self._known_parties
            if new_parties:
                conn.executemany(_INSERT_PARTY, new_parties)
        return inserted, new_parties

    def forget_parties(self) -> None:
        """Retention deleted parties: write every pair again when seen."""
        self._known_parties.clear()

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
