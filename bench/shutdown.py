"""How long `hubbub serve` takes to exit after SIGTERM with many clients.

The figure that tests/server/test_shutdown.py used to assert (under 5 s with
3000 clients) lives here: wall-clock time is a measurement, not a pass/fail,
on a shared machine. Half the clients register and join one of 30 channels,
the rest stay mid-registration; the time printed runs from the signal to the
process's exit, with every client's ERROR received.

    python bench/shutdown.py --clients 3000
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start(workdir: Path, clients: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    config = workdir / "hubbub.toml"
    config.write_text(
        f'[server]\ndata_dir = "{workdir / "data"}"\n[[listen]]\nhost = "{HOST}"\n'
        f"port = {port}\n[limits]\nmax_clients = {clients + 100}\nflood_control = false\n"
    )
    hubbub = str(Path(sys.executable).parent / "hubbub")
    log = (workdir / "server.log").open("wb")
    command = [hubbub, "serve", "--config", str(config), "--log-level", "warning"]
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex((HOST, port)) == 0:
                return proc, port
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server did not start; see {workdir}/server.log")


async def until_line(reader: asyncio.StreamReader, marker: bytes) -> bool:
    try:
        while line := await reader.readline():
            if marker in line:
                return True
    except ConnectionError:
        pass
    return False


async def measure(clients: int, workdir: Path) -> float:
    proc, port = start(workdir, clients)
    registered = clients // 2
    conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for i in range(clients):
            reader, writer = await asyncio.open_connection(HOST, port)
            if i < registered:
                writer.write(f"NICK u{i}\r\nUSER u 0 * :u\r\nJOIN #room{i % 30}\r\n".encode())
            else:
                writer.write(b"NICK x%d\r\nPING :accepted\r\n" % i)
            conns.append((reader, writer))
        # every connection accepted: JOIN answered, or a PONG before registering
        markers = [b" 366 "] * registered + [b" PONG "] * (clients - registered)
        await asyncio.gather(*(until_line(r, m) for (r, _), m in zip(conns, markers, strict=True)))
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        got = await asyncio.gather(*(until_line(r, b"ERROR :") for r, _ in conns))
        await asyncio.to_thread(proc.wait, 60)
        took = time.monotonic() - sent
        if not all(got) or proc.returncode != 0:
            missing = [i for i, ok in enumerate(got) if not ok]
            raise SystemExit(f"exit {proc.returncode}, no ERROR for clients {missing}")
        return took
    finally:
        if proc.poll() is None:
            proc.kill()
        for _, writer in conns:
            writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=3000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.clients * 2 + 200
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    with tempfile.TemporaryDirectory() as workdir:
        took = asyncio.run(measure(args.clients, Path(workdir)))
    print(f"{args.clients} clients: exit {took:.2f} s after SIGTERM")


if __name__ == "__main__":
    main()
