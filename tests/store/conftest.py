"""Fixtures: a real store, with cheap argon2 parameters so the suite stays
fast (the default parameters are tested once, in test_passwords), and the
fewest SCRAM iterations RFC 7677 allows.

``store`` runs each test twice: on a SQLite file in tmp_path and on the real
PostgreSQL (a database made for this test session, emptied before each
test, dropped at the end; tests/services.py). A test that also asks for
``db_path`` looks into the SQLite file, and one marked ``sqlite_only`` into
its writer process: they run on SQLite only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles

from hubbub.store import Store, open_store
from hubbub.store.engine import postgresql_engine
from hubbub.store.passwords import MIN_SCRAM_ITERATIONS
from hubbub.store.schema import metadata
from services import run_apart, scratch_database

CHEAP_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)
CHEAP_SCRAM = MIN_SCRAM_ITERATIONS


def sqlite_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "hubbub.db"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return sqlite_file(tmp_path)


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """A migrated PostgreSQL database for this test session."""
    with scratch_database() as url:
        run_apart(lambda: _migrate(url))
        yield url


async def _migrate(url: str) -> None:
    await (await open_store(url)).close()


async def empty_tables(url: str) -> None:
    """Delete every row, so each test starts as on a new database."""
    names = ", ".join(table.name for table in metadata.sorted_tables)
    engine = postgresql_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await engine.dispose()


async def _open(location: str | Path) -> Store:
    return await open_store(
        location, flush_interval=0.05, hasher=CHEAP_HASHER, scram_iterations=CHEAP_SCRAM
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" in metafunc.fixturenames:
        sqlite_only = "db_path" in metafunc.fixturenames or (
            metafunc.definition.get_closest_marker("sqlite_only") is not None
        )
        backends = ["sqlite"] if sqlite_only else ["sqlite", "postgresql"]
        metafunc.parametrize("store", backends, indirect=True)


@pytest.fixture
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgresql_url")
        await empty_tables(url)
        opened = await _open(url)
    else:
        opened = await _open(sqlite_file(tmp_path))
    yield opened
    await opened.close()
