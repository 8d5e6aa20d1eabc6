"""Private history between users of different nodes: a conversation is one
conversation whichever node stored each message, found from either side,
on either node, after reconnecting, and redacted from both sides."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from cluster.conftest import Cluster
from cluster.test_cluster_messages import CAPS, visible
from harness import identify, register_logged_in, until
from hubbub.store import open_store
from ircclient import RawClient
from store.conftest import CHEAP_HASHER

HISTORY_CAPS = [*CAPS, "batch", "draft/chathistory", "draft/message-redaction"]
PASSWORD = "account-password"


async def make_accounts(cluster: Cluster, *names: str) -> None:
    store = await open_store(cluster.database, hasher=CHEAP_HASHER)
    try:
        for name in names:
            await store.accounts.create(name, PASSWORD)
    finally:
        await store.close()


async def logged_in(node_client: RawClient, nick: str) -> RawClient:
    """``node_client`` (not yet registered) registers as ``nick``, logged in by SASL."""
    await register_logged_in(node_client, nick, PASSWORD, HISTORY_CAPS)
    return node_client


async def account_known(client: RawClient, nick: str, account: str, timeout: float = 10) -> None:
    """Wait until ``client``'s node knows ``nick`` is logged in as
    ``account``: a login after registering reaches the other node by the bus,
    after the nick, and a message sent before it is filed as a guest's."""

    async def logged_in_there() -> bool:
        replies = await client.ask(f"WHOIS {nick}")
        return any(m.command == "330" and m.params[2] == account for m in replies)

    await until(logged_in_there, timeout)


async def say(client: RawClient, to: RawClient, target: str, text: str) -> tuple[str, str]:
    """``client`` sends ``text`` to ``target`` (``to``'s nick); ``to`` gets it
    with the echo's msgid. Returns (msgid, text)."""
    await client.send(f"PRIVMSG {target} :{text}")
    echo = await client.expect(lambda m: m.command == "PRIVMSG" and m.params[1] == text)
    got = await to.expect(lambda m: m.command == "PRIVMSG" and m.params[1] == text)
    assert got.tags["msgid"] == echo.tags["msgid"]
    # History orders by the nodes' stamps, to the millisecond, and a node's
    # stamps may run 1 ms ahead (delivery.stamp_after; docs/cluster.md,
    # "Ordering"): the next turn of the conversation comes after that.
    stamped = datetime.fromisoformat(echo.tags["time"].replace("Z", "+00:00")).timestamp()
    await asyncio.sleep(max(0.0, stamped + 0.003 - time.time()))
    return echo.tags["msgid"], text


async def conversation(client: RawClient, other: str) -> list[tuple[str, str]]:
    """(msgid, text) of CHATHISTORY LATEST ``other``, oldest first."""
    replay = await client.ask(f"CHATHISTORY LATEST {other} * 10")
    fails = [m for m in replay if m.command == "FAIL"]
    assert fails == [], fails
    return [(m.tags["msgid"], m.params[1]) for m in replay if m.command == "PRIVMSG"]


async def conversation_becomes(
    client: RawClient, other: str, wanted: list[tuple[str, str]], timeout: float = 10
) -> None:
    """Wait until ``client``'s node serves exactly ``wanted`` (each node
    writes what it delivered in batches, every flush_interval)."""
    deadline = asyncio.get_running_loop().time() + timeout
    served: list[tuple[str, str]] = []
    while asyncio.get_running_loop().time() < deadline:
        served = await conversation(client, other)
        if served == wanted:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"history with {other} is {served}, never {wanted}")


def stamp(when: datetime) -> str:
    return "timestamp=" + when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


async def targets(client: RawClient) -> list[str]:
    now = datetime.now(UTC)
    window = f"{stamp(now - timedelta(minutes=5))} {stamp(now + timedelta(minutes=5))}"
    replies = await client.ask(f"CHATHISTORY TARGETS {window} 10")
    return [m.params[1] for m in replies if m.command == "CHATHISTORY"]


