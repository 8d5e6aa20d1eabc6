"""A real hubbub server for the web tests, restartable on the same ports."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness import register_logged_in
from hubbub.server.app import Server
from hubbub.server.config import Config
from ircclient import RawClient

OPER_PASSWORD = "s3cret"  # oper "admin" on every web test server


@dataclass
class WebServer:
    """A running hubbub with its web address and raw IRC clients on it."""

    config: Config
    server: Server
    clients: list[RawClient] = field(default_factory=list)

    def port(self, kind: str) -> int:
        return next(x.port for x in self.server.listeners if x.kind == kind)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port('websocket')}/"

    async def client(self, nick: str, caps: list[str] | None = None) -> RawClient:
        client = await RawClient.connect("127.0.0.1", self.port("plaintext"))
        self.clients.append(client)
        await client.register(nick, caps)
        return client

    async def client_logged_in(
        self, account: str, password: str, caps: list[str] | None = None
    ) -> RawClient:
        """A raw client logged in (SASL PLAIN) to an existing account: another device."""
        client = await RawClient.connect("127.0.0.1", self.port("plaintext"))
        self.clients.append(client)
        await register_logged_in(client, account, password, caps)
        return client

    async def stop(self) -> None:
        """Stop; :meth:`start` comes back on the same ports with the same data."""
        ports = {x.kind: x.port for x in self.server.listeners}
        for client in self.clients:
            await client.close()
        self.clients.clear()
        await self.server.stop()
        for spec in self.config.listen:
            kind = "websocket" if spec.websocket else "tls" if spec.tls else "plaintext"
            spec.port = ports[kind]

    async def start(self) -> None:
        self.server = Server(self.config)
        await self.server.start()

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
        await self.server.stop()
