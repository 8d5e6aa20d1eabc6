"""A channel's modes, key, limit and lists travel in the burst: a node that
starts after the channel was moded, or was off the bus while it was, holds
its users to them and answers MODE as the channel's own node does."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cluster.conftest import Cluster, OwnRedis, cluster_with_cuttable
from cluster.test_cluster_messages import CAPS, channel_known, visible
from hubbub.protocol.message import Message
from ircclient import RawClient


def entries(replies: list[Message], numeric: str) -> list[list[str]]:
    """The (mask, setter, time) of each list entry in a MODE list answer."""
    return [m.params[2:] for m in replies if m.command == numeric]


async def mode_view(client: RawClient, channel: str) -> dict[str, list[list[str]]]:
    """What MODE answers about ``channel``: its modes and its three lists."""
    return {
        "324": [m.params for m in await client.ask(f"MODE {channel}") if m.command == "324"],
        "b": entries(await client.ask(f"MODE {channel} b"), "367"),
        "e": entries(await client.ask(f"MODE {channel} e"), "348"),
        "I": entries(await client.ask(f"MODE {channel} I"), "346"),
    }


async def keyed(client: RawClient, channel: str, timeout: float = 10) -> None:
    """Wait until ``client``'s node has the burst's modes of ``channel``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        modes = [m.params for m in await client.ask(f"MODE {channel}") if m.command == "324"]
        if modes and "k" in modes[0][2]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the modes of {channel} never arrived")


async def test_a_node_started_later_knows_the_modes_keys_limits_and_lists(
    cluster: Cluster,
) -> None:
    n1 = await cluster.start("n1")
    alice = await n1.client("alice", CAPS)
    await alice.ask("JOIN #vault")
    await alice.ask("MODE #vault +imCk-t secret")
    await alice.ask("MODE #vault +lbeI 5 dave!*@* erin!*@* dave!*@*")
    seen_on_n1 = await mode_view(alice, "#vault")
    assert seen_on_n1["324"] == [["alice", "#vault", "+Cimnkl", "secret", "5"]]

    n2 = await cluster.start("n2")
    bob = await n2.client("bob", CAPS)
    dave = await n2.client("dave", CAPS)
    await visible(bob, "alice")
    await keyed(bob, "#vault")

    assert [c for c, _ in await bob.answers("JOIN #vault")] == ["475"]
    assert [c for c, _ in await bob.answers("JOIN #vault wrong")] == ["475"]
    assert [c for c, _ in await bob.answers("JOIN #vault secret")] == ["473"]
    # dave is on the invite-exception list, which lets him past +i, and banned
    assert [c for c, _ in await dave.answers("JOIN #vault secret")] == ["474"]

    seen_on_n2 = await mode_view(bob, "#vault")
    assert seen_on_n2["324"] == [["bob", "#vault", "+Cimnkl", "*", "5"]]  # bob is no member
    for mode in "beI":  # the same entries, set by alice at the same time
        assert seen_on_n2[mode] == seen_on_n1[mode]
        assert len(seen_on_n2[mode]) == 1 and seen_on_n2[mode][0][1].startswith("alice!")

    assert ("341", ["alice", "bob", "#vault"]) in await alice.answers("INVITE bob #vault")
    await bob.expect("INVITE")
    joined = await bob.ask("JOIN #vault")
    assert joined[0].command == "JOIN"
    assert [m.params for m in await bob.ask("MODE #vault") if m.command == "324"] == [
        ["bob", "#vault", "+Cimnkl", "secret", "5"]
    ]
    await alice.expect("JOIN")
    refused = await bob.ask("PRIVMSG #vault :may I speak?")  # +m holds on n2
    assert [m.command for m in refused] == ["404"]


async def test_a_node_back_on_the_bus_learns_the_modes_set_meanwhile(
    tmp_path: Path, cluster_database: str, own_redis: OwnRedis
) -> None:
    """n2 is cut off the bus while alice moderates #club and bans someone:
    when it is back, n1's burst tells it, and carol, a member on n2, sees
    the changes as a server MODE."""
    cuttable = cluster_with_cuttable(tmp_path, cluster_database, own_redis, "n2")
    async with cuttable as (cluster, link):
        n1 = await cluster.start("n1")
        n2 = await cluster.start("n2")
        alice = await n1.client("alice", CAPS)
        carol = await n2.client("carol", CAPS)
        await visible(alice, "carol")
        await alice.ask("JOIN #club")
        await channel_known(carol, "#club")
        await carol.ask("JOIN #club")
        await alice.expect("JOIN")

        await link.cut()
        await alice.ask("MODE #club +mb spam!*@*")
        await carol.nothing()  # n2 missed it
        await link.let_back()

        told = await carol.expect("MODE", timeout=15)  # n2 reconnects by itself
        assert (told.source, told.params) == ("n2.test.local", ["#club", "+mb", "spam!*@*"])
        assert [m.params for m in await carol.ask("MODE #club") if m.command == "324"] == [
            ["carol", "#club", "+mnt"]
        ]
        bans = entries(await carol.ask("MODE #club b"), "367")
        assert bans == entries(await alice.ask("MODE #club b"), "367")
        assert [m.command for m in await carol.ask("PRIVMSG #club :hello?")] == ["404"]
        await alice.nothing()  # n2's burst changed nothing on n1


async def test_a_mode_removed_while_a_node_was_away_comes_back_on_every_node(
    tmp_path: Path, cluster_database: str, own_redis: OwnRedis
) -> None:
    """n3, with a member of #club, misses alice's -m; its burst brings +m
    back on n1 (the documented limit), and n2, which has no member there and
    takes bursts as they are, ends with +m like the others, not with n1's
    older burst."""
    cuttable = cluster_with_cuttable(tmp_path, cluster_database, own_redis, "n3")
    async with cuttable as (cluster, link):
        n1 = await cluster.start("n1")
        n2 = await cluster.start("n2")
        n3 = await cluster.start("n3")
        alice = await n1.client("alice", CAPS)
        dave = await n2.client("dave", CAPS)
        carol = await n3.client("carol", CAPS)
        await visible(alice, "carol")
        await visible(dave, "carol")
        await alice.ask("JOIN #club")
        await alice.ask("MODE #club +m")
        await channel_known(carol, "#club")
        await carol.ask("JOIN #club")
        await alice.expect("JOIN")

        await link.cut()
        await alice.ask("MODE #club -m")
        await link.let_back()

        back = await alice.expect("MODE", timeout=15)  # n3's burst, merged on n1
        assert (back.source, back.params) == ("n1.test.local", ["#club", "+m"])
        await alice.ask("TOPIC #club :after the merge")  # n1's events stay in order
        await eventually_topic(dave, "#club", "after the merge")
        for client in (alice, dave, carol):
            modes = [m.params[1:] for m in await client.ask("MODE #club") if m.command == "324"]
            assert modes == [["#club", "+mnt"]]


async def eventually_topic(
    client: RawClient, channel: str, topic: str, timeout: float = 10
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if any(
            m.command == "332" and m.params[-1] == topic
            for m in await client.ask(f"TOPIC {channel}")
        ):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the topic of {channel} never became {topic!r}")
