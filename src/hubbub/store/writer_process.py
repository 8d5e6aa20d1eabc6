"""The history writer process: SQLite inserts on the second core.

The server appends every stored message to a buffer; batches of it come here
through a pipe, in a compact form, and this process inserts them, commits and
acknowledges. Inserting on the event loop cost the server more time than
relaying the message did (docs/performance.md, "History writes off the
loop"), and a thread would fight the loop for the GIL at every row.

Run as a script (``python -P writer_process.py DATABASE``): it imports only
the standard library, ``hubbub.protocol.casemap`` and ``hubbub.protocol.msgid``,
never ``hubbub.store`` (whose package imports SQLAlchemy and argon2: seconds
on a busy machine).

A message whose msgid is derived (``protocol.msgid``: every message a server
made since migration 0010) is stored under the id it names, with a NULL
msgid. The server sends the ids of its own messages in place of their
msgids: checking a msgid's form here, in Python, cost more than dropping
the msgid index saved. Any other msgid is
stored as text, under an id below every boot's, one more than the highest
such id (SQLite's own choice, the highest id in the table plus one, would
fall inside the current boot's ids and take the place of a later message).

Frames on stdin: ``<QI`` (batch number, payload length) then the payload,
UTF-8 fields separated by NUL (which no IRC line, and so no stored field,
can hold). Each item of a batch starts with its kind:

* ``m`` and ten fields: msgid, time_ms, sender, account ("" for none),
  target, command, text, tags (JSON, "" for none), then the two parties
  ("" and "" for a channel message); the msgid is checked here;
* ``d`` and the same ten fields, the row id (decimal) in place of the
  msgid: a message whose msgid the server made from an event id
  (``HistoryRecord.row_id``);
* ``f`` and a target key: delete that channel's history;
* ``r`` and a msgid: delete that message (a redaction, by id if derived);
* ``p``: forget which conversations are known (retention deleted some).

The server does not wait for a batch's reply before sending the next: a
thread reads frames as they come while the main thread inserts, so the
writer never waits for the server's loop between batches. The batches that
wait are stored in one transaction (one commit for them all); if that
fails, each is stored in its own, so a batch SQLite refuses fails alone.
The reply on stdout, in the order of the batches, is ``<QII``: the batch
number, how many messages were skipped as duplicates (an id or msgid seen
before: a batch resent after this process died is stored once), and the
length of an error text that follows: empty if the batch was committed,
else why SQLite refused it. At the end of stdin (the server stopped, or was
killed) the process exits.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import queue
import sqlite3
import struct
import sys
import threading
import time
from collections.abc import Sequence
from typing import BinaryIO

from hubbub.protocol.casemap import fold
from hubbub.protocol.msgid import FIRST_ID, row_id

HEADER = struct.Struct("<QI")
REPLY = struct.Struct("<QII")
FIELD_SEPARATOR = "\0"
MESSAGE, DERIVED_MESSAGE, FORGET, REDACT, RESET_PARTIES = "m", "d", "f", "r", "p"
MESSAGE_FIELDS = 10  # after the kind

_COLUMNS = "target_key, target, time_ms, sender, account, command, text, tags, party_a, party_b"
# Two statements, so a derived row binds no NULL msgid: binding None costs
# CPython's sqlite3 a failed adapter lookup, about a sixth of the row's insert.
_INSERT_DERIVED = f"INSERT OR IGNORE INTO history (id, {_COLUMNS}) VALUES ({', '.join('?' * 11)})"
_INSERT_TEXT = (
    f"INSERT OR IGNORE INTO history (id, msgid, {_COLUMNS}) VALUES ({', '.join('?' * 12)})"
)
_HIGHEST_UNDERIVED = f"SELECT MAX(id) FROM history WHERE id < {FIRST_ID}"
_INSERT_PARTY = "INSERT OR IGNORE INTO history_parties (party_key, conversation_key) VALUES (?, ?)"
_DELETE_TARGET = "DELETE FROM history WHERE target_key = ?"
_DELETE_MESSAGE = "DELETE FROM history WHERE msgid = ?"
_DELETE_ROW = "DELETE FROM history WHERE id = ?"
# Page cache: private messages land all over the conversation index; with
# SQLite's default 2 MiB a row cost 32 us, with 16 MiB 19 us.
CACHE_KIB = 16 * 1024
# Waiting for the write lock happens here, inside SQLite, off the server's
# loop; a lock held longer than this (an offline CLI) is waited out again.
BUSY_TIMEOUT_MS = 10_000
# Conversations written recently, so a busy one costs no party write at all;
# forgotten wholesale past this size (a pair written twice is ignored).
KNOWN_PARTIES_MAX = 100_000
# Batches that wait are stored in one transaction, this many at most (the
# server sends at most 20 before the first is acknowledged).
MAX_GROUP = 20
CHECKPOINT_INTERVAL = 1.0  # seconds between copies of the WAL into the database
# A batch makes a dozen objects per row, none in a cycle; at Python's
# default threshold (700) the collector ran every few dozen rows.
GC_THRESHOLD = 100_000

Frame = tuple[int, bytes]  # batch number, fields


def conversation_key(party: str, other: str) -> str:
    """Same as ``hubbub.store.keys.conversation_key`` (a test checks it)."""
    first, second = sorted((fold(party), fold(other)))
    return f"{first} {second}"


def _connect(path: str, *pragmas: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"busy_timeout={BUSY_TIMEOUT_MS}"):
        conn.execute(f"PRAGMA {pragma}")
    for pragma in pragmas:
        conn.execute(f"PRAGMA {pragma}")
    return conn


def checkpoint_forever(path: str, interval: float, copied: threading.Event) -> None:
    """Copy the WAL into the database file every ``interval`` seconds, on a
    connection of its own (PASSIVE: never in a writer's way), and set
    ``copied`` after each copy. The copy ends with an fsync, which on a busy
    disk took long enough that inserts waiting behind it filled the
    server's buffer; in this thread only the checkpoint waits (the GIL is
    released meanwhile)."""
    conn = _connect(path)
    while True:
        time.sleep(interval)
        if _checkpoint(conn):
            copied.set()


def _checkpoint(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.Error as exc:  # try again next time; the WAL keeps the data
        print(f"hubbub history writer: checkpoint failed: {exc}", file=sys.stderr)
        return False
    return True


class Writer:
    """Applies batches to one SQLite connection; its commits never copy the
    WAL into the database (``checkpoint_forever`` does). Each time that
    thread has ``copied``, the writer copies, between two transactions, what
    was committed meanwhile, so that its next transaction starts the WAL
    over from the beginning. Under a steady load the thread alone never
    caught up with the commits, and SQLite starts the WAL over only once
    every frame in it is copied: the WAL grew by a gigabyte in 25 s of
    stored private messages, and its new blocks, zeroed by the file system
    as they were added, took 15% of this process (docs/performance.md,
    "The WAL starts over")."""

    def __init__(self, path: str, copied: threading.Event | None = None) -> None:
        self._conn = _connect(path, f"cache_size={-CACHE_KIB}", "wal_autocheckpoint=0")
        self._known_parties: set[tuple[str, str]] = set()
        self._copied = copied

    def apply(self, fields: list[str]) -> int:
        """Store one batch in one transaction; returns the duplicates skipped."""
        return self.apply_group([fields])[0]

    def apply_group(self, batches: Sequence[list[str]]) -> list[int]:
        """Store several batches, in order, in one transaction; returns the
        duplicates each skipped. One commit for them all: a commit writes
        every page the batch changed to the WAL, and private messages change
        a page per conversation, so under load the commits cost more than
        the inserts (py-spy: 44% of the writer against 29%)."""
        parsed = [self._parse(fields) for fields in batches]
        conn = self._conn
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                time.sleep(0.01)  # the lock outlived the busy timeout: wait again
        reset = any(batch[4] for batch in parsed)
        known = set() if reset else self._known_parties
        new_parties: set[tuple[str, str]] = set()
        try:
            skipped = []
            for derived, texts, deletes, parties, _ in parsed:
                skipped.append(self._store(derived, texts, deletes))
                new_parties |= parties - known
            if new_parties:
                conn.executemany(_INSERT_PARTY, new_parties)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if reset or len(self._known_parties) + len(new_parties) > KNOWN_PARTIES_MAX:
            self._known_parties.clear()
        self._known_parties |= new_parties
        copied = self._copied
        if copied is not None and copied.is_set():
            copied.clear()
            _checkpoint(conn)  # the rest of the thread's copy: the WAL starts over
        return skipped

    def _store(
        self,
        derived: list[tuple[object, ...]],
        texts: list[tuple[object, ...]],
        deletes: list[tuple[int, int, str, object]],
    ) -> int:
        """One batch's rows and deletes, in their order; the duplicates skipped."""
        if texts:
            self._number(texts)
        skipped = 0
        derived_start = texts_start = 0
        for derived_end, texts_end, statement, key in deletes:
            skipped += self._insert(_INSERT_DERIVED, derived[derived_start:derived_end])
            skipped += self._insert(_INSERT_TEXT, texts[texts_start:texts_end])
            self._conn.execute(statement, (key,))
            derived_start, texts_start = derived_end, texts_end
        skipped += self._insert(_INSERT_DERIVED, derived[derived_start:])
        skipped += self._insert(_INSERT_TEXT, texts[texts_start:])
        return skipped

    def _number(self, texts: list[tuple[object, ...]]) -> None:
        """Give the rows whose msgid is not derived ids after the highest
        id below the derived ones."""
        (highest,) = self._conn.execute(_HIGHEST_UNDERIVED).fetchone()
        first = (highest or 0) + 1
        if first + len(texts) > FIRST_ID:
            raise ValueError("no ids left for messages whose msgid is not derived")
        texts[:] = [(first + n, *row[1:]) for n, row in enumerate(texts)]

    def _insert(self, statement: str, rows: list[tuple[object, ...]]) -> int:
        if not rows:
            return 0
        before = self._conn.total_changes
        self._conn.executemany(statement, rows)
        return len(rows) - (self._conn.total_changes - before)

    @staticmethod
    def _parse(
        fields: list[str],
    ) -> tuple[
        list[tuple[object, ...]],
        list[tuple[object, ...]],
        list[tuple[int, int, str, object]],
        set[tuple[str, str]],
        bool,
    ]:
        """Rows to insert: those whose msgid is derived (id first), the
        others (id still None, then the msgid); delete requests (with the
        count of each kind of row before it, the statement and its key); the
        (party, conversation) pairs seen; whether a reset came."""
        derived_rows: list[tuple[object, ...]] = []
        texts: list[tuple[object, ...]] = []
        deletes: list[tuple[int, int, str, object]] = []
        filings: set[tuple[str, str | None, str | None]] = set()
        reset = False
        i, end = 0, len(fields)
        while i < end:
            kind = fields[i]
            if kind in (DERIVED_MESSAGE, MESSAGE):
                msgid, time_ms, sender, account, target, command, text, tags, first, second = (
                    fields[i + 1 : i + 1 + MESSAGE_FIELDS]
                )
                i += 1 + MESSAGE_FIELDS
                filing = _filing(target, first, second)
                key, party_a, party_b = filing
                if party_a is not None:
                    filings.add(filing)
                derived = int(msgid) if kind == DERIVED_MESSAGE else row_id(msgid)
                row = (
                    derived,
                    key,
                    target,
                    int(time_ms),
                    sender,
                    account or None,
                    command,
                    text,
                    tags or "{}",
                    party_a,
                    party_b,
                )
                if derived is None:
                    texts.append((None, msgid, *row[1:]))
                else:
                    derived_rows.append(row)
            elif kind == FORGET:
                deletes.append((len(derived_rows), len(texts), _DELETE_TARGET, fields[i + 1]))
                i += 2
            elif kind == REDACT:
                msgid = fields[i + 1]
                derived = row_id(msgid)
                if derived is None:
                    deletes.append((len(derived_rows), len(texts), _DELETE_MESSAGE, msgid))
                else:
                    deletes.append((len(derived_rows), len(texts), _DELETE_ROW, derived))
                i += 2
            elif kind == RESET_PARTIES:
                reset = True
                i += 1
            else:
                raise ValueError(f"unknown item kind {kind!r}")
        parties = {(party, key) for key, *both in filings for party in both if party is not None}
        return derived_rows, texts, deletes, parties, reset


