"""Runs a hubbub server on an asyncio loop in a background thread.

The Tk thread never touches the server's world: it asks for snapshots and
actions through ``run_coroutine_threadsafe`` and reads results from a queue.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from hubbub.panel.figures import Figures, read_figures
from hubbub.server import actions
from hubbub.server.app import Server
from hubbub.server.config import Config
from hubbub.server.net.transport_kind import transport_of
from hubbub.server.session import Session


@dataclass(frozen=True, slots=True)
class ClientRow:
    """One connected client as the panel shows it; ``nick`` is in brackets
    until the client has registered."""

    connection_id: int
    nick: str
    address: str
    channels: str
    since: str
    tls: bool
    registered: bool = True
    via: str = "plain"  # transport, as metrics name it: plain, tls, websocket, plain-chat


class ServerRunner:
    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.server is not None

    def start(self, config: Config, timeout: float = 15.0) -> list[tuple[str, str, int]]:
        """Start the server; returns its listeners as (kind, host, port).

        Raises OSError (port busy) or ConfigError from the server thread.
        """
        ready: Future[list[tuple[str, str, int]]] = Future()
        loop = asyncio.new_event_loop()

        async def main() -> None:
            server = Server(config)
            try:
                await server.start()
            except BaseException as exc:
                await server.stop()
                ready.set_exception(exc)
                return
            self.server = server
            ready.set_result([(x.kind, x.host, x.port) for x in server.listeners])
            await server.stopped.wait()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(main())
            finally:
                loop.close()

        self.loop = loop
        self._thread = threading.Thread(target=run, name="hubbub-server", daemon=True)
        self._thread.start()
        try:
            return ready.result(timeout)
        except BaseException:
            self._thread.join(timeout)
            self.loop = None
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server cleanly (every client gets ERROR) and join the thread."""
        server, loop, thread = self.server, self.loop, self._thread
        if server is None or loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(server.stop("Server stopped from the panel"), loop).result(
            timeout
        )
        thread.join(timeout)
        self.server = None
        self.loop = None
        self._thread = None

    def call(self, fn: Callable[[Server], Any], timeout: float = 5.0) -> Any:
        """Run ``fn(server)`` on the server's loop and return its result."""
        server, loop = self.server, self.loop
        if server is None or loop is None:
            return None

        async def invoke() -> Any:
            return fn(server)

        return asyncio.run_coroutine_threadsafe(invoke(), loop).result(timeout)

    def clients(self) -> list[ClientRow]:
        return self.call(snapshot) or []

    def figures(self) -> Figures | None:
        figures = self.call(read_figures)
        return figures if isinstance(figures, Figures) else None

    def kill(self, connection_id: int, reason: str) -> bool:
        return bool(self.call(lambda s: kill(s, connection_id, reason)))

    def kick(self, connection_id: int, reason: str) -> int:
        return int(self.call(lambda s: kick_from_channels(s, connection_id, reason)) or 0)


def snapshot(server: Server) -> list[ClientRow]:
    rows = []
    for user in sorted(server.world.connections, key=lambda u: u.connection_id):
        assert isinstance(user.sink, Session)
        since = time.strftime("%H:%M:%S", time.localtime(user.signon))
        rows.append(
            ClientRow(
                user.connection_id,
                user.nick if user.registered else f"({user.nick})",
                f"{user.ip}:{user.port}",
                " ".join(sorted(c.name for c in user.channels.values())),
                since,
                user.tls,
                user.registered,
                transport_of(user.sink),
            )
        )
    return rows


def _find(server: Server, connection_id: int) -> Any:
    return next((u for u in server.world.connections if u.connection_id == connection_id), None)


def kill(server: Server, connection_id: int, reason: str) -> bool:
    """Disconnect a client the way an operator's KILL does (the same action)."""
    user = _find(server, connection_id)
    if user is None:
        return False
    actions.kill(server, user, reason, by=server.name, source=server.name)
    return True


def kick_from_channels(server: Server, connection_id: int, reason: str) -> int:
    """KICK a client out of every channel it is in; returns how many."""
    user = _find(server, connection_id)
    if user is None:
        return 0
    channels = list(user.channels.values())
    for channel in channels:
        actions.kick(server, channel, user, reason, source=server.name)
    return len(channels)
