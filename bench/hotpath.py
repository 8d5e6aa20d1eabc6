#!/usr/bin/env python3
"""The server's per-message Python cost without sockets: real connections on
a real Server, fed through an in-memory transport, so a profiler sees only
parse, dispatch, delivery and history (docs/performance.md, profiling notes).

  .venv/bin/python bench/hotpath.py direct            # microseconds per message
  .venv/bin/python bench/hotpath.py fanout --members 500
  .venv/bin/python bench/hotpath.py direct --history  # with the SQLite store
  .venv/bin/python bench/hotpath.py direct --history --logged-in  # private messages stored
  .venv/bin/python bench/hotpath.py direct --profile  # cProfile, top functions
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sqlite3
import tempfile
import time
from pathlib import Path

from hubbub.server.app import Server
from hubbub.server.config import parse_config
from hubbub.server.net.connection import StreamConnection

PAYLOAD = "L0 0 123456789 " + "x" * 48


class MemoryTransport:
    """Counts what the server writes; never pushes back. Remembers whether
    the server paused reading (history back-pressure), so the driver does
    not feed a connection that would not be read."""

    def __init__(self) -> None:
        self.bytes_written = 0
        self.paused = False

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def write(self, data: bytes) -> None:
        self.bytes_written += len(data)

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 40000) if name == "peername" else default


def connect(server: Server, nick: str, party: str | None = None) -> StreamConnection:
    """A registered client; with ``party``, known to history as a logged-in
    user is (what a login sets), so its private messages are stored."""
    conn = StreamConnection(server, "127.0.0.1", 40000, None)
    conn.connection_made(MemoryTransport())  # type: ignore[arg-type]
    conn.data_received(f"NICK {nick}\r\nUSER {nick} 0 * :bench\r\n".encode())
    conn.session.user.history_party = party
    return conn


async def measure(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="hubbub-hotpath-"))
    config = parse_config(
        {
            "server": {"data_dir": str(data_dir)},
            "listen": [{"host": "127.0.0.1", "port": 0}],
            "limits": {"flood_control": False, "throttle": False},
            "history": {"enabled": args.history},
        }
    )
    server = Server(config)
    await server.start()
    try:
        if args.scenario == "direct":
            party = (lambda key: f"@{key}") if args.logged_in else (lambda _key: None)
            senders = [connect(server, f"a{i}", party(2 * i)) for i in range(args.pairs)]
            for i in range(args.pairs):
                connect(server, f"b{i}", party(2 * i + 1))
            chunks = [
                f"PRIVMSG b{i} :{PAYLOAD}\r\n".encode() * args.batch for i in range(args.pairs)
            ]
            deliveries_per_message = 1
        else:
            members = [connect(server, f"m{i}") for i in range(args.members)]
            for conn in members:
                conn.data_received(b"JOIN #bench\r\n")
            senders = members[:1]
            chunks = [f"PRIVMSG #bench :{PAYLOAD}\r\n".encode() * args.batch]
            deliveries_per_message = args.members - 1
        await asyncio.sleep(0.2)  # registration replies flushed
        profile = cProfile.Profile() if args.profile else None
        messages = 0
        started = time.perf_counter()
        cpu_started = time.process_time()
        if profile:
            profile.enable()
        while time.perf_counter() - started < args.seconds:
            fed = 0
            for conn, chunk in zip(senders, chunks, strict=True):
                if not conn.transport.paused:  # type: ignore[attr-defined]
                    conn.data_received(chunk)
                    fed += args.batch
            messages += fed
            # One loop pass: every connection flushes. Everyone held back by
            # history: wait for the writer instead of spinning on the CPU.
            await asyncio.sleep(0 if fed else 0.001)
        await server.store.flush()  # what was held back is processed and stored
        while any(conn.transport.paused for conn in senders):  # type: ignore[attr-defined]
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started  # this process only: not the history writer's
        if profile:
            profile.disable()
        per_message = elapsed / messages * 1e6
        cpu_per_message = cpu / messages * 1e6
        # CPU time too: on a machine shared with other work, wall time per
        # message includes the time other processes held the core.
        await server.store.flush()
        with sqlite3.connect(config.database_path) as db:
            (stored,) = db.execute("SELECT count(*) FROM history").fetchone()
        print(
            f"{args.scenario}: {messages} messages in {elapsed:.2f} s: "
            f"{per_message:.2f} us/message, "
            f"{per_message / deliveries_per_message:.3f} us/delivery; "
            f"cpu {cpu_per_message:.2f} us/message, "
            f"{cpu_per_message / deliveries_per_message:.3f} us/delivery; "
            f"{stored} stored"
        )
        if profile:
            pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    finally:
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=("direct", "fanout"))
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--batch", type=int, default=8, help="messages per read")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--history", action="store_true")
    parser.add_argument(
        "--logged-in", action="store_true", help="direct: users known to history as logged in"
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(measure(args))
    else:
        uvloop.run(measure(args))


if __name__ == "__main__":
    main()
