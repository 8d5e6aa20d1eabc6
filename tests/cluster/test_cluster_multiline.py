"""draft/multiline across nodes: a batch sent on one node reaches the
members of the other as a batch (or, without the capability, as its lines),
with the origin's one msgid."""

from __future__ import annotations

import asyncio

from cluster.conftest import Cluster
from cluster.test_cluster_messages import CAPS, channel_known, visible

MULTILINE_CAPS = [*CAPS, "batch", "draft/multiline"]


async def test_a_multiline_batch_reaches_the_other_node_whole_with_one_msgid(
    cluster: Cluster,
) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", MULTILINE_CAPS)
    bob = await n2.client("bob", MULTILINE_CAPS)
    carol = await n2.client("carol", CAPS)  # no draft/multiline: the fallback lines
    await visible(alice, "carol")
    await alice.ask("JOIN #tea")
    await channel_known(bob, "#tea")
    for client in (bob, carol):
        await client.ask("JOIN #tea")
        await alice.expect("JOIN")

    await alice.send("BATCH +m1 draft/multiline #tea")
    await alice.send("@batch=m1 PRIVMSG #tea :first line")
    await alice.send("@batch=m1 PRIVMSG #tea :")
    await alice.send("@batch=m1;draft/multiline-concat PRIVMSG #tea :still first")
    await alice.send("@batch=m1 PRIVMSG #tea :last line")
    await alice.send("BATCH -m1")
    echo = await alice.expect("BATCH")
    msgid = echo.tags["msgid"]

    opened = await bob.expect("BATCH")
    assert opened.params[1:] == ["draft/multiline", "#tea"]
    assert opened.tags["msgid"] == msgid and opened.tags["time"] == echo.tags["time"]
    ref = opened.params[0][1:]
    lines = [await bob.read() for _ in range(5)]
    assert [(m.command, m.params, m.tags.get("batch")) for m in lines] == [
        ("PRIVMSG", ["#tea", "first line"], ref),
        ("PRIVMSG", ["#tea", ""], ref),
        ("PRIVMSG", ["#tea", "still first"], ref),
        ("PRIVMSG", ["#tea", "last line"], ref),
        ("BATCH", ["-" + ref], None),
    ]
    assert "draft/multiline-concat" in lines[2].tags
    assert opened.source is not None and opened.source.startswith("alice!")

    fallback = [await carol.read() for _ in range(3)]  # the blank line is left out
    assert [(m.command, m.params) for m in fallback] == [
        ("PRIVMSG", ["#tea", "first line"]),
        ("PRIVMSG", ["#tea", "still first"]),
        ("PRIVMSG", ["#tea", "last line"]),
    ]
    assert fallback[0].tags["msgid"] == msgid
    assert all("msgid" not in m.tags for m in fallback[1:])
    await carol.nothing()
