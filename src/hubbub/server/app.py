"""Wiring and lifecycle: listeners, housekeeping timers, shutdown."""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from argon2 import PasswordHasher

from hubbub import __version__
from hubbub.server import (
    actions,
    commands,  # noqa: F401  (registers every command)
    multiclient,
)
from hubbub.server.api import Hooks
from hubbub.server.commands.registry import CommandSpec, raw_table, server_table
from hubbub.server.config import Config, ConfigError, load_config
from hubbub.server.delivery import deliver
from hubbub.server.event_ids import EventIds, NotStarted
from hubbub.server.features import install_features
from hubbub.server.log_events import quit_reason, user_fields
from hubbub.server.metrics import ServerMetrics
from hubbub.server.net.admission import Admission
from hubbub.server.net.connection import FlushQueue, StreamConnection, host_for, peer_address
from hubbub.server.net.plain_connection import PlainStreamConnection
from hubbub.server.net.tls import ensure_self_signed, server_context
from hubbub.server.net.transport_kind import transport_of
from hubbub.server.net.websocket import start_websocket_listener
from hubbub.server.observability import Observability
from hubbub.server.remote import RemoteSink
from hubbub.server.session import Session
from hubbub.server.state import User
from hubbub.server.world import World
from hubbub.store import Store, open_store
from hubbub.store.lock import DatabaseInUse, DatabaseLock, lock_database
from hubbub.store.privacy import private_dir

log = logging.getLogger(__name__)

T = TypeVar("T")


HOUSEKEEPING_INTERVAL = 1.0


@dataclass(slots=True)
class Listener:
    host: str
    port: int
    tls: bool
    websocket: bool
    handle: Any
    plain: bool = False  # plain chat (protocol = "plain"), not IRC

    @property
    def kind(self) -> str:
        if self.plain:
            return "plain-chat"
        if self.websocket:
            return "websocket+tls" if self.tls else "websocket"
        return "tls" if self.tls else "plaintext"


