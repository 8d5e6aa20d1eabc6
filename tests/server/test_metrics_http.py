"""The metrics listener as Prometheus and a load balancer meet it: /healthz
turning 503 when the store cannot write, the bearer token, and the bounds
on what a peer may send or hold."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness import HOST, ServerFactory, until
from hubbub.server.config import ConfigError, parse_config
from hubbub.server.metrics_http import MAX_CONNECTIONS, MAX_HEAD_BYTES
from server.metrics_helpers import closed_unanswered, http_get, http_request, metrics_port, scrape

METRICS = {"listen": "127.0.0.1:0"}
TOKEN = "a-token-for-prometheus-only"


@contextmanager
def write_locked(database: Path) -> Iterator[None]:
    """Another process's view: a connection holding SQLite's write lock."""
    conn = sqlite3.connect(database, timeout=5, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


async def test_healthz_is_503_while_the_store_cannot_write(start_server: ServerFactory) -> None:
    irc = await start_server(metrics=METRICS)
    port = metrics_port(irc.server)
    await irc.client("alice")

    ok = await http_get(port, "/healthz")
    assert ok.status == 200
    assert ok.headers["content-type"] == "application/json"
    assert ok.body.count(b"\n") == 1 and ok.body.endswith(b"\n")  # one line
    assert json.loads(ok.body) == {"status": "ok", "listeners": "up", "store": "ok", "users": 1}

    with write_locked(irc.server.config.database_path):
        locked = await http_get(port, "/healthz")
    assert locked.status == 503
    status = json.loads(locked.body)
    assert status["status"] == "fail" and status["listeners"] == "up"
    assert status["store"].startswith("not writable: database is locked"), status

    again = await http_get(port, "/healthz")
    assert again.status == 200, again


async def test_healthz_is_503_when_the_database_is_gone(
    start_server: ServerFactory, tmp_path: Path
) -> None:
    irc = await start_server(metrics=METRICS)
    database = irc.server.config.database_path
    database.rename(tmp_path / "moved-away.db")
    response = await http_get(metrics_port(irc.server), "/healthz")
    assert response.status == 503
    assert json.loads(response.body)["store"].startswith("not writable:")


async def test_token_guards_both_paths(start_server: ServerFactory) -> None:
    irc = await start_server(metrics={"listen": "127.0.0.1:0", "token": TOKEN})
    port = metrics_port(irc.server)
    for path in ("/metrics", "/healthz"):
        missing = await http_get(port, path)
        assert missing.status == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert b"hubbub_" not in missing.body
        assert (await http_get(port, path, token=TOKEN + "x")).status == 401
        assert (await http_get(port, path, token=TOKEN)).status == 200
    assert (await scrape(irc.server, token=TOKEN)).value("hubbub_users") == 0


async def test_requests_outside_the_two_paths(start_server: ServerFactory) -> None:
    irc = await start_server(metrics=METRICS)
    port = metrics_port(irc.server)
    assert (await http_get(port, "/")).status == 404
    post = await http_request(port, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
    assert post.status == 405 and post.headers["allow"] == "GET, HEAD"
    head = await http_request(port, b"HEAD /healthz HTTP/1.1\r\n\r\n")
    assert head.status == 200 and head.body == b"" and int(head.headers["content-length"]) > 0
    huge = b"GET /metrics HTTP/1.1\r\nX-Filler: " + b"x" * MAX_HEAD_BYTES + b"\r\n\r\n"
    assert (await http_request(port, huge)).status == 431
    assert (await http_get(port, "/metrics?name[]=x")).status == 200  # query ignored


async def test_connections_at_once_are_bounded(start_server: ServerFactory) -> None:
    irc = await start_server(metrics=METRICS)
    port = metrics_port(irc.server)
    listener = irc.server.observability.listener
    assert listener is not None
    idle = [await asyncio.open_connection(HOST, port) for _ in range(MAX_CONNECTIONS)]
    await until(lambda: listener.open_connections == MAX_CONNECTIONS)
    # One more is closed without an answer (reset or EOF, never a response).
    reader, writer = await asyncio.open_connection(HOST, port)
    assert await closed_unanswered(reader)
    writer.close()
    for _, idle_writer in idle:
        idle_writer.close()
    await until(lambda: listener.open_connections == 0)
    assert (await http_get(port, "/healthz")).status == 200


async def test_stopping_drops_idle_peers(start_server: ServerFactory) -> None:
    irc = await start_server(metrics=METRICS)
    listener = irc.server.observability.listener
    assert listener is not None
    reader, writer = await asyncio.open_connection(HOST, metrics_port(irc.server))
    await until(lambda: listener.open_connections == 1)
    await irc.server.stop()
    assert await closed_unanswered(reader)
    writer.close()
    await until(lambda: listener.open_connections == 0)


def test_a_public_address_needs_a_token() -> None:
    with pytest.raises(ConfigError, match=r"metrics.*not a loopback address.*metrics.token"):
        parse_config({"metrics": {"listen": "0.0.0.0:9667"}})
    with pytest.raises(ConfigError, match=r"metrics.listen: .*expected HOST:PORT"):
        parse_config({"metrics": {"listen": "9667"}})
    config = parse_config({"metrics": {"listen": "0.0.0.0:9667", "token": TOKEN}})
    assert config.metrics.address == ("0.0.0.0", 9667)
    assert parse_config({}).metrics.address is None  # off unless asked for
    assert parse_config({"metrics": {"listen": ":9667"}}).metrics.address == ("127.0.0.1", 9667)


@pytest.mark.parametrize("value", ["0.0.0.0:9667", "nonsense"])
def test_serve_refuses_a_bad_metrics_option(value: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hubbub", "serve", "--data-dir", str(tmp_path), "--metrics", value],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--metrics" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "hubbub.db").exists()  # refused before starting anything
