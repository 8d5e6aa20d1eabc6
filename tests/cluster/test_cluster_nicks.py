"""Nicks are unique network-wide: claimed in PostgreSQL before a node gives
one, so two nodes racing for a nick end with exactly one winner."""

from __future__ import annotations

import asyncio

from cluster.conftest import Cluster
from cluster.test_cluster_messages import visible
from ircclient import RawClient


async def outcome(client: RawClient) -> str:
    """'won' on 001, 'lost' on 433."""
    reply = await client.expect(lambda m: m.command in ("001", "433"), timeout=10)
    return "won" if reply.command == "001" else "lost"


async def test_two_nodes_racing_for_a_nick_give_it_to_exactly_one(cluster: Cluster) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    for round_ in range(5):
        nick = f"racer{round_}"
        first, second = await n1.client(), await n2.client()
        for client in (first, second):
            await client.send(f"USER r{round_} 0 * :racer")
        await asyncio.gather(first.send(f"NICK {nick}"), second.send(f"NICK {nick}"))
        results = sorted(await asyncio.gather(outcome(first), outcome(second)))
        assert results == ["lost", "won"], (nick, results)


async def test_a_nick_in_use_on_another_node_is_433(cluster: Cluster) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    await n1.client("alice")
    late = await n2.client()
    await late.send("USER late 0 * :late")
    await late.send("NICK alice")
    taken = await late.expect("433")
    assert taken.params[1] == "alice"
    await late.send("NICK alice2")
    await late.expect("001")
    # Renaming frees the old nick network-wide.
    watcher = await n1.client("watcher")
    await visible(watcher, "alice2")
    await late.send("NICK Alice3")
    await late.expect("NICK")
    await visible(watcher, "Alice3")  # n1 has applied the rename
    other = await n1.client()
    await other.send("USER other 0 * :other")
    await other.send("NICK alice2")
    await other.expect("001")
