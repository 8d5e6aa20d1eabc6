"""A raw IRC test client over a real socket: send lines, wait for lines."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
from collections.abc import Callable

from hubbub.protocol.message import Message, parse

TIMEOUT = 5.0


_sync_tokens = itertools.count(1)


class RawClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.nick = "*"
        self.log: list[Message] = []

    @classmethod
    async def connect(
        cls, host: str, port: int, *, tls: bool = False, timeout: float = TIMEOUT
    ) -> RawClient:
        context = None
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, limit=1 << 20), timeout
        )
        return cls(reader, writer)

    async def send(self, line: str) -> None:
        self.writer.write(line.encode() + b"\r\n")
        await self.writer.drain()

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read(self, timeout: float = TIMEOUT) -> Message:
        raw = await asyncio.wait_for(self.reader.readline(), timeout)
        if not raw:
            raise ConnectionError("connection closed")
        msg = parse(raw.decode().rstrip("\r\n"))
        self.log.append(msg)
        return msg

    async def expect(
        self, command: str | Callable[[Message], bool], timeout: float = TIMEOUT
    ) -> Message:
        """Read until a message with this command (or matching predicate) arrives."""
        check = command if callable(command) else (lambda m: m.command == command)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"no {command!r} within {timeout}s")
            msg = await self.read(left)
            if check(msg):
                return msg

    async def collect_until(self, command: str, timeout: float = TIMEOUT) -> list[Message]:
        """All messages up to and including the first with ``command``."""
        out: list[Message] = []
        while True:
            msg = await self.read(timeout)
            out.append(msg)
            if msg.command == command:
                return out

    async def sync(self, timeout: float = TIMEOUT) -> list[Message]:
        """Everything the server sent before answering a PING of ours."""
        token = f"sync{next(_sync_tokens)}"
        await self.send(f"PING {token}")
        lines: list[Message] = []
        while True:
            msg = await self.read(timeout)
            if msg.command == "PONG" and msg.params[-1] == token:
                return lines
            lines.append(msg)

    async def ask(self, line: str) -> list[Message]:
        """Send ``line``; return everything the server answered to it."""
        await self.send(line)
        return await self.sync()

    async def answers(self, line: str) -> list[tuple[str, list[str]]]:
        """Send ``line``; the (command, params) of everything answered to it."""
        return [(m.command, m.params) for m in await self.ask(line)]

    async def nothing(self, wait: float = TIMEOUT) -> None:
        """Assert that the server has sent nothing: a PING/PONG barrier, so
        every line the server wrote before answering our PING is checked and
        no fixed quiet window is guessed. ``wait`` bounds the round trip (kept
        for old callers; at least TIMEOUT, so a loaded machine cannot flake)."""
        unexpected = await self.sync(max(wait, TIMEOUT))
        if unexpected:
            raise AssertionError(f"unexpected messages: {unexpected}")

    async def register(self, nick: str, caps: list[str] | None = None) -> None:
        if caps:
            await self.send("CAP LS 302")
            await self.send("CAP REQ :" + " ".join(caps))
        await self.send(f"NICK {nick}")
        await self.send(f"USER {nick} 0 * :{nick} realname")
        if caps:
            ack = await self.expect(lambda m: m.command == "CAP" and m.params[1] != "LS")
            assert ack.params[1] == "ACK", ack
            await self.send("CAP END")
        await self.expect("376")
        self.nick = nick

    async def closed(self, timeout: float = TIMEOUT) -> bool:
        """Read until EOF; True when the server closed the connection (EOF or
        reset), False when it was still open after ``timeout``."""
        try:
            while True:
                raw = await asyncio.wait_for(self.reader.readline(), timeout)
                if not raw:
                    return True
        except TimeoutError:
            return False
        except (ConnectionError, OSError):
            return True

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()
