"""One order per channel across nodes: senders on different nodes speaking
in one channel at the same moment, and every member on every node (each
sender's echo included) sees the same sequence of messages. A node delivers
its own users' channel messages when the bus hands them back, so the label
of a labeled message rides on its echo; without the bus a node delivers at
once. JOIN, PART, QUIT, KICK, NICK, TOPIC and MODE lines take their place in
that order too: messages sent just before a PART are seen before it by the
members of the sender's node as on the others (docs/cluster.md, "Ordering")."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cluster.conftest import Cluster, OwnRedis
from cluster.test_cluster_bus_restart import received
from cluster.test_cluster_messages import CAPS, channel_known, visible
from hubbub.protocol.message import Message
from ircclient import RawClient

BURST = 40  # messages per sender
LABELED = [*CAPS, "labeled-response", "batch"]


async def members(
    cluster: Cluster, nodes: list[str], channel: str
) -> tuple[list[RawClient], list[RawClient]]:
    """Per node a sender and a listener, all in ``channel`` and all known to
    every node; returns (senders, listeners)."""
    processes = await asyncio.gather(*(cluster.start(node) for node in nodes))
    senders = [await p.client(f"s{node}", CAPS) for p, node in zip(processes, nodes, strict=True)]
    listeners = [await p.client(f"l{node}", CAPS) for p, node in zip(processes, nodes, strict=True)]
    everyone = senders + listeners
    await everyone[0].ask(f"JOIN {channel}")
    for client in everyone[1:]:
        await channel_known(client, channel)
        await client.ask(f"JOIN {channel}")
    for client in everyone:  # every node has every member before anyone speaks
        for other in everyone:
            await visible(client, other.nick)
        await until_members(client, channel, len(everyone))
    for client in everyone:
        await client.sync()  # the JOINs (and MODEs) they saw
        client.log.clear()
    return senders, listeners


async def until_members(client: RawClient, channel: str, count: int, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        names = await client.ask(f"NAMES {channel}")
        nicks = [n for m in names if m.command == "353" for n in m.params[-1].split()]
        if len(nicks) == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{channel} never had {count} members on {client.nick}'s node")


async def msgids(client: RawClient, count: int) -> list[tuple[str, str]]:
    """The next ``count`` channel messages ``client`` reads: (msgid, text)."""
    seen: list[tuple[str, str]] = []
    while len(seen) < count:
        msg = await client.expect("PRIVMSG", timeout=20)
        seen.append((msg.tags["msgid"], msg.params[-1]))
    return seen


async def burst(sender: RawClient, channel: str) -> None:
    """``BURST`` messages in one write: they arrive at the node together."""
    lines = "".join(f"PRIVMSG {channel} :{sender.nick} {n}\r\n" for n in range(BURST))
    await sender.send_raw(lines.encode())


async def concurrent_bursts(senders: list[RawClient], clients: list[RawClient]) -> None:
    total = BURST * len(senders)
    await asyncio.gather(*(burst(sender, "#order") for sender in senders))
    sequences = await asyncio.gather(*(msgids(client, total) for client in clients))
    first = sequences[0]
    assert len({msgid for msgid, _ in first}) == total  # each message once
    for sender in senders:  # one sender's messages in the order sent
        own = [text for _, text in first if text.startswith(sender.nick + " ")]
        assert own == [f"{sender.nick} {n}" for n in range(BURST)]
    for client, sequence in zip(clients, sequences, strict=True):
        assert sequence == first, f"{client.nick} saw another order"
    for client in clients:
        await client.nothing()


async def test_concurrent_senders_on_two_nodes_are_seen_in_one_order(cluster: Cluster) -> None:
    senders, listeners = await members(cluster, ["n1", "n2"], "#order")
    await concurrent_bursts(senders, senders + listeners)
    await concurrent_bursts(senders, senders + listeners)  # and again, still one order


async def test_concurrent_senders_on_three_nodes_are_seen_in_one_order(cluster: Cluster) -> None:
    senders, listeners = await members(cluster, ["n1", "n2", "n3"], "#order")
    await concurrent_bursts(senders, senders + listeners)


async def test_a_labeled_channel_message_gets_its_labeled_echo_once(cluster: Cluster) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", LABELED)
    bob = await n2.client("bob", CAPS)
    await alice.ask("JOIN #tea")
    await channel_known(bob, "#tea")
    await bob.ask("JOIN #tea")
    await alice.expect("JOIN")

    await alice.send("@label=one PRIVMSG #tea :hello")
    echo = await alice.expect("PRIVMSG")
    assert echo.tags["label"] == "one" and echo.params == ["#tea", "hello"]
    got = await bob.expect("PRIVMSG")
    assert got.tags["msgid"] == echo.tags["msgid"] and "label" not in got.tags
    await alice.nothing()  # no ACK, no second response

    # Without echo-message the labeled response is an ACK, at once.
    await alice.send("CAP REQ -echo-message")
    await alice.expect("CAP")
    answered = await alice.ask("@label=two PRIVMSG #tea :quiet")
    assert [(m.command, m.tags.get("label")) for m in answered] == [("ACK", "two")]
    assert (await bob.expect("PRIVMSG")).params == ["#tea", "quiet"]


async def test_a_labeled_multiline_message_gets_its_labeled_echo_once(cluster: Cluster) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    caps = [*LABELED, "draft/multiline"]
    alice = await n1.client("alice", caps)
    bob = await n2.client("bob", CAPS)
    await alice.ask("JOIN #tea")
    await channel_known(bob, "#tea")
    await bob.ask("JOIN #tea")
    await alice.expect("JOIN")

    await alice.send("@label=ml BATCH +b draft/multiline #tea")
    await alice.send("@batch=b PRIVMSG #tea :line one")
    await alice.send("@batch=b PRIVMSG #tea :line two")
    await alice.send("BATCH -b")
    opened = await alice.expect("BATCH")
    assert opened.tags["label"] == "ml" and opened.params[1] == "draft/multiline"
    echoed = await alice.collect_until("BATCH")
    assert [m.params[-1] for m in echoed if m.command == "PRIVMSG"] == ["line one", "line two"]
    first = await bob.expect("PRIVMSG")
    assert first.params == ["#tea", "line one"] and first.tags["msgid"] == opened.tags["msgid"]
    assert (await bob.expect("PRIVMSG")).params == ["#tea", "line two"]
    await alice.nothing()


async def test_without_the_bus_a_node_delivers_its_users_messages_at_once(
    tmp_path: Path, cluster_database: str, own_redis: OwnRedis
) -> None:
    cluster = Cluster(tmp_path, cluster_database, own_redis.url)
    try:
        n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
        alice = await n1.client("alice", LABELED)
        carol = await n1.client("carol", CAPS)
        bob = await n2.client("bob", CAPS)
        await alice.ask("JOIN #tea")
        for client in (carol, bob):
            await channel_known(client, "#tea")
            await client.ask("JOIN #tea")
        await until_members(alice, "#tea", 3)

        own_redis.stop()
        for n in range(3):
            await alice.send(f"@label=l{n} PRIVMSG #tea :split {n}")
        echoes = [await alice.expect("PRIVMSG") for _ in range(3)]
        assert [(m.tags["label"], m.params[-1]) for m in echoes] == [
            (f"l{n}", f"split {n}") for n in range(3)
        ]
        got = [await carol.expect("PRIVMSG") for _ in range(3)]
        assert [m.tags["msgid"] for m in got] == [m.tags["msgid"] for m in echoes]
        # Back on the bus, the messages sent meanwhile are not delivered twice.
        own_redis.start()
        await own_redis.ready()
        await received(alice, bob, "bob", timeout=20)
        await alice.send("PRIVMSG #tea :rejoined")
        await bob.expect(lambda m: m.command == "PRIVMSG" and m.params[-1] == "rejoined", 20)
        after = await carol.expect("PRIVMSG")
        assert after.params == ["#tea", "rejoined"]
        await carol.nothing()
    finally:
        await cluster.close()


# --- JOIN, PART, QUIT, KICK, NICK, TOPIC, MODE in the channel's one order ---------------

Line = tuple[str, str, str, str]  # command, source, last parameter, msgid of a message


def shape(msg: Message) -> Line:
    msgid = msg.tags.get("msgid", "") if msg.command == "PRIVMSG" else ""
    return (msg.command, msg.source or "", msg.params[-1], msgid)


async def lines_until(client: RawClient, command: str) -> list[Line]:
    """Every line ``client`` reads up to and including the first ``command``."""
    return [shape(msg) for msg in await client.collect_until(command, timeout=20)]


async def take(client: RawClient, count: int) -> list[Line]:
    return [shape(await client.read(timeout=20)) for _ in range(count)]


async def gathered(cluster: Cluster, *who: tuple[str, str]) -> list[RawClient]:
    """Users (node, nick) all in #order, known to every node, the first its op."""
    nodes = sorted({node for node, _ in who})
    started = await asyncio.gather(*(cluster.start(node) for node in nodes))
    processes = dict(zip(nodes, started, strict=True))
    clients = [await processes[node].client(nick, CAPS) for node, nick in who]
    await clients[0].ask("JOIN #order")
    for client in clients[1:]:
        await channel_known(client, "#order")
        await client.ask("JOIN #order")
    for client in clients:
        for other in clients:
            await visible(client, other.nick)
        await until_members(client, "#order", len(clients))
    for number, client in enumerate(clients):  # each has seen the later joiners come
        later = {other.nick for other in clients[number + 1 :]}
        while not later <= {nick_of(m) for m in client.log if m.command == "JOIN"}:
            await client.read(timeout=20)
        await client.sync()  # and what came with them
    return clients


