"""Line mode, like the classic console chat client: read lines from stdin and
send them to the current channel, print what arrives on stdout. Used with
``--plain`` or when stdin/stdout is not a terminal, so it can be scripted."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from typing import TextIO

from hubbub.client import events as ev
from hubbub.client.client import Client, NotConnected
from hubbub.client.config import ClientConfig
from hubbub.client.session import ChatSession, Conversation, Line
from hubbub.protocol.printable import printable

HISTORY_STAMP = "(history %Y-%m-%d %H:%M:%S) "


def format_plain(conv: Conversation, line: Line) -> str:
    """One output line. History fetched on join is printed as it arrives,
    after the join, so it carries its own date and time and a "history" mark
    to not pass for live chat. Control characters from the network are shown,
    never sent to the terminal."""
    where = "" if conv.kind == "server" else f"[{conv.name}] "
    when = line.time.astimezone().strftime(HISTORY_STAMP) if line.history else ""
    return printable(where + when + line.plain())


def _read_stdin(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """Blocking reads in a thread: works the same for pipes, files and ttys."""
    for raw in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, raw.rstrip("\r\n"))
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def run_plain(config: ClientConfig, out: TextIO = sys.stdout) -> int:
    """Chat in line mode; returns the exit status (1 when the server is unreachable)."""
    client = Client(config)
    session = ChatSession(config.nick, server_name=config.host)
    gone = asyncio.Event()  # whoever reads our output went away (`| head`)

    def emit(lines: list[tuple[Conversation, Line]]) -> None:
        if gone.is_set():
            return
        try:
            for conv, line in lines:
                print(format_plain(conv, line), file=out, flush=True)
        except BrokenPipeError:
            gone.set()
            _silence(out)

    try:
        await client.connect()
    except ConnectionError as exc:
        print(f"hubbub chat: {printable(str(exc))}", file=sys.stderr)
        return 1
    if config.channels:
        session.open(config.channels[0], switch=True)

    async def pump() -> None:
        async for event in client.events():
            emit(session.apply(event))
            if isinstance(event, ev.Connected | ev.Join | ev.Part | ev.Kick | ev.Names):
                session.set_members(client.state.member_lists())

    printer = asyncio.create_task(pump())
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    reader = threading.Thread(
        target=_read_stdin, args=(asyncio.get_running_loop(), queue), daemon=True
    )
    reader.start()
    reason = "Leaving"
    closed = asyncio.create_task(client.wait_closed())
    reader_gone = asyncio.create_task(gone.wait())
    while True:
        getter = asyncio.create_task(queue.get())
        done, _ = await asyncio.wait(
            {getter, closed, reader_gone}, return_when=asyncio.FIRST_COMPLETED
        )
        if getter not in done:
            getter.cancel()
            break
        text = getter.result()
        if text is None:
            break
        outcome, added = session.submit(text)
        emit(added)
        try:
            for msg in outcome.send:
                client.send(msg)
        except NotConnected as exc:
            emit([session.note(f"Not sent: {exc}", "error")])
        if outcome.quit is not None:
            reason = outcome.quit
            break
    await client.quit(reason)
    await printer
    reader_gone.cancel()
    return 0


def _silence(out: TextIO) -> None:
    """Point ``out`` at /dev/null, so the final flush at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
