"""Shared fixtures: a real hubbub server on ephemeral ports, raw clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from harness import RunningServer, ServerFactory, make_config
from hubbub.server.app import Server


@pytest.fixture
async def start_server(tmp_path: Path) -> AsyncIterator[ServerFactory]:
    """Start servers with config overrides: ``await start_server(limits={...})``."""
    running: list[RunningServer] = []

    async def start(**sections: dict[str, object]) -> RunningServer:
        server = Server(make_config(tmp_path / f"data{len(running)}", **sections))
        await server.start()
        instance = RunningServer(server)
        running.append(instance)
        return instance

    yield start
    for instance in running:
        for client in instance.clients:
            await client.close()
        await instance.server.stop()


@pytest.fixture
async def irc(start_server: ServerFactory) -> RunningServer:
    """A running server with default test settings."""
    return await start_server()
