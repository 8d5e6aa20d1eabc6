"""Restart and crash survival with real ``hubbub serve`` processes on one data
directory: accounts, ChanServ registrations (topic, bans, access) and message
history come back after SIGTERM; after kill -9 the database opens cleanly and
every message acknowledged more than one flush interval before the kill is
there."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hubbub.protocol.message import Message
from ircclient import RawClient

HUBBUB = Path(sys.executable).parent / "hubbub"
CAPS = ["batch", "server-time", "message-tags", "echo-message", "draft/chathistory"]
PASSWORD = "persistent-secret-1"
FLUSH_INTERVAL = 0.2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``hubbub serve --config`` on a fixed port and data directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.config = directory / "hubbub.toml"
        self.config.write_text(
            f"""
[server]
name = "irc.persist.test"
data_dir = "data"

[[listen]]
host = "127.0.0.1"
port = {self.port}

[limits]
flood_control = false
throttle = false

[accounts]
scram_iterations = 4096

[history]
flush_interval = {FLUSH_INTERVAL}
chathistory_limit = 100000
"""
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.clients: list[RawClient] = []

    async def start(self) -> None:
        log = (self.directory / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [str(HUBBUB), "serve", "--config", str(self.config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.directory,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.directory / "server.log").read_text()
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return
        raise TimeoutError("hubbub serve did not start listening")

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        for client in self.clients:
            await client.close()
        self.clients.clear()
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = await asyncio.to_thread(self.proc.wait, 15)
        self.proc = None
        return code

    async def client(self, nick: str, caps: list[str], login: bool = False) -> RawClient:
        client = await RawClient.connect("127.0.0.1", self.port)
        self.clients.append(client)
        wanted = [*caps, "sasl"] if login else caps
        await client.send("CAP LS 302")
        await client.send("CAP REQ :" + " ".join(wanted))
        await client.send(f"NICK {nick}")
        await client.send(f"USER {nick} 0 * :{nick}")
        await client.expect(lambda m: m.command == "CAP" and m.params[1] == "ACK")
        if login:
            await client.send("AUTHENTICATE PLAIN")
            await client.expect("AUTHENTICATE")
            token = base64.b64encode(f"{nick}\0{nick}\0{PASSWORD}".encode()).decode()
            await client.send("AUTHENTICATE " + token)
            await client.expect("903")
        await client.send("CAP END")
        await client.expect("376")
        client.nick = nick
        return client


@pytest.fixture
async def hubbub_process(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    server = ServerProcess(tmp_path)
    yield server
    if server.proc is not None:
        server.proc.kill()
        server.proc.wait()


def from_service(name: str) -> Callable[[Message], bool]:
    return lambda m: m.command == "NOTICE" and (m.source or "").startswith(name + "!")


async def ask(client: RawClient, service: str, text: str) -> str:
    await client.send(f"PRIVMSG {service} :{text}")
    return (await client.expect(from_service(service), timeout=10)).params[1]


async def latest(client: RawClient, target: str) -> list[Message]:
    await client.send(f"CHATHISTORY LATEST {target} * 100000")
    lines = await client.sync()
    return [m for m in lines if m.command == "PRIVMSG"]


async def test_restart_keeps_accounts_channels_and_history(
    hubbub_process: ServerProcess,
) -> None:
    server = hubbub_process
    await server.start()
    alice = await server.client("alice", CAPS)
    assert "registered" in await ask(alice, "NickServ", f"REGISTER {PASSWORD}")
    bob = await server.client("bob", CAPS)
    assert "registered" in await ask(bob, "NickServ", f"REGISTER {PASSWORD}")
    await alice.send("JOIN #keep")
    await alice.sync()
    assert "now registered" in await ask(alice, "ChanServ", "REGISTER #keep")
    assert "voice access" in await ask(alice, "ChanServ", "ACCESS #keep ADD bob voice")
    await alice.send("TOPIC #keep :a topic that survives")
    await alice.send("MODE #keep +b spam!*@*")
    await alice.sync()
    echoes = []
    for i in range(5):
        await alice.send(f"PRIVMSG #keep :before restart {i}")
        echoes.append(await alice.expect("PRIVMSG"))
    await alice.send("PRIVMSG bob :a private word")
    await alice.expect("PRIVMSG")
    assert await server.stop(signal.SIGTERM) == 0

    await server.start()
    alice = await server.client("alice", CAPS, login=True)
    await alice.send("JOIN #keep")
    joined = await alice.sync()
    names = next(m for m in joined if m.command == "353")
    assert names.params[-1] == "@alice"
    assert next(m for m in joined if m.command == "332").params[-1] == "a topic that survives"
    await alice.send("MODE #keep b")
    assert (await alice.expect("367")).params[2] == "spam!*@*"
    history = await latest(alice, "#keep")
    assert [m.params[1] for m in history] == [f"before restart {i}" for i in range(5)]
    assert [m.tags["msgid"] for m in history] == [e.tags["msgid"] for e in echoes]
    assert [m.tags["time"] for m in history] == [e.tags["time"] for e in echoes]
    private = await latest(alice, "bob")
    assert [m.params[1] for m in private] == ["a private word"]

    bob = await server.client("bob", CAPS, login=True)
    await bob.send("JOIN #keep")
    voiced = await alice.expect("MODE")
    assert voiced.params == ["#keep", "+v", "bob"]
    assert [m.params[1] for m in await latest(bob, "alice")] == ["a private word"]
    assert await server.stop(signal.SIGTERM) == 0


async def test_kill_9_loses_nothing_acknowledged_before_a_flush_interval(
    hubbub_process: ServerProcess,
) -> None:
    server = hubbub_process
    await server.start()
    posters = [await server.client(f"poster{i}", ["echo-message"]) for i in range(3)]
    for poster in posters:
        await poster.send("JOIN #crash")
        await poster.sync()
    # Registered: an unregistered channel's history ends with the channel.
    assert "registered" in await ask(posters[0], "NickServ", f"REGISTER {PASSWORD}")
    assert "now registered" in await ask(posters[0], "ChanServ", "REGISTER #crash")
    acked: list[tuple[str, float]] = []
    stop = asyncio.Event()

    async def post(client: RawClient, name: str) -> None:
        n = 0
        while not stop.is_set():
            text = f"{name} {n}"
            await client.send(f"PRIVMSG #crash :{text}")
            await client.expect(lambda m, t=text: m.command == "PRIVMSG" and m.params[1] == t)
            acked.append((text, time.monotonic()))
            n += 1

    tasks = [asyncio.create_task(post(c, c.nick)) for c in posters]
    await asyncio.sleep(1.5)
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert await server.stop(signal.SIGKILL) == -signal.SIGKILL

    await server.start()
    reader = await server.client("reader", CAPS)
    await reader.send("JOIN #crash")
    await reader.sync()
    stored = {m.params[1] for m in await latest(reader, "#crash")}
    must_have = [text for text, at in acked if at < killed_at - FLUSH_INTERVAL]
    assert len(must_have) > 50
    missing = [text for text in must_have if text not in stored]
    assert missing == []
    assert await server.stop(signal.SIGTERM) == 0
