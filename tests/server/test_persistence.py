"""Restart and crash survival with real ``hubbub serve`` processes on one data
directory: accounts, ChanServ registrations (topic, bans, access) and message
history come back after SIGTERM; after kill -9 the database opens cleanly,
every message committed before the kill is there, and nothing is missing
from the middle of what a client sent."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from harness import ServeProcess, free_port, joined, register_logged_in, until
from hubbub.protocol.message import Message
from hubbub.protocol.msgid import BOOT_SHIFT
from hubbub.protocol.msgid import row_id as msgid_row_id
from ircclient import RawClient

CAPS = ["batch", "server-time", "message-tags", "echo-message", "draft/chathistory"]
PASSWORD = "persistent-secret-1"


class ServerProcess(ServeProcess):
    """``hubbub serve --config`` on a fixed port and data directory."""

    def __init__(self, directory: Path) -> None:
        port = free_port()
        config = directory / "hubbub.toml"
        config.write_text(
            f"""
[server]
name = "irc.persist.test"
data_dir = "data"

[[listen]]
host = "127.0.0.1"
port = {port}

[limits]
flood_control = false
throttle = false

[accounts]
scram_iterations = 4096

[history]
flush_interval = 0.2
chathistory_limit = 100000
"""
        )
        super().__init__(["--config", str(config)], port, directory / "server.log", directory)
        self.database = directory / "data" / "hubbub.db"

    async def client(
        self, nick: str | None = None, caps: list[str] | None = None, login: bool = False
    ) -> RawClient:
        """A registered client; with ``login``, logged in by SASL to the account
        ``nick`` (made earlier with NickServ REGISTER)."""
        if not login:
            return await super().client(nick, caps)
        assert nick is not None
        client = await super().client()
        await register_logged_in(client, nick, PASSWORD, caps)
        return client


@pytest.fixture
async def hubbub_process(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    server = ServerProcess(tmp_path)
    yield server
    server.kill()


def committed_texts(database: Path, target: str) -> set[str]:
    """What another SQLite connection sees committed: what a crash cannot undo."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT text FROM history WHERE target = ? AND command = 'PRIVMSG'", (target,)
        )
        return {text for (text,) in rows}


def boot_of(message: Message) -> int:
    """The boot number in a message's derived msgid (protocol/msgid.py)."""
    row_id = msgid_row_id(message.tags["msgid"])
    assert row_id is not None
    return row_id >> BOOT_SHIFT


def from_service(name: str) -> Callable[[Message], bool]:
    return lambda m: m.command == "NOTICE" and (m.source or "").startswith(name + "!")


async def ask(client: RawClient, service: str, text: str) -> str:
    await client.send(f"PRIVMSG {service} :{text}")
    return (await client.expect(from_service(service), timeout=10)).params[1]


async def latest(client: RawClient, target: str) -> list[Message]:
    lines = await client.ask(f"CHATHISTORY LATEST {target} * 100000")
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
    await alice.ask("JOIN #keep")
    assert "now registered" in await ask(alice, "ChanServ", "REGISTER #keep")
    assert "voice access" in await ask(alice, "ChanServ", "ACCESS #keep ADD bob voice")
    await alice.send("TOPIC #keep :a topic that survives")
    await alice.ask("MODE #keep +b spam!*@*")
    echoes = []
    for i in range(5):
        await alice.send(f"PRIVMSG #keep :before restart {i}")
        echoes.append(await alice.expect("PRIVMSG"))
    await alice.send("PRIVMSG bob :a private word")
    await alice.expect("PRIVMSG")
    assert await server.stop(signal.SIGTERM) == 0

    await server.start()
    alice = await server.client("alice", CAPS, login=True)
    joined = await alice.ask("JOIN #keep")
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
    await alice.send("PRIVMSG #keep :after restart")
    after = await alice.expect("PRIVMSG")
    assert 1 <= boot_of(echoes[0]) < boot_of(after)  # each start has its boot number
    last_before = echoes[-1].tags["msgid"]
    replies = await alice.ask(f"CHATHISTORY AFTER #keep msgid={last_before} 10")
    assert [m.params[1] for m in replies if m.command == "PRIVMSG"] == ["after restart"]

    bob = await server.client("bob", CAPS, login=True)
    await bob.send("JOIN #keep")
    voiced = await alice.expect("MODE")
    assert voiced.params == ["#keep", "+v", "bob"]
    assert [m.params[1] for m in await latest(bob, "alice")] == ["a private word"]
    assert await server.stop(signal.SIGTERM) == 0


async def test_kill_9_loses_nothing_committed_and_leaves_no_holes(
    hubbub_process: ServerProcess,
) -> None:
    """Messages keep flowing while the server is killed with SIGKILL: every
    message seen committed in the database before the kill is there after a
    restart, and what each poster has stored is a prefix of what it sent."""
    server = hubbub_process
    await server.start()
    posters = [await server.client(f"poster{i}", ["echo-message"]) for i in range(3)]
    for poster in posters:
        await joined(poster, "#crash")
    # Registered: an unregistered channel's history ends with the channel.
    assert "registered" in await ask(posters[0], "NickServ", f"REGISTER {PASSWORD}")
    assert "now registered" in await ask(posters[0], "ChanServ", "REGISTER #crash")
    acked: list[str] = []
    stop = asyncio.Event()

    async def post(client: RawClient) -> None:
        n = 0
        while not stop.is_set():
            text = f"{client.nick} {n}"
            try:
                await client.send(f"PRIVMSG #crash :{text}")
                await client.expect(_privmsg_with(text))
            except (ConnectionError, OSError, TimeoutError):
                return  # the server was killed under us
            acked.append(text)
            n += 1

    tasks = [asyncio.create_task(post(c)) for c in posters]
    # Wait until a good number of acknowledged messages is committed, then kill
    # while the posters are still writing.
    await until(lambda: len(acked) >= 150, timeout=30)
    first = list(acked)
    await until(lambda: set(first) <= committed_texts(server.database, "#crash"), timeout=30)
    committed = committed_texts(server.database, "#crash")
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGKILL)
    stop.set()
    await asyncio.gather(*tasks)
    assert await server.stop(signal.SIGKILL) == -signal.SIGKILL

    await server.start()
    reader = await server.client("reader", CAPS)
    await joined(reader, "#crash")
    stored = [m.params[1] for m in await latest(reader, "#crash")]
    assert committed <= set(stored)
    for poster in posters:
        mine = [text for text in stored if text.startswith(poster.nick + " ")]
        assert mine == [f"{poster.nick} {n}" for n in range(len(mine))]
    assert await server.stop(signal.SIGTERM) == 0


def _privmsg_with(text: str) -> Callable[[Message], bool]:
    """A matcher for the PRIVMSG carrying ``text``."""
    return lambda m: m.command == "PRIVMSG" and m.params[1] == text
