"""Connecting and registering N clients with an adaptive window, so that we
measure the server's registration rate rather than TCP retransmission timers.

As in ircload: the window starts small and grows by half every 10 ms until the
kernel reports a listen-queue overflow; then it is halved, capped at ¾ of
that level and from there grows by one every 50 ms. A connect() that has not
completed after the SYN timeout is abandoned and started again, as a new
attempt inside the window (retries first), so that a cut window also slows
the retries: a client retrying in its own slot kept thousands of SYNs a
second coming at a full listen queue, and gave up after 20 tries (4 s)
while the server was still working through the clients ahead of it."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from time import monotonic_ns

from hubbub.bench import procfs
from hubbub.bench.client import BenchClient
from hubbub.bench.options import BenchOptions
from hubbub.bench.plan import nick
from hubbub.bench.session import Session

_IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
_MAX_TRIES = 20
_SOURCES_PER_IP = 8000  # stay well inside one address's ephemeral ports


class ConnectWindow:
    """How many connects plus registrations may be in flight."""

    def __init__(self, start: int, limit: int) -> None:
        self.size = min(start, limit)
        self.limit = limit
        self.peak = self.size
        self.cuts = 0
        self._slow_start = True
        self._last_change = 0
        self._last_overflows: int | None = None

    def adapt(self, now: int, overflows: int | None) -> None:
        if overflows is not None and self._last_overflows is not None:
            if overflows > self._last_overflows:
                self.cuts += 1
                self._slow_start = False
                self.limit = min(self.limit, max(self.size * 3 // 4, 1))
                self.size = max(self.size // 2, 1)
                self._last_change = now
            elif self._slow_start and now - self._last_change >= 10_000_000:
                self.size += max(self.size // 2, 1)
                self._last_change = now
            elif not self._slow_start and now - self._last_change >= 50_000_000:
                self.size += 1
                self._last_change = now
        elif overflows is None:  # no /proc: plain slow start
            self.size += max(self.size // 2, 1)
        self._last_overflows = overflows
        self.size = min(self.size, self.limit)
        self.peak = max(self.peak, self.size)


class Connector:
    """Brings every client to the registered state (or gives up on it)."""

    def __init__(self, opts: BenchOptions, session: Session, addrs: list[tuple[str, int]]) -> None:
        self.opts = opts
        self.session = session
        self.addrs = addrs  # client i connects to addrs[i % len(addrs)]
        self.clients: list[BenchClient | None] = [None] * opts.clients
        self.window = ConnectWindow(opts.conn_start, opts.conn_window)
        self.first_connect = 0
        self.in_flight = 0
        # popped from the end: retries are pushed there, so they go first
        self._pending = list(range(opts.clients - 1, -1, -1))
        self._tries = [0] * opts.clients
        self._tasks: set[asyncio.Task[None]] = set()
        loopback = ipaddress.ip_address(addrs[0][0]).is_loopback
        self._sources = 1 + opts.clients // _SOURCES_PER_IP if loopback else 0
        self._ssl: ssl.SSLContext | None = None
        if opts.tls:
            self._ssl = ssl.create_default_context()
            self._ssl.check_hostname = False
            self._ssl.verify_mode = ssl.CERT_NONE

    async def run(self) -> None:
        """Return once every client is registered or has failed."""
        self.first_connect = monotonic_ns()
        while self._pending or self._tasks:
            self.window.adapt(monotonic_ns(), procfs.listen_overflows())
            self._launch()
            await asyncio.sleep(0.01)

    def _launch(self) -> None:
        """Fill the window; called on every tick and whenever a client settles,
        so a free slot is reused at once rather than on the next tick."""
        while self._pending and self.in_flight < self.window.size:
            self.in_flight += 1
            task = asyncio.create_task(self._client(self._pending.pop()))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _client(self, index: int) -> None:
        """One attempt; a failed one goes back to the front of the queue."""
        try:
            client = await self._attempt(index)
            if client is not None:
                self.clients[index] = client
                self.session.registered += 1
                return
            self._tries[index] += 1
            if self._tries[index] < _MAX_TRIES:
                self.session.connect_retries += 1
                self._pending.append(index)
                return
            self.session.failed += 1
            self.session.note(f"client {index}: no registration after {_MAX_TRIES} attempts")
        finally:
            self.in_flight -= 1
            self._launch()

    def _socket(self, index: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._sources:
            sock.setsockopt(socket.IPPROTO_IP, _IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((f"127.0.0.{1 + index % self._sources}", 0))
        return sock

    async def _attempt(self, index: int) -> BenchClient | None:
        """One connect + NICK/USER; the client once 001 arrives, else None."""
        loop = asyncio.get_running_loop()
        client = BenchClient(self.session, index, nick(self.opts, index))
        client.started = monotonic_ns()
        sock = self._socket(index)
        try:
            async with asyncio.timeout(self.opts.syn_timeout or None):
                await loop.sock_connect(sock, self.addrs[index % len(self.addrs)])
        except TimeoutError:
            if not _connected(sock):
                sock.close()
                return None
        except OSError:
            sock.close()
            return None
        try:
            await loop.create_connection(
                lambda: client,
                sock=sock,
                ssl=self._ssl,
                server_hostname=self.opts.host if self._ssl else None,
            )
        except OSError as exc:
            sock.close()
            self.session.note(f"client {index}: {exc}")
            return None
        if await client.registered:
            return client
        client.close()
        return None


def _connected(sock: socket.socket) -> bool:
    """Whether a connect given up on at the SYN timeout had in fact
    completed: with thousands of clients in flight this process's own loop
    can be later than the timeout to see it, and abandoning such a socket
    makes the server register a client for nothing."""
    try:
        sock.getpeername()
    except OSError:  # ENOTCONN: the SYN is still unanswered
        return False
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