def nick_of(msg: Message) -> str:
    return (msg.source or "").split("!")[0]


def said(count: int) -> str:
    return "".join(f"PRIVMSG #order :m{n}\r\n" for n in range(count))


def texts(lines: list[Line]) -> list[str]:
    return [text for _, _, text, _ in lines]


async def test_messages_sent_just_before_a_part_are_seen_before_it_on_every_node(
    cluster: Cluster,
) -> None:
    alice, carol, bob = await gathered(cluster, ("n1", "alice"), ("n1", "carol"), ("n2", "bob"))
    await alice.send_raw((said(BURST) + "PART #order :gone\r\n").encode())
    here, there = await asyncio.gather(lines_until(carol, "PART"), lines_until(bob, "PART"))
    assert texts(here) == [f"m{n}" for n in range(BURST)] + ["gone"]
    assert here == there  # the same lines, messages with the same msgids, in one order
    await carol.nothing()
    await bob.nothing()


async def test_messages_sent_just_before_a_quit_are_seen_before_it_on_every_node(
    cluster: Cluster,
) -> None:
    alice, carol, bob = await gathered(cluster, ("n1", "alice"), ("n1", "carol"), ("n2", "bob"))
    await alice.send_raw((said(BURST) + "QUIT :gone\r\n").encode())
    here, there = await asyncio.gather(lines_until(carol, "QUIT"), lines_until(bob, "QUIT"))
    assert [command for command, *_ in here] == ["PRIVMSG"] * BURST + ["QUIT"]
    assert texts(here)[:BURST] == [f"m{n}" for n in range(BURST)]
    assert here == there


