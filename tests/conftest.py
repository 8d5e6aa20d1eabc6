"""Shared fixtures: a real hubbub server on ephemeral ports, raw clients,
cheap password hashing, and an X display for the Tk tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles

from display import DisplayUnavailable, x_display
from harness import RunningServer, ServerFactory, make_config
from hubbub.server.app import Server

# Fixtures shared by several directories: a non-loopback address of this host.
pytest_plugins = ["netaddr"]


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
        for ws in instance.websockets:
            await ws.close()
        await instance.server.stop()


@pytest.fixture
async def irc(start_server: ServerFactory) -> RunningServer:
    """A running server with default test settings."""
    return await start_server()


@pytest.fixture
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Servers hash passwords with argon2's cheapest profile, to keep account
    tests fast (the default parameters are tested in store/test_passwords)."""
    monkeypatch.setattr(
        Server, "password_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST)
    )
    yield


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    """The X display for Tk: $DISPLAY or a private Xvfb. Missing Xvfb/Tk fails."""
    try:
        with x_display() as name:
            yield name
    except DisplayUnavailable as error:
        pytest.fail(str(error), pytrace=False)
