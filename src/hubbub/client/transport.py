"""Byte pipes to a server: TCP, TLS over TCP, and WebSocket (IRCv3 WebSocket
spec, ``text.ircv3.net``). Each yields one IRC line at a time without CR LF,
so the client above does not care which one it has."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
from collections.abc import Callable
from typing import Protocol, TypeVar

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from hubbub.client.config import ClientConfig
from hubbub.client.tofu import CA_VERIFIED, CertificateDowngrade, PinStore, fingerprint

READ_LIMIT = 16384
WS_SUBPROTOCOL = Subprotocol("text.ircv3.net")
T = TypeVar("T")


class Transport(Protocol):
    confidential: bool
    """True over TLS or to a loopback address: a password may be sent as is."""

    async def readline(self) -> bytes | None:
        """The next line without its ending, or None once the server closed."""
        ...

    async def write(self, line: bytes) -> None: ...

    async def close(self) -> None: ...


class StreamTransport:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, confidential: bool
    ) -> None:
        self.confidential = confidential
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
    def __init__(self, ws: ClientConnection, confidential: bool) -> None:
        self.confidential = confidential
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


def _context(config: ClientConfig, verify: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if config.tls_ca_file is not None:
        ctx.load_verify_locations(cafile=config.tls_ca_file)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def is_confidential(tls: bool, peer: object) -> bool:
    """May a secret cross this connection? Over TLS, or to this very machine."""
    if tls:
        return True
    host = peer[0] if isinstance(peer, tuple) and peer else None
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return False


async def _open_once(config: ClientConfig, verify: bool) -> tuple[Transport, bytes | None]:
    """Open one connection; returns the transport and the peer's DER certificate."""
    host, port = config.host, config.effective_port
    ctx = _context(config, verify) if config.tls else None
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
        peer = ws.transport.get_extra_info("peername")
        return WebSocketTransport(ws, is_confidential(sslobj is not None, peer)), der
    async with asyncio.timeout(config.connect_timeout):
        reader, writer = await asyncio.open_connection(
            host, port, ssl=ctx, server_hostname=host if ctx else None, limit=READ_LIMIT
        )
    sslobj = writer.get_extra_info("ssl_object")
    der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
    peer = writer.get_extra_info("peername")
    return StreamTransport(reader, writer, is_confidential(sslobj is not None, peer)), der


async def open_transport(
    config: ClientConfig, on_pinned: Callable[[str], None] | None = None
) -> Transport:
    """Connect as ``config`` says, applying its TLS verification policy;
    ``on_pinned(fingerprint)`` is called when a self-signed certificate is
    pinned first.

    "ca" trusts the CAs only. "auto" and "tofu" consult the pin file first: a
    server once verified by a CA must be again (no fallback to pinning), a
    CA-verified server is remembered as such, and a self-signed certificate is
    pinned on first use.

    Raises OSError (refused, unreachable), TimeoutError, ssl.SSLError, or a
    :class:`~hubbub.client.tofu.TrustError` (changed certificate, downgrade,
    unusable pin file).
    """
    if not config.tls:
        transport, _ = await _open_once(config, verify=False)
        return transport
    if config.tls_verify == "ca":
        transport, _ = await _open_once(config, verify=True)
        return transport
    store = PinStore(config.config_dir)
    known = store.get(config.address)
    if config.tls_verify == "auto" or known == CA_VERIFIED:
        try:
            transport, _ = await _open_once(config, verify=True)
        except ssl.SSLCertVerificationError as exc:
            if known == CA_VERIFIED:
                raise CertificateDowngrade(
                    config.address, exc.verify_message or str(exc), store.path
                ) from None
        else:
            if known != CA_VERIFIED:
                await _remember(transport, lambda: store.pin(config.address, CA_VERIFIED))
            return transport
    transport, der = await _open_once(config, verify=False)
    if der is None:
        await transport.close()
        raise ssl.SSLError("the server sent no certificate")
    pinned_now = await _remember(transport, lambda: store.check(config.address, der))
    if pinned_now and on_pinned is not None:
        on_pinned(fingerprint(der))
    return transport


async def _remember(transport: Transport, action: Callable[[], T]) -> T:
    """Run a pin-file step; if it refuses or fails, close the connection first."""
    try:
        return action()
    except BaseException:
        await transport.close()
        raise
