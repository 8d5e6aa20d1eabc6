#!/usr/bin/env python3
"""A fake IRC server that floods every joined client with bench PRIVMSGs as
fast as the sockets take them, to measure how many deliveries per second a
load generator can absorb on one core (it is the bottleneck by design):

  taskset -c 0 bench/firehose.py --port 7000 &
  taskset -c 1 hubbub bench --port 7000 --clients 100 --senders 0 --duration 5
  taskset -c 1 ircload --port 7000 --clients 100 --senders 0 --duration 5

It answers NICK/USER with 001 and JOIN with 366, then streams 64 KiB blocks
of identical lines stamped with the current CLOCK_MONOTONIC time.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import cast

LINE = b":f!f@firehose PRIVMSG #bench0 :L0 0 %d xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"
BLOCK_LINES = 64 * 1024 // len(LINE % time.monotonic_ns())


class Firehose(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.nick = b"*"
        self.buffer = b""
        self.paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.set_write_buffer_limits(high=256 * 1024)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        *lines, self.buffer = (self.buffer + data).split(b"\n")
        for line in lines:
            command, _, rest = line.strip().partition(b" ")
            if command == b"NICK":
                self.nick = rest
            elif command == b"USER":
                self.send(b":firehose 001 " + self.nick + b" :Welcome\r\n")
            elif command == b"JOIN":
                self.send(b":firehose 366 " + self.nick + b" " + rest + b" :End\r\n")
                self.pump()

    def send(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self.pump()

    def pump(self) -> None:
        while not self.paused and self.transport is not None:
            self.transport.write((LINE % time.monotonic_ns()) * BLOCK_LINES)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Firehose, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    try:
        import uvloop

        uvloop.run(serve(port))
    except ImportError:
        asyncio.run(serve(port))


if __name__ == "__main__":
    main()
