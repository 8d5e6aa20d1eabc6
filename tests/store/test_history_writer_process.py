"""The compact record format between the server and its history writer
process, and the writer applied to a real SQLite file without a process:
fields survive whatever IRC allows in them, keys match the store's, and one
batch is one transaction."""

from __future__ import annotations

import os
import queue
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from harness import until
from hubbub.protocol.msgid import first_id, msgid
from hubbub.store import Store, conversation_key, name_key
from hubbub.store.records import HistoryRecord
from hubbub.store.sql.history import SqlHistory
from hubbub.store.sql.writer_link import encode_forget, encode_record, encode_redact
from hubbub.store.writer_process import (
    FIELD_SEPARATOR,
    MAX_GROUP,
    REPLY,
    RESET_PARTIES,
    Frame,
    Writer,
    apply_frames,
    next_group,
)
from hubbub.store.writer_process import conversation_key as writers_conversation_key
from store.history_helpers import channel_message, private_message


def over_the_pipe(*items: str) -> list[str]:
    """What the writer process gets: the items joined, encoded and split again."""
    return FIELD_SEPARATOR.join(items).encode().decode().split(FIELD_SEPARATOR)


def records(*messages: HistoryRecord) -> list[str]:
    """``messages`` as the writer process gets them."""
    return over_the_pipe(*map(encode_record, messages))


@pytest.mark.parametrize(
    ("one", "other"), [("Alice", "bob"), ("@12", "zoe"), ("ÄRGER", "@3"), ("x[]", "X{}")]
)
def test_the_writer_files_conversations_under_the_stores_key(one: str, other: str) -> None:
    assert writers_conversation_key(one, other) == conversation_key(one, other)


def test_every_field_comes_through_with_control_characters_and_tags() -> None:
    """IRC text may hold any character but NUL, CR and LF (formatting codes
    \\x02, \\x1f, CTCP \\x01, ...), and tag values even CR/LF escaped away."""
    text = "".join(chr(code) for code in range(1, 32) if code not in (10, 13)) + " é 🎉"
    record = HistoryRecord(
        "id1", 1234, "Al!a@h", "alice", "#Chan", "PRIVMSG", text, {"+x": "a;b c\x1f"}
    )
    derived, rows, forgets, parties, reset = Writer._parse(records(record))
    assert derived == []  # "id1" is not derived: stored as text, numbered by the writer
    assert rows == [
        (
            None,
            "id1",
            "#chan",
            "#Chan",
            1234,
            "Al!a@h",
            "alice",
            "PRIVMSG",
            text,
            '{"+x":"a;b c\\u001f"}',
            None,
            None,
        )
    ]
    assert (forgets, parties, reset) == ([], set(), False)


def test_a_private_message_carries_both_parties_and_its_conversation() -> None:
    _, rows, _, parties, _ = Writer._parse(records(private_message("p1", 1, "Bob", "Alice")))
    key = conversation_key("alice", "bob")
    (row,) = rows
    assert (row[2], row[6], row[9], row[10], row[11]) == (key, None, "{}", "bob", "alice")
    assert parties == {("alice", key), ("bob", key)}


def test_a_derived_msgid_goes_to_the_row_id_and_binds_no_msgid() -> None:
    """Whether the server gives its id (``d``) or the writer reads the msgid."""
    derived_id = msgid(first_id(2) + 9)
    made_here = private_message(derived_id, 1, "Bob", "Alice")._replace(row_id=first_id(2) + 9)
    fields = over_the_pipe(
        encode_record(made_here),
        encode_record(private_message(derived_id, 1, "Bob", "Alice")),
        encode_redact(derived_id),
    )
    assert fields[:2] == ["d", str(first_id(2) + 9)] and fields[11:13] == ["m", derived_id]
    derived, texts, deletes, _, _ = Writer._parse(fields)
    assert texts == []
    key = conversation_key("alice", "bob")
    assert [(len(row), row[0], row[1]) for row in derived] == [(11, first_id(2) + 9, key)] * 2
    [(derived_before, texts_before, statement, row_key)] = deletes
    assert (derived_before, texts_before, row_key) == (2, 0, first_id(2) + 9)
    assert "WHERE id = ?" in statement


