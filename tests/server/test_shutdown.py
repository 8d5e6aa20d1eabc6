"""Clean shutdown of a real `hubbub serve` process with thousands of clients."""

from __future__ import annotations

import asyncio
import resource
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from hubbub.store import open_store

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _raise_nofile(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is below {wanted}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def _start(tmp_path: Path, clients: int) -> tuple[asyncio.subprocess.Process, int]:
    config = tmp_path / "hubbub.toml"
    port = _free_port()
    config.write_text(
        f"""
[server]
data_dir = "{tmp_path / "data"}"
[[listen]]
host = "{HOST}"
port = {port}
[limits]
max_clients = {clients + 100}
flood_control = false
"""
    )
    script = Path(sys.executable).parent / "hubbub"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "hubbub"]
    proc = await asyncio.create_subprocess_exec(
        *command,
        "serve",
        "--config",
        str(config),
        "--log-level",
        "warning",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    for _ in range(300):
        try:
            _, writer = await asyncio.open_connection(HOST, port)
            writer.close()
            return proc, port
        except OSError:
            await asyncio.sleep(0.05)
    proc.kill()
    raise AssertionError("hubbub serve did not start listening")


async def _connect(
    port: int, index: int, registered: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(HOST, port)
    if index < registered:  # the rest stay mid-registration
        writer.write(f"NICK u{index}\r\nUSER u 0 * :u\r\nJOIN #room{index % 30}\r\n".encode())
    else:
        writer.write(b"NICK x%d\r\n" % index)
    return reader, writer


async def _read_until_error(reader: asyncio.StreamReader) -> bytes | None:
    """The ERROR line the server sent before closing, or None."""
    while True:
        line = await reader.readline()
        if not line:
            return None
        if line.startswith(b"ERROR "):
            return line


@pytest.mark.parametrize(
    "sig,clients",
    [(signal.SIGTERM, 3000), (signal.SIGINT, 300)],
    ids=["SIGTERM-3000", "SIGINT-300"],
)
async def test_signal_with_many_clients(tmp_path: Path, sig: signal.Signals, clients: int) -> None:
    """Stop accepting, ERROR to everyone, store flushed, exit 0 within 5 s."""
    registered = clients // 2
    _raise_nofile(clients * 2 + 200)
    proc, port = await _start(tmp_path, clients)
    conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for start in range(0, clients, 250):
            batch = range(start, min(start + 250, clients))
            conns += await asyncio.gather(*(_connect(port, i, registered) for i in batch))
        # Registered clients have had their welcome and JOIN answered.
        for reader, _ in conns[:registered]:
            while b" 366 " not in await asyncio.wait_for(reader.readline(), 20):
                pass
        # A message persisted just before the signal must survive it.
        conns[0][1].write(b"PRIVMSG #room0 :last words\r\n")
        await conns[0][1].drain()
        await asyncio.sleep(0.1)

        sent = time.monotonic()
        proc.send_signal(sig)
        errors = await asyncio.wait_for(
            asyncio.gather(*(_read_until_error(r) for r, _ in conns)), 10
        )
        code = await asyncio.wait_for(proc.wait(), 10)
        took = time.monotonic() - sent
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        for _, writer in conns:
            writer.close()
    assert code == 0
    assert took < 5.0, f"exit took {took:.1f}s"
    missing = sum(1 for e in errors if e is None)
    assert missing == 0, f"{missing} clients got no ERROR"
    assert all(b"Server shutting down" in e for e in errors if e is not None)
    # No new connections after the signal, and the store was flushed.
    with pytest.raises(OSError):
        await asyncio.open_connection(HOST, port)
    store = await open_store(tmp_path / "data" / "hubbub.db")
    try:
        latest = await store.history.latest("#room0", None, 10)
        assert [r.text for r in latest][-1:] == ["last words"]
    finally:
        await store.close()
