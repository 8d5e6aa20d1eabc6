"""Test harness: a real hubbub server on ephemeral ports and the raw clients on
it, plus the one shared way to do each common step (free port, SASL login,
OPER, JOIN, WebSocket client, ``hubbub serve`` as a process)."""

from __future__ import annotations

import asyncio
import base64
import inspect
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Subprotocol

from hubbub.protocol.message import Message
from hubbub.server.app import Server
from hubbub.server.config import Config, parse_config
from ircclient import TIMEOUT, RawClient

HOST = "127.0.0.1"
# What others (and ERROR lines) show for a client of HOST: its cloak, on by
# default ([server] cloak), 16 base32 characters of a keyed hash.
CLOAKED_HOST = r"[a-z2-7]{16}\.hubbub"


def closing_link(reason: str) -> str:
    """A pattern for the ERROR text a cloaked client of HOST gets on ``reason``."""
    return rf"Closing Link: {CLOAKED_HOST} \({re.escape(reason)}\)"


OPER_NAME, OPER_PASSWORD = "admin", "letmein"
OPERS: dict[str, Any] = {"opers": [{"name": OPER_NAME, "password": OPER_PASSWORD}]}
"""A config section with one operator block, for ``start_server(**OPERS)``."""


def free_port() -> int:
    """A TCP port nothing listens on right now (for a server we start by port)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def make_config(data_dir: Path, **sections: dict[str, object]) -> Config:
    """A test config: plaintext, TLS and WebSocket on ephemeral ports."""
    raw: dict[str, object] = {
        "server": {"name": "irc.test.local", "network": "TestNet", "data_dir": str(data_dir)},
        "listen": [
            {"host": HOST, "port": 0},
            {"host": HOST, "port": 0, "tls": True},
            {"host": HOST, "port": 0, "websocket": True},
        ],
        "limits": {"flood_control": False, "throttle": False},
        # RFC 7677's minimum: tests make many accounts (the default is
        # 600,000 rounds, a quarter second each)
        "accounts": {"scram_iterations": 4096},
    }
    for name, values in sections.items():
        if isinstance(raw.get(name), dict):
            raw[name] = {**raw[name], **values}  # type: ignore[dict-item]
        else:
            raw[name] = values
    return parse_config(raw)


# --- the steps every test file needs ----------------------------------------------


async def until(check: Callable[[], object], timeout: float = TIMEOUT) -> None:
    """Wait for state to reach ``check`` (polled; it may be a coroutine function);
    fail after ``timeout``. For effects no client is told about, such as a closed
    connection being reaped or a background job's rows in the store."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        assert asyncio.get_running_loop().time() < deadline, f"not reached in {timeout}s: {check}"
        await asyncio.sleep(0.02)


async def joined(client: RawClient, channel: str, key: str = "") -> list[Message]:
    """JOIN ``channel``; everything the server answered (JOIN, topic, NAMES...)."""
    return await client.ask(f"JOIN {channel} {key}".rstrip())


async def join_all(channel: str, *clients: RawClient) -> None:
    """Each client joins ``channel`` in turn; then everything the joins caused
    (the later JOINs the earlier ones see) is read by all."""
    for client in clients:
        await joined(client, channel)
    for client in clients:
        await client.sync()


async def cap_ls(client: RawClient) -> list[str]:
    """Send ``CAP LS 302``; every capability offered, read across the
    ``CAP * LS * :...`` lines a long reply is split into."""
    await client.send("CAP LS 302")
    caps: list[str] = []
    while True:
        ls = await client.expect("CAP")
        caps += ls.params[-1].split()
        if ls.params[2] != "*":
            return caps


async def oper_up(
    client: RawClient, name: str = OPER_NAME, password: str = OPER_PASSWORD
) -> list[Message]:
    """OPER as the real command does it; fails the test unless 381 comes back."""
    replies = await client.ask(f"OPER {name} {password}")
    assert "381" in [m.command for m in replies], replies
    return replies


async def sasl_plain(client: RawClient, account: str, password: str) -> Message:
    """Run SASL PLAIN (the ``sasl`` cap already acknowledged); the 903/904 reply."""
    await client.send("AUTHENTICATE PLAIN")
    challenge = await client.expect("AUTHENTICATE")
    assert challenge.params == ["+"], challenge
    token = base64.b64encode(f"{account}\0{account}\0{password}".encode()).decode()
    await client.send("AUTHENTICATE " + token)
    return await client.expect(lambda m: m.command in ("903", "904"))


async def register_logged_in(
    client: RawClient, nick: str, password: str, caps: list[str] | None = None
) -> None:
    """Register ``nick`` on ``client``, logged in by SASL PLAIN to the account ``nick``."""
    await client.send("CAP LS 302")
    await client.send("CAP REQ :" + " ".join(["sasl", *(caps or [])]))
    await client.send(f"NICK {nick}")
    await client.send(f"USER {nick} 0 * :{nick}")
    ack = await client.expect(lambda m: m.command == "CAP" and m.params[1] in ("ACK", "NAK"))
    assert ack.params[1] == "ACK", ack
    reply = await sasl_plain(client, nick, password)
    assert reply.command == "903", reply
    await client.send("CAP END")
    await client.expect("376")
    client.nick = nick


async def identify(client: RawClient, account: str, password: str) -> list[Message]:
    """Log a registered client in with NickServ IDENTIFY; fails unless 900 comes."""
    replies = await client.ask(f"PRIVMSG NickServ :IDENTIFY {account} {password}")
    assert "900" in [m.command for m in replies], replies
    return replies


