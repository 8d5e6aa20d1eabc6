"""Migration 0010 on SQLite and PostgreSQL: the msgid becomes derived from
the row id. Rows stored before keep their msgid and id and are found,
replayed from, redacted and refused as duplicates as before; new rows of
either kind go beside them; the downgrade writes derived msgids out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.protocol.msgid import FIRST_ID, first_id, msgid
from hubbub.store import StoreError
from hubbub.store.engine import postgresql_engine, sqlite_engine
from hubbub.store.migrate import alembic_config, upgrade
from hubbub.store.opening import open_store
from services import scratch_database
from store.history_helpers import channel_message

OLD = ("5f3a9c0e1", "5f3a9c0e2", "5f3a9c0e3-1")  # the boot prefix + counter form
INSERT_OLD = (
    "INSERT INTO history (msgid, target_key, target, time_ms, sender, command, text, tags)"
    " VALUES (:msgid, '#chan', '#chan', :ms, 'a!b@c', 'PRIVMSG', 'old', '{}')"
)


@pytest.fixture(params=["sqlite", "postgresql"])
async def location(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database at revision 0009 holding three messages of the older form."""
    if request.param == "sqlite":
        path = tmp_path / "hubbub.db"
        yield await _at_0009(sqlite_engine(path), str(path))
    else:
        with scratch_database("hubbub_m10") as url:
            yield await _at_0009(postgresql_engine(url), url)


async def _at_0009(engine: AsyncEngine, location: str) -> str:
    try:
        await upgrade(engine, "0009")
        async with engine.begin() as conn:
            for n, old in enumerate(OLD):
                await conn.execute(text(INSERT_OLD), {"msgid": old, "ms": n})
    finally:
        await engine.dispose()
    return location


def _engine(location: str) -> AsyncEngine:
    if location.startswith("postgresql"):
        return postgresql_engine(location)
    return sqlite_engine(Path(location))


async def _rows(location: str) -> list[tuple[int, str | None]]:
    engine = _engine(location)
    try:
        async with engine.connect() as conn:
            query = text("SELECT id, msgid FROM history ORDER BY id")
            return [(int(i), m) for i, m in await conn.execute(query)]
    finally:
        await engine.dispose()


async def test_older_rows_stay_and_new_ones_go_beside_them(location: str) -> None:
    before = await _rows(location)
    new = msgid(first_id(1))
    store = await open_store(location)
    try:
        history = store.history
        assert await _rows(location) == before  # nothing rewritten
        assert [m.msgid for m in await history.latest("#chan", None, 10)] == list(OLD)
        assert [m.msgid for m in await history.after("#chan", OLD[0], 10)] == list(OLD[1:])
        assert (await history.find(OLD[2])) is not None
        assert await history.start_boot() == 1  # the first boot of this database
        history.append(channel_message(new, 10))
        history.append(channel_message(OLD[1], 11))  # already stored: refused
        history.append(channel_message("imported", 12))
        history.redact(OLD[0])
        assert [m.msgid for m in await history.latest("#chan", None, 10)] == [
            OLD[1],
            OLD[2],
            new,
            "imported",
        ]
    finally:
        await store.close()
    *kept, (imported, text_id), derived = await _rows(location)
    assert kept == before[1:]  # the first one redacted
    assert text_id == "imported" and max(i for i, _ in before) < imported < FIRST_ID
    assert derived == (first_id(1), None)


async def test_the_downgrade_writes_derived_msgids_out(location: str) -> None:
    store = await open_store(location)
    try:
        store.history.append(channel_message(msgid(first_id(3) + 5), 10))
        await store.history.flush()
    finally:
        await store.close()
    engine = _engine(location)

    def downgrade(conn: Connection) -> None:
        command.downgrade(alembic_config(conn), "0009")

    try:
        async with engine.begin() as conn:
            await conn.run_sync(downgrade)
    finally:
        await engine.dispose()
    assert [m for _, m in await _rows(location)] == [*OLD, msgid(first_id(3) + 5)]


async def test_ids_in_the_derived_range_stop_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "hubbub.db"
    engine = sqlite_engine(path)
    try:
        await upgrade(engine, "0009")
        async with engine.begin() as conn:
            await conn.execute(
                text(INSERT_OLD.replace("(msgid,", "(id, msgid,").replace(":msgid", ":id, 'x'")),
                {"id": FIRST_ID, "ms": 0},
            )
        with pytest.raises(StoreError, match="range of derived msgids"):
            await upgrade(engine)
    finally:
        await engine.dispose()
