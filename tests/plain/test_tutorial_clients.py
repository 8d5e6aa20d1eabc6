"""Each tutorial's own chat client (tests/plain/tutorial_clients, ported only
as far as Python 3 requires) as a separate process on a real server, next to
an IRC client, both ways: 003's NICK handshake and ``nick: `` prefix, 001's
Tk window on Xvfb, 002 and 004 on the console."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from harness import HOST, RunningServer, join_all
from hubbub.protocol.message import Message
from ircclient import TIMEOUT, RawClient
from plainclient import PROMPT

CLIENTS = Path(__file__).parent / "tutorial_clients"


class ClientProcess:
    """A tutorial client as a person runs it: keyboard on stdin, screen on stdout."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.screen = ""
        self._read_to = 0  # what expect() has already matched

    @classmethod
    async def start(cls, *args: str) -> ClientProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-u",
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(proc)

    async def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    async def expect(self, text: str, timeout: float = TIMEOUT) -> str:
        """What the screen showed between the previous match and ``text``."""
        assert self.proc.stdout is not None
        deadline = asyncio.get_running_loop().time() + timeout
        while (found := self.screen.find(text, self._read_to)) < 0:
            left = deadline - asyncio.get_running_loop().time()
            assert left > 0, f"{text!r} never shown; screen:\n{self.screen}"
            try:
                chunk = await asyncio.wait_for(self.proc.stdout.read(4096), left)
            except TimeoutError:
                continue
            assert chunk, f"{text!r} never shown before the client ended:\n{self.screen}"
            self.screen += chunk.decode(errors="replace")
        start, self._read_to = self._read_to, found + len(text)
        return self.screen[start:found]

    async def exited(self, timeout: float = TIMEOUT) -> int:
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()


@pytest.fixture
async def processes() -> AsyncIterator[list[ClientProcess]]:
    started: list[ClientProcess] = []
    yield started
    for process in started:
        await process.stop()


async def tutorial_client(
    started: list[ClientProcess], name: str, tutorial_port: int, port: int, *args: str
) -> ClientProcess:
    run = str(CLIENTS / "run.py")
    process = await ClientProcess.start(
        run, str(CLIENTS / name), str(tutorial_port), str(port), *args
    )
    started.append(process)
    return process


async def bob_in_lobby(chat: RunningServer) -> RawClient:
    bob = await chat.client("bob")
    await join_all("#lobby", bob)
    return bob


def said(text: str) -> Callable[[Message], bool]:
    return lambda m: m.command == "PRIVMSG" and m.params == ["#lobby", text]


def from_(nick: str) -> Callable[[Message], bool]:
    return lambda m: (m.source or "").startswith(nick + "!")


async def test_003_nick_handshake_and_name_prefix(
    chat: RunningServer, processes: list[ClientProcess]
) -> None:
    bob = await bob_in_lobby(chat)
    client = await tutorial_client(processes, "client_003.py", 55555, chat.port("plain-chat"))
    await client.type("alice")  # "Choose your nickname: "
    before = await client.expect("Welcome alice!")
    assert "NICK" not in before  # answered, not shown
    await client.expect("alice has joined the chat!")
    joined = await bob.expect("JOIN")
    assert from_("alice")(joined)

    await client.type("hello from 003")  # sent as "alice: hello from 003"
    await bob.expect(said("hello from 003"))
    await bob.send("PRIVMSG #lobby :hi alice")
    await client.expect("bob: hi alice")
    assert PROMPT not in client.screen  # the name came at once: nobody was asked

    await client.type("{quit}")
    await client.expect("{quit}")
    await client.stop()  # its receive loop now spins on the closed socket, printing ""
    quit_ = await bob.expect("QUIT")
    assert from_("alice")(quit_)


async def test_002_console_client(chat: RunningServer, processes: list[ClientProcess]) -> None:
    bob = await bob_in_lobby(chat)
    client = await tutorial_client(processes, "client_002.py", 12345, chat.port("plain-chat"))
    await client.expect(PROMPT)  # a second after the greeting
    await client.type("carol")  # one write, no newline
    await client.expect("Welcome carol!")
    await client.expect("carol has joined the chat!")
    await bob.send("PRIVMSG #lobby :hi carol")
    await client.expect("bob: hi carol")
    await client.type("hello from 002")
    await bob.expect(said("hello from 002"))
    await client.expect("carol: hello from 002")  # echo
    await client.type("{quit}")
    await client.expect("{quit}")
    assert from_("carol")(await bob.expect("QUIT"))
    assert client.proc.stdin is not None
    client.proc.stdin.close()  # its input thread ends; the receive thread already has
    assert await client.exited() == 0


async def test_004_select_client_and_a_disconnect_without_quit(
    chat: RunningServer, processes: list[ClientProcess]
) -> None:
    bob = await bob_in_lobby(chat)
    port = chat.port("plain-chat")
    client = await ClientProcess.start(str(CLIENTS / "client_004.py"), HOST, str(port))
    processes.append(client)
    await client.expect(PROMPT)
    await client.type("dave")  # readline: the name ends with a newline
    await client.expect("dave has joined the chat!")
    await client.type("hello from 004")
    await bob.expect(said("hello from 004"))
    await bob.send("PRIVMSG dave :just you")
    await client.expect("[private] bob: just you")
    await client.stop()  # killed: no {quit}
    quit_ = await bob.expect("QUIT")
    assert from_("dave")(quit_) and quit_.params == ["Connection closed"]


async def test_001_tk_client_on_xvfb(
    display: str, chat: RunningServer, processes: list[ClientProcess]
) -> None:
    bob = await bob_in_lobby(chat)
    window = await ClientProcess.start(str(CLIENTS / "tk_driver.py"))
    processes.append(window)
    await window.type("")  # Enter host: (empty: 127.0.0.1)
    await window.type(str(chat.port("plain-chat")))  # Enter port:
    await window.expect("ready")

    async def listbox_shows(text: str) -> list[str]:
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while True:
            await window.type("dump")
            await window.expect("dump ")
            entries: list[str] = json.loads(await window.expect("\n"))
            if any(text in entry for entry in entries):
                return entries
            assert asyncio.get_running_loop().time() < deadline, entries
            await asyncio.sleep(0.1)

    entries = await listbox_shows(PROMPT)
    assert entries[0] == "NICK"
    await window.type("type erin")  # typed in the entry field, Return pressed
    await listbox_shows("erin has joined the chat!")
    assert from_("erin")(await bob.expect("JOIN"))
    await bob.send("PRIVMSG #lobby :hi erin")
    await listbox_shows("bob: hi erin")
    await window.type("send hello from Tk")  # the Send button
    await bob.expect(said("hello from Tk"))
    await listbox_shows("erin: hello from Tk")  # it shows only what comes back
    await window.type("quit")  # the QUIT button sends {quit}
    quit_ = await bob.expect("QUIT")
    assert from_("erin")(quit_)
    await window.exited()
