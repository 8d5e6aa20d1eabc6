"""INVITE across nodes, and a channel two nodes create at the same moment:
one channel, whose first creator stays its only operator."""

from __future__ import annotations

import asyncio
from pathlib import Path

from redis.asyncio import Redis

from cluster.conftest import Cluster, OwnRedis, cluster_with_cuttable
from cluster.test_cluster_messages import CAPS, channel_known, two_users, visible
from hubbub.protocol.message import Message
from ircclient import RawClient


def names(replies: list[Message]) -> set[str]:
    return {name for m in replies if m.command == "353" for name in m.params[-1].split()}


async def test_an_invite_on_one_node_lets_a_user_of_the_other_into_a_plus_i_channel(
    cluster: Cluster,
) -> None:
    alice, bob = await two_users(cluster)
    carol = await cluster.nodes["n2"].client("carol", CAPS)  # watches #club from n2
    await visible(alice, "carol")
    await alice.ask("JOIN #club")
    await channel_known(carol, "#club")
    await carol.ask("JOIN #club")
    await alice.expect("JOIN")
    await alice.send("MODE #club +i")
    mode = await carol.expect("MODE")  # n2 now knows the channel is +i
    assert mode.params == ["#club", "+i"]
    assert [c for c, _ in await bob.answers("JOIN #club")] == ["473"]

    assert ("341", ["alice", "bob", "#club"]) in await alice.answers("INVITE bob #club")
    invite = await bob.expect("INVITE")
    assert invite.params == ["bob", "#club"]
    assert invite.source is not None and invite.source.startswith("alice!")

    joined = await bob.ask("JOIN #club")
    assert joined[0].command == "JOIN" and joined[0].params[0] == "#club"
    assert names(joined) == {"@alice", "carol", "bob"}
    seen = await alice.expect("JOIN")
    assert seen.source is not None and seen.source.startswith("bob!")


async def test_a_channel_created_on_two_nodes_at_once_keeps_its_first_creator_as_op(
    tmp_path: Path, cluster_database: str, own_redis: OwnRedis
) -> None:
    cluster = Cluster(tmp_path, cluster_database, own_redis.url)
    redis: Redis = Redis.from_url(own_redis.url)
    try:
        n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
        alice = await n1.client("alice", CAPS)
        bob = await n2.client("bob", CAPS)
        await visible(alice, "bob")
        await visible(bob, "alice")
        # Hold every publication (PUBLISH is a write) so neither node hears
        # of the other's JOIN before both have created the channel.
        await redis.execute_command("CLIENT", "PAUSE", "3000", "WRITE")
        try:
            assert names(await alice.ask("JOIN #race")) == {"@alice"}
            assert names(await bob.ask("JOIN #race")) == {"@bob"}  # a creator too
        finally:
            await redis.execute_command("CLIENT", "UNPAUSE")

        # bob sees alice join as the op she is, then loses his own op
        arrived = await bob.expect("JOIN")
        assert arrived.source is not None and arrived.source.startswith("alice!")
        opped = await bob.read()
        demoted = await bob.read()
        assert (opped.source, opped.command, opped.params) == (
            "n2.test.local",
            "MODE",
            ["#race", "+o", "alice"],
        )
        assert (demoted.source, demoted.command, demoted.params) == (
            "n2.test.local",
            "MODE",
            ["#race", "-o", "bob"],
        )
        joined = await alice.expect("JOIN")
        assert joined.source is not None and joined.source.startswith("bob!")
        for client in (alice, bob):
            assert names(await client.ask("NAMES #race")) == {"@alice", "bob"}
        refused = await bob.answers("MODE #race +m")  # n2 no longer takes bob for an op
        assert [command for command, _ in refused] == ["482"]
    finally:
        await redis.aclose()
        await cluster.close()


async def joins_in_the_end(client: RawClient, channel: str, timeout: float = 10) -> None:
    """JOIN until it is let in (its node reconnects to the bus by itself)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        replies = await client.ask(f"JOIN {channel}")
        if replies and replies[0].command == "JOIN":
            return
        assert [m.command for m in replies] == ["473"], replies
        await asyncio.sleep(0.1)
    raise AssertionError(f"never let into {channel}")


async def test_a_node_back_on_the_bus_learns_the_invites_it_missed(
    tmp_path: Path, cluster_database: str, own_redis: OwnRedis
) -> None:
    """n2 is cut from the bus (its Redis user switched off) while alice
    invites bob: n2 misses the INVITE; when it is back, n1's burst carries
    the pending invite and bob gets into the +i channel."""
    cuttable = cluster_with_cuttable(tmp_path, cluster_database, own_redis, "n2")
    async with cuttable as (cluster, link):
        n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
        alice = await n1.client("alice", CAPS)
        bob = await n2.client("bob", CAPS)
        carol = await n2.client("carol", CAPS)
        await visible(alice, "carol")
        await alice.ask("JOIN #club")
        await channel_known(carol, "#club")
        await carol.ask("JOIN #club")
        await alice.expect("JOIN")
        await alice.send("MODE #club +i")
        assert (await carol.expect("MODE")).params == ["#club", "+i"]

        await link.cut()
        assert ("341", ["alice", "bob", "#club"]) in await alice.answers("INVITE bob #club")
        assert [c for c, _ in await bob.answers("JOIN #club")] == ["473"]  # n2 missed it
        await link.let_back()

        await joins_in_the_end(bob, "#club")
        assert names(await bob.ask("NAMES #club")) == {"@alice", "carol", "bob"}
        seen = await alice.expect("JOIN")
        assert seen.source is not None and seen.source.startswith("bob!")
