"""``hubbub chat`` in line mode as a subprocess with piped stdin and stdout,
and its command-line errors."""

from __future__ import annotations

import asyncio
import os
import sys

from click.testing import CliRunner
from libpeers import PeerFactory, free_port

from hubbub.client import Join, MessageEvent, Names, Quit
from hubbub.client.cli_options import split_address
from hubbub.tui.cli import chat


async def line_mode_chat(
    port: int, nick: str, channel: str, stdout: int
) -> asyncio.subprocess.Process:
    """``hubbub chat`` in a subprocess with pipes, so in line mode."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hubbub",
        "chat",
        f"127.0.0.1:{port}",
        "--nick",
        nick,
        "--join",
        channel,
        stdin=asyncio.subprocess.PIPE,
        stdout=stdout,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_plain_mode_over_pipes(irc: object, peer: PeerFactory) -> None:
    bob = await peer("bob", channels=["#lobby"])
    await bob.events().wait_for(Names)
    port = irc.port()  # type: ignore[attr-defined]
    proc = await line_mode_chat(port, "piper", "lobby", stdout=asyncio.subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        await bob.events().wait_for(Join, lambda e: e.nick == "piper", timeout=10)
        proc.stdin.write(b"hello from a pipe\n/me waves\n")
        await proc.stdin.drain()
        said = await bob.events().wait_for(MessageEvent)
        assert (said.source, said.text) == ("piper", "hello from a pipe")
        waved = await bob.events().wait_for(MessageEvent)
        assert (waved.kind, waved.text) == ("action", "waves")

        bob.say("#lobby", "hello piper")
        async with asyncio.timeout(5):
            while b"[#lobby] <bob> hello piper" not in await proc.stdout.readline():
                pass
        proc.stdin.write(b"{quit}\n")
        await proc.stdin.drain()
        gone = await bob.events().wait_for(Quit)
        assert gone.nick == "piper"
        assert await asyncio.wait_for(proc.wait(), 5) == 0
        # Leaving on purpose is one quiet line, not the server's ERROR and a
        # "closed by the server" error repeated for every channel.
        after = (await proc.stdout.read()).decode().splitlines()
        assert after == ["-- Disconnected (you quit)"]
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_reader_going_away_ends_quietly(irc: object, peer: PeerFactory) -> None:
    """`hubbub chat | head -3`: when the reader closes the pipe, line mode says
    QUIT and exits, without a BrokenPipeError traceback."""
    bob = await peer("bob", channels=["#lobby"])
    await bob.events().wait_for(Names)
    port = irc.port()  # type: ignore[attr-defined]
    read_end, write_end = os.pipe()
    # stdin stays open: only the reader leaves
    proc = await line_mode_chat(port, "header", "#lobby", stdout=write_end)
    os.close(write_end)
    try:
        await bob.events().wait_for(Join, lambda e: e.nick == "header", timeout=10)
        os.close(read_end)
        bob.say("#lobby", "anyone reading?")
        gone = await bob.events().wait_for(Quit, timeout=10)
        assert gone.nick == "header"
        assert proc.stderr is not None
        err = await asyncio.wait_for(proc.stderr.read(), 5)
        assert await asyncio.wait_for(proc.wait(), 5) == 0
        assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_unreachable_server_is_one_line() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hubbub",
        "chat",
        f"127.0.0.1:{free_port()}",
        "--plain",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 1
    lines = err.decode().splitlines()
    assert len(lines) == 1 and "connection refused" in lines[0]


def test_cli_errors_are_one_line_with_status_2() -> None:
    runner = CliRunner()
    for args in (["host:notaport"], ["--nick", "9lives"], ["--no-such-option"]):
        result = runner.invoke(chat, args)
        assert result.exit_code == 2, args
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert result.output.startswith("chat: error:"), result.output


def test_split_address() -> None:
    assert split_address(None) == ("127.0.0.1", None)
    assert split_address("irc.example.org") == ("irc.example.org", None)
    assert split_address("irc.example.org:7000") == ("irc.example.org", 7000)
    assert split_address("[::1]:6697") == ("::1", 6697)
    assert split_address(":6668") == ("127.0.0.1", 6668)
