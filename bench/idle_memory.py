#!/usr/bin/env python3
"""Where an idle client's memory goes: N clients register and join one of
100 channels on a real in-process ``Server`` (through bench/hotpath.py's
in-memory transport, so no sockets), then tracemalloc says how many bytes
per client each allocation site still holds (docs/performance.md, "Idle
memory per client").

  .venv/bin/python bench/idle_memory.py                 # 2,000 clients, top sites
  .venv/bin/python bench/idle_memory.py --clients 5000 --top 40
  .venv/bin/python bench/idle_memory.py --objects       # sizes of one client's objects

tracemalloc sees Python's allocations only: uvloop's transport and its
libuv handle (C) are not in the figure, nor is the fragmentation the
registration burst leaves behind. The socket-level figure is
`bench/compare --cases idle --servers hubbub`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import tracemalloc
from pathlib import Path

from hotpath import MemoryTransport

from hubbub.server.app import Server
from hubbub.server.config import parse_config
from hubbub.server.net.connection import StreamConnection


def connect(server: Server, index: int, channels: int) -> StreamConnection:
    """What the bench's idle client does: NICK/USER, then JOIN one channel."""
    conn = StreamConnection(server, "127.0.0.1", 40000 + index % 20000, None)
    conn.connection_made(MemoryTransport())  # type: ignore[arg-type]
    nick = f"c{index}"
    conn.data_received(f"NICK {nick}\r\nUSER {nick} 0 * :bench\r\n".encode())
    conn.data_received(f"JOIN #bench{index % channels}\r\n".encode())
    return conn


def deep_size(obj: object, seen: set[int]) -> int:
    """Bytes of ``obj`` and what it alone refers to (shared objects counted once)."""
    if id(obj) in seen or isinstance(obj, type):
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        for key, value in obj.items():
            size += deep_size(key, seen) + deep_size(value, seen)
    elif isinstance(obj, list | tuple | set | frozenset):
        for item in obj:
            size += deep_size(item, seen)
    return size


def describe(conn: StreamConnection, shared: set[int]) -> None:
    """The sizes of one client's objects, slot by slot."""
    session = conn.session
    objects = {
        "StreamConnection": conn,
        "Session": session,
        "Context": session.context,
        "User": session.user,
    }
    for name, obj in objects.items():
        print(f"{name}: {sys.getsizeof(obj)} bytes")
        for slot in _slots(type(obj)):
            value = getattr(obj, slot, None)
            if value is None or id(value) in shared:
                continue
            size = deep_size(value, set(shared))
            if size:
                print(f"  {slot}: {type(value).__name__} {size}")


def _slots(cls: type) -> list[str]:
    names: list[str] = []
    for klass in cls.__mro__:
        names.extend(getattr(klass, "__slots__", ()))
    return names


async def measure(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="hubbub-idle-memory-"))
    config = parse_config(
        {
            "server": {"data_dir": str(data_dir)},
            "listen": [{"host": "127.0.0.1", "port": 0}],
            "limits": {"flood_control": False, "throttle": False},
        }
    )
    server = Server(config)
    await server.start()
    try:
        # Warm up: the first clients create the channels and fill caches.
        warm = [connect(server, i, args.channels) for i in range(args.channels)]
        await asyncio.sleep(0.2)
        gc.collect()
        tracemalloc.start(args.frames)
        before = tracemalloc.take_snapshot()
        conns = [connect(server, i, args.channels) for i in range(args.channels, args.clients)]
        await asyncio.sleep(1.0)  # replies flushed, history records written
        gc.collect()
        after = tracemalloc.take_snapshot()
        n = len(conns)
        stats = after.compare_to(before, "traceback" if args.frames > 1 else "lineno")
        total = sum(s.size_diff for s in stats)
        print(f"{n} clients: {total / n:.0f} bytes per client (Python allocations)")
        for stat in stats[: args.top]:
            if stat.size_diff <= 0:
                continue
            where = stat.traceback.format(limit=args.frames)
            print(
                f"{stat.size_diff / n:8.1f} B/client {stat.count_diff / n:6.2f} blocks  {where[0]}"
            )
            for line in where[1:]:
                print(f"{'':30}{line}")
        if args.objects:
            shared = {id(server), id(server.config), id(server.metrics), id(server.store)}
            describe(conns[-1], shared)
        del warm
    finally:
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--frames", type=int, default=1, help="traceback depth per site")
    parser.add_argument("--objects", action="store_true", help="sizes of one client's objects")
    args = parser.parse_args()
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