def test_forgets_and_resets_keep_their_place_among_the_messages() -> None:
    fields = over_the_pipe(
        encode_record(channel_message("a", 0)),
        encode_record(channel_message("b", 1)),
        encode_forget(name_key("#Chan")),
        RESET_PARTIES,
        encode_record(channel_message("c", 2)),
        encode_redact("b"),
    )
    _, rows, deletes, _, reset = Writer._parse(fields)
    assert [row[1] for row in rows] == ["a", "b", "c"]
    assert [(position, key) for _, position, _, key in deletes] == [(2, "#chan"), (3, "b")]
    assert "target_key" in deletes[0][2] and "msgid" in deletes[1][2]
    assert reset


def test_an_unknown_item_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown item kind"):
        Writer._parse(["z", "whatever"])


async def test_a_batch_is_one_transaction(store: Store, db_path: Path) -> None:
    """A batch SQLite refuses part of leaves nothing of itself behind."""
    await store.flush()  # the schema exists
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON history WHEN NEW.msgid = 'bad' "
            "BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
        )
    writer = Writer(str(db_path))
    with pytest.raises(sqlite3.IntegrityError, match="refused by test"):
        writer.apply(records(channel_message("good", 0), channel_message("bad", 1)))
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM history").fetchone() == (0,)
    # the duplicate msgid is skipped
    assert writer.apply(records(channel_message("good", 0), channel_message("good", 1))) == 1


@pytest.mark.sqlite_only
async def test_a_server_pinned_to_one_core_lets_its_writer_use_every_core(store: Store) -> None:
    """``taskset -c 0 hubbub serve`` (how bench/compare runs it): the writer
    does not inherit the pin, which would make it fight the event loop for
    one core; the scheduler puts it wherever there is room (measured: 5%
    more stored messages/s than a writer kept off the loop's core)."""
    allowed = os.sched_getaffinity(0)
    pinned = min(allowed)
    os.sched_setaffinity(0, {pinned})  # this process plays the pinned server
    try:
        store.history.append(channel_message("m0", 0))
        await store.flush()  # the writer starts with the first batch
    finally:
        os.sched_setaffinity(0, allowed)
    history = store.history
    assert isinstance(history, SqlHistory) and history.writer is not None
    assert history.writer.pid is not None
    assert os.sched_getaffinity(history.writer.pid) == set(range(os.cpu_count() or 1))


async def test_the_writer_copies_the_wal_into_the_database_file(
    store: Store, db_path: Path, tmp_path: Path
) -> None:
    """Its inserts never checkpoint; its checkpoint thread does, so the
    database file itself (without the WAL) gets the rows soon after."""
    for n in range(100):
        store.history.append(channel_message(f"m{n}", n))
    await store.flush()

    def rows_in_the_file_alone() -> int:
        alone = tmp_path / "alone.db"
        shutil.copyfile(db_path, alone)  # no -wal beside it: only what was copied in
        with sqlite3.connect(alone) as conn:
            try:
                return int(conn.execute("SELECT count(*) FROM history").fetchone()[0])
            except sqlite3.OperationalError:  # not even the schema copied in yet
                return -1

    await until(lambda: rows_in_the_file_alone() == 100)


def _frame(number: int, *messages: HistoryRecord) -> Frame:
    return number, FIELD_SEPARATOR.join(map(encode_record, messages)).encode()


def _refuse_bad_messages(db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON history WHEN NEW.text = 'bad' "
            "BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
        )


