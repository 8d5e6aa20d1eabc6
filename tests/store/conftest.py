"""Fixtures: a real SQLite store in tmp_path, with cheap argon2 parameters so
the suite stays fast (the default parameters are tested once, in test_passwords),
and the fewest SCRAM iterations RFC 7677 allows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles

from hubbub.store import Store, open_store
from hubbub.store.passwords import MIN_SCRAM_ITERATIONS

CHEAP_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)
CHEAP_SCRAM = MIN_SCRAM_ITERATIONS


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "hubbub.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(
        db_path, flush_interval=0.05, hasher=CHEAP_HASHER, scram_iterations=CHEAP_SCRAM
    )
    yield opened
    await opened.close()
