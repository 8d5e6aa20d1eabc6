"""What travels on the Redis bus, watched from a subscriber of the test's
own: a private message to a user of another node goes on that node's
channel alone, events travel many to a message in the bus format, a
message in another format (a node of another version) is ignored, and a
message sent again (a retried send) is applied once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from cluster.conftest import Cluster
from cluster.test_cluster_messages import CAPS, visible

FORMAT = 3  # docs/cluster.md, "The bus"


async def drain(pubsub: PubSub, seconds: float = 0.5) -> list[tuple[str, Any]]:
    """Every (channel, decoded message) seen on the bus for ``seconds``."""
    seen: list[tuple[str, Any]] = []
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if message is not None:
            seen.append((str(message["channel"]), json.loads(message["data"])))
    return seen


def events(seen: list[tuple[str, Any]], channel: str) -> list[dict[str, Any]]:
    return [event for name, message in seen if name == channel for event in message[3:]]


async def test_a_private_message_goes_to_its_recipients_node_alone(cluster: Cluster) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", CAPS)
    bob = await n2.client("bob", CAPS)
    await visible(alice, "bob")
    await visible(bob, "alice")
    redis = Redis.from_url(cluster.bus, decode_responses=True)
    pubsub = redis.pubsub()
    prefix = f"hubbub:{cluster.network}:"
    try:
        await pubsub.psubscribe(prefix + "*")
        await drain(pubsub, 0.2)
        for n in range(3):
            await alice.send(f"PRIVMSG bob :private {n}")
        await alice.ask("JOIN #tea")
        await alice.send("PRIVMSG #tea :public")
        for n in range(3):
            got = await bob.expect("PRIVMSG")
            assert got.params == ["bob", f"private {n}"]
        seen = await drain(pubsub)
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await redis.aclose()

    assert seen and all(isinstance(m, list) and m[0] == FORMAT for _, m in seen)
    to_n2 = [e for e in events(seen, prefix + "to:n2") if e["t"] == "msg"]
    assert [e["text"] for e in to_n2] == [f"private {n}" for n in range(3)]
    public = events(seen, prefix + "events")
    assert [e["text"] for e in public if e["t"] == "msg"] == ["public"]
    assert events(seen, prefix + "to:n1") == []


async def test_a_bus_message_in_another_format_is_ignored(cluster: Cluster) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", CAPS)
    bob = await n2.client("bob", CAPS)
    await visible(alice, "bob")
    redis = Redis.from_url(cluster.bus, decode_responses=True)
    channel = f"hubbub:{cluster.network}:events"
    mallory = {
        "t": "user",
        "n": "n9",
        "i": "000000000000",
        "u": "n9.000000000000.1",
        "srv": "n9.test.local",
        "nick": "mallory",
        "user": "~m",
        "host": "example.invalid",
        "real": "M",
        "signon": 0,
    }
    try:
        await redis.publish(channel, json.dumps(mallory))  # format 1: one bare event
        # bob's message crosses after it: once it is here, n1 has read the other
        await bob.send("PRIVMSG alice :after")
        await alice.expect("PRIVMSG")
        replies = await alice.ask("WHOIS mallory")
        assert replies[0].command == "401"
        await redis.publish(channel, json.dumps([FORMAT, "n9.000000000000", 1, mallory]))
        await visible(alice, "mallory")
    finally:
        await redis.aclose()


async def test_a_bus_message_sent_twice_is_applied_once(cluster: Cluster) -> None:
    """A send retried after Redis took it (a pipeline cut half way, an
    answer lost with the connection) publishes the same message again; the
    receiving node applies it once, and later messages as usual."""
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", CAPS)
    bob = await n2.client("bob", CAPS)
    await visible(alice, "bob")
    redis = Redis.from_url(cluster.bus, decode_responses=True)
    pubsub = redis.pubsub()
    to_n2 = f"hubbub:{cluster.network}:to:n2"
    try:
        await pubsub.subscribe(to_n2)
        await drain(pubsub, 0.2)
        await alice.send("PRIVMSG bob :once")
        assert (await bob.expect("PRIVMSG")).params == ["bob", "once"]
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
        assert message is not None
        await redis.publish(to_n2, message["data"])  # the same message again
        await alice.send("PRIVMSG bob :next")
        assert (await bob.expect("PRIVMSG")).params == ["bob", "next"]
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await redis.aclose()
