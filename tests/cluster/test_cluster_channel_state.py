"""Channel state across nodes: op status, modes, topic and KICK made on one
node are seen, and enforced, on the other."""

from __future__ import annotations

import asyncio

from cluster.conftest import Cluster
from cluster.test_cluster_messages import CAPS, channel_known, visible
from hubbub.store import open_store
from store.conftest import CHEAP_HASHER


async def test_ops_modes_topic_and_kick_cross_nodes(cluster: Cluster) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", CAPS)
    bob = await n2.client("bob", CAPS)
    await visible(alice, "bob")
    await alice.ask("JOIN #tea")  # alice creates it: op
    await channel_known(bob, "#tea")
    await bob.ask("JOIN #tea")
    await alice.expect("JOIN")

    await alice.send("MODE #tea +o bob")
    mode = await bob.expect("MODE")
    assert mode.params == ["#tea", "+o", "bob"]
    names = await bob.ask("NAMES #tea")
    assert sorted(next(m for m in names if m.command == "353").params[-1].split()) == [
        "@alice",
        "@bob",
    ]

    await bob.send("TOPIC #tea :set on n2")
    topic = await alice.expect("TOPIC")
    assert topic.params == ["#tea", "set on n2"]
    assert ("332", ["alice", "#tea", "set on n2"]) in await alice.answers("TOPIC #tea")

    await alice.send("MODE #tea +m")
    await bob.expect("MODE")
    await alice.send("MODE #tea -o bob")
    await bob.expect("MODE")
    refused = await bob.answers("PRIVMSG #tea :may I?")  # +m, no voice: n2 enforces it
    assert [command for command, _ in refused] == ["404"]

    await alice.send("KICK #tea bob :out")
    kick = await bob.expect("KICK")
    assert kick.params == ["#tea", "bob", "out"]
    assert not any(
        m.command == "353" and "bob" in m.params[-1] for m in await bob.ask("NAMES #tea")
    )


async def test_away_and_account_changes_cross_nodes(cluster: Cluster) -> None:
    store = await open_store(cluster.database, hasher=CHEAP_HASHER)
    try:
        await store.accounts.create("alice", "alice-password")
    finally:
        await store.close()
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", CAPS)
    bob = await n2.client("bob", [*CAPS, "away-notify", "account-notify"])
    await visible(alice, "bob")
    await alice.ask("JOIN #tea")
    await channel_known(bob, "#tea")
    await bob.ask("JOIN #tea")
    await alice.expect("JOIN")

    await alice.send("AWAY :lunch")
    away = await bob.expect("AWAY")
    assert away.params == ["lunch"] and away.source is not None
    assert away.source.startswith("alice!")
    assert ("301", ["bob", "alice", "lunch"]) in await bob.answers("WHOIS alice")

    await alice.send("PRIVMSG NickServ :IDENTIFY alice alice-password")
    account = await bob.expect("ACCOUNT", timeout=15)
    assert account.params == ["alice"]