async def test_a_conversation_across_nodes_is_one_conversation_from_both_sides(
    cluster: Cluster,
) -> None:
    await make_accounts(cluster, "alice", "bob")
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await logged_in(await n1.client(), "alice")  # SASL: in her first user event
    bob = await n2.client("bob", HISTORY_CAPS)
    await identify(bob, "bob", PASSWORD)  # after registering: an ACCOUNT event
    await account_known(alice, "bob", "bob")
    await visible(bob, "alice")

    talk = [
        await say(alice, bob, "bob", "hello bob, from n1"),
        await say(bob, alice, "alice", "hello alice, from n2"),
        await say(alice, bob, "bob", "how are things on n2?"),
        await say(bob, alice, "alice", "fine"),
    ]
    await conversation_becomes(alice, "bob", talk)
    await conversation_becomes(bob, "alice", talk)
    assert await targets(alice) == ["bob"]
    assert await targets(bob) == ["alice"]

    # Both leave; each finds the conversation while the other is offline,
    # then from the other node while the other is online there.
    await alice.send("QUIT")
    assert await alice.closed()
    await conversation_becomes(bob, "alice", talk)
    await bob.send("QUIT")
    assert await bob.closed()
    alice = await logged_in(await n2.client(), "alice")
    assert await conversation(alice, "bob") == talk
    bob = await logged_in(await n1.client(), "bob")
    await visible(alice, "bob")
    assert await conversation(alice, "bob") == talk
    assert await conversation(bob, "alice") == talk
    talk.append(await say(bob, alice, "alice", "now I am on n1"))
    await conversation_becomes(alice, "bob", talk)
    await conversation_becomes(bob, "alice", talk)
    assert await targets(alice) == ["bob"]
    assert await targets(bob) == ["alice"]


async def test_a_guest_talking_to_an_account_on_another_node_is_filed_as_on_one_node(
    cluster: Cluster,
) -> None:
    await make_accounts(cluster, "alice")
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await logged_in(await n1.client(), "alice")
    carol = await n2.client("carol", HISTORY_CAPS)  # a guest
    await visible(alice, "carol")
    await visible(carol, "alice")

    talk = [
        await say(alice, carol, "carol", "hi guest"),
        await say(carol, alice, "alice", "hi alice"),
    ]
    # alice keeps her side of the talk, filed under the guest's nick ...
    await conversation_becomes(alice, "carol", talk)
    assert await targets(alice) == ["carol"]
    # ... and the guest is served no private history, on either node.
    for node in (carol, await n1.client("dave", HISTORY_CAPS)):
        replies = await node.ask("CHATHISTORY LATEST alice * 10")
        assert [m.params[:4] for m in replies if m.command in ("FAIL", "PRIVMSG")] == [
            ["CHATHISTORY", "INVALID_TARGET", "LATEST", "alice"]
        ]


async def test_a_private_message_redacted_on_one_node_is_gone_on_both(
    cluster: Cluster,
) -> None:
    await make_accounts(cluster, "alice", "bob")
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await logged_in(await n1.client(), "alice")
    bob = await logged_in(await n2.client(), "bob")
    await visible(alice, "bob")
    await visible(bob, "alice")
    oops = await say(alice, bob, "bob", "oops, wrong window")
    kept = await say(bob, alice, "alice", "what was that?")
    await conversation_becomes(alice, "bob", [oops, kept])
    await conversation_becomes(bob, "alice", [oops, kept])

    await alice.send(f"REDACT bob {oops[0]} :sorry")
    assert (await alice.expect("REDACT")).params == ["bob", oops[0], "sorry"]
    told = await bob.expect("REDACT")
    assert told.params == ["bob", oops[0], "sorry"]
    assert told.source is not None and told.source.startswith("alice!")
    await conversation_becomes(bob, "alice", [kept])
    assert await conversation(alice, "bob") == [kept]
    # alice's node finds bob's message in their conversation: not hers to delete
    failed = await alice.ask(f"REDACT bob {kept[0]}")
    assert [m.params[:2] for m in failed if m.command == "FAIL"] == [["REDACT", "REDACT_FORBIDDEN"]]
    # its sender deletes it from n2, the other way round
    await bob.send(f"REDACT alice {kept[0]}")
    assert (await bob.expect("REDACT")).params == ["alice", kept[0]]
    assert (await alice.expect("REDACT")).params == ["alice", kept[0]]
    await conversation_becomes(alice, "bob", [])
    assert await conversation(bob, "alice") == []


async def test_an_account_registered_on_another_node_keeps_its_history_here(
    cluster: Cluster,
) -> None:
    """n1 opened its store before erin's account existed: her first login
    there, and bob asking for her while she is offline, find the account."""
    await make_accounts(cluster, "bob")
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    bob = await logged_in(await n1.client(), "bob")
    erin = await n2.client("erin", HISTORY_CAPS)
    registered = await erin.ask(f"PRIVMSG NickServ :REGISTER {PASSWORD}")
    assert "900" in [m.command for m in registered], registered
    await account_known(bob, "erin", "erin")
    await visible(erin, "bob")
    talk = [
        await say(erin, bob, "bob", "my account is new"),
        await say(bob, erin, "erin", "welcome"),
    ]
    await conversation_becomes(bob, "erin", talk)
    await conversation_becomes(erin, "bob", talk)

    await erin.send("QUIT")
    assert await erin.closed()
    assert await conversation(bob, "erin") == talk
    erin = await logged_in(await n1.client(), "erin")
    assert await conversation(erin, "bob") == talk
    assert await targets(erin) == ["bob"]
