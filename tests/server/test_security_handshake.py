"""M1: TLS and WebSocket sockets are counted at accept and must finish their
handshake within ``limits.handshake_timeout``.

One IP held 420 silent sockets on the TLS port with ``max_per_ip = 20``:
they were counted only once their handshake was done, i.e. never.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.sync.client import connect as sync_connect

from harness import RunningServer, ServerFactory
from ircclient import RawClient

HUBBUB = [sys.executable, "-m", "hubbub"]

HANDSHAKE_KINDS = ["tls", "websocket", "websocket+tls"]

LISTEN = [
    {"host": "127.0.0.1", "port": 0},
    {"host": "127.0.0.1", "port": 0, "tls": True},
    {"host": "127.0.0.1", "port": 0, "websocket": True},
    {"host": "127.0.0.1", "port": 0, "websocket": True, "tls": True},
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int) -> None:
    for _ in range(150):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {port}")


def _client_tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def _silent(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection that never starts its TLS or WebSocket handshake."""
    return await asyncio.open_connection("127.0.0.1", port)


async def _closed_by_server(reader: asyncio.StreamReader) -> bool:
    """True when the server closes the socket (EOF or reset) before the test timeout."""
    try:
        return await asyncio.wait_for(reader.read(1), 5) == b""
    except ConnectionResetError:
        return True


async def _unknown_connections(irc: RunningServer) -> int:
    client = irc.clients[0]
    replies = await client.ask("LUSERS")
    return int(next(m.params[1] for m in replies if m.command == "253"))


async def _register_over(irc: RunningServer, kind: str) -> None:
    """A real client completes its handshake on ``kind`` and registers."""
    port = irc.port(kind)
    if kind == "tls":
        client = await RawClient.connect("127.0.0.1", port, tls=True)
        irc.clients.append(client)
        await client.register("latecomer")
        return
    scheme, context = ("wss", _client_tls()) if kind == "websocket+tls" else ("ws", None)
    async with connect(
        f"{scheme}://127.0.0.1:{port}",
        subprotocols=["text.ircv3.net"],  # type: ignore[list-item]
        ssl=context,
        max_queue=None,  # the welcome burst goes unread: see harness.ws_client
    ) as ws:
        await ws.send("NICK latecomer")
        await ws.send("USER latecomer 0 * :Late")
        while True:
            line = await asyncio.wait_for(ws.recv(), 5)
            assert isinstance(line, str)
            if " 001 " in line:
                return


@pytest.mark.parametrize("kind", HANDSHAKE_KINDS)
async def test_silent_sockets_count_against_per_ip_limit(
    start_server: ServerFactory, kind: str
) -> None:
    irc = await start_server(
        listen=LISTEN,
        limits={
            "max_per_ip": 3,
            "exempt": [],
            "throttle": True,
            "throttle_connections": 100,
            "handshake_timeout": 60,
        },
    )
    port = irc.port(kind)
    held = [await _silent(port) for _ in range(3)]
    refused_reader, refused_writer = await _silent(port)
    assert await _closed_by_server(refused_reader)
    # The held ones were counted at accept, on every listener of that IP.
    plain = await irc.client()
    assert await plain.closed()
    for _, writer in [*held, (refused_reader, refused_writer)]:
        writer.close()


@pytest.mark.parametrize("kind", HANDSHAKE_KINDS)
async def test_silent_sockets_are_closed_after_handshake_timeout(
    start_server: ServerFactory, kind: str
) -> None:
    irc = await start_server(listen=LISTEN, limits={"handshake_timeout": 1.0})
    await irc.client("watcher")
    reader, writer = await _silent(irc.port(kind))
    assert await _unknown_connections(irc) == 1  # counted before any handshake
    assert await _closed_by_server(reader)
    writer.close()
    assert await _unknown_connections(irc) == 0  # and its slot is given back
    await _register_over(irc, kind)


async def test_failed_tls_handshake_frees_the_slot(start_server: ServerFactory) -> None:
    irc = await start_server(
        listen=LISTEN, limits={"max_per_ip": 1, "exempt": [], "throttle": True}
    )
    reader, writer = await _silent(irc.port("tls"))
    writer.write(b"NICK plaintext-into-tls\r\n")  # not a ClientHello
    assert await _closed_by_server(reader)
    writer.close()
    await _register_over(irc, "tls")


def test_uvloop_server_counts_then_upgrades(tmp_path: Path) -> None:
    """``hubbub serve`` runs on uvloop, which reads the ClientHello before
    start_tls can take the socket over: the upgrade must still work."""
    import uvloop  # a dependency; hubbub serve uses it by default

    assert uvloop
    port, tls_port, wss_port = free_port(), free_port(), free_port()
    config = tmp_path / "hubbub.toml"
    # Long enough for a TLS and WebSocket handshake on a busy CI machine (at
    # 1 s one timed out there, once), short enough to wait out below.
    config.write_text(
        f'[server]\ndata_dir = "data"\n[limits]\nhandshake_timeout = 3\n'
        f"[[listen]]\nport = {port}\n"
        f"[[listen]]\nport = {tls_port}\ntls = true\n"
        f"[[listen]]\nport = {wss_port}\ntls = true\nwebsocket = true\n"
    )
    proc = subprocess.Popen(
        [*HUBBUB, "serve", "--uvloop", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for listening in (port, tls_port, wss_port):
            wait_for_port(listening)
        with socket.create_connection(("127.0.0.1", tls_port)) as silent:
            silent.settimeout(10)
            assert silent.recv(1) == b""  # closed after handshake_timeout
        with _client_tls().wrap_socket(socket.create_connection(("127.0.0.1", tls_port))) as tls:
            tls.settimeout(10)
            tls.sendall(b"NICK uvtls\r\nUSER uvtls 0 * :uv\r\n")
            received = b""
            while b" 001 uvtls " not in received:
                chunk = tls.recv(4096)
                assert chunk, received
                received += chunk
        with sync_connect(
            f"wss://127.0.0.1:{wss_port}",
            ssl=_client_tls(),
            subprotocols=["text.ircv3.net"],  # type: ignore[list-item]
            max_queue=None,  # the welcome burst goes unread: see harness.ws_client
        ) as ws:
            ws.send("NICK uvwss")
            ws.send("USER uvwss 0 * :uv")
            while " 001 uvwss " not in str(ws.recv(timeout=10)):
                pass
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
