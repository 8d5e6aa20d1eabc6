"""Fixtures for the client library tests."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from libpeers import PeerFactory, peers


@pytest.fixture
async def peer(irc: object, tmp_path: Path) -> AsyncIterator[PeerFactory]:
    """Connected library clients on the test server: ``await peer("alice")``."""
    async with peers(irc, tmp_path / "config") as make:
        yield make
