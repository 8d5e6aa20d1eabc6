"""The metrics listener: ``GET /metrics`` (Prometheus text format) and
``GET /healthz`` (one line of JSON; 200 when healthy, 503 when not).

A deliberately small HTTP/1.1 server on the server's own event loop, so the
collector reads the world without locks (prometheus-client's threaded
server would read it from another thread while the loop changes it). Every
resource is bounded: request head size, time to send it, connections at
once; one response per connection, then close.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import TYPE_CHECKING

from prometheus_client import generate_latest

from hubbub.server.health import HealthCheck
from hubbub.server.metrics_collector import build_registry

if TYPE_CHECKING:
    from hubbub.server.observed import ObservedServer

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 8192  # request line + headers; beyond: 431 and close
HEAD_TIMEOUT = 5.0  # seconds to send them; then: 408 and close
MAX_CONNECTIONS = 16  # at once; one more is closed unanswered
# Every hubbub name is a classic one, so the output is the 0.0.4 text format
# that every Prometheus version reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
ANSWER_TIMEOUT = 30.0  # a peer that does not take the answer by then is dropped

_REASONS = {
    200: "OK",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


class MetricsListener:
    """Serves one server's metrics and health on ``host:port``."""

    def __init__(self, server: ObservedServer, token: str | None) -> None:
        self.server = server
        self.registry = build_registry(server)
        self.health = HealthCheck(server)
        self._token = f"Bearer {token}".encode() if token else None
        self._handle: asyncio.Server | None = None
        self._peers: set[asyncio.StreamWriter] = set()

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self._handle = await asyncio.start_server(
            self._serve, host, port, limit=MAX_HEAD_BYTES, reuse_address=True
        )
        bound = self._handle.sockets[0].getsockname()
        return str(bound[0]), int(bound[1])

    def stop(self) -> None:
        """Stop listening and drop the peers still connected."""
        if self._handle is not None:
            self._handle.close()
        for writer in list(self._peers):
            writer.transport.abort()

    @property
    def open_connections(self) -> int:
        return len(self._peers)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._peers) >= MAX_CONNECTIONS:
            writer.transport.abort()  # no answer: an answer would need reading the request
            return
        self._peers.add(writer)
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT):
                await self._answer(reader, writer)
        except TimeoutError:
            writer.transport.abort()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._peers.discard(writer)
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(HEAD_TIMEOUT):
                head = await reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            await _respond(writer, 408, "text/plain", b"request timeout\n")
            return
        except asyncio.LimitOverrunError:
            await _respond(writer, 431, "text/plain", b"request head too large\n")
            return
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return  # not HTTP: close without a word
        method, target = parts[0], parts[1].split("?", 1)[0]
        head_only = method == "HEAD"
        if method not in ("GET", "HEAD"):
            await _respond(writer, 405, "text/plain", b"only GET\n", allow=True)
            return
        if self._token is not None and not self._authorised(lines[1:]):
            await _respond(writer, 401, "text/plain", b"bearer token required\n", bearer=True)
            return
        if target == "/metrics":
            body = generate_latest(self.registry)
            await _respond(writer, 200, CONTENT_TYPE, body, head_only=head_only)
        elif target == "/healthz":
            health = await self.health.check()
            body = (json.dumps(health.as_json(), separators=(",", ":")) + "\n").encode()
            status = 200 if health.ok else 503
            await _respond(writer, status, "application/json", body, head_only=head_only)
        else:
            await _respond(writer, 404, "text/plain", b"try /metrics or /healthz\n")

    def _authorised(self, header_lines: list[str]) -> bool:
        assert self._token is not None
        for line in header_lines:
            name, sep, value = line.partition(":")
            if sep and name.strip().lower() == "authorization":
                return hmac.compare_digest(value.strip().encode("latin-1"), self._token)
        return False


async def _respond(
    writer: asyncio.StreamWriter,
    status: int,
    content_type: str,
    body: bytes,
    *,
    head_only: bool = False,
    allow: bool = False,
    bearer: bool = False,
) -> None:
    headers = [
        f"HTTP/1.1 {status} {_REASONS[status]}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Cache-Control: no-store",
        "Connection: close",
    ]
    if allow:
        headers.append("Allow: GET, HEAD")
    if bearer:
        headers.append('WWW-Authenticate: Bearer realm="hubbub"')
    writer.write(("\r\n".join(headers) + "\r\n\r\n").encode("latin-1"))
    if not head_only:
        writer.write(body)
    await writer.drain()
