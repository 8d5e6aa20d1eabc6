"""``hubbub chat --plain`` as a subprocess on a real server: other users'
escape sequences arrive as visible text, fetched history is dated and marked,
WHOIS replies are sentences."""

from __future__ import annotations

import asyncio
import re
import sys

from libpeers import PeerFactory

from hubbub.client import Join, MessageEvent, Names
from hubbub.protocol.printable import printable

HOSTILE = "look \x1b]0;pwned\x07\x1b[2J\x9b31m\x7f\x00 here"


def test_printable_makes_every_control_visible() -> None:
    assert printable("a\x1b[31mb") == "a^[[31mb"
    assert printable("\x07\x08\x0d\x7f") == "^G^H^M^?"
    assert printable("\x9b\x80\x9f") == "<U+009B><U+0080><U+009F>"
    assert printable("tab\there") == "tab here"
    assert printable("ünïcödé ✓ 日本") == "ünïcödé ✓ 日本"
    every = "".join(chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)])
    assert not re.search("[\x00-\x1f\x7f-\x9f]", printable(every))


class LineMode:
    """A line-mode client in a subprocess; collects its output lines."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[bytes] = []

    @classmethod
    async def start(cls, port: int, nick: str, channel: str) -> LineMode:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hubbub", "chat", f"127.0.0.1:{port}", "--plain",
            "--nick", nick, "--join", channel,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        return cls(proc)

    async def wait_for(self, needle: bytes, timeout: float = 10.0) -> bytes:
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            for line in self.lines:
                if needle in line:
                    return line
            while True:
                line = await self.proc.stdout.readline()
                if not line:
                    raise EOFError(b"line mode ended before " + needle)
                self.lines.append(line)
                if needle in line:
                    return line

    async def type(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode() + b"\n")
        await self.proc.stdin.drain()

    async def quit(self) -> None:
        if self.proc.returncode is None:
            await self.type("/quit")
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def test_escape_sequences_are_printed_visibly(irc: object, peer: PeerFactory) -> None:
    bob = await peer("bob", channels=["#lobby"])
    await bob.events().wait_for(Names)
    chat = await LineMode.start(irc.port(), "piper", "#lobby")  # type: ignore[attr-defined]
    try:
        await bob.events().wait_for(Join, lambda e: e.nick == "piper", timeout=10)
        bob.say("#lobby", HOSTILE)
        bob.send_raw("TOPIC #lobby :\x1b]52;c;ZXZpbA==\x07 clipboard")
        line = await chat.wait_for(b"<bob> look")
        assert line == b"[#lobby] <bob> look ^[]0;pwned^G^[[2J<U+009B>31m^? here\n"
        topic = await chat.wait_for(b"changed the topic")
        assert b"^[]52;c;ZXZpbA==^G clipboard" in topic
        await chat.quit()
        assert chat.proc.stdout is not None
        everything = b"".join(chat.lines) + await chat.proc.stdout.read()
        assert not re.search(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]", everything)
    finally:
        await chat.quit()


async def test_history_is_dated_and_marked_live_lines_are_not(
    irc: object, peer: PeerFactory
) -> None:
    bob = await peer("bob", channels=["#lobby"])
    await bob.events().wait_for(Names)
    bob.say("#lobby", "said before piper came")
    earlier = await bob.events().wait_for(MessageEvent, lambda e: e.text.startswith("said"))
    chat = await LineMode.start(irc.port(), "piper", "#lobby")  # type: ignore[attr-defined]
    try:
        await bob.events().wait_for(Join, lambda e: e.nick == "piper", timeout=10)
        history = await chat.wait_for(b"said before piper came")
        stamp = earlier.time.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        assert history.decode() == f"[#lobby] (history {stamp}) <bob> said before piper came\n"
        # The join notice came first: the mark is what tells history from now.
        joined = next(i for i, x in enumerate(chat.lines) if b"You have joined" in x)
        assert joined < chat.lines.index(history)

        bob.say("#lobby", "live now")
        live = await chat.wait_for(b"live now")
        assert live == b"[#lobby] <bob> live now\n"
    finally:
        await chat.quit()


async def test_whois_in_line_mode(irc: object, peer: PeerFactory) -> None:
    bob = await peer("bob", channels=["#lobby"], realname="Bob Builder")
    await bob.events().wait_for(Names)
    chat = await LineMode.start(irc.port(), "piper", "#lobby")  # type: ignore[attr-defined]
    try:
        await bob.events().wait_for(Join, lambda e: e.nick == "piper", timeout=10)
        await chat.type("/whois bob")
        await chat.wait_for(b"End of WHOIS for bob")
        text = b"".join(chat.lines).decode()
        # the host is the cloak others see (server.cloak is on by default)
        whois = r"\[#lobby\] -- bob is ~bob@[a-z2-7]{16}\.hubbub \(real name: Bob Builder\)"
        assert re.search(whois, text)
        assert "[#lobby] -- bob is on @#lobby" in text
        assert "[#lobby] -- bob is connected to irc.test.local (" in text
        assert re.search(r"bob has been idle \d+s, signed on \d{4}-\d\d-\d\d", text)
        assert " 311 " not in text and "seconds idle" not in text
    finally:
        await chat.quit()