@functools.lru_cache(maxsize=65_536)
def _filing(target: str, first: str, second: str) -> tuple[str, str | None, str | None]:
    """Where a message is filed, and its two parties (None, None for a
    channel message). Cached: a busy conversation is folded once, not per
    message (measured: parsing a batch of private messages went from 4.1 to 3.0 us per row)."""
    if not first:
        return fold(target), None, None
    return conversation_key(first, second), fold(first), fold(second)


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    """``size`` bytes, or None at the end of the stream."""
    chunks: list[bytes] = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _use_every_core() -> None:
    """If the server was pinned to some CPUs (``taskset``), do not inherit
    the pin: sharing the event loop's core, the writer stored a third less.
    Nor keep off that core: the loop is rarely busy all the time, and the
    scheduler fills its gaps (measured: 5% more stored messages/s and a
    lower p99 than a writer on the other core only, docs/performance.md)."""
    try:
        every = set(range(os.cpu_count() or 1))
        if os.sched_getaffinity(0) != every:
            os.sched_setaffinity(0, every)
    except (AttributeError, OSError):
        pass  # no affinity on this platform, or not allowed (a cpuset): keep it


def read_frames(requests: BinaryIO, frames: queue.Queue[Frame | None]) -> None:
    """Read frames as they come, while the main thread inserts: the server
    sends the next batch before this one is acknowledged, and a frame read
    at once never waits in the pipe for the server's loop to push it on."""
    while True:
        header = _read_exactly(requests, HEADER.size)
        if header is None:
            break
        number, length = HEADER.unpack(header)
        payload = _read_exactly(requests, length)
        if payload is None:
            break  # the server died mid-frame: that batch it will not expect
        frames.put((number, payload))
    frames.put(None)


