"""The IRCv3 WebSocket listener (https://ircv3.net/specs/extensions/websocket).

Each WebSocket message carries one IRC line without CR LF. ``text.ircv3.net``
sends text frames (our output is always valid UTF-8), ``binary.ircv3.net``
binary frames. Plain HTTP GETs get the web client's files
(:mod:`hubbub.server.net.webassets`) unless ``web = false``; an upgrade
from a browser whose Origin is neither the page's nor allowed gets 403.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from hubbub.server.net.client_cert import peer_fingerprint
from hubbub.server.net.connection import host_for, peer_address
from hubbub.server.net.tls_upgrade import TlsUpgrade
from hubbub.server.net.webassets import (
    PageSettings,
    WebAssets,
    forbidden,
    is_loopback_name,
    is_websocket_request,
    origin_allowed,
    serve_file,
)
from hubbub.server.session import CLOSE_GRACE, MAX_LINE_BYTES, Session
from hubbub.server.state import User

if TYPE_CHECKING:
    import ssl

    from websockets.asyncio.server import Server as WsServer

    from hubbub.server.session import SessionHost

log = logging.getLogger(__name__)

SUBPROTOCOLS = [Subprotocol("text.ircv3.net"), Subprotocol("binary.ircv3.net")]


class WebSocketConnection:
    """One WebSocket client: the ``Link`` of its session. Output is queued
    for the writer task, which sends one WebSocket message per IRC line."""

    __slots__ = (
        "_binary",
        "_pending",
        "_pending_size",
        "_wake",
        "_writing",
        "readable",
        "session",
        "ws",
    )

    def __init__(
        self, server: SessionHost, ws: ServerConnection, ip: str, port: int, tls: bool
    ) -> None:
        self.ws = ws
        self.session = Session(server, self, ip, host_for(ip), port, tls)
        self._binary = False  # known once the opening handshake chose a subprotocol
        self._writing = False  # the writer runs once the opening handshake is done
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._wake = asyncio.Event()
        # Cleared while the session wants no input: the reader waits.
        self.readable = asyncio.Event()
        self.readable.set()

    @property
    def user(self) -> User:
        return self.session.user

    @property
    def closed(self) -> bool:
        return self.session.closed

    def set_subprotocol(self, subprotocol: str | None) -> None:
        self._binary = subprotocol == "binary.ircv3.net"

    # --- Link -------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        session = self.session
        if self.buffered() + len(data) > session.server.config.limits.sendq and not session.closed:
            session.sendq_exceeded()
            return
        self._pending.append(data)
        self._pending_size += len(data)
        self._wake.set()

    def buffered(self) -> int:
        """Output not yet on the wire: waiting for the writer, and in the transport.
        Without a writer (a plain HTTP request, a handshake never finished)
        nothing waiting will ever be sent, so shutdown need not wait for it."""
        transport = self.ws.transport
        buffered = transport.get_write_buffer_size() if transport is not None else 0
        return (self._pending_size if self._writing else 0) + buffered

    def close(self) -> None:
        self._wake.set()
        self.readable.set()  # the reader wakes up and sees the connection closed

    def abort(self) -> None:
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
        self._writing = True
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


class CountedServerConnection(ServerConnection):
    """websockets' connection, counted and checked when TCP accepts it.

    The IRC connection is made (limits, throttle, D-lines) before the TLS
    handshake and the HTTP upgrade, so sockets that never finish either hold
    one counted slot each, and only for ``handshake_timeout`` seconds.
    """

    def __init__(
        self, hub: SessionHost, tls_context: ssl.SSLContext | None, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.hub = hub
        self.irc: WebSocketConnection | None = None
        self._upgrade = TlsUpgrade(tls_context) if tls_context is not None else None
        self._websocket_made = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        raw = cast(asyncio.Transport, transport)
        self.transport = raw  # until websockets takes over: for close and abort
        ip, port = peer_address(raw)
        conn = WebSocketConnection(self.hub, self, ip, port, self._upgrade is not None)
        self.irc = conn
        if self._upgrade is not None:
            raw.pause_reading()
        self.hub.connection_opened(conn.session)
        if conn.closed:
            raw.abort()
        elif self._upgrade is not None:
            self.hub.spawn(self._start_tls(raw, conn, self._upgrade))
        else:
            self._make_websocket(raw, b"")

    async def _start_tls(
        self, raw: asyncio.Transport, conn: WebSocketConnection, upgrade: TlsUpgrade
    ) -> None:
        try:
            secure, early = await upgrade.run(raw, self, self.hub.config.limits.handshake_timeout)
        except BaseException as exc:  # the slot is given back whatever happened
            raw.abort()
            self.hub.disconnect(conn.user, f"TLS handshake failed: {exc.__class__.__name__}")
            if not isinstance(exc, OSError):  # SSLError, reset, timeout: expected
                raise
            return
        self._upgrade = None
        conn.user.certfp = peer_fingerprint(secure)
        self._make_websocket(secure, early)

    def _make_websocket(self, transport: asyncio.Transport, early: bytes) -> None:
        """Hand over to websockets: the opening handshake, under open_timeout."""
        self._websocket_made = True
        super().connection_made(transport)
        if early:
            super().data_received(early)

    def data_received(self, data: bytes) -> None:
        if self._upgrade is not None:
            self._upgrade.hold(self.transport, data)
        else:
            super().data_received(data)

    def eof_received(self) -> None:
        if self._websocket_made:
            super().eof_received()
        # else: the transport closes itself, and connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        if self.irc is not None:
            self.hub.disconnect(self.irc.user, "Connection closed")
        if self._websocket_made:
            super().connection_lost(exc)


async def _handle(server: SessionHost, ws: ServerConnection) -> None:
    assert isinstance(ws, CountedServerConnection) and ws.irc is not None
    conn = ws.irc
    conn.set_subprotocol(ws.subprotocol)
    writer = asyncio.create_task(conn.writer())
    try:
        while not conn.closed:
            await conn.readable.wait()
            message = await ws.recv()
            data = message.encode("utf-8") if isinstance(message, str) else message
            conn.session.receive_line(data)
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
    server: SessionHost,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None,
    *,
    web: bool = True,
    reuse_port: bool = False,
) -> WsServer:
    def choose(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
        for proto in offered:
            if proto in SUBPROTOCOLS:
                return proto
        return None

    def counted(*args: Any, **kwargs: Any) -> CountedServerConnection:
        return CountedServerConnection(server, ssl_context, *args, **kwargs)

    tls = ssl_context is not None
    assets = WebAssets.from_package() if web else None
    loopback_only = is_loopback_name(host)

    def route(connection: ServerConnection, request: Request) -> Response | None:
        asked = request.headers.get("Host")
        settings = PageSettings(remote_avatars=server.config.web.remote_avatars)
        if is_websocket_request(request):
            allowed = server.config.web.allowed_origins
            origin = request.headers.get("Origin")
            if origin_allowed(origin, asked, tls, allowed, loopback_only=loopback_only):
                return None
            return forbidden(tls, asked, settings)
        if assets is None:
            return None  # websockets answers 426 Upgrade Required
        if isinstance(connection, CountedServerConnection) and connection.irc is not None:
            server.file_request_served(connection.irc.user.ip)
        return serve_file(assets, request, tls, settings)

    # No ssl= here: CountedServerConnection counts the peer, then upgrades.
    return await serve(
        lambda ws: _handle(server, ws),
        host,
        port,
        create_connection=cast(type[ServerConnection], counted),
        open_timeout=server.config.limits.handshake_timeout,
        subprotocols=SUBPROTOCOLS,
        select_subprotocol=choose,
        process_request=route,
        max_size=MAX_LINE_BYTES,
        max_queue=4,
        ping_interval=None,
        reuse_port=reuse_port or None,  # workers of one machine share the port
    )
