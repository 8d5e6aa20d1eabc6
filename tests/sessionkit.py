"""Sessions without sockets: a real ``Server`` (started, SQLite store, no
listeners) and clients that are plain ``Session`` objects over a ``MemoryLink``.
Feed bytes in with ``receive``; read the lines the server sent with ``take``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from harness import HOST, make_config
from hubbub.protocol.message import Message, parse_line
from hubbub.server.app import Server
from hubbub.server.session import Session


class NullSink:
    """A user's sink that discards everything: for world bookkeeping tests."""

    def write(self, data: bytes) -> None:
        pass

    def write_unlabeled(self, data: bytes) -> None:
        pass

    def close(self, reason: str) -> None:
        pass

    def take_label(self) -> str | None:
        return None


class MemoryLink:
    """A transport that keeps what it is given and never pushes back."""

    def __init__(self) -> None:
        self.sent = bytearray()
        self.reading = True
        self.closed = False

    def write(self, data: bytes) -> None:
        self.sent += data

    def buffered(self) -> int:
        return 0

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def set_reading(self, on: bool) -> None:
        self.reading = on


class MemoryClient:
    """One session and its link, as a test drives them."""

    def __init__(self, server: Server, clock: Callable[[], float] = time.monotonic) -> None:
        self.link = MemoryLink()
        self.session = Session(server, self.link, HOST, HOST, 40000, False, clock=clock)
        server.connection_opened(self.session)

    def receive(self, *lines: str) -> None:
        """The client sends ``lines`` (CR LF added) in one read."""
        self.session.receive_data("".join(line + "\r\n" for line in lines).encode())

    def take(self) -> list[str]:
        """Every line sent to this client since the last call, without CR LF."""
        self.session.flush()
        text = self.link.sent.decode()
        self.link.sent.clear()
        return [line for line in text.split("\r\n") if line]

    def take_messages(self) -> list[Message]:
        return [parse_line(line.encode()) for line in self.take()]

    def register(self, nick: str, *caps: str) -> None:
        """CAP REQ ``caps``, NICK, USER, CAP END; drop the welcome burst."""
        lines = [f"CAP REQ :{' '.join(caps)}"] if caps else []
        self.receive(*lines, f"NICK {nick}", f"USER {nick} 0 * :{nick}", "CAP END")
        assert any(" 001 " in line for line in self.take()), f"{nick} did not register"


@asynccontextmanager
async def memory_server(data_dir: Path, **sections: dict[str, object]) -> AsyncIterator[Server]:
    """A started server with no listeners, for sessions fed by hand."""
    config = make_config(data_dir, **sections)
    config.listen = []
    server = Server(config)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
