"""K-lines and D-lines set on one node are enforced on every node at once:
matching users of the other node are disconnected with the 465 and ERROR a
local ban gives, new matching connections there are refused, lifting the
ban lifts it there, and a node that was off the bus catches up from
PostgreSQL when it is back."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from cluster.conftest import Cluster, OwnRedis, cluster_with_cuttable
from cluster.test_cluster_kill import OPERS, oper
from cluster.test_cluster_messages import CAPS, channel_known, visible
from harness import HOST, closing_link
from ircclient import RawClient


async def banned(client: RawClient, reason: str, timeout: float = 10) -> None:
    """``client`` gets what a banned user gets on a single server: 465, then
    ERROR naming the ban, then the connection closes."""
    refusal = await client.expect("465", timeout)
    assert refusal.params[-1] == f"You are banned from this server: {reason.split(': ', 1)[1]}"
    error = await client.expect("ERROR", timeout)
    assert re.fullmatch(closing_link(reason), error.params[0]), error
    assert await client.closed()


async def refused_at_registration(
    cluster: Cluster, node: str, nick: str, reason: str, username: str = "victim"
) -> None:
    client = await cluster.nodes[node].client()
    await client.send(f"NICK {nick}")
    await client.send(f"USER {username} 0 * :{nick}")
    lines = await client.collect_until("ERROR")
    assert [m.command for m in lines] == ["465", "ERROR"], lines
    assert reason in lines[-1].params[0]


async def welcomed_in_the_end(cluster: Cluster, node: str, nick: str, timeout: float = 15) -> None:
    """Connect as ``nick`` until the node lets it in (a ban lifted elsewhere
    reaches it through the bus, or runs out)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        client = await RawClient.connect(HOST, cluster.nodes[node].port)
        try:
            await client.send(f"NICK {nick}")
            await client.send(f"USER {nick} 0 * :{nick}")
            first = await client.expect(lambda m: m.command in ("001", "465"))
            if first.command == "001":
                return
        finally:
            await client.close()
        assert asyncio.get_running_loop().time() < deadline, f"{nick} was never let in"
        await asyncio.sleep(0.1)


async def test_a_kline_on_one_node_disconnects_and_refuses_on_the_other(
    cluster: Cluster,
) -> None:
    cluster.extra = OPERS
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    boss = await oper(cluster, "n1", "boss")
    bystander = await n1.client("bystander", CAPS)
    victim = await n2.client("victim", CAPS)
    await visible(bystander, "victim")
    await bystander.ask("JOIN #tea")
    await channel_known(victim, "#tea")
    await victim.ask("JOIN #tea")
    await bystander.expect("JOIN")

    replies = await boss.ask("KLINE 1h ~victim@127.0.0.1 :spamming")
    assert any("Added K-line for ~victim@127.0.0.1 for 1h" in m.params[-1] for m in replies)
    await banned(victim, "K-lined: spamming")
    quit_ = await bystander.expect("QUIT")
    assert quit_.source is not None and quit_.source.startswith("victim!")
    assert quit_.params == ["K-lined: spamming"]

    await refused_at_registration(cluster, "n2", "victim2", "K-lined: spamming")
    await n2.client("other")  # another username from the same host is welcome

    n2_oper = await oper(cluster, "n2", "warden")
    stats = await n2_oper.ask("STATS k")
    assert [m.command for m in stats] == ["216", "219"]
    assert stats[0].params[1:5] == ["K", "127.0.0.1", "*", "~victim"]
    assert "spamming (set by admin, expires in" in stats[0].params[5]

    assert any("Removed" in m.params[-1] for m in await boss.ask("UNKLINE ~victim@127.0.0.1"))
    await welcomed_in_the_end(cluster, "n2", "victim")
    assert [m.command for m in await n2_oper.ask("STATS k")] == ["219"]


