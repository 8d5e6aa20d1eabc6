"""Byte pipes to a server: TCP, TLS over TCP, and WebSocket (IRCv3 WebSocket
spec, ``text.ircv3.net``). Each yields one IRC line at a time without CR LF,
so the client above does not care which one it has."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from typing import Protocol

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from hubbub.client.config import ClientConfig
from hubbub.client.tofu import PinStore, fingerprint

READ_LIMIT = 16384
WS_SUBPROTOCOL = Subprotocol("text.ircv3.net")


class Transport(Protocol):
    async def readline(self) -> bytes | None:
        """The next line without its ending, or None once the server closed."""
        ...

    async def write(self, line: bytes) -> None: ...

    async def close(self) -> None: ...


class StreamTransport:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def readline(self) -> bytes | None:
        data = await self._reader.readline()
        if not data:
            return None
        return data.rstrip(b"\r\n")

    async def write(self, line: bytes) -> None:
        self._writer.write(line if line.endswith(b"\n") else line + b"\r\n")
        await self._writer.drain()

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
            async with asyncio.timeout(2):
                await self._writer.wait_closed()


class WebSocketTransport:
    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws

    async def readline(self) -> bytes | None:
        try:
            data = await self._ws.recv()
        except ConnectionClosed:
            return None
        raw = data.encode("utf-8") if isinstance(data, str) else data
        return raw.rstrip(b"\r\n")

    async def write(self, line: bytes) -> None:
        try:
            await self._ws.send(line.rstrip(b"\r\n").decode("utf-8", "replace"))
        except ConnectionClosed as exc:
            raise ConnectionResetError(str(exc)) from None

    async def close(self) -> None:
        await self._ws.close()


def _context(verify: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def _open_once(config: ClientConfig, verify: bool) -> tuple[Transport, bytes | None]:
    """Open one connection; returns the transport and the peer's DER certificate."""
    host, port = config.host, config.effective_port
    ctx = _context(verify) if config.tls else None
    if config.websocket:
        scheme = "wss" if config.tls else "ws"
        path = config.websocket_path if config.websocket_path.startswith("/") else "/"
        ws = await ws_connect(
            f"{scheme}://{host}:{port}{path}",
            subprotocols=[WS_SUBPROTOCOL],
            ssl=ctx,
            open_timeout=config.connect_timeout,
            max_size=2**20,
        )
        sslobj = ws.transport.get_extra_info("ssl_object")
        der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
        return WebSocketTransport(ws), der
    async with asyncio.timeout(config.connect_timeout):
        reader, writer = await asyncio.open_connection(
            host, port, ssl=ctx, server_hostname=host if ctx else None, limit=READ_LIMIT
        )
    sslobj = writer.get_extra_info("ssl_object")
    der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
    return StreamTransport(reader, writer), der


async def open_transport(
    config: ClientConfig, on_pinned: Callable[[str], None] | None = None
) -> Transport:
    """Connect as ``config`` says, applying its TLS verification policy;
    ``on_pinned(fingerprint)`` is called when a certificate is pinned first.

    Raises OSError (refused, unreachable), TimeoutError, ssl.SSLError, or
    :class:`~hubbub.client.tofu.CertificateChanged`.
    """
    if not config.tls:
        transport, _ = await _open_once(config, verify=False)
        return transport
    if config.tls_verify in ("ca", "auto"):
        try:
            transport, _ = await _open_once(config, verify=True)
            return transport
        except ssl.SSLCertVerificationError:
            if config.tls_verify == "ca":
                raise
    transport, der = await _open_once(config, verify=False)
    if der is None:
        await transport.close()
        raise ssl.SSLError("the server sent no certificate")
    try:
        pinned_now = PinStore(config.config_dir).check(config.address, der)
    except BaseException:
        await transport.close()
        raise
    if pinned_now and on_pinned is not None:
        on_pinned(fingerprint(der))
    return transport