async def test_messages_sent_just_before_their_sender_is_kicked_are_seen_before_the_kick(
    cluster: Cluster,
) -> None:
    op, alice, carol, bob = await gathered(
        cluster, ("n1", "op"), ("n1", "alice"), ("n1", "carol"), ("n2", "bob")
    )
    # The sender's messages are all taken (its PONG answers after them), and
    # most likely still on their way through the bus when the KICK is made.
    await alice.send_raw((said(BURST) + "PING sent\r\n").encode())
    early = [shape(msg) for msg in await alice.collect_until("PONG") if msg.command != "PONG"]
    await op.send("KICK #order alice :enough")
    here, there, own = await asyncio.gather(
        lines_until(carol, "KICK"), lines_until(bob, "KICK"), lines_until(alice, "KICK")
    )
    assert texts(here) == [f"m{n}" for n in range(BURST)] + ["enough"]
    assert here == there
    assert early + own == here  # the kicked sender: its echoes, then its KICK


async def test_a_joiners_first_messages_come_after_its_join_on_every_node(
    cluster: Cluster,
) -> None:
    carol, bob = await gathered(cluster, ("n1", "carol"), ("n2", "bob"))
    dave = await cluster.nodes["n1"].client("dave", CAPS)
    await dave.send_raw(("JOIN #order\r\n" + said(BURST)).encode())
    here, there = await asyncio.gather(take(carol, BURST + 1), take(bob, BURST + 1))
    assert [command for command, *_ in here] == ["JOIN"] + ["PRIVMSG"] * BURST
    assert here[0][1].startswith("dave!")
    assert here == there


async def test_nick_topic_and_mode_changes_keep_their_place_among_messages(
    cluster: Cluster,
) -> None:
    op, carol, bob = await gathered(cluster, ("n1", "op"), ("n1", "carol"), ("n2", "bob"))
    changes = [
        "PRIVMSG #order :m0",
        "NICK op2",
        "PRIVMSG #order :m1",
        "TOPIC #order :a topic",
        "PRIVMSG #order :m2",
        "MODE #order +v carol",
        "PRIVMSG #order :m3",
    ]
    await op.send_raw("".join(line + "\r\n" for line in changes).encode())
    here, there = await asyncio.gather(take(carol, len(changes)), take(bob, len(changes)))
    assert [command for command, *_ in here] == [line.split()[0] for line in changes]
    assert texts(here) == ["m0", "op2", "m1", "a topic", "m2", "carol", "m3"]
    assert here == there
