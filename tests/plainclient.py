"""A plain-chat client over a real socket, as ``nc`` is: raw bytes out,
LF-terminated text lines in."""

from __future__ import annotations

import asyncio
import contextlib

from harness import HOST
from ircclient import TIMEOUT

GREETING = b"NICK"
PROMPT = "Type your name and press enter to begin."
# A server's listeners for these tests: IRC, and plain chat (``port("plain-chat")``).
PLAIN_LISTENERS: list[dict[str, object]] = [
    {"host": HOST, "port": 0},
    {"host": HOST, "port": 0, "protocol": "plain"},
]


class PlainClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.seen: list[str] = []

    @classmethod
    async def connect(cls, port: int) -> PlainClient:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), TIMEOUT)
        return cls(reader, writer)

    @classmethod
    async def named(cls, port: int, name: str) -> PlainClient:
        """Connected, greeted, and in the chat as ``name`` (nc style: name + CR LF)."""
        client = await cls.connect(port)
        assert await client.greeting() == GREETING
        await client.send(name.encode() + b"\r\n")
        await client.expect(f"{name} has joined the chat!")
        return client

    async def greeting(self) -> bytes:
        return await asyncio.wait_for(self.reader.readexactly(len(GREETING)), TIMEOUT)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def line(self, timeout: float = TIMEOUT) -> str:
        raw = await asyncio.wait_for(self.reader.readline(), timeout)
        if not raw:
            raise ConnectionError("connection closed")
        assert raw.endswith(b"\n"), raw
        text = raw[:-1].decode()
        self.seen.append(text)
        return text

    async def expect(self, wanted: str, timeout: float = TIMEOUT) -> list[str]:
        """Lines read up to and including ``wanted`` (an exact line)."""
        lines: list[str] = []
        while True:
            lines.append(await self.line(timeout))
            if lines[-1] == wanted:
                return lines

    async def rest(self, timeout: float = TIMEOUT) -> bytes:
        """Everything until the server closes the connection."""
        return await asyncio.wait_for(self.reader.read(), timeout)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()
