"""Nodes of one network as real ``hubbub serve`` processes, each with its
own config file, sharing a PostgreSQL database made for the test and the
real Redis (tests/services.py). Each test gets its own network name, so its
bus channel and heartbeat keys are its own."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from redis.asyncio import Redis

from harness import HOST, ServeProcess, free_port
from services import require_redis, scratch_database


class Cluster:
    """Starts nodes ``n1``, ``n2``, ... of one network."""

    def __init__(self, directory: Path, database: str, bus: str) -> None:
        self.directory = directory
        self.database = database
        self.bus = bus
        self.network = "Net" + secrets.token_hex(4)
        self.nodes: dict[str, ServeProcess] = {}
        self.buses: dict[str, str] = {}  # a node's own bus URL (another Redis user)
        self.node_timeout = 3.0
        self.extra = ""  # more TOML for every node's config ([[opers]])

    def config(self, node: str, port: int) -> Path:
        folder = self.directory / node
        folder.mkdir(exist_ok=True)
        path = folder / "hubbub.toml"
        path.write_text(
            f"""
[server]
name = "{node}.test.local"
network = "{self.network}"
data_dir = "data"

[[listen]]
host = "{HOST}"
port = {port}

[limits]
flood_control = false

[database]
url = "{self.database}"

[cluster]
node = "{node}"
bus = "{self.buses.get(node, self.bus)}"
heartbeat_interval = 0.5
node_timeout = {self.node_timeout}
{self.extra}
"""
        )
        return path

    async def start(self, node: str) -> ServeProcess:
        """Start ``node`` (again, after a kill, on the same port)."""
        old = self.nodes.get(node)
        port = old.port if old is not None else free_port()
        path = self.config(node, port)
        process = ServeProcess(["--config", str(path)], port, path.parent / "serve.log")
        self.nodes[node] = process
        await process.start(timeout=60)  # two nodes importing at once on a busy machine
        return process

    def stop_all(self) -> None:
        for process in self.nodes.values():
            process.kill()

    async def close(self) -> None:
        """Close every test client, then kill every node."""
        for process in self.nodes.values():
            for client in process.clients:
                await client.close()
        self.stop_all()


@pytest.fixture
def cluster_database() -> Iterator[str]:
    with scratch_database("hubbub_cluster") as url:
        yield url


@pytest.fixture
async def cluster(tmp_path: Path, cluster_database: str) -> AsyncIterator[Cluster]:
    nodes = Cluster(tmp_path, cluster_database, require_redis())
    try:
        yield nodes
    finally:
        await nodes.close()


class OwnRedis:
    """A Redis of one test's own, which it may stop, restart or pause
    without disturbing the other tests on the shared one."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is not installed (.ci/run installs it)"
        self.proc = subprocess.Popen(
            [binary, "--bind", HOST, "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )

    async def ready(self, timeout: float = 10) -> None:
        """Wait until it accepts connections (it starts in the background)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                _, writer = await asyncio.open_connection(HOST, self.port)
            except OSError:
                assert asyncio.get_running_loop().time() < deadline, "redis-server did not start"
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    require_redis()  # the same check as every cluster test: Redis is installed and runs
    redis = OwnRedis(free_port())
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


class BusLink:
    """One node's own user on an ``OwnRedis``: switched off (its connections
    killed) to cut the node off the bus, on again to let it back."""

    def __init__(self, redis: OwnRedis, node: str) -> None:
        self.node = node
        self.url = f"redis://{node}:{node}-secret@{HOST}:{redis.port}/0"
        self._admin: Redis = Redis.from_url(redis.url)

    async def create(self) -> None:
        await self._admin.execute_command(
            "ACL", "SETUSER", self.node, "on", f">{self.node}-secret", "~*", "&*", "+@all"
        )

    async def cut(self) -> None:
        await self._admin.execute_command("ACL", "SETUSER", self.node, "off")
        await self._admin.execute_command("CLIENT", "KILL", "USER", self.node)

    async def let_back(self) -> None:
        """The node reconnects by itself."""
        await self._admin.execute_command("ACL", "SETUSER", self.node, "on")

    async def close(self) -> None:
        await self._admin.aclose()


@asynccontextmanager
async def cluster_with_cuttable(
    directory: Path, database: str, redis: OwnRedis, node: str
) -> AsyncIterator[tuple[Cluster, BusLink]]:
    """A cluster on ``redis`` in which ``node`` can be cut off the bus; the
    others do not split it meanwhile (a long ``node_timeout``)."""
    await redis.ready()
    link = BusLink(redis, node)
    await link.create()
    cluster = Cluster(directory, database, redis.url)
    cluster.buses[node] = link.url
    cluster.node_timeout = 60
    try:
        yield cluster, link
    finally:
        await link.close()
        await cluster.close()
