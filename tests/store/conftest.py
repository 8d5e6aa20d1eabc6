"""Fixtures: a real SQLite store in tmp_path, with cheap argon2 parameters so
the suite stays fast (the default parameters are tested once, in test_passwords)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles

from hubbub.store import Store, open_store

CHEAP_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "hubbub.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(db_path, flush_interval=0.05, hasher=CHEAP_HASHER)
    yield opened
    await opened.close()
