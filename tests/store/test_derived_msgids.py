"""Msgids derived from the row id (protocol/msgid.py, migration 0010), on
SQLite (the writer process) and PostgreSQL: a derived msgid is stored as
the row id with a NULL msgid, any other msgid as text under an id below
every boot's; both are found, replayed from, redacted and stored once."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from hubbub.protocol.msgid import FIRST_ID, first_id, msgid
from hubbub.store import Store
from hubbub.store.engine import postgresql_engine
from store.conftest import sqlite_file
from store.history_helpers import at, channel_message, private_message

Rows = Callable[[], Awaitable[list[tuple[int, str | None]]]]
BOOT = 7


def derived(counter: int, boot: int = BOOT) -> str:
    return msgid(first_id(boot) + counter)


@pytest.fixture
def rows(request: pytest.FixtureRequest, tmp_path: Path) -> Rows:
    """(id, msgid) of every history row, as the database holds them."""
    engine = request.node.callspec.params["store"]

    async def read() -> list[tuple[int, str | None]]:
        query = "SELECT id, msgid FROM history ORDER BY id"
        if engine == "sqlite":
            with sqlite3.connect(sqlite_file(tmp_path)) as conn:
                return [(int(i), m) for i, m in conn.execute(query)]
        pg = postgresql_engine(request.getfixturevalue("postgresql_url"))
        try:
            async with pg.connect() as conn:
                return [(int(i), m) for i, m in await conn.execute(text(query))]
        finally:
            await pg.dispose()

    return read


@pytest.mark.parametrize("said", [True, False])
async def test_a_derived_msgid_is_the_row_id_and_no_text(
    store: Store, rows: Rows, said: bool
) -> None:
    """Whether the server gives the id (its own events) or the store reads
    it from the msgid (a record from elsewhere)."""
    for n in range(3):
        row_id = first_id(BOOT) + n if said else None
        store.history.append(channel_message(derived(n), n)._replace(row_id=row_id))
    latest = await store.history.latest("#chan", None, 10)
    assert [m.msgid for m in latest] == [derived(0), derived(1), derived(2)]
    assert await rows() == [(first_id(BOOT) + n, None) for n in range(3)]


async def test_other_msgids_keep_their_text_below_the_derived_ids(store: Store, rows: Rows) -> None:
    """The collision case: SQLite's own next id after a derived row is the
    next derived id; a message stored there would make the later message
    with that msgid a duplicate, silently dropped."""
    store.history.append(channel_message(derived(0), 0))
    store.history.append(channel_message("imported-1", 1))
    store.history.append(channel_message("H1", 2))  # not derived: boot 0
    store.history.append(channel_message(derived(1), 3))
    await store.history.flush()
    store.history.append(channel_message("imported-2", 4))
    store.history.append(channel_message(derived(2), 5))
    latest = await store.history.latest("#chan", None, 10)
    assert [m.msgid for m in latest] == [
        derived(0),
        "imported-1",
        "H1",
        derived(1),
        "imported-2",
        derived(2),
    ]
    stored = await rows()
    below = [(i, m) for i, m in stored if i < FIRST_ID]
    assert [m for _, m in below] == ["imported-1", "H1", "imported-2"]
    assert [i for i, _ in below] == sorted({i for i, _ in below})
    assert [(i, m) for i, m in stored if i >= FIRST_ID] == [
        (first_id(BOOT) + n, None) for n in range(3)
    ]


async def test_both_kinds_are_found_and_replayed_from(store: Store) -> None:
    messages = [
        channel_message("old-0", 0),
        channel_message(derived(10), 1),
        channel_message("old-2", 2),
        channel_message(derived(11), 3),
        channel_message(derived(12), 4),
    ]
    for message in messages:
        store.history.append(message)
    history = store.history
    for message in messages:
        assert await history.find(message.msgid) == message
    assert await history.find(derived(13)) is None
    assert await history.find("old-9") is None
    assert [m.msgid for m in await history.before("#chan", derived(11), 10)] == [
        "old-0",
        derived(10),
        "old-2",
    ]
    assert [m.msgid for m in await history.after("#chan", "old-2", 10)] == [
        derived(11),
        derived(12),
    ]
    assert [m.msgid for m in await history.around("#chan", "old-2", 3)] == [
        derived(10),
        "old-2",
        derived(11),
    ]
    assert [m.msgid for m in await history.between("#chan", derived(10), "old-2", 10)] == []
    assert await history.after("#other", derived(10), 10) == []  # not that target's


async def test_a_message_written_twice_is_stored_once(store: Store, rows: Rows) -> None:
    """A batch resent (after an error, or by a new writer process) changes nothing."""
    for _ in range(2):
        store.history.append(private_message(derived(1), 1, "@1", "@2"))
        store.history.append(private_message("old-1", 2, "@1", "@2"))
        await store.history.flush()
    assert len(await rows()) == 2
    assert [m.msgid for m in await store.history.latest("@1 @2", None, 10)] == [
        derived(1),
        "old-1",
    ]


async def test_redaction_deletes_either_kind(store: Store) -> None:
    for n, kind in enumerate((derived(1), "old-1", derived(2), "old-2")):
        store.history.append(channel_message(kind, n))
    store.history.redact(derived(1))
    store.history.redact("old-2")
    store.history.redact(derived(3))  # never stored: nothing happens
    left = await store.history.latest("#chan", None, 10)
    assert [m.msgid for m in left] == ["old-1", derived(2)]


async def test_boot_numbers_are_never_handed_out_twice(store: Store) -> None:
    boots = [await store.history.start_boot() for _ in range(3)]
    assert boots == sorted(set(boots)) and boots[0] >= 1


async def test_retention_keeps_the_newest_of_both_kinds(store: Store) -> None:
    for n, kind in enumerate(("old-0", derived(1), "old-2", derived(3))):
        store.history.append(channel_message(kind, n))
    assert await store.history.trim_per_target(2) == 2
    left = await store.history.between("#chan", at(-1), at(10), 10)
    assert [m.msgid for m in left] == ["old-2", derived(3)]