async def test_a_kline_set_elsewhere_expires_here_too(cluster: Cluster) -> None:
    cluster.extra = OPERS
    await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    boss = await oper(cluster, "n1", "boss")
    warden = await oper(cluster, "n2", "warden")
    await boss.ask("KLINE 5s ~brief@127.0.0.1 :a moment")
    deadline = asyncio.get_running_loop().time() + 10
    while not any(m.command == "216" for m in await warden.ask("STATS k")):
        assert asyncio.get_running_loop().time() < deadline, "the K-line never reached n2"
        await asyncio.sleep(0.05)
    await refused_at_registration(cluster, "n2", "brief", "K-lined: a moment", username="brief")
    await welcomed_in_the_end(cluster, "n2", "brief", timeout=20)  # after its 5 s, on n2 too
    assert [m.command for m in await warden.ask("STATS k")] == ["219"]


async def test_a_dline_on_one_node_refuses_connections_on_the_other(cluster: Cluster) -> None:
    cluster.extra = OPERS
    _n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    boss = await oper(cluster, "n1", "boss")
    victim = await n2.client("victim", CAPS)
    unregistered = await n2.client()
    await visible(boss, "victim")

    await boss.ask("DLINE 10m 127.0.0.1 :go away")
    await banned(victim, "D-lined: go away")
    assert (await unregistered.expect("465")).params[-1].endswith("go away")
    assert "D-lined: go away" in (await unregistered.expect("ERROR")).params[0]
    fresh = await n2.client()  # refused before it sends anything
    lines = await fresh.collect_until("ERROR")
    assert [m.command for m in lines] == ["465", "ERROR"]
    assert await fresh.closed()
    assert [m.command for m in await boss.ask("PING :still")] == ["PONG"]  # opers stay

    await boss.ask("UNDLINE 127.0.0.1")
    await welcomed_in_the_end(cluster, "n2", "welcome")


async def test_a_node_off_the_bus_catches_up_with_bans_when_back(
    tmp_path: Path, cluster_database: str, own_redis: OwnRedis
) -> None:
    """n2 misses the KLINE and later the UNKLINE (its bus link is cut each
    time); when it is back it reads the bans from PostgreSQL and applies them."""
    cuttable = cluster_with_cuttable(tmp_path, cluster_database, own_redis, "n2")
    async with cuttable as (cluster, link):
        cluster.extra = OPERS
        _n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
        boss = await oper(cluster, "n1", "boss")
        victim = await n2.client("victim", CAPS)
        await visible(boss, "victim")

        await link.cut()
        await boss.ask("KLINE ~victim@127.0.0.1 :while you were out")
        assert [m.command for m in await victim.ask("PING :here")] == ["PONG"]  # n2 missed it
        await link.let_back()
        await banned(victim, "K-lined: while you were out", timeout=20)
        await refused_at_registration(cluster, "n2", "victim", "K-lined: while you were out")

        await link.cut()
        await boss.ask("UNKLINE ~victim@127.0.0.1")
        await refused_at_registration(cluster, "n2", "victim", "K-lined")  # n2 missed it
        await link.let_back()
        await welcomed_in_the_end(cluster, "n2", "victim", timeout=20)


async def test_one_address_is_cloaked_alike_on_every_node(cluster: Cluster) -> None:
    """The nodes share the first node's cloak key (each has its own data
    directory, so its own cloak.key): one address shows one cloak, and a
    K-line on that cloak set on one node matches the address on the other."""
    cluster.extra = OPERS
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    boss = await oper(cluster, "n1", "boss")
    here = await n1.client("here", CAPS)
    there = await n2.client("there", CAPS)
    await visible(here, "there")
    hosts = {m.params[5]: m.params[3] for m in await here.ask("WHO *") if m.command == "352"}
    assert hosts["here"] == hosts["there"], hosts
    cloak = hosts["there"]
    assert cloak.endswith(".hubbub") and cloak != HOST

    await boss.ask(f"KLINE 1h ~there@{cloak} :cloaked")
    await banned(there, "K-lined: cloaked")
