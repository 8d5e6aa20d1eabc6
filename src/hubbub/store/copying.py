"""Copy a SQLite database into an empty PostgreSQL one (``hubbub store
migrate``): accounts with their keys and fingerprints, channel
registrations, server bans and history, with their ids, so private history
keyed by account id (``@<id>``) still finds its account.

Both databases are first brought to the newest schema by the same
migrations; the copy is one transaction on PostgreSQL, so a failure leaves
it empty, and the sequences are moved past the copied ids afterwards
(history's past the ids of messages whose msgid is not derived, the only
ones it numbers: protocol/msgid.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from hubbub.protocol.msgid import FIRST_ID
from hubbub.store.engine import postgresql_engine, sqlite_engine
from hubbub.store.errors import StoreError
from hubbub.store.migrate import upgrade
from hubbub.store.schema import metadata

CHUNK = 5000  # rows read and inserted at a time


async def copy_sqlite_to_postgresql(
    source: Path, url: str, progress: Callable[[str, int], None] = lambda _t, _n: None
) -> dict[str, int]:
    """Copy every table of ``source`` into the database at ``url``, which
    must hold no rows yet; returns the rows copied per table."""
    if not source.is_file():
        raise StoreError(f"no database at {source}")
    reader = sqlite_engine(source)
    writer = postgresql_engine(url)
    try:
        await upgrade(reader)
        await upgrade(writer)
        copied: dict[str, int] = {}
        async with reader.connect() as src, writer.begin() as dst:
            for table in metadata.sorted_tables:
                if await _count(dst, table):
                    raise StoreError(
                        f"the PostgreSQL database already has rows in {table.name}; "
                        "migrate into a new, empty database"
                    )
            for table in metadata.sorted_tables:
                copied[table.name] = await _copy_table(src, dst, table)
                progress(table.name, copied[table.name])
            for table in metadata.sorted_tables:
                if "id" in table.c and table.c.id.primary_key:
                    await _move_sequence(dst, table)
        return copied
    finally:
        await reader.dispose()
        await writer.dispose()


async def _count(conn: AsyncConnection, table: Table) -> int:
    return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _copy_table(src: AsyncConnection, dst: AsyncConnection, table: Table) -> int:
    order = list(table.primary_key.columns)
    result = await src.stream(select(table).order_by(*order))
    total = 0
    async for chunk in result.mappings().partitions(CHUNK):
        await dst.execute(insert(table), [dict(row) for row in chunk])
        total += len(chunk)
    return total


async def _move_sequence(dst: AsyncConnection, table: Table) -> None:
    """The next id PostgreSQL hands out comes after the copied ones."""
    below = f" WHERE id < {FIRST_ID}" if table.name == "history" else ""
    await dst.execute(
        text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
            f" COALESCE((SELECT MAX(id) FROM {table.name}{below}), 0) + 1, false)"
        )
    )
