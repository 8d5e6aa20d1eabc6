"""Creating the async engine: for a SQLite file, with the pragmas every
connection needs (WAL so a crash leaves a database that opens cleanly and
readers do not block the writer, foreign keys for cascading deletes, and a
busy timeout for the offline CLI running next to the server); for a
PostgreSQL URL, asyncpg with a small pool."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import URL, event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)

# aiosqlite logs every call with its arguments at DEBUG: password hashes,
# SCRAM keys and e-mail addresses would reach a debug log. Its INFO and
# above carry no data, so that is all it may say, whatever the root level.
logging.getLogger("aiosqlite").setLevel(logging.INFO)


def sqlite_engine(path: Path) -> AsyncEngine:
    """One pooled connection: SQLite has a single writer anyway, and one
    connection never hits SQLITE_BUSY upgrading a read lock to a write lock."""
    url = URL.create("sqlite+aiosqlite", database=str(path))
    engine = create_async_engine(url, pool_size=1, max_overflow=0)
    event.listen(engine.sync_engine, "connect", _set_pragmas)
    return engine


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in _PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


# Connections one process keeps to PostgreSQL: history writes, queries and
# account look-ups overlap; the server does the rest in memory.
PG_POOL_SIZE = 5
PG_MAX_OVERFLOW = 5


def postgresql_engine(url: str, pool_size: int = PG_POOL_SIZE) -> AsyncEngine:
    """``postgresql://...`` (or ``postgres://``) through asyncpg."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    parsed = parsed.set(drivername="postgresql+asyncpg")
    return create_async_engine(
        parsed, pool_size=pool_size, max_overflow=PG_MAX_OVERFLOW, pool_pre_ping=True
    )