class Server:
    """One running hubbub server: owns the world and the listeners."""

    # argon2 parameters for account passwords; None: argon2-cffi's defaults.
    # Tests set cheap ones.
    password_hasher: PasswordHasher | None = None

    def __init__(self, config: Config, *, reuse_port: bool = False) -> None:
        self.config = config
        # SO_REUSEPORT on the listeners: `hubbub serve --workers N` runs N
        # nodes of one cluster on the same ports (server/workers.py).
        self.reuse_port = reuse_port
        self.world = World()
        self.flushes = FlushQueue()
        # This server's command table: the declared commands, copied, so a
        # test can add one to a server without touching any other.
        self.commands: dict[str, CommandSpec] = server_table()
        # Those of them a session runs straight from the raw line, when it can.
        self.raw_commands: dict[bytes, CommandSpec] = raw_table(self.commands)
        self.hooks = Hooks()
        self._features: dict[type, object] = {}
        install_features(self, self._add_feature)
        self.admission = Admission(config.limits)
        self.version = f"hubbub-{__version__}"
        self.started = time.time()
        self.listeners: list[Listener] = []
        self._ssl_context: ssl.SSLContext | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self._stopping = False
        self.stopped = asyncio.Event()
        self._store: Store | None = None
        # Event ids: none before start, then those of this start's boot.
        self._ids: EventIds | None = None
        self._next_boot: asyncio.Future[None] | None = None
        self.event_ids: Iterator[int] = NotStarted()
        self._database_lock: DatabaseLock | None = None
        # Background jobs (retention, nick protection) cancelled at stop.
        self.tasks: set[asyncio.Future[None]] = set()
        self.metrics = ServerMetrics(self.commands)  # plain counters, read when scraped
        self.observability = Observability(self)  # loop lag, /metrics, /healthz

    def _add_feature(self, state: object) -> None:
        if type(state) in self._features:
            raise RuntimeError(f"feature state {type(state).__name__} installed twice")
        self._features[type(state)] = state

    def feature(self, kind: type[T]) -> T:
        """The per-server state of type ``kind`` that a feature installed."""
        state = self._features[kind]
        assert isinstance(state, kind)
        return state

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the store is opened by Server.start()")
        return self._store

    @property
    def name(self) -> str:
        return self.config.server.name

    @property
    def stopping(self) -> bool:
        """True from the start of ``stop``: everyone is being disconnected."""
        return self._stopping

    # --- lifecycle --------------------------------------------------------
    async def start(self) -> None:
        private_dir(self.config.server.data_dir)
        if self.config.database.url is None:  # PostgreSQL is shared by design
            try:
                self._database_lock = lock_database(self.config.database_path)
            except DatabaseInUse as exc:
                raise ConfigError(str(exc)) from None
        self._store = await open_store(
            self.config.database_location,
            flush_interval=self.config.history.flush_interval,
            buffer_max=self.config.history.buffer_max,
            hasher=self.password_hasher,
            scram_iterations=self.config.accounts.scram_iterations,
        )
        await self._take_next_boot()  # before any event: startup hooks make some
        for hook in self.hooks.startup:
            await hook(self)
        loop = asyncio.get_running_loop()
        for spec in self.config.listen:
            context = self._tls_context() if spec.tls else None
            if spec.websocket:
                handle: Any = await start_websocket_listener(
                    self, spec.host, spec.port, context, web=spec.web, reuse_port=self.reuse_port
                )
                sockets = list(handle.sockets)
            elif spec.protocol == "plain":
                handle = await loop.create_server(
                    functools.partial(PlainStreamConnection, self),
                    spec.host,
                    spec.port,
                    reuse_address=True,
                    backlog=1024,
                )
                sockets = list(handle.sockets)
            else:
                # No ssl= here: StreamConnection counts the peer, then upgrades.
                handle = await loop.create_server(
                    functools.partial(_PendingStream, self, context),
                    spec.host,
                    spec.port,
                    reuse_address=True,
                    reuse_port=self.reuse_port or None,
                    backlog=1024,
                )
                sockets = list(handle.sockets)
            port = sockets[0].getsockname()[1] if sockets else spec.port
            self.listeners.append(
                Listener(
                    spec.host, port, spec.tls, spec.websocket, handle, spec.protocol == "plain"
                )
            )
        self._housekeeping = asyncio.create_task(self._housekeep())
        await self.observability.start()

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            cert, key = self.config.tls.cert, self.config.tls.key
            if cert is None or key is None:
                cert, key = ensure_self_signed(self.config.server.data_dir, self.name)
            self._ssl_context = server_context(cert, key)
        return self._ssl_context

    async def stop(self, reason: str = "Server shutting down") -> None:
        """Stop accepting, tell every client, close every connection."""
        if self._stopping:
            return
        self._stopping = True
        for listener in self.listeners:
            listener.handle.close()
        self.observability.stop()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
        background = list(self.tasks)
        for task in background:
            task.cancel()
        # Everyone leaves at once: each gets its ERROR, nobody needs the
        # others' QUITs (that fan-out is quadratic in a big channel).
        closing: list[Session] = []
        for user in list(self.world.connections):
            conn = user.sink
            assert isinstance(conn, Session)
            self.admission.release(user.ip)
            self.world.remove_user(user)
            conn.shutdown(f"Closing Link: {user.host} ({reason})")
            closing.append(conn)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2
        waiters = [asyncio.ensure_future(x.handle.wait_closed()) for x in self.listeners]
        if waiters:
            await asyncio.wait(waiters, timeout=2)
            for waiter in waiters:
                waiter.cancel()
        # Give the ERROR lines a moment to reach clients that read slowly.
        while loop.time() < deadline and any(c.buffered() for c in closing):
            await asyncio.sleep(0.05)
        for hook in self.hooks.shutdown:
            try:
                await hook(self)
            except Exception:
                log.exception("shutdown hook %r failed", hook)
        if background:  # let cancelled jobs finish their store calls before closing it
            await asyncio.wait(background, timeout=2)
        if self._store is not None:
            await self._store.close()
        if self._database_lock is not None:
            self._database_lock.release()
        self.stopped.set()

    def spawn(self, coro: Awaitable[None]) -> asyncio.Future[None]:
        """Run a background job or an async command handler; stop() cancels
        it and waits for it, so nothing touches the store after it closes."""
        task: asyncio.Future[None] = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def call_soon(self, callback: Callable[..., object], *args: object) -> None:
        asyncio.get_running_loop().call_soon(callback, *args)

    def call_later(self, delay: float, callback: Callable[[], object]) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(delay, callback)

    def log_failure(self, what: str, exc: BaseException | None = None) -> None:
        """Log a command that raised (the current exception unless ``exc``)."""
        if exc is None:
            log.exception("%s", what)
        else:
            log.error("%s", what, exc_info=exc)

    def rehash(self) -> None:
        """Reload the config file: opers, MOTD, limits, names (not listeners)."""
        if self.config.source is None:
            raise ConfigError("no config file was given at start")
        fresh = load_config(self.config.source)
        fresh.listen = self.config.listen
        self.config = fresh
        self.admission.limits = fresh.limits
        self._ssl_context = None

    # --- connections --------------------------------------------------------
    def file_request_served(self, ip: str) -> None:
        self.admission.forget_attempt(ip)

    def connection_opened(self, conn: Session) -> None:
        ip = conn.user.ip
        refusal = "Server is shutting down" if self._stopping else None
        for check in self.hooks.connect_checks:
            if refusal is not None:
                break
            refusal = check(self, conn.user)
        if refusal is None:
            refusal = self.admission.admit(ip)
        if refusal is not None:
            conn.shutdown(f"Closing Link: {conn.user.host} ({refusal})")
            return
        self.world.connect(conn.user)
        self.metrics.accepted[transport_of(conn)] += 1
        log.info("connect", extra=user_fields(conn.user, "connect"))

    def disconnect(self, user: User, reason: str, quit_message: str | None = None) -> None:
        """Remove ``user`` from the world, tell its neighbours, close the link.

        Idempotent: the transport closing after we closed it lands here again.
        A device of a user several share (server/devices.py) takes only its
        own connection, and the user when it was the last; the shared user
        itself (KILL, GHOST, K-line) takes all its devices.
        """
        if isinstance(user.sink, RemoteSink):  # on another node (cluster): that node closes it
            user.sink.close(quit_message or reason)
            return
        owner = user.owner
        if owner is not None:
            if user in self.world.connections:
                self._close_device(user, reason)
                multiclient.device_left(self, owner, user, reason, quit_message)
            self._shut(user, reason)
            return
        if user.devices is not None:
            for device in list(user.devices):
                self._close_device(device, reason)
                self._shut(device, reason)
            actions.quit(self, user, reason, quit_message)
            return
        if user in self.world.connections:
            log.info("quit", extra=user_fields(user, "quit", quit_reason(reason)))
            self.admission.release(user.ip)
            actions.quit(self, user, reason, quit_message)
        self._shut(user, reason)

    def _close_device(self, device: User, reason: str) -> None:
        if device.owner is not None:
            device.nick = device.owner.nick  # for the log: the nick it went by
        log.info("quit", extra=user_fields(device, "quit", quit_reason(reason)))
        self.admission.release(device.ip)
        self.world.remove_device(device)

    def _shut(self, user: User, reason: str) -> None:
        conn = user.sink
        if isinstance(conn, Session):
            conn.shutdown(f"Closing Link: {user.host} ({reason})")

    def notify_monitors_offline(self, user: User) -> None:
        watchers = self.world.watchers_of(user.nick)
        if watchers:
            deliver(watchers, self.name, "731", ["*", user.nick])

    def notify_monitors_online(self, user: User) -> None:
        watchers = self.world.watchers_of(user.nick)
        if watchers:
            deliver(watchers, self.name, "730", ["*", user.source])

    async def _take_next_boot(self) -> None:
        """Draw event ids from a new boot number (at start, and when the
        current boot has used half of its ids)."""
        self._ids = EventIds(await self.store.history.start_boot())
        self.event_ids = self._ids.counter

    def _renew_boot_if_due(self) -> None:
        if self._next_boot is None and self._ids is not None and self._ids.running_low():
            self._next_boot = self.spawn(self._take_next_boot())
            self._next_boot.add_done_callback(self._boot_renewed)

    def _boot_renewed(self, done: asyncio.Future[None]) -> None:
        """A failed renewal (the database away) is tried again a second later."""
        self._next_boot = None
        if not done.cancelled() and done.exception() is not None:
            self.log_failure("taking the next boot number", done.exception())

    async def _housekeep(self) -> None:
        """Registration and ping timeouts, checked for everyone once a
        second; a new boot number when the event ids run low."""
        limits = self.config.limits
        ping_line = f"PING :{self.name}\r\n".encode()
        while True:
            await asyncio.sleep(HOUSEKEEPING_INTERVAL)
            self._renew_boot_if_due()
            now = time.monotonic()
            wall = time.time()
            for user in list(self.world.connections):
                conn = user.sink
                assert isinstance(conn, Session)
                if not user.registered:
                    if wall - user.signon > limits.registration_timeout:
                        self.disconnect(user, "Registration timed out")
                    continue
                silent = now - conn.last_received
                if conn.ping_sent is not None:
                    if now - conn.ping_sent > limits.ping_timeout:
                        self.disconnect(user, f"Ping timeout: {int(silent)} seconds")
                elif silent > limits.ping_interval:
                    conn.ping_sent = now
                    conn.write(ping_line)


class _PendingStream(StreamConnection):
    """A stream connection that learns its peer address when made."""

    __slots__ = ()

    def __init__(self, server: Server, tls_context: ssl.SSLContext | None) -> None:
        super().__init__(server, "0.0.0.0", 0, tls_context)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        user = self.session.user
        user.ip, user.port = peer_address(transport)
        user.host = host_for(user.ip)
        super().connection_made(transport)
