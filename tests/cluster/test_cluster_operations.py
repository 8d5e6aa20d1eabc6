"""Operating a cluster: ``hubbub cluster status`` lists the live nodes and
their users; history written by one node is served by another."""

from __future__ import annotations

import asyncio
import json

from cluster.conftest import Cluster
from cluster.test_cluster_messages import CAPS, channel_known, visible
from harness import hubbub_command
from ircclient import RawClient

HISTORY_CAPS = [*CAPS, "batch", "draft/chathistory"]


async def cluster_status(cluster: Cluster, node: str) -> list[dict[str, object]]:
    config = cluster.directory / node / "hubbub.toml"
    process = await asyncio.create_subprocess_exec(
        *hubbub_command(),
        "cluster",
        "status",
        "--config",
        str(config),
        "--json",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    return [json.loads(line) for line in out.decode().splitlines()]


async def test_cluster_status_lists_the_live_nodes_and_their_users(cluster: Cluster) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice")
    await n2.client("bob")
    await n2.client("carol")
    await visible(alice, "carol")
    await asyncio.sleep(1)  # a heartbeat with the new user counts
    nodes = await cluster_status(cluster, "n1")
    assert [(n["node"], n["server"], n["users"]) for n in nodes] == [
        ("n1", "n1.test.local", 1),
        ("n2", "n2.test.local", 2),
    ]
    assert await n2.stop() == 0
    assert [n["node"] for n in await cluster_status(cluster, "n1")] == ["n1"]


async def test_history_written_by_one_node_is_served_by_another(cluster: Cluster) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", HISTORY_CAPS)
    bob = await n2.client("bob", HISTORY_CAPS)
    await visible(bob, "alice")
    await alice.ask("JOIN #tea")
    await channel_known(bob, "#tea")
    await bob.ask("JOIN #tea")
    await alice.send("PRIVMSG #tea :kept on n1")
    sent = await alice.expect("PRIVMSG")
    live = await bob.expect("PRIVMSG")
    assert live.tags["msgid"] == sent.tags["msgid"]
    await asyncio.sleep(1)  # n1's history flush interval is 0.2 s
    replay = await bob.ask("CHATHISTORY LATEST #tea * 10")
    messages = [m for m in replay if m.command == "PRIVMSG"]
    assert [(m.params, m.tags["msgid"]) for m in messages] == [
        (["#tea", "kept on n1"], sent.tags["msgid"])
    ]


async def lusers(client: RawClient) -> dict[str, list[str]]:
    return {m.command: m.params for m in await client.ask("LUSERS")}


async def test_lusers_counts_the_whole_network(cluster: Cluster) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice")
    bob = await n2.client("bob")
    await n2.client("carol")
    await visible(alice, "carol")
    counts = await lusers(alice)
    assert counts["251"][1] == "There are 3 users and 0 invisible on 2 servers"
    assert counts["252"][1] == "0"
    assert counts["255"][1] == "I have 1 clients and 1 servers"
    assert counts["265"][1:3] == ["1", "1"]  # this node's users, its peak
    assert counts["266"][1:3] == ["3", "3"]  # the network's

    await bob.send("QUIT")
    deadline = asyncio.get_running_loop().time() + 10
    while (await lusers(alice))["266"][1] != "2":
        assert asyncio.get_running_loop().time() < deadline, "bob's QUIT never counted"
        await asyncio.sleep(0.05)
    counts = await lusers(alice)
    assert counts["251"][1] == "There are 2 users and 0 invisible on 2 servers"
    assert counts["266"][1:3] == ["2", "3"]
