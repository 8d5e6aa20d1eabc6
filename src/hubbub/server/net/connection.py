"""The TCP/TLS adapter: moves bytes between an asyncio transport and a
``Session`` (server/session.py), which does everything else.

Also the flush queue: a session's output is handed to its transport once
per event-loop pass, in one write.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import TYPE_CHECKING, cast

from hubbub.server.net.client_cert import peer_fingerprint
from hubbub.server.net.tls_upgrade import TlsUpgrade
from hubbub.server.session import Session

if TYPE_CHECKING:
    from hubbub.server.session import SessionHost

log = logging.getLogger(__name__)


def peer_address(transport: asyncio.BaseTransport) -> tuple[str, int]:
    """The peer's IP (IPv4-mapped IPv6 unwrapped) and port."""
    peer = transport.get_extra_info("peername") or ("0.0.0.0", 0)
    ip = str(peer[0])
    if ip.startswith("::ffff:"):
        ip = ip[7:]
    return ip, int(peer[1])


def host_for(ip: str) -> str:
    """The host shown for ``ip``: one starting with ':' would read as a trailing parameter."""
    return "0" + ip if ip.startswith(":") else ip


class FlushQueue:
    """The sessions that have output waiting in this loop pass. The first
    write of a pass arms one callback that flushes them all: one scheduled
    callback per pass, not one per recipient."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending: list[Session] = []

    def add(self, session: Session) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush_all)
        self._pending.append(session)

    def _flush_all(self) -> None:
        pending, self._pending = self._pending, []
        for session in pending:
            try:
                session.flush()
            except Exception:
                log.exception("flushing output to %s failed", session.user.nick)


class StreamConnection(asyncio.Protocol):
    """A TCP or TLS client: the ``Link`` of its session.

    A TLS listener accepts plain TCP; the connection is counted and checked
    (limits, throttle, D-lines) first and upgrades after, so a peer that
    never finishes its handshake holds one counted slot, and only for
    ``handshake_timeout`` seconds.
    """

    __slots__ = ("_upgrade", "server", "session", "transport")

    def __init__(
        self, server: SessionHost, ip: str, port: int, tls_context: ssl.SSLContext | None
    ) -> None:
        self.server = server
        self.session = Session(server, self, ip, host_for(ip), port, tls_context is not None)
        self.transport: asyncio.Transport | None = None
        # Set until the TLS handshake is done: nothing is written before.
        self._upgrade = TlsUpgrade(tls_context) if tls_context is not None else None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        raw = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport = raw
        # The transport calls pause_writing once it holds more than the send
        # queue: no need to ask it at every flush.
        raw.set_write_buffer_limits(high=self.server.config.limits.sendq)
        if self._upgrade is not None:
            raw.pause_reading()
        self.server.connection_opened(self.session)
        if self._upgrade is not None and not self.session.closed:
            self.server.spawn(self._start_tls(raw, self._upgrade))

    async def _start_tls(self, raw: asyncio.Transport, upgrade: TlsUpgrade) -> None:
        user = self.session.user
        try:
            secure, early = await upgrade.run(
                raw, self, self.server.config.limits.handshake_timeout
            )
        except BaseException as exc:  # the slot is given back whatever happened
            raw.abort()
            self.server.disconnect(user, f"TLS handshake failed: {exc.__class__.__name__}")
            if not isinstance(exc, OSError):  # SSLError, reset, timeout: expected
                raise
            return
        self.transport = secure
        user.certfp = peer_fingerprint(secure)
        secure.set_write_buffer_limits(high=self.server.config.limits.sendq)
        self._upgrade = None
        if early:
            self.session.receive_data(early)

    def pause_writing(self) -> None:
        if not self.session.closed:
            self.session.sendq_exceeded()

    def data_received(self, data: bytes) -> None:
        if self._upgrade is not None and self.transport is not None:
            self._upgrade.hold(self.transport, data)
        else:
            self.session.receive_data(data)

    def eof_received(self) -> bool | None:
        self.server.disconnect(self.session.user, "Connection closed")
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.disconnect(
            self.session.user, "Connection closed" if exc is None else "Connection reset"
        )
        self.session.mark_closed()

    # --- Link -------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if self._upgrade is not None:
            return  # plaintext into a TLS handshake would only garble it
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def buffered(self) -> int:
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def set_reading(self, on: bool) -> None:
        if self.transport is None or self.transport.is_closing() or self._upgrade is not None:
            return
        if on:
            self.transport.resume_reading()
        else:
            self.transport.pause_reading()
