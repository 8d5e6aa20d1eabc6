"""``hubbub serve --workers N``: N nodes of one cluster share the listening
port (SO_REUSEPORT), and their users are one network; a worker that dies
is started again."""

from __future__ import annotations

import asyncio
import os
import signal

from cluster.conftest import Cluster
from cluster.test_cluster_messages import visible
from cluster.test_cluster_operations import cluster_status
from harness import ServeProcess, free_port


async def workers(cluster: Cluster) -> ServeProcess:
    port = free_port()
    path = cluster.config("w", port)
    serve = ServeProcess(["--config", str(path), "--workers", "2"], port, path.parent / "serve.log")
    cluster.nodes["w"] = serve
    await serve.start(timeout=60)
    return serve


async def both_up(cluster: Cluster, but_not_pid: object = None) -> list[dict[str, object]]:
    """The two workers' statuses, once both are heard (and neither is ``but_not_pid``)."""
    for _ in range(240):
        nodes = await cluster_status(cluster, "w")
        if len(nodes) == 2 and but_not_pid not in {n["pid"] for n in nodes}:
            return nodes
        await asyncio.sleep(0.25)
    raise AssertionError(f"the workers never both came up: {nodes}")


async def test_two_workers_share_the_port_and_one_network(cluster: Cluster) -> None:
    serve = await workers(cluster)
    nodes = await both_up(cluster)
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


async def test_a_worker_that_dies_is_started_again_and_rejoins(cluster: Cluster) -> None:
    serve = await workers(cluster)
    nodes = await both_up(cluster)
    victim = next(n for n in nodes if n["node"] == "w-1")
    os.kill(int(victim["pid"]), signal.SIGKILL)  # type: ignore[call-overload]

    nodes = await both_up(cluster, but_not_pid=victim["pid"])
    again = next(n for n in nodes if n["node"] == "w-1")
    assert again["incarnation"] != victim["incarnation"]
    # The users of both workers are one network again: whichever worker
    # each client reaches, each sees the other.
    clients = [await serve.client(f"user{i}") for i in range(8)]
    await asyncio.sleep(1.5)  # a heartbeat with the user counts
    counts = [n["users"] for n in await cluster_status(cluster, "w")]
    assert sum(counts) == 8 and all(counts), counts  # type: ignore[arg-type]
    for client in clients[1:]:
        await visible(clients[0], client.nick)
    assert await serve.stop() == 0
