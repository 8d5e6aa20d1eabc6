"""Schema migrations at open, and the SQLite settings every connection gets."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from hubbub.store import StoreError, open_store
from hubbub.store.engine import sqlite_engine
from hubbub.store.migrate import upgrade
from hubbub.store.schema import metadata
from hubbub.store.timeutil import to_ms
from store.history_helpers import at, channel_message


def revision(db_path: Path) -> str:
    with sqlite3.connect(db_path) as conn:
        [(version,)] = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    return str(version)


async def test_an_old_database_is_upgraded_and_keeps_its_data(db_path: Path) -> None:
    db_path.parent.mkdir()
    engine = sqlite_engine(db_path)
    await upgrade(engine, "0001")
    await engine.dispose()
    assert revision(db_path) == "0001"
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "INSERT INTO accounts (name, name_key, password_hash, registered_at)"
            " VALUES ('Old', 'old', 'x', 0)"
        )
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    assert "history" not in tables

    store = await open_store(db_path)
    try:
        account = await store.accounts.get("old")
        assert account is not None and account.name == "Old"
        store.history.append(channel_message("m0", 0))
        assert len(await store.history.latest("#chan", None, 5)) == 1
    finally:
        await store.close()
    assert revision(db_path) == "0011"


async def test_migrated_schema_matches_the_table_definitions(db_path: Path) -> None:
    await (await open_store(db_path)).close()
    engine = sqlite_engine(db_path)

    def differences(conn: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(differences) == []
    finally:
        await engine.dispose()


async def test_private_history_parties_are_carried_into_their_own_table(db_path: Path) -> None:
    """0004 replaces the party indexes with ``history_parties``, filled from
    the messages already stored, so TARGETS still finds old conversations."""
    db_path.parent.mkdir()
    engine = sqlite_engine(db_path)
    await upgrade(engine, "0003")
    await engine.dispose()
    insert = (
        "INSERT INTO history (msgid, target_key, target, time_ms, sender, command, text, tags,"
        " party_a, party_b) VALUES (?, ?, ?, ?, 'x!u@h', 'PRIVMSG', 'hi', '{}', ?, ?)"
    )
    with sqlite3.connect(db_path) as conn:
        for name in ("alice", "bob", "carol"):  # 0005 keeps only account parties' messages
            conn.execute(
                "INSERT INTO accounts (name, name_key, password_hash, registered_at)"
                " VALUES (?, ?, 'x', 0)",
                (name, name),
            )
        conn.execute(insert, ("m1", "alice bob", "bob", to_ms(at(1)), "alice", "bob"))
        conn.execute(insert, ("m2", "alice bob", "alice", to_ms(at(2)), "bob", "alice"))
        conn.execute(insert, ("m3", "alice carol", "alice", to_ms(at(3)), "carol", "alice"))
    store = await open_store(db_path)
    try:
        alice, carol = store.accounts.party("alice"), store.accounts.party("carol")
        assert alice is not None and carol is not None
        found = await store.history.targets(alice, at(0), at(10), 10)
        assert [(t.name, t.latest) for t in found] == [("bob", at(2)), ("carol", at(3))]
        assert [t.name for t in await store.history.targets(carol, at(0), at(10), 10)] == ["alice"]
    finally:
        await store.close()
    with sqlite3.connect(db_path) as conn:
        names = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    assert "ix_history_party_a" not in names and "history_parties" in names


async def test_reopening_is_harmless(db_path: Path) -> None:
    for _ in range(2):
        store = await open_store(db_path)
        await store.close()
    assert revision(db_path) == "0011"


async def test_every_connection_uses_wal_and_foreign_keys(db_path: Path) -> None:
    await (await open_store(db_path)).close()
    engine = sqlite_engine(db_path)
    try:
        async with engine.connect() as conn:
            pragmas = [
                (await conn.execute(text(f"PRAGMA {name}"))).scalar_one()
                for name in ("journal_mode", "synchronous", "foreign_keys")
            ]
    finally:
        await engine.dispose()
    assert pragmas == ["wal", 1, 1]  # synchronous=1 is NORMAL


async def test_a_database_from_a_newer_hubbub_is_refused_untouched(db_path: Path) -> None:
    await (await open_store(db_path)).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match="9999"):
        await open_store(db_path)
    assert revision(db_path) == "9999"


async def test_awkward_characters_in_the_path(tmp_path: Path) -> None:
    path = tmp_path / "odd #dir?x=1" / "my data.db"
    await (await open_store(path)).close()
    assert path.exists()
