"""A user's realname, user@host and user modes changed after registration
are seen at once on the other node: SETNAME and CHGHOST to its users with
the caps, WHOIS, WHO and LUSERS there."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from argon2 import PasswordHasher

from cluster.conftest import Cluster, OwnRedis, cluster_with_cuttable
from cluster.test_cluster_messages import CAPS, channel_known, visible
from hubbub.protocol.message import Message
from ircclient import RawClient

HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("s3cret")
USER_CAPS = [*CAPS, "setname", "chghost"]


async def eventually(
    client: RawClient, line: str, check: Callable[[list[Message]], bool], timeout: float = 10
) -> list[Message]:
    """Ask ``line`` until the answer passes ``check`` (the bus is asynchronous)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        replies = await client.ask(line)
        if check(replies):
            return replies
        assert asyncio.get_running_loop().time() < deadline, replies
        await asyncio.sleep(0.05)


def numeric(replies: list[Message], code: str) -> list[str]:
    return next(m.params for m in replies if m.command == code)


async def sharing_a_channel(cluster: Cluster) -> tuple[RawClient, RawClient]:
    cluster.extra = f'[[opers]]\nname = "admin"\npassword = "{HASH}"\n'
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", USER_CAPS)
    bob = await n2.client("bob", USER_CAPS)
    await visible(bob, "alice")
    await alice.ask("JOIN #tea")
    await channel_known(bob, "#tea")
    await bob.ask("JOIN #tea")
    await alice.expect("JOIN")
    return alice, bob


async def test_setname_and_chghost_reach_the_other_node(cluster: Cluster) -> None:
    alice, bob = await sharing_a_channel(cluster)
    await alice.send("SETNAME :Alice Liddell")
    told = await bob.expect("SETNAME")
    assert told.source is not None and told.source.startswith("alice!")
    assert told.params == ["Alice Liddell"]
    assert numeric(await bob.ask("WHOIS alice"), "311")[-1] == "Alice Liddell"

    await alice.ask("OPER admin s3cret")
    await alice.send("SETHOST alice looking@glass.example")
    assert (await alice.expect("CHGHOST")).params == ["looking", "glass.example"]
    changed = await bob.expect("CHGHOST")
    assert changed.source is not None and changed.source.startswith("alice!")
    assert changed.params == ["looking", "glass.example"]
    whois = numeric(await bob.ask("WHOIS alice"), "311")
    assert whois[2:4] == ["looking", "glass.example"]
    who = numeric(await bob.ask("WHO alice"), "352")
    assert who[2:4] == ["looking", "glass.example"] and who[-1].endswith("Alice Liddell")

    # an operator of n2 gives alice, a user of n1, a new host: n1 tells her
    await bob.ask("OPER admin s3cret")
    await bob.send("SETHOST alice rabbit@hole.example")
    mine = await alice.expect("CHGHOST")
    assert mine.source == "alice!looking@glass.example"
    assert mine.params == ["rabbit", "hole.example"]
    assert numeric(await alice.ask("WHOIS alice"), "311")[2:4] == ["rabbit", "hole.example"]


async def test_user_modes_changed_later_show_on_the_other_node(cluster: Cluster) -> None:
    alice, bob = await sharing_a_channel(cluster)

    def invisible(replies: list[Message]) -> int:
        return int(numeric(replies, "251")[1].split(" and ")[1].split()[0])

    before = invisible(await bob.ask("LUSERS"))
    flip = "-i" if before else "+i"  # alice is counted invisible or not
    await alice.ask(f"MODE alice {flip}")
    after = before - 1 if flip == "-i" else before + 1
    await eventually(bob, "LUSERS", lambda replies: invisible(replies) == after)

    assert not any(m.command == "313" for m in await bob.ask("WHOIS alice"))
    await alice.ask("OPER admin s3cret")
    whois = await eventually(bob, "WHOIS alice", lambda rs: any(m.command == "313" for m in rs))
    assert numeric(whois, "313")[1:] == ["alice", "is an IRC operator"]
    assert "*" in numeric(await bob.ask("WHO alice"), "352")[6]  # flags: H*
    assert numeric(await bob.ask("LUSERS"), "252")[1] == "1"

    await alice.ask("MODE alice -o")
    await eventually(bob, "WHOIS alice", lambda rs: not any(m.command == "313" for m in rs))
    assert numeric(await bob.ask("LUSERS"), "252")[1] == "0"


async def test_a_node_off_the_bus_while_a_user_changed_learns_it_from_the_burst(
    tmp_path: Path, cluster_database: str, own_redis: OwnRedis
) -> None:
    """n2 misses alice's NICK, SETNAME and AWAY while cut off the bus; n1's
    burst when n2 is back carries them: carol, sharing a channel, sees the
    lines she missed, and n2 answers for the new nick and no longer for the
    old."""
    cuttable = cluster_with_cuttable(tmp_path, cluster_database, own_redis, "n2")
    async with cuttable as (cluster, link):
        n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
        alice = await n1.client("alice", USER_CAPS)
        carol = await n2.client("carol", [*USER_CAPS, "away-notify"])
        await visible(carol, "alice")
        await alice.ask("JOIN #club")
        await channel_known(carol, "#club")
        await carol.ask("JOIN #club")
        await alice.expect("JOIN")

        await link.cut()
        renamed = await alice.ask("NICK alicia")
        assert [(m.command, m.params) for m in renamed] == [("NICK", ["alicia"])]
        await alice.ask("SETNAME :Alice Liddell")
        await alice.ask("AWAY :at tea")
        await link.let_back()

        line = await carol.expect("NICK", timeout=15)
        assert line.params == ["alicia"]
        assert line.source is not None and line.source.startswith("alice!")
        assert (await carol.expect("SETNAME")).params == ["Alice Liddell"]
        away = await carol.expect("AWAY")
        assert away.params == ["at tea"]
        assert away.source is not None and away.source.startswith("alicia!")
        whois = await carol.ask("WHOIS alicia")
        assert numeric(whois, "311")[1:] == [
            "alicia",
            "~alice",
            numeric(whois, "311")[3],
            "*",
            "Alice Liddell",
        ]
        assert (await carol.ask("WHOIS alice"))[0].command == "401"
