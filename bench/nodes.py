"""The nodes bench/cluster measures: a scratch PostgreSQL database and
``hubbub serve`` processes of one network on it and the Redis bus, each
pinned to its CPUs, flood control off. Standard library only (the database
is made and dropped with psql)."""

from __future__ import annotations

import secrets
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from peers import HUBBUB, Peer, RunningServer, log


def _psql(admin_url: str, statement: str) -> None:
    subprocess.run(
        ["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-q", "-c", statement],
        check=True,
        stdout=subprocess.DEVNULL,
    )


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A new empty database on ``server_url`` (no database name in it),
    dropped afterwards even when its nodes still hold connections."""
    name = f"hubbub_cbench_{secrets.token_hex(4)}"
    _psql(f"{server_url}/postgres", f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url}/{name}"
    finally:
        _psql(f"{server_url}/postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def node_config(node: str, port: int, network: str, database: str, bus: str, data: Path) -> str:
    return f"""
[server]
name = "{node}.bench.local"
network = "{network}"
data_dir = "{data}"

[[listen]]
host = "127.0.0.1"
port = {port}

[limits]
flood_control = false
throttle = false

[database]
url = "{database}"

[cluster]
node = "{node}"
bus = "{bus}"
"""


def _node(node: str, network: str, database: str, bus: str) -> Peer:
    def command(port: int, workdir: Path) -> list[str]:
        config = workdir / "hubbub.toml"
        data = workdir / "data"
        config.write_text(node_config(node, port, network, database, bus, data))
        return [str(HUBBUB), "serve", "--config", str(config)]

    return Peer(node, command, [str(HUBBUB), "--version"])


@contextmanager
def running_nodes(cpus: list[str], postgres: str, bus: str) -> Iterator[list[RunningServer]]:
    """One node per entry of ``cpus`` (a taskset CPU list each), all of one
    fresh network on a fresh database; stopped and dropped afterwards."""
    network = "Bench" + secrets.token_hex(3)
    with (
        scratch_database(postgres) as database,
        tempfile.TemporaryDirectory(prefix="hubbub-cbench-") as tmp,
    ):
        nodes: list[RunningServer] = []
        try:
            # one after the other: the first runs the migrations on the new database
            for i, cpu in enumerate(cpus, 1):
                peer = _node(f"n{i}", network, database, bus)
                server = RunningServer(peer, Path(tmp) / f"n{i}", cpu)
                nodes.append(server)
                if not server.wait_ready(timeout=60):
                    raise RuntimeError(f"node n{i} did not start:\n{server.log_tail()}")
            yield nodes
        finally:
            for server in nodes:
                server.stop()
                if server.process.returncode not in (0, -15):
                    log(f"node stopped with {server.process.returncode}:\n{server.log_tail()}")
