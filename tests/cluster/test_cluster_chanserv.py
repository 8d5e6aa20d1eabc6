"""ChanServ's registrations are the same on every node: a channel
registered on one node, its access list and its drop are known on the
other, which auto-ops, answers INFO and forgets as the first does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from cluster.conftest import Cluster
from cluster.test_cluster_accounts import registered_account
from cluster.test_cluster_messages import CAPS, channel_known, visible
from hubbub.protocol.message import Message
from ircclient import RawClient


def from_chanserv(message: Message) -> bool:
    return message.command == "NOTICE" and (message.source or "").startswith("ChanServ!")


async def chanserv(client: RawClient, text: str) -> list[str]:
    """Every line of ChanServ's answer to ``text``."""
    await client.send(f"PRIVMSG ChanServ :{text}")
    await client.send("PING :sync")
    lines = await client.collect_until("PONG")
    return [m.params[1] for m in lines if from_chanserv(m)]


async def until(client: RawClient, text: str, check: Callable[[str], bool]) -> str:
    """Ask ChanServ ``text`` until its answer passes ``check`` (the bus is
    asynchronous, and the other node reads PostgreSQL after the event)."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        answer = "\n".join(await chanserv(client, text))
        if check(answer):
            return answer
        assert asyncio.get_running_loop().time() < deadline, answer
        await asyncio.sleep(0.1)


async def test_a_registration_made_on_one_node_holds_on_the_other(cluster: Cluster) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", CAPS)
    bob = await n2.client("bob", CAPS)
    await registered_account(alice)
    await registered_account(bob)
    await visible(bob, "alice")

    await alice.ask("JOIN #reg")
    assert any("now registered" in line for line in await chanserv(alice, "REGISTER #reg"))
    info = await until(bob, "INFO #reg", lambda text: "Founder" in text)
    assert "Founder    : alice" in info

    assert any("bob" in line for line in await chanserv(alice, "ACCESS #reg ADD bob op"))
    await until(bob, "ACCESS #reg LIST", lambda text: "bob" in text)
    await channel_known(bob, "#reg")
    joined = await bob.ask("JOIN #reg")
    assert joined[0].command == "JOIN"
    # n2's ChanServ auto-ops bob, as n1's would. The MODE waits for its turn
    # on the bus (cluster/order.py), so it may come before or after the
    # PONG that ends ``ask``.
    opped = next((m for m in joined if m.command == "MODE"), None) or await bob.expect("MODE")
    assert opped.params == ["#reg", "+o", "bob"]

    assert any("dropped" in line for line in await chanserv(alice, "DROP #reg"))
    await until(bob, "INFO #reg", lambda text: "not registered" in text)
