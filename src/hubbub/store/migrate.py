"""Bring a database to the newest schema at open. Alembic is driven in code
with the packaged migrations; an old database is upgraded in place, never
recreated, and the upgrade runs on the async engine's connection through
``run_sync`` so it works inside the server's event loop."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hubbub.store.errors import StoreError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# PostgreSQL advisory lock key held while migrating (any constant of our own).
MIGRATION_LOCK_KEY = 0x68756262  # "hubb"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade_sync(connection: Connection, revision: str = "head") -> None:
    """Upgrade through a synchronous connection (what ``run_sync`` hands out)."""
    command.upgrade(alembic_config(connection), revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision``. A database
    from a newer hubbub (a revision we do not know) is refused, not touched.

    On SQLite, foreign keys are off while migrating, as SQLite's own recipe
    for changing a table asks: recreating a parent table (copy, drop,
    rename) would otherwise cascade the drop into its children. The
    migrated database must pass ``PRAGMA foreign_key_check``.

    On PostgreSQL, the nodes of a cluster may start together: the upgrade
    holds a transaction-scoped advisory lock, so one node migrates and the
    others find the schema done."""
    sqlite = engine.dialect.name == "sqlite"
    postgresql = engine.dialect.name == "postgresql"
    try:
        async with engine.connect() as conn:
            if sqlite:
                await _foreign_keys(conn, "OFF")
            try:
                async with conn.begin():
                    if postgresql:
                        await conn.exec_driver_sql(
                            f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
                        )
                    await conn.run_sync(upgrade_sync, revision)
                    if sqlite:
                        await _check_foreign_keys(conn)
            finally:
                if sqlite:
                    await _foreign_keys(conn, "ON")
    except CommandError as exc:
        raise StoreError(f"cannot migrate the database: {exc}") from None


async def _foreign_keys(conn: AsyncConnection, state: str) -> None:
    """PRAGMA foreign_keys is ignored inside a transaction: set it between."""
    await conn.exec_driver_sql(f"PRAGMA foreign_keys={state}")
    await conn.commit()


async def _check_foreign_keys(conn: AsyncConnection) -> None:
    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).first()
    if broken is not None:
        raise StoreError(f"migration left a dangling reference in table {broken[0]}")
