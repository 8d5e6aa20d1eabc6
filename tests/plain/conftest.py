"""A server with an IRC listener and a plain-chat listener (tests/plain)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from harness import RunningServer, ServerFactory
from plainclient import PLAIN_LISTENERS, PlainClient


@pytest.fixture
async def chat(start_server: ServerFactory) -> RunningServer:
    """IRC on ``chat.port()``, plain chat on ``chat.port("plain-chat")``."""
    return await start_server(listen=PLAIN_LISTENERS)


@pytest.fixture
async def plain_clients() -> AsyncIterator[list[PlainClient]]:
    """Plain clients a test made, closed after it."""
    made: list[PlainClient] = []
    yield made
    for client in made:
        await client.close()