def _texts(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as conn:
        return [text for (text,) in conn.execute("SELECT text FROM history ORDER BY id")]


def _said(text: str, n: int) -> HistoryRecord:
    return channel_message(f"m{n}", n, text=text)._replace(row_id=first_id(3) + n)


async def test_batches_that_wait_are_one_transaction(store: Store, db_path: Path) -> None:
    """One commit for several batches: so a refusal in the last undoes the
    first too, and the server-facing loop (next test) must retry them apart."""
    await store.flush()  # the schema exists
    _refuse_bad_messages(db_path)
    writer = Writer(str(db_path))
    group = [_frame(1, _said("first", 1)), _frame(2, _said("bad", 2))]
    batches = [text.decode().split(FIELD_SEPARATOR) for _, text in group]
    with pytest.raises(sqlite3.IntegrityError, match="refused by test"):
        writer.apply_group(batches)
    assert _texts(db_path) == []
    assert writer.apply_group(batches[:1]) == [0]
    assert _texts(db_path) == ["first"]


async def test_a_refused_batch_in_a_group_fails_alone(store: Store, db_path: Path) -> None:
    await store.flush()
    _refuse_bad_messages(db_path)
    writer = Writer(str(db_path))
    group = [
        _frame(7, _said("before", 1)),
        _frame(8, _said("bad", 2)),
        _frame(9, _said("after", 3), _said("after", 3)),  # a duplicate: skipped
    ]
    ok_7, refused_8, ok_9 = apply_frames(writer, group)
    assert REPLY.unpack(ok_7) == (7, 0, 0)
    number, skipped, error_size = REPLY.unpack(refused_8[: REPLY.size])
    assert (number, skipped) == (8, 0)
    assert refused_8[REPLY.size :] == b"refused by test" and error_size == 15
    assert REPLY.unpack(ok_9) == (9, 1, 0)
    assert _texts(db_path) == ["before", "after"]


def test_a_group_takes_what_waits_and_stops_at_the_end() -> None:
    frames: queue.Queue[Frame | None] = queue.Queue()
    for number in range(1, MAX_GROUP + 3):
        frames.put((number, b""))
    frames.put(None)
    first = next_group(frames)
    assert first is not None and [frame[0] for frame in first] == list(range(1, MAX_GROUP + 1))
    rest = next_group(frames)
    assert rest is not None and [frame[0] for frame in rest] == [MAX_GROUP + 1, MAX_GROUP + 2]
    assert next_group(frames) is None


def _wal_restarts(db_path: Path) -> int:
    """The WAL header's checkpoint sequence number: SQLite adds one each
    time a writer starts the WAL over from its beginning."""
    header = Path(f"{db_path}-wal").read_bytes()[:16]
    return int.from_bytes(header[12:16], "big")


async def test_the_wal_starts_over_though_commits_never_stop(store: Store, db_path: Path) -> None:
    """Under a steady load the checkpoint thread's copy never catches up with
    the commits made while it copies, and SQLite starts the WAL over only
    once everything in it is copied: the WAL grew without end (a gigabyte
    in 25 s of stored private messages). Here a reader's snapshot holds the
    thread's copy back, as commits during it do; after that pass the writer
    copies the rest itself, between two transactions, and the WAL starts over."""
    await store.flush()  # the schema exists
    copied = threading.Event()
    writer = Writer(str(db_path), copied)
    checkpointer = sqlite3.connect(db_path, isolation_level=None)
    reader = sqlite3.connect(db_path, isolation_level=None)
    try:
        _commit_past_the_thread(writer, copied, checkpointer, reader, db_path)
    finally:
        checkpointer.close()
        reader.close()


def _commit_past_the_thread(
    writer: Writer,
    copied: threading.Event,
    checkpointer: sqlite3.Connection,
    reader: sqlite3.Connection,
    db_path: Path,
) -> None:
    number = 0

    def commit() -> None:
        nonlocal number
        number += 1
        writer.apply(records(_said(f"message {number}", number)))

    commit()
    restarts = _wal_restarts(db_path)
    for _ in range(3):
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM history").fetchone()  # holds its snapshot
        commit()  # after the reader's snapshot: the thread's pass cannot copy it
        checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")  # the thread's pass
        copied.set()
        reader.execute("COMMIT")
        commit()  # the writer copies the rest: nothing is left in the WAL uncopied
        commit()  # so this transaction starts the WAL over
    assert _wal_restarts(db_path) >= restarts + 3
    assert len(_texts(db_path)) == number  # and every message is there
