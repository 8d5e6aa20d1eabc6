"""METADATA (draft/metadata-3) across nodes: a user's and a channel's
metadata set on one node answer METADATA GET on the other and notify its
subscribers; a node started later learns them from the burst."""

from __future__ import annotations

import asyncio

from cluster.conftest import Cluster
from cluster.test_cluster_messages import CAPS, channel_known, visible
from ircclient import RawClient

METADATA_CAPS = [*CAPS, "batch", "draft/metadata-3"]
AVATAR = "https://example.org/alice.png"


async def test_metadata_set_on_one_node_is_seen_and_notified_on_the_other(
    cluster: Cluster,
) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", METADATA_CAPS)
    bob = await n2.client("bob", METADATA_CAPS)
    await visible(alice, "bob")
    assert ("770", ["bob", "avatar", "color"]) in await bob.answers("METADATA * SUB avatar color")
    await alice.ask("JOIN #tea")
    await channel_known(bob, "#tea")
    await bob.ask("JOIN #tea")
    await alice.expect("JOIN")

    await alice.send(f"METADATA * SET avatar :{AVATAR}")
    told = await bob.expect("761")
    assert told.params == ["*", "alice", "avatar", "*", AVATAR]
    got = await bob.answers("METADATA alice GET avatar")
    assert ("761", ["bob", "alice", "avatar", "*", AVATAR]) in got

    await alice.send("METADATA #tea SET color :green")  # alice is the channel's op
    told = await bob.expect("761")
    assert told.params == ["*", "#tea", "color", "*", "green"]
    got = await bob.answers("METADATA #tea GET color")
    assert ("761", ["bob", "#tea", "color", "*", "green"]) in got

    await alice.send("METADATA * SET avatar")  # unset
    told = await bob.expect("766")
    assert told.params == ["*", "alice", "avatar", "key not set"]
    got = await bob.answers("METADATA alice GET avatar")
    assert ("766", ["bob", "alice", "avatar", "Key not set"]) in got


async def test_a_node_started_later_knows_the_metadata_set_before(cluster: Cluster) -> None:
    n1 = await cluster.start("n1")
    alice = await n1.client("alice", METADATA_CAPS)
    await alice.ask(f"METADATA * SET avatar :{AVATAR}")
    await alice.ask("JOIN #tea")
    await alice.ask("METADATA #tea SET color :green")
    n2 = await cluster.start("n2")
    bob = await n2.client("bob", METADATA_CAPS)
    await visible(bob, "alice")
    got = await bob.answers("METADATA alice GET avatar")  # in alice's user event
    assert ("761", ["bob", "alice", "avatar", "*", AVATAR]) in got
    await channel_known(bob, "#tea")
    wanted = ("761", ["bob", "#tea", "color", "*", "green"])
    await answered(bob, "METADATA #tea GET color", wanted)  # after the burst's JOINs


async def answered(
    client: RawClient, line: str, wanted: tuple[str, list[str]], timeout: float = 10
) -> None:
    """Ask ``line`` until ``wanted`` is among the answers (the bus is asynchronous)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if wanted in await client.answers(line):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{line!r} never answered {wanted}")
