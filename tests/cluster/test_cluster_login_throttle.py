"""The login throttle network-wide: failed logins spread over two nodes trip
it on both, as they would on one node."""

from __future__ import annotations

import asyncio

from cluster.conftest import Cluster
from cluster.test_cluster_accounts import PASSWORD, crossed, registered_account
from cluster.test_cluster_messages import CAPS, visible
from harness import sasl_plain
from hubbub.protocol.message import Message


async def sasl_attempt(cluster: Cluster, node: str, password: str) -> Message:
    """A fresh connection to ``node`` tries SASL PLAIN on the account alice."""
    client = await cluster.nodes[node].client()
    await client.send("CAP REQ :sasl")
    ack = await client.expect("CAP")
    assert ack.params[1] == "ACK", ack
    return await sasl_plain(client, "alice", password)


async def test_failed_logins_on_two_nodes_trip_the_throttle_on_both(cluster: Cluster) -> None:
    cluster.extra = "[accounts]\nlogin_attempts_per_account = 2\nlogin_attempts_per_ip = 100\n"
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", CAPS)
    watcher1 = await n1.client("watcher1", CAPS)
    watcher2 = await n2.client("watcher2", CAPS)
    await visible(watcher2, "alice")
    await registered_account(alice)
    await crossed(alice, watcher2, "alice_away")  # n2 knows the account

    first = await sasl_attempt(cluster, "n1", "guess-one")
    assert first.command == "904" and "invalid" in first.params[-1]
    await crossed(watcher1, watcher2, "watcher1b")  # n2 has taken that token too
    second = await sasl_attempt(cluster, "n2", "guess-two")
    assert second.command == "904" and "invalid" in second.params[-1]
    await crossed(watcher2, watcher1, "watcher2b")  # and n1 this one

    # Two failures on the network: the right password is refused on both nodes.
    for node in ("n1", "n2"):
        throttled = await sasl_attempt(cluster, node, PASSWORD)
        assert throttled.command == "904", (node, throttled)
        assert "too many failed attempts; try again in" in throttled.params[-1]
