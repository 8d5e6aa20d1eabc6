"""Two nodes, one network: users on different nodes see each other, their
JOIN/PART/NICK/QUIT, and their messages, once each, with the msgid and
server-time the sender's node gave them."""

from __future__ import annotations

import asyncio

from cluster.conftest import Cluster
from ircclient import RawClient

CAPS = ["message-tags", "server-time", "echo-message"]


async def visible(client: RawClient, nick: str, timeout: float = 10) -> None:
    """Wait until ``client``'s node knows ``nick`` (the bus is asynchronous)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        replies = await client.ask(f"ISON {nick}")
        if any(m.command == "303" and m.params[-1] == nick for m in replies):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{nick} never became visible")


async def channel_known(client: RawClient, channel: str, timeout: float = 10) -> None:
    """Wait until ``client``'s node knows ``channel`` exists: a JOIN sent
    before that creates it there too, with its own first op (docs/cluster.md)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if any(m.command == "322" for m in await client.ask(f"LIST {channel}")):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{channel} never became known")


async def two_users(cluster: Cluster) -> tuple[RawClient, RawClient]:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", CAPS)
    bob = await n2.client("bob", CAPS)
    await visible(alice, "bob")
    await visible(bob, "alice")
    return alice, bob


async def test_a_private_message_crosses_nodes_once_with_its_msgid_and_time(
    cluster: Cluster,
) -> None:
    alice, bob = await two_users(cluster)
    await alice.send("PRIVMSG bob :hello from n1")
    echo = await alice.expect("PRIVMSG")
    got = await bob.expect("PRIVMSG")
    assert got.params == ["bob", "hello from n1"]
    assert got.source is not None and got.source.startswith("alice!")
    assert got.tags["msgid"] == echo.tags["msgid"]
    assert got.tags["time"] == echo.tags["time"]
    await bob.nothing()


async def test_channel_traffic_crosses_nodes(cluster: Cluster) -> None:
    alice, bob = await two_users(cluster)
    await alice.ask("JOIN #tea")
    await channel_known(bob, "#tea")
    await bob.send("JOIN #tea")
    names = await bob.collect_until("366")
    assert any(m.command == "353" and "@alice" in m.params[-1].split() for m in names)
    joined = await alice.expect("JOIN")
    assert joined.source is not None and joined.source.startswith("bob!")

    await bob.send("PRIVMSG #tea :hi all")
    echo = await bob.expect("PRIVMSG")
    got = await alice.expect("PRIVMSG")
    assert got.params == ["#tea", "hi all"] and got.tags["msgid"] == echo.tags["msgid"]
    await alice.nothing()

    await bob.send("NICK robert")
    renamed = await alice.expect("NICK")
    assert renamed.params == ["robert"] and renamed.source is not None
    assert renamed.source.startswith("bob!")
    await bob.send("PART #tea :later")
    parted = await alice.expect("PART")
    assert parted.params == ["#tea", "later"] and parted.source is not None
    assert parted.source.startswith("robert!")


async def test_whois_and_who_answer_for_a_user_of_another_node(cluster: Cluster) -> None:
    alice, _bob = await two_users(cluster)
    whois = await alice.ask("WHOIS bob")
    [user] = [m for m in whois if m.command == "311"]
    assert user.params[1:3] == ["bob", "~bob"] and user.params[-1] == "bob realname"
    assert not any(m.command == "401" for m in whois)
    [where] = [m for m in whois if m.command == "312"]
    assert where.params[1:3] == ["bob", "n2.test.local"]  # the node bob is on
    who = await alice.ask("WHO bob")
    assert [m.params[4:6] for m in who if m.command == "352"] == [["n2.test.local", "bob"]]


async def test_a_quit_on_one_node_is_seen_on_the_other(cluster: Cluster) -> None:
    alice, bob = await two_users(cluster)
    await alice.ask("JOIN #tea")
    await channel_known(bob, "#tea")
    await bob.ask("JOIN #tea")
    await alice.expect("JOIN")
    await bob.send("QUIT :bye now")
    quit_ = await alice.expect("QUIT")
    assert quit_.params == ["Quit: bye now"]
    assert quit_.source is not None and quit_.source.startswith("bob!")
    assert await alice.answers("ISON bob") == [("303", ["alice", ""])]


async def test_a_message_to_the_ops_of_a_channel_reaches_them_on_every_node(
    cluster: Cluster,
) -> None:
    """``PRIVMSG @#chan`` reaches the channel's operators on the other node
    too, with the prefix kept, and no one else."""
    alice, bob = await two_users(cluster)
    await alice.ask("JOIN #ops")
    await channel_known(bob, "#ops")
    await bob.send("JOIN #ops")
    await bob.collect_until("366")
    await alice.expect("JOIN")
    n1, n2 = cluster.nodes["n1"], cluster.nodes["n2"]
    dave = await n1.client("dave", CAPS)
    carol = await n2.client("carol", CAPS)
    for member in (dave, carol):
        await member.send("JOIN #ops")
        await member.collect_until("366")
    await alice.ask("MODE #ops +o bob")
    assert (await bob.expect("MODE")).params == ["#ops", "+o", "bob"]
    await carol.expect("MODE")

    await alice.send("PRIVMSG @#ops :ops only, from n1")
    got = await bob.expect("PRIVMSG")
    assert got.params == ["@#ops", "ops only, from n1"]
    assert got.source is not None and got.source.startswith("alice!")
    await bob.send("NOTICE @#ops :seen, from n2")
    back = await alice.expect("NOTICE")
    assert back.params == ["@#ops", "seen, from n2"]
    await bob.send("PRIVMSG #ops :everyone")  # the members' next line: nothing came before it
    for member in (dave, carol):
        lines = await member.collect_until("PRIVMSG")
        assert [m.params for m in lines if m.command in ("PRIVMSG", "NOTICE")] == [
            ["#ops", "everyone"]
        ]
