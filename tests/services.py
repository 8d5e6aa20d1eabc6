"""The real PostgreSQL and Redis the cluster and PostgreSQL-store tests use.

On this project's machines both run on 127.0.0.1 (PostgreSQL: user
postgres, trust auth; Redis: port 6379); ``.ci/run`` starts them. A test
that needs one that is not there fails when CI=true (never a silent skip in
CI) and is skipped with the reason elsewhere. ``HUBBUB_TEST_POSTGRES`` and
``HUBBUB_TEST_REDIS`` point elsewhere."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

POSTGRES_ADMIN_URL = os.environ.get(
    "HUBBUB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("HUBBUB_TEST_REDIS", "redis://127.0.0.1:6379/0")

T = TypeVar("T")


def run_apart(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on a loop of its own in another thread: set-up that a
    fixture needs whether or not the test's loop is already running."""
    results: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(asyncio.run(work()))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def require(url: str, default_port: int, what: str) -> None:
    """Fail (CI) or skip (elsewhere) unless ``what`` answers at ``url``."""
    if _reachable(url, default_port):
        return
    message = f"{what} is not running at {url} (.ci/run starts it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def database_url(name: str) -> str:
    """The admin URL with another database name."""
    parts = urlsplit(POSTGRES_ADMIN_URL)
    return urlunsplit(parts._replace(path="/" + name))


async def _admin(statement: str) -> None:
    """Run a statement that cannot run in a transaction (CREATE DATABASE)."""
    url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+asyncpg")
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


@contextmanager
def scratch_database(prefix: str = "hubbub_test") -> Iterator[str]:
    """A new, uniquely named, empty PostgreSQL database; dropped after."""
    require(POSTGRES_ADMIN_URL, 5432, "PostgreSQL")
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    run_apart(lambda: _admin(f'CREATE DATABASE "{name}"'))
    try:
        yield database_url(name)
    finally:
        run_apart(lambda: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def require_redis() -> str:
    require(REDIS_URL, 6379, "Redis")
    return REDIS_URL
