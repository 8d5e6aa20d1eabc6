"""``hubbub serve --workers N``: N nodes of one cluster share the listening
port (SO_REUSEPORT), and their users are one network."""

from __future__ import annotations

import asyncio

from cluster.conftest import Cluster
from cluster.test_cluster_messages import visible
from cluster.test_cluster_operations import cluster_status
from harness import ServeProcess, free_port


async def test_two_workers_share_the_port_and_one_network(cluster: Cluster) -> None:
    port = free_port()
    path = cluster.config("w", port)
    serve = ServeProcess(["--config", str(path), "--workers", "2"], port, path.parent / "serve.log")
    cluster.nodes["w"] = serve
    await serve.start(timeout=60)

    async def both_up() -> list[dict[str, object]]:
        for _ in range(240):
            nodes = await cluster_status(cluster, "w")
            if len(nodes) == 2:
                return nodes
            await asyncio.sleep(0.25)
        raise AssertionError("the second worker never came up")

    nodes = await both_up()
    assert [(n["node"], n["server"]) for n in nodes] == [
        ("w-0", "w0.w.test.local"),
        ("w-1", "w1.w.test.local"),
    ]
    clients = [await serve.client(f"user{i}") for i in range(16)]
    await asyncio.sleep(1.5)  # a heartbeat with the user counts
    counts = [n["users"] for n in await cluster_status(cluster, "w")]
    assert sum(counts) == 16 and all(counts), counts  # type: ignore[arg-type]

    await visible(clients[0], "user15")
    for client in clients[1:]:
        await client.send("PRIVMSG user0 :hi")
    senders = set()
    for _ in clients[1:]:
        got = await clients[0].expect("PRIVMSG")
        assert got.source is not None
        senders.add(got.source.split("!")[0])
    assert senders == {f"user{i}" for i in range(1, 16)}
    assert await serve.stop() == 0
