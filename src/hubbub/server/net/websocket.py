"""The IRCv3 WebSocket listener (https://ircv3.net/specs/extensions/websocket).

Each WebSocket message carries one IRC line without CR LF. ``text.ircv3.net``
sends text frames (our output is always valid UTF-8), ``binary.ircv3.net``
binary frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from hubbub.server.net.connection import CLOSE_GRACE, MAX_LINE_BYTES, Connection

if TYPE_CHECKING:
    import ssl

    from websockets.asyncio.server import Server as WsServer

    from hubbub.server.app import Server

log = logging.getLogger(__name__)

SUBPROTOCOLS = [Subprotocol("text.ircv3.net"), Subprotocol("binary.ircv3.net")]


class WebSocketConnection(Connection):
    __slots__ = ("_binary", "_pending", "_pending_size", "_wake", "readable", "ws")

    def __init__(self, server: Server, ws: ServerConnection, ip: str, port: int, tls: bool) -> None:
        super().__init__(server, ip, port, tls)
        self.ws = ws
        self._binary = ws.subprotocol == "binary.ircv3.net"
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._wake = asyncio.Event()
        # Cleared while flood control holds lines back: the reader waits.
        self.readable = asyncio.Event()
        self.readable.set()

    def transport_write(self, data: bytes) -> None:
        if self.transport_buffered() + len(data) > self._sendq and not self._closed:
            self._sendq_exceeded()
            return
        self._pending.append(data)
        self._pending_size += len(data)
        self._wake.set()

    def transport_buffered(self) -> int:
        """Output not yet on the wire: waiting for the writer, and in the transport."""
        transport = self.ws.transport
        buffered = transport.get_write_buffer_size() if transport is not None else 0
        return self._pending_size + buffered

    def transport_close(self) -> None:
        self._wake.set()
        self.readable.set()  # the reader wakes up and sees the connection closed

    def transport_abort(self) -> None:
        self._pending.clear()
        self._pending_size = 0
        transport = self.ws.transport
        if transport is not None:
            transport.abort()

    def set_reading(self, on: bool) -> None:
        if on:
            self.readable.set()
        else:
            self.readable.clear()

    async def writer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            chunks, self._pending = self._pending, []
            self._pending_size = 0
            for line in b"".join(chunks).split(b"\r\n"):
                if line:
                    await self.ws.send(line if self._binary else line.decode("utf-8", "replace"))
            if self.closed:
                await self.ws.close()
                return


async def _handle(server: Server, ws: ServerConnection, tls: bool) -> None:
    address = ws.remote_address
    ip, port = str(address[0]), int(address[1])
    conn = WebSocketConnection(server, ws, ip, port, tls)
    server.connection_opened(conn)
    writer = asyncio.create_task(conn.writer())
    try:
        while not conn.closed:
            await conn.readable.wait()
            message = await ws.recv()
            data = message.encode("utf-8") if isinstance(message, str) else message
            conn.feed_line(data)
    except ConnectionClosed:
        pass
    finally:
        server.disconnect(conn.user, "Connection closed")
        # Discard what the client still sends, so that its close frame is
        # seen and the closing handshake the writer starts can finish.
        with contextlib.suppress(ConnectionClosed, TimeoutError):
            async with asyncio.timeout(CLOSE_GRACE):
                async for _ in ws:
                    pass
        await asyncio.wait([writer], timeout=2)
        writer.cancel()


async def start_websocket_listener(
    server: Server, host: str, port: int, ssl_context: ssl.SSLContext | None
) -> WsServer:
    def choose(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
        for proto in offered:
            if proto in SUBPROTOCOLS:
                return proto
        return None

    return await serve(
        lambda ws: _handle(server, ws, ssl_context is not None),
        host,
        port,
        ssl=ssl_context,
        subprotocols=SUBPROTOCOLS,
        select_subprotocol=choose,
        max_size=MAX_LINE_BYTES,
        max_queue=4,
        ping_interval=None,
    )
