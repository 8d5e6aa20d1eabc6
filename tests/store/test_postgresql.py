"""PostgreSQL: the same migrations give the same schema, nodes starting at
once migrate once, the offline CLI works on it, and ``hubbub store
migrate`` copies a SQLite database into it (tests/services.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import Connection

from hubbub.protocol.msgid import first_id, msgid
from hubbub.store import open_store
from hubbub.store.cli import accounts, store_group
from hubbub.store.engine import postgresql_engine
from hubbub.store.migrate import upgrade
from hubbub.store.schema import metadata
from services import scratch_database
from store.cli_helpers import use_cheap_store
from store.conftest import CHEAP_HASHER, CHEAP_SCRAM, empty_tables
from store.history_helpers import channel_message, private_message


@pytest.fixture
def fresh_url() -> Iterator[str]:
    with scratch_database("hubbub_fresh") as url:
        yield url


async def test_migrated_schema_matches_the_table_definitions(postgresql_url: str) -> None:
    engine = postgresql_engine(postgresql_url)

    def differences(conn: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(differences) == []
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        assert version == "0011"
    finally:
        await engine.dispose()


async def test_nodes_opening_a_new_database_at_once_migrate_it_once(fresh_url: str) -> None:
    stores = await asyncio.gather(*(open_store(fresh_url) for _ in range(3)))
    for store in stores:
        await store.close()
    engine = postgresql_engine(fresh_url)
    try:
        async with engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        assert versions == [("0011",)]
    finally:
        await engine.dispose()


async def test_an_old_schema_is_upgraded_with_its_private_history(fresh_url: str) -> None:
    """0005's SQL (party keys become account ids) runs on PostgreSQL too."""
    engine = postgresql_engine(fresh_url)
    try:
        await upgrade(engine, "0004")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO accounts (name, name_key, password_hash, registered_at)"
                    " VALUES ('Alice', 'alice', 'x', 0), ('Bob', 'bob', 'x', 0)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO history (msgid, target_key, target, time_ms, sender, command,"
                    " text, tags, party_a, party_b) VALUES ('m1', 'alice bob', 'bob', 1,"
                    " 'alice!u@h', 'PRIVMSG', 'hi', '{}', 'alice', 'bob')"
                )
            )
    finally:
        await engine.dispose()
    store = await open_store(fresh_url)
    try:
        [message] = await store.history.latest("@1 @2", None, 10)
        assert message.msgid == "m1" and message.parties == ("@1", "@2")
    finally:
        await store.close()


