"""A tiny IRC relay for exercising the load generator: registration, JOIN
with 366, channel and private PRIVMSG, PING. It runs on its own event loop
in a thread because the generator runs its own loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


class Relay(asyncio.Protocol):
    def __init__(self, world: World) -> None:
        self.world = world
        self.nick = ""
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])

    def connection_lost(self, exc: Exception | None) -> None:
        self.world.nicks.pop(self.nick, None)
        for members in self.world.channels.values():
            members.discard(self)

    def send(self, line: bytes) -> None:
        assert self.transport is not None
        self.transport.write(line + b"\r\n")

    def data_received(self, data: bytes) -> None:
        *lines, self.buf = (self.buf + data).split(b"\n")
        for line in lines:
            self.line(line.rstrip(b"\r"))

    def line(self, line: bytes) -> None:
        command, _, rest = line.partition(b" ")
        world = self.world
        if command == b"NICK":
            self.nick = rest.decode()
            world.nicks[self.nick] = self
            world.arrived[self.nick] = self.port
        elif command == b"USER":
            self.send(b":relay 001 " + self.nick.encode() + b" :Welcome")
        elif command == b"PING":
            self.send(b"PONG " + rest)
        elif command == b"JOIN":
            members = world.channels.setdefault(rest, set())
            members.add(self)
            for member in members:
                member.send(b":" + self.nick.encode() + b" JOIN " + rest)
            self.send(b":relay 366 " + self.nick.encode() + b" " + rest + b" :End")
        elif command == b"PRIVMSG":
            target = rest.partition(b" ")[0]
            out = b":" + self.nick.encode() + b"!u@h PRIVMSG " + rest
            if target.startswith(b"#"):
                for member in world.channels.get(target, ()):
                    if member is not self:
                        member.send(out)
            elif (peer := world.nicks.get(target.decode())) is not None:
                peer.send(out)


class World:
    """What every listener of one relay shares, like the nodes of a cluster."""

    def __init__(self) -> None:
        self.nicks: dict[str, Relay] = {}
        self.channels: dict[bytes, set[Relay]] = {}
        self.arrived: dict[str, int] = {}  # nick -> the port it connected to
        self.ports: list[int] = []


@contextmanager
def running_relay(listeners: int) -> Iterator[World]:
    """A fresh relay on 127.0.0.1 with ``listeners`` ports (``World.ports``)."""
    loop = asyncio.new_event_loop()
    world = World()
    servers = [
        loop.run_until_complete(loop.create_server(lambda: Relay(world), "127.0.0.1", 0))
        for _ in range(listeners)
    ]
    world.ports = [server.sockets[0].getsockname()[1] for server in servers]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield world
    for server in servers:
        loop.call_soon_threadsafe(server.close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


@pytest.fixture
def relay_port() -> Iterator[int]:
    """Port of a fresh relay on 127.0.0.1."""
    with running_relay(1) as world:
        yield world.ports[0]


@pytest.fixture
def two_port_relay() -> Iterator[tuple[list[int], dict[str, int]]]:
    """A relay listening on two ports, standing in for two cluster nodes:
    its ports, and the port each nick connected to."""
    with running_relay(2) as world:
        yield world.ports, world.arrived
