"""RENAME (draft/channel-rename) across nodes: members of the other node
see RENAME, or without the capability PART and JOIN with the new name's
topic and names; the channel is one channel under its new name everywhere."""

from __future__ import annotations

import asyncio

from cluster.conftest import Cluster
from cluster.test_cluster_messages import CAPS, channel_known, visible

RENAME_CAPS = [*CAPS, "draft/channel-rename"]


async def test_a_rename_on_one_node_is_seen_on_the_other(cluster: Cluster) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", RENAME_CAPS)
    bob = await n2.client("bob", RENAME_CAPS)
    carol = await n2.client("carol", CAPS)  # no draft/channel-rename
    await visible(alice, "carol")
    await alice.ask("JOIN #old")
    await alice.ask("TOPIC #old :tea time")
    await channel_known(bob, "#old")
    for client in (bob, carol):
        await client.ask("JOIN #old")
        await alice.expect("JOIN")

    await alice.send("RENAME #old #new :tidier")
    assert (await alice.expect("RENAME")).params == ["#old", "#new", "tidier"]
    renamed = await bob.expect("RENAME")
    assert renamed.params == ["#old", "#new", "tidier"]
    assert renamed.source is not None and renamed.source.startswith("alice!")

    seen = [await carol.read() for _ in range(5)]
    assert [(m.command, m.params) for m in seen] == [
        ("PART", ["#old", "tidier"]),
        ("JOIN", ["#new"]),
        ("332", ["carol", "#new", "tea time"]),
        ("333", ["carol", "#new", seen[3].params[2], seen[3].params[3]]),
        ("353", ["carol", "=", "#new", seen[4].params[3]]),
    ]
    assert sorted(seen[4].params[3].split()) == ["@alice", "bob", "carol"]
    assert (await carol.read()).command == "366"

    assert not [m for m in await bob.ask("LIST #old") if m.command == "322"]
    await bob.send("PRIVMSG #new :under the new name")
    got = await alice.expect("PRIVMSG")
    assert got.params == ["#new", "under the new name"]
