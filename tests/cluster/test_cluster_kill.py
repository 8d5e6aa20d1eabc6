"""An operator's KILL of a user of another node: the victim gets the KILL
line and the ERROR a single server gives, the members on both nodes see
its QUIT with the kill reason, and the nick is free afterwards."""

from __future__ import annotations

import asyncio
import re

from argon2 import PasswordHasher

from cluster.conftest import Cluster
from cluster.test_cluster_messages import CAPS, channel_known, visible
from harness import closing_link
from ircclient import RawClient

HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("s3cret")
OPERS = f'[[opers]]\nname = "admin"\npassword = "{HASH}"\n'


async def oper(cluster: Cluster, node: str, nick: str) -> RawClient:
    """A client of ``node`` that became an operator (``OPERS`` in the config)."""
    client = await cluster.nodes[node].client(nick, CAPS)
    replies = await client.ask("OPER admin s3cret")
    assert "381" in [m.command for m in replies], replies
    return client


async def joined(client: RawClient, channel: str, *seen_by: RawClient) -> None:
    await channel_known(client, channel)
    await client.ask(f"JOIN {channel}")
    for member in seen_by:
        await member.expect("JOIN")


async def test_an_operator_kills_a_user_of_another_node(cluster: Cluster) -> None:
    cluster.extra = OPERS
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    boss = await oper(cluster, "n1", "boss")
    alice = await n1.client("alice", CAPS)
    victim = await n2.client("victim", CAPS)
    carol = await n2.client("carol", CAPS)
    await visible(alice, "carol")
    await alice.ask("JOIN #tea")
    await joined(victim, "#tea", alice)
    await joined(carol, "#tea", alice, victim)
    await visible(boss, "victim")

    info = next(m.params for m in await boss.ask("WHOIS boss") if m.command == "311")
    boss_source = f"boss!{info[2]}@{info[3]}"
    assert (await boss.ask("KILL victim :spamming")) == []

    text = "Killed (boss (spamming))"
    kill = await victim.expect("KILL")
    assert kill.params == ["victim", text]
    assert kill.source == boss_source
    error = await victim.expect("ERROR")
    assert re.fullmatch(closing_link(text), error.params[0]), error
    assert await victim.closed()
    for member in (alice, carol):
        quit_ = await member.expect("QUIT")
        assert quit_.source is not None and quit_.source.startswith("victim!")
        assert quit_.params == [text]

    deadline = asyncio.get_running_loop().time() + 10
    while [m.command for m in await alice.ask("NICK victim")] != ["NICK"]:
        assert asyncio.get_running_loop().time() < deadline, "the nick victim was never freed"
        await asyncio.sleep(0.05)
    seen = await carol.expect("NICK")
    assert seen.params == ["victim"]
