"""Redis restarting mid-conversation: nobody is split while the bus is away,
local users keep talking, and once it is back the nodes talk again with no
manual step. The test starts a Redis of its own (``own_redis``), so
restarting it disturbs nobody else's."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cluster.conftest import Cluster, OwnRedis
from cluster.test_cluster_messages import CAPS, visible
from ircclient import RawClient


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
        await cluster.close()