def serve(path: str, requests: BinaryIO, replies: BinaryIO) -> None:
    copied = threading.Event()
    writer = Writer(path, copied)
    threading.Thread(
        target=checkpoint_forever, args=(path, CHECKPOINT_INTERVAL, copied), daemon=True
    ).start()
    # Bounded by the server, which has at most a few batches in flight.
    frames: queue.Queue[Frame | None] = queue.Queue()
    threading.Thread(target=read_frames, args=(requests, frames), daemon=True).start()
    while (group := next_group(frames)) is not None:
        for reply in apply_frames(writer, group):
            replies.write(reply)
        replies.flush()


def next_group(frames: queue.Queue[Frame | None]) -> list[Frame] | None:
    """The frames that wait, at least one and at most MAX_GROUP (one
    transaction); None at the end of the input."""
    first = frames.get()
    if first is None:
        return None
    group = [first]
    while len(group) < MAX_GROUP:
        try:
            frame = frames.get_nowait()
        except queue.Empty:
            break
        if frame is None:
            frames.put(None)  # the end, for the next call
            break
        group.append(frame)
    return group


def apply_frames(writer: Writer, group: list[Frame]) -> list[bytes]:
    """Store ``group`` in one transaction, or, if it fails, each frame in its
    own, so that one bad batch fails alone; the replies, in order."""
    try:
        batches = [text.decode().split(FIELD_SEPARATOR) for _, text in group]
        skipped = writer.apply_group(batches)
    except (sqlite3.Error, ValueError) as exc:
        if len(group) > 1:
            return [reply for frame in group for reply in apply_frames(writer, [frame])]
        error = str(exc).encode()
        return [REPLY.pack(group[0][0], 0, len(error)) + error]
    return [REPLY.pack(number, count, 0) for (number, _), count in zip(group, skipped, strict=True)]


def main() -> None:
    _use_every_core()
    gc.set_threshold(GC_THRESHOLD)
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        serve(sys.argv[1], sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