def test_the_accounts_cli_works_on_postgresql(
    postgresql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cheap_store(monkeypatch)
    runner = CliRunner()
    made = runner.invoke(
        accounts, ["create", "Carol", "--database-url", postgresql_url], input="long-password\n"
    )
    assert made.exit_code == 0, made.output
    listed = runner.invoke(accounts, ["list", "--database-url", postgresql_url])
    assert listed.exit_code == 0 and listed.output.startswith("Carol\t")


def test_an_unreachable_database_is_one_error_line() -> None:
    result = CliRunner().invoke(
        accounts, ["list", "--database-url", "postgresql://postgres:secret@127.0.0.1:1/x"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("hubbub: error: postgresql://postgres:***@127.0.0.1:1/x: ")
    assert "secret" not in result.stderr and "Traceback" not in result.output


async def test_a_node_learns_an_account_another_node_created(postgresql_url: str) -> None:
    """Two stores on one database, as two cluster nodes: an account made
    through one is known to the other from the first read of its row."""
    await empty_tables(postgresql_url)
    here, there = [
        await open_store(postgresql_url, hasher=CHEAP_HASHER, scram_iterations=CHEAP_SCRAM)
        for _ in range(2)
    ]
    try:
        await there.accounts.create("Alice", "password-1")
        await there.accounts.create("Bob", "password-2")
        party = there.accounts.party("alice")
        assert party is not None
        assert (here.accounts.exists("alice"), here.accounts.party("alice")) == (False, None)
        # a login (even a failed one) reads the row
        assert await here.accounts.verify_password("ALICE", "wrong") is None
        assert (here.accounts.exists("alice"), here.accounts.party("alice")) == (True, party)
        # a conversation partner's name, offline, is looked up when unknown
        assert here.accounts.party("bob") is None
        assert await here.accounts.find_party("bob") == there.accounts.party("bob")
        assert here.accounts.exists("bob")
        assert await here.accounts.find_party("nobody") is None
    finally:
        await here.close()
        await there.close()


async def test_nodes_starting_together_get_boot_numbers_of_their_own(
    postgresql_url: str,
) -> None:
    """Msgids are unique across a cluster's nodes: each start takes its own
    boot number from the shared database (protocol/msgid.py)."""
    nodes = [await open_store(postgresql_url) for _ in range(3)]
    try:
        boots = await asyncio.gather(*(node.history.start_boot() for node in nodes * 4))
        assert len(set(boots)) == 12
    finally:
        for node in nodes:
            await node.close()


async def _fill_sqlite(path: Path) -> None:
    store = await open_store(path, hasher=CHEAP_HASHER, scram_iterations=CHEAP_SCRAM)
    try:
        await store.accounts.create("Alice", "password-1", "alice@example.org")
        await store.accounts.create("Bob", "password-2")
        await store.accounts.add_certfp("Alice", "ab" * 32)
        await store.channels.register("#tea", "Alice")
        await store.channels.set_access("#tea", "Bob", "op")
        await store.bans.add("K", "*@bad.example", "spam", "oper")
        for n in range(7000):  # more than one chunk
            store.history.append(channel_message(f"c{n}", n))
        store.history.append(private_message("p1", 1, "@1", "@2"))
        boot = await store.history.start_boot()
        store.history.append(channel_message(msgid(first_id(boot)), 1, "#new"))
        await store.flush()
    finally:
        await store.close()


async def _check_postgresql(url: str) -> None:
    store = await open_store(url, hasher=CHEAP_HASHER, scram_iterations=CHEAP_SCRAM)
    try:
        assert await store.accounts.verify_password("Alice", "password-1") is not None
        assert (await store.accounts.find_by_certfp("ab" * 32)) is not None
        registration = await store.channels.get("#tea")
        assert registration is not None and registration.founder == "Alice"
        assert [ban.mask for ban in await store.bans.list_active()] == ["*@bad.example"]
        latest = await store.history.latest("#chan", None, 2)
        assert [m.msgid for m in latest] == ["c6998", "c6999"]
        [private] = await store.history.latest("@1 @2", None, 10)
        assert private.msgid == "p1"
        # after the copy: a new boot past the copied one, and a msgid not
        # derived numbered below the derived ids, so neither takes a place
        [copied] = await store.history.latest("#new", None, 10)
        boot = await store.history.start_boot()
        assert boot == 2 and copied.msgid == msgid(first_id(1))
        store.history.append(channel_message("imported", 2, "#new"))
        store.history.append(channel_message(msgid(first_id(boot)), 3, "#new"))
        latest_new = await store.history.latest("#new", None, 10)
        assert [m.msgid for m in latest_new] == [copied.msgid, "imported", msgid(first_id(2))]
        await store.accounts.create("Carol", "password-3")  # ids go on after the copied
        assert store.accounts.party("Carol") == "@3"
    finally:
        await store.close()


def test_store_migrate_copies_a_sqlite_database(tmp_path: Path, fresh_url: str) -> None:
    database = tmp_path / "hubbub.db"
    asyncio.run(_fill_sqlite(database))
    result = CliRunner().invoke(
        store_group, ["migrate", "--database", str(database), "--to", fresh_url]
    )
    assert result.exit_code == 0, result.output
    assert "accounts: 2 row(s)" in result.output and "history: 7002 row(s)" in result.output
    asyncio.run(_check_postgresql(fresh_url))
    again = CliRunner().invoke(
        store_group, ["migrate", "--database", str(database), "--to", fresh_url]
    )
    assert again.exit_code == 2 and "already has rows in accounts" in again.stderr
