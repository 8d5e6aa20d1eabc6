"""Test harness: a real hubbub server on ephemeral ports and the raw clients on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from hubbub.server.app import Server
from hubbub.server.config import Config, parse_config
from ircclient import RawClient


def make_config(data_dir: Path, **sections: dict[str, object]) -> Config:
    """A test config: plaintext, TLS and WebSocket on ephemeral ports."""
    raw: dict[str, object] = {
        "server": {"name": "irc.test.local", "network": "TestNet", "data_dir": str(data_dir)},
        "listen": [
            {"host": "127.0.0.1", "port": 0},
            {"host": "127.0.0.1", "port": 0, "tls": True},
            {"host": "127.0.0.1", "port": 0, "websocket": True},
        ],
        "limits": {"flood_control": False, "throttle": False},
        # RFC 7677's minimum: tests make many accounts (the default is
        # 600,000 rounds, a quarter second each)
        "accounts": {"scram_iterations": 4096},
    }
    for name, values in sections.items():
        if isinstance(raw.get(name), dict):
            raw[name] = {**raw[name], **values}  # type: ignore[dict-item]
        else:
            raw[name] = values
    return parse_config(raw)


@dataclass
class RunningServer:
    server: Server
    clients: list[RawClient] = field(default_factory=list)

    def port(self, kind: str = "plaintext") -> int:
        return next(x.port for x in self.server.listeners if x.kind == kind)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    async def client(self, nick: str | None = None, caps: list[str] | None = None) -> RawClient:
        """A raw client, registered as ``nick`` when one is given."""
        client = await RawClient.connect("127.0.0.1", self.port())
        self.clients.append(client)
        if nick is not None:
            await client.register(nick, caps)
        return client


ServerFactory = Callable[..., Awaitable[RunningServer]]