@dataclass
class RunningServer:
    server: Server
    clients: list[RawClient] = field(default_factory=list)
    websockets: list[ClientConnection] = field(default_factory=list)

    def port(self, kind: str = "plaintext") -> int:
        return next(x.port for x in self.server.listeners if x.kind == kind)

    @property
    def host(self) -> str:
        return HOST

    async def client(self, nick: str | None = None, caps: list[str] | None = None) -> RawClient:
        """A raw client, registered as ``nick`` when one is given."""
        client = await RawClient.connect(HOST, self.port())
        self.clients.append(client)
        if nick is not None:
            await client.register(nick, caps)
        return client

    async def in_channel(
        self, *nicks: str, channel: str = "#chan", caps: list[str] | None = None
    ) -> list[RawClient]:
        """Registered clients that all joined ``channel`` (the first created it
        and is its op), with everything their joins caused already read."""
        clients = [await self.client(nick, caps) for nick in nicks]
        await join_all(channel, *clients)
        return clients

    async def logged_in(
        self, nick: str, password: str, caps: list[str] | None = None, *, create: bool = True
    ) -> RawClient:
        """A client logged in by SASL PLAIN (over loopback) to the account ``nick``,
        which is created in the store first unless ``create`` is False."""
        if create:
            await self.server.store.accounts.create(nick, password)
        client = await self.client()
        await register_logged_in(client, nick, password, caps)
        return client

    async def account(self, name: str, password: str = "account-password") -> tuple[str, str]:
        """Create the account ``name`` in the store; (name, password) for logging in."""
        await self.server.store.accounts.create(name, password)
        return name, password

    async def oper(self, nick: str = "boss") -> RawClient:
        """A registered client that has become an operator with OPER (see OPERS)."""
        client = await self.client(nick)
        await oper_up(client)
        return client

    async def websocket(self, nick: str | None = None) -> ClientConnection:
        """A WebSocket client (text.ircv3.net), registered as ``nick`` when given;
        closed with the server by the ``start_server`` fixture."""
        ws = await ws_client(self.port("websocket"), nick)
        self.websockets.append(ws)
        return ws


async def ws_client(port: int, nick: str | None = None) -> ClientConnection:
    """An IRCv3 WebSocket client on 127.0.0.1:``port``, registered when ``nick`` is given."""
    # max_queue=None: a test that stops reading would otherwise pause the
    # client's reading (websockets' flow control), so the server's reply to
    # its close frame would go unseen and closing would take close_timeout (10 s).
    ws = await ws_connect(
        f"ws://{HOST}:{port}", subprotocols=[Subprotocol("text.ircv3.net")], max_queue=None
    )
    if nick is not None:
        await ws.send(f"NICK {nick}")
        await ws.send(f"USER {nick} 0 * :{nick}")
        while " 376 " not in str(await asyncio.wait_for(ws.recv(), TIMEOUT)):
            pass
    return ws


ServerFactory = Callable[..., Awaitable[RunningServer]]


# --- `hubbub serve` as a separate process -----------------------------------------


def hubbub_command() -> list[str]:
    """The ``hubbub`` entry point of this virtualenv, as a person would run it."""
    script = Path(sys.executable).parent / "hubbub"
    return [str(script)] if script.exists() else [sys.executable, "-m", "hubbub"]


class ServeProcess:
    """``hubbub serve`` in a child process: the real CLI, signals and exit code.

    ``args`` are given after ``serve``; ``port`` is the plaintext port to wait
    for. Output goes to ``log`` (a file), so a full pipe can never stall it."""

    def __init__(self, args: list[str], port: int, log: Path, cwd: Path | None = None) -> None:
        self.args, self.port, self.log_path, self.cwd = args, port, log, cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.clients: list[RawClient] = []

    @classmethod
    def on_free_ports(cls, directory: Path, *args: str) -> ServeProcess:
        """``hubbub serve`` as a newcomer runs it, but on free ports: data in
        ``directory``/data, the three listeners on 127.0.0.1, then ``args``."""
        ports = [free_port() for _ in range(3)]
        listeners = ["--listen", "--tls-listen", "--ws-listen"]
        where = [f"{flag}={HOST}:{port}" for flag, port in zip(listeners, ports, strict=True)]
        command = ["--data-dir", str(directory / "data"), *where, *args]
        return cls(command, ports[0], directory / "serve.log")

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def start(self, timeout: float = 20.0) -> None:
        """Start the process and return once it accepts connections on ``port``."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*hubbub_command(), "serve", *self.args],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
            )
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            assert self.proc.poll() is None, f"hubbub serve exited early:\n{self.output}"
            try:
                _, writer = await asyncio.open_connection(HOST, self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return
        raise TimeoutError(f"hubbub serve did not listen on {self.port}:\n{self.output}")

    async def client(self, nick: str | None = None, caps: list[str] | None = None) -> RawClient:
        client = await RawClient.connect(HOST, self.port)
        self.clients.append(client)
        if nick is not None:
            await client.register(nick, caps)
        return client

    async def exit_after_error(self, client: RawClient, reason: str) -> int:
        """The server is going down: ``client`` gets ``ERROR`` with ``reason`` and
        is disconnected; returns the process's exit status."""
        error = await client.expect("ERROR")
        assert len(error.params) == 1 and re.fullmatch(closing_link(reason), error.params[0]), error
        assert await client.closed()
        return await self.wait()

    async def wait(self, timeout: float = 30.0) -> int:
        """The exit status once the process has ended."""
        assert self.proc is not None
        return await asyncio.to_thread(self.proc.wait, timeout)

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        """Close our clients, send ``sig`` and return the exit status."""
        for client in self.clients:
            await client.close()
        self.clients.clear()
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = await self.wait()
        self.proc = None
        return code

    async def __aenter__(self) -> ServeProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.kill()

    def kill(self) -> None:
        """Last-resort clean-up for a fixture: never leave a server running."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
