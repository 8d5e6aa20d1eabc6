"""Migration 0006: history loses its index on time alone; what was stored
stays, and the queries that filtered by time still find it (through the
target index), including retention by age, which now scans."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from hubbub.store import open_store
from hubbub.store.engine import sqlite_engine
from hubbub.store.migrate import alembic_config, upgrade
from store.history_helpers import at, channel_message


def history_indexes(db_path: Path) -> set[str]:
    with sqlite3.connect(db_path) as conn:
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'history'"
        return {name for (name,) in conn.execute(query)}


async def test_the_time_index_goes_and_the_history_stays(db_path: Path) -> None:
    db_path.parent.mkdir()
    engine = sqlite_engine(db_path)
    await upgrade(engine, "0005")
    await engine.dispose()
    assert "ix_history_time_ms" in history_indexes(db_path)
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "INSERT INTO history (msgid, target_key, target, time_ms, sender, command, text,"
            " tags) VALUES ('old', '#chan', '#chan', 1714564800000, 'a!b@c', 'PRIVMSG', 'hi', '{}')"
        )
    store = await open_store(db_path)
    try:
        assert "ix_history_time_ms" not in history_indexes(db_path)
        assert "ix_history_target_time" in history_indexes(db_path)
        assert [r.msgid for r in await store.history.latest("#chan", None, 5)] == ["old"]
        assert [t.name for t in await store.history.targets("x", at(-1), at(1), 5, ["#chan"])] == [
            "#chan"
        ]
        store.history.append(channel_message("new", 0))
        assert await store.history.delete_older_than(timedelta(days=1)) == 2  # both are old
    finally:
        await store.close()


def test_the_downgrade_puts_the_index_back(db_path: Path) -> None:
    db_path.parent.mkdir()
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        assert "ix_history_time_ms" not in history_indexes(db_path)
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0005")
        assert "ix_history_time_ms" in history_indexes(db_path)
    finally:
        engine.dispose()
