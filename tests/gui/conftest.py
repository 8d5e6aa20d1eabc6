"""Fixtures for the desktop client tests: library peers on a real server.
The X display comes from the shared ``display`` fixture (tests/conftest.py)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "client"))
from libpeers import PeerFactory, peers


@pytest.fixture
async def peer(irc: object, tmp_path: Path) -> AsyncIterator[PeerFactory]:
    async with peers(irc, tmp_path / "config") as make:
        yield make
