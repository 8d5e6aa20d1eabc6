"""Helpers for tests that drive hubbub clients against a real hubbub server:
library peers, free ports, throwaway self-signed certificates. Imported by the
client, terminal and desktop client tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from certs import self_signed
from harness import free_port
from hubbub.client import Client, ClientConfig, Names

__all__ = [
    "PeerFactory",
    "client_config",
    "free_port",
    "in_order",
    "joined_peer",
    "make_cert",
    "peers",
    "settle",
]

PeerFactory = Callable[..., Awaitable[Client]]


def make_cert(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as hubbub generates by default."""
    cert_path, key_path, _ = self_signed(directory, name)
    return cert_path, key_path


async def joined_peer(make: PeerFactory, nick: str, channel: str) -> Client:
    """A library client in ``channel``, once it has the channel's NAMES."""
    client = await make(nick, channels=[channel])
    await client.events().wait_for(Names)
    return client


def in_order(text: str, *parts: str) -> bool:
    """Whether every part appears in ``text``, each after the one before."""
    positions = [text.index(part) for part in parts]
    return positions == sorted(positions)


def client_config(port: int, nick: str, config_dir: Path, **options: object) -> ClientConfig:
    config = ClientConfig(
        host="127.0.0.1", port=port, nick=nick, config_dir=config_dir, reconnect=False
    )
    for key, value in options.items():
        setattr(config, key, value)
    return config


async def settle(server: Any, timeout: float = 2.0) -> None:
    """Wait for the server's background jobs (started by our connections) to
    finish, so stopping it never cancels one in the middle of a store call."""
    for _ in range(int(timeout / 0.01)):
        if not server.tasks:
            return
        await asyncio.sleep(0.01)


@asynccontextmanager
async def peers(irc: Any, config_dir: Path) -> AsyncIterator[PeerFactory]:
    """Connected library clients on the running test server: ``await make("alice")``."""
    made: list[Client] = []

    async def make(nick: str, **options: object) -> Client:
        client = Client(client_config(irc.port(), nick, config_dir, **options))
        made.append(client)
        await client.connect()
        return client

    yield make
    for client in made:
        await client.close()
    await settle(irc.server)
