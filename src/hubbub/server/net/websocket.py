"""The IRCv3 WebSocket listener (https://ircv3.net/specs/extensions/websocket).

Each WebSocket message carries one IRC line without CR LF. ``text.ircv3.net``
sends text frames (our output is always valid UTF-8), ``binary.ircv3.net``
binary frames.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from hubbub.server.net.connection import MAX_LINE_BYTES, Connection

if TYPE_CHECKING:
    import ssl

    from websockets.asyncio.server import Server as WsServer

    from hubbub.server.app import Server

log = logging.getLogger(__name__)

SUBPROTOCOLS = [Subprotocol("text.ircv3.net"), Subprotocol("binary.ircv3.net")]


class WebSocketConnection(Connection):
    __slots__ = ("_binary", "_pending", "_wake", "ws")

    def __init__(self, server: Server, ws: ServerConnection, ip: str, port: int, tls: bool) -> None:
        super().__init__(server, ip, port, tls)
        self.ws = ws
        self._binary = ws.subprotocol == "binary.ircv3.net"
        self._pending: list[bytes] = []
        self._wake = asyncio.Event()

    def transport_write(self, data: bytes) -> None:
        self._pending.append(data)
        self._wake.set()

    def transport_buffered(self) -> int:
        transport = self.ws.transport
        return transport.get_write_buffer_size() if transport is not None else 0

    def transport_close(self) -> None:
        self._wake.set()

    def set_reading(self, on: bool) -> None:
        """Reading pauses by itself: the reader awaits each message in turn."""

    async def writer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            chunks, self._pending = self._pending, []
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
        async for message in ws:
            data = message.encode("utf-8") if isinstance(message, str) else message
            conn.feed_line(data)
    except ConnectionClosed:
        pass
    finally:
        server.disconnect(conn.user, "Connection closed")
        await asyncio.wait([writer], timeout=2)
        writer.cancel()


async def start_websocket_listener(
    server: Server, host: str, port: int, ssl_context: ssl.SSLContext | None
) -> WsServer:
    def choose(connection: ServerConnection, offered: list[Subprotocol]) -> Subprotocol | None:
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
