"""Redis restarting mid-conversation: nobody is split while the bus is away,
local users keep talking, and once it is back the nodes talk again with no
manual step. The test starts a Redis of its own, so restarting it disturbs
nobody else's."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster.conftest import Cluster
from cluster.test_cluster_messages import CAPS, visible
from harness import HOST, free_port
from ircclient import RawClient
from services import require_redis


class OwnRedis:
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


async def received(sender: RawClient, receiver: RawClient, target: str, timeout: float) -> str:
    """Send numbered lines until one arrives; return its text."""
    deadline = asyncio.get_running_loop().time() + timeout
    n = 0
    while asyncio.get_running_loop().time() < deadline:
        n += 1
        await sender.send(f"PRIVMSG {target} :probe {n}")
        try:
            got = await receiver.expect("PRIVMSG", timeout=0.5)
        except TimeoutError:
            continue
        return got.params[-1]
    raise AssertionError("the nodes never talked again")


async def test_a_redis_restart_splits_nobody_and_the_talk_resumes(
    tmp_path: Path, cluster_database: str, own_redis: OwnRedis
) -> None:
    cluster = Cluster(tmp_path, cluster_database, own_redis.url)
    try:
        n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
        alice = await n1.client("alice", CAPS)
        carol = await n1.client("carol", CAPS)
        bob = await n2.client("bob", CAPS)
        await visible(alice, "bob")
        await visible(bob, "alice")
        for client in (alice, carol, bob):
            await client.ask("JOIN #tea")
        await visible(bob, "carol")

        own_redis.stop()
        await alice.send("PRIVMSG #tea :while the bus is down")
        local = await carol.expect("PRIVMSG")  # same node: delivered at once
        assert local.params == ["#tea", "while the bus is down"]
        await asyncio.sleep(4)  # longer than node_timeout: still nobody is split
        own_redis.start()

        await received(alice, bob, "bob", timeout=20)
        await visible(bob, "carol")
        for client in (alice, bob):
            assert not any(m.command == "QUIT" for m in client.log)
        await bob.send("PRIVMSG #tea :after")
        got = await alice.expect(lambda m: m.command == "PRIVMSG" and m.params[-1] == "after")
        assert got.params == ["#tea", "after"]
    finally:
        for process in cluster.nodes.values():
            for client in process.clients:
                await client.close()
        cluster.stop_all()
