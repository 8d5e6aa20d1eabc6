"""Start TLS on a plain connection once it has been counted and checked.

TLS listeners accept plain TCP so that limits, throttling and D-lines apply
at accept, before any handshake work; the connection then upgrades with
``loop.start_tls``. Two windows need care, each holding at most one read:

- Before ``start_tls`` takes the transport over, the ClientHello may already
  have reached the plain protocol (uvloop starts reading right after
  ``connection_made``, whatever ``pause_reading`` said there). It is held and
  handed to the TLS protocol before that one starts its handshake.
- Once the handshake is done, the TLS protocol delivers application data at
  once, before the awaiting task resumes with the new transport. It is held
  and given back with that transport.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any


class TlsUpgrade:
    __slots__ = ("_held", "_started", "context")

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self._held = bytearray()
        self._started = False

    def hold(self, raw: asyncio.Transport, data: bytes) -> None:
        """Keep what the protocol received while the upgrade is under way."""
        self._held += data
        if not self._started:
            raw.pause_reading()  # start_tls resumes it

    async def run(
        self, raw: asyncio.Transport, protocol: asyncio.BaseProtocol, timeout: float
    ) -> tuple[asyncio.Transport, bytes]:
        """The TLS transport and the application bytes that came with the handshake.

        Raises OSError (ConnectionAbortedError on ``timeout``) when it fails.
        """
        loop = asyncio.get_running_loop()
        # start_tls schedules the TLS protocol's connection_made from its
        # synchronous part; this callback, scheduled first, runs just before.
        loop.call_soon(self._replay_into_tls, raw)
        self._started = True
        secure = await loop.start_tls(
            raw, protocol, self.context, server_side=True, ssl_handshake_timeout=timeout
        )
        if secure is None:
            raise ConnectionAbortedError("TLS upgrade returned no transport")
        early = bytes(self._held)
        self._held.clear()
        return secure, early

    def _replay_into_tls(self, raw: asyncio.Transport) -> None:
        data = memoryview(bytes(self._held))
        self._held.clear()
        tls_protocol: Any = raw.get_protocol()  # asyncio's or uvloop's SSLProtocol
        while data:
            buffer = tls_protocol.get_buffer(len(data))
            size = min(len(buffer), len(data))
            buffer[:size] = data[:size]
            tls_protocol.buffer_updated(size)
            data = data[size:]
