"""Clean shutdown of a real `hubbub serve` process with thousands of clients.
(How long the exit takes is a figure for bench/shutdown.py, not a pass/fail.)"""

from __future__ import annotations

import asyncio
import resource
import signal
from pathlib import Path

import pytest

from harness import HOST, ServeProcess, free_port
from hubbub.store import open_store


def _raise_nofile(wanted: int) -> None:
    """Let this process hold ``wanted`` sockets; fail (not skip) where it cannot."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        assert hard == resource.RLIM_INFINITY or hard >= wanted, (
            f"RLIMIT_NOFILE hard limit {hard} is below {wanted}: raise it (ulimit -Hn)"
        )
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _serve(tmp_path: Path, clients: int) -> ServeProcess:
    config = tmp_path / "hubbub.toml"
    port = free_port()
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
    return ServeProcess(
        ["--config", str(config), "--log-level", "warning"], port, tmp_path / "serve.log"
    )


async def _connect(
    port: int, index: int, registered: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(HOST, port)
    if index < registered:  # the rest stay mid-registration
        writer.write(f"NICK u{index}\r\nUSER u 0 * :u\r\nJOIN #room{index % 30}\r\n".encode())
    else:
        writer.write(b"NICK x%d\r\nPING :accepted\r\n" % index)
    return reader, writer


async def _read_until(reader: asyncio.StreamReader, marker: bytes) -> bytes | None:
    """The first line containing ``marker``, or None at EOF."""
    while True:
        line = await reader.readline()
        if not line:
            return None
        if marker in line:
            return line


@pytest.mark.parametrize(
    "sig,clients",
    [(signal.SIGTERM, 3000), (signal.SIGINT, 300)],
    ids=["SIGTERM-3000", "SIGINT-300"],
)
async def test_signal_with_many_clients(tmp_path: Path, sig: signal.Signals, clients: int) -> None:
    """Stop accepting, ERROR to everyone, store flushed, exit 0."""
    registered = clients // 2
    _raise_nofile(clients * 2 + 200)
    serve = _serve(tmp_path, clients)
    await serve.start()
    conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for start in range(0, clients, 250):
            batch = range(start, min(start + 250, clients))
            conns += await asyncio.gather(*(_connect(serve.port, i, registered) for i in batch))
        # Registered clients have had their welcome and JOIN answered, the rest
        # a PONG: every connection has been accepted (none is left in the
        # listen backlog, which closing the listener would reset).
        for index, (reader, _) in enumerate(conns):
            marker = b" 366 " if index < registered else b" PONG "
            assert await asyncio.wait_for(_read_until(reader, marker), 30) is not None
        # A message the server has taken (its PONG answers after it) must be
        # stored before the process exits.
        first_reader, first_writer = conns[0]
        first_writer.write(b"PRIVMSG #room0 :last words\r\nPING :taken\r\n")
        await first_writer.drain()
        assert await asyncio.wait_for(_read_until(first_reader, b" PONG "), 30) is not None

        assert serve.proc is not None
        serve.proc.send_signal(sig)
        errors = await asyncio.wait_for(
            asyncio.gather(*(_read_until(r, b"ERROR :") for r, _ in conns)), 60
        )
        code = await serve.wait(60)
    finally:
        serve.kill()
        for _, writer in conns:
            writer.close()
    assert code == 0, serve.output
    missing = sum(1 for e in errors if e is None)
    assert missing == 0, f"{missing} clients got no ERROR"
    assert all(e is not None and b"Server shutting down" in e for e in errors)
    # No new connections after the signal, and the store was flushed.
    with pytest.raises(OSError):
        await asyncio.open_connection(HOST, serve.port)
    store = await open_store(tmp_path / "data" / "hubbub.db")
    try:
        latest = await store.history.latest("#room0", None, 10)
        assert [r.text for r in latest][-1:] == ["last words"]
    finally:
        await store.close()
