"""Migration 0005: private history moves from names to account ids, and the
leftovers of earlier account deletions are cleaned up."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command

from hubbub.store import account_party, open_store
from hubbub.store.engine import sqlite_engine
from hubbub.store.migrate import alembic_config, upgrade
from hubbub.store.timeutil import to_ms
from store.conftest import CHEAP_HASHER
from store.history_helpers import at

MESSAGE = (
    "INSERT INTO history (msgid, target_key, target, time_ms, sender, command, text, tags,"
    " party_a, party_b) VALUES (?, ?, ?, ?, 'x!u@h', 'PRIVMSG', 'hi', '{}', ?, ?)"
)


def rows(db_path: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(query).fetchall()


async def test_upgrade_converts_history_and_drops_orphans(db_path: Path) -> None:
    db_path.parent.mkdir()
    engine = sqlite_engine(db_path)
    await upgrade(engine, "0004")
    await engine.dispose()
    with sqlite3.connect(db_path) as conn:
        for name in ("alice", "bob"):
            conn.execute(
                "INSERT INTO accounts (name, name_key, password_hash, registered_at)"
                " VALUES (?, ?, 'x', 0)",
                (name.capitalize(), name),
            )
        conn.execute("INSERT INTO account_certfps VALUES (?, 2)", ("ab" * 32,))
        conn.execute(MESSAGE, ("m1", "alice bob", "bob", to_ms(at(1)), "alice", "bob"))
        conn.execute(MESSAGE, ("m2", "alice zed", "zed", to_ms(at(2)), "alice", "zed"))
        conn.execute(MESSAGE, ("m3", "xena yann", "yann", to_ms(at(3)), "xena", "yann"))
        conn.execute(
            "INSERT INTO history_parties VALUES ('alice', 'alice bob'), ('bob', 'alice bob'),"
            " ('alice', 'alice zed'), ('zed', 'alice zed'), ('xena', 'xena yann'),"
            " ('yann', 'xena yann')"
        )
        channel = (
            "INSERT INTO channels (id, name, name_key, founder, registered_at, topic_lock, modes)"
            " VALUES (?, ?, ?, ?, 0, 0, '+nt')"
        )
        conn.execute(channel, (1, "#kept", "#kept", "ALICE"))
        conn.execute(channel, (2, "#orphan", "#orphan", "ghost"))  # founder deleted long ago
        conn.execute(
            "INSERT INTO channel_access VALUES (1, 'bob', 'bob', 'op'),"
            " (1, 'ghost', 'ghost', 'op'), (2, 'bob', 'bob', 'voice')"
        )
        conn.execute(
            "INSERT INTO channel_lists (channel_id, kind, mask, mask_key, setter, set_at)"
            " VALUES (2, 'b', 'x!*@*', 'x!*@*', 'ghost', 0)"
        )

    store = await open_store(db_path, hasher=CHEAP_HASHER)
    try:
        alice, bob = account_party(1), account_party(2)
        assert (store.accounts.party("alice"), store.accounts.party("bob")) == (alice, bob)
        found = await store.history.latest(f"{alice} {bob}", None, 10)
        assert [r.msgid for r in found] == ["m1"] and found[0].parties == (alice, bob)
        assert [r.msgid for r in await store.history.latest(f"{alice} zed", None, 10)] == ["m2"]
        targets = await store.history.targets(alice, at(0), at(10), 10)
        assert [t.name for t in targets] == ["Bob", "zed"]
        kept = await store.channels.get("#kept")
        assert kept is not None and dict(kept.access) == {"bob": "op"}
        assert await store.channels.get("#orphan") is None
        assert await store.accounts.list_certfps("bob") == ["ab" * 32]  # recreating kept them
        # AUTOINCREMENT: the highest id, freed, is not handed out again
        assert await store.accounts.delete("bob")
        await store.accounts.create("carol", "password-1")
        assert store.accounts.party("carol") == account_party(3)
    finally:
        await store.close()
    assert rows(db_path, "SELECT msgid FROM history ORDER BY msgid") == [("m2",)]
    assert rows(db_path, "SELECT count(*) FROM channel_lists") == [(0,)]
    assert rows(db_path, "SELECT count(*) FROM channel_access") == [(0,)]  # #kept went with bob
    assert rows(db_path, "PRAGMA foreign_key_check") == []


async def test_downgrade_returns_to_names(db_path: Path) -> None:
    store = await open_store(db_path, hasher=CHEAP_HASHER, scram_iterations=4096)
    try:
        await store.accounts.create("alice", "password-1")
        await store.accounts.create("bob", "password-1")
    finally:
        await store.close()
    with sqlite3.connect(db_path) as conn:
        conn.execute(MESSAGE, ("m1", "@1 @2", "bob", to_ms(at(1)), "@1", "@2"))
    engine = sqlite_engine(db_path)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await conn.commit()
            async with conn.begin():
                await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0004"))
    finally:
        await engine.dispose()
    assert rows(db_path, "SELECT target_key, party_a, party_b FROM history") == [
        ("alice bob", "alice", "bob")
    ]
