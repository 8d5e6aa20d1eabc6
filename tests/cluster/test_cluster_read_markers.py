"""MARKREAD (draft/read-marker) across nodes: a marker moved by one
connection of an account reaches the account's connections on another
node, and is what MARKREAD answers there."""

from __future__ import annotations

import asyncio

from cluster.conftest import Cluster
from harness import sasl_plain
from hubbub.store import open_store
from ircclient import RawClient
from store.conftest import CHEAP_HASHER

MARKER_CAPS = ["sasl", "draft/read-marker"]
WHEN = "timestamp=2024-05-01T12:00:00.000Z"


async def logged_in(client: RawClient, nick: str, account: str, password: str) -> None:
    await client.send("CAP LS 302")
    await client.send("CAP REQ :" + " ".join(MARKER_CAPS))
    await client.send(f"NICK {nick}")
    await client.send(f"USER {nick} 0 * :{nick}")
    await client.expect(lambda m: m.command == "CAP" and m.params[1] == "ACK")
    assert (await sasl_plain(client, account, password)).command == "903"
    await client.send("CAP END")
    await client.expect("376")


async def test_a_marker_set_on_one_node_reaches_the_account_on_the_other(
    cluster: Cluster,
) -> None:
    store = await open_store(cluster.database, hasher=CHEAP_HASHER)
    try:
        await store.accounts.create("alice", "alice-password")
    finally:
        await store.close()
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    laptop = await n1.client()
    await logged_in(laptop, "alice", "alice", "alice-password")
    phone = await n2.client()
    await logged_in(phone, "alicephone", "alice", "alice-password")
    assert await phone.answers("MARKREAD #tea") == [("MARKREAD", ["#tea", "*"])]

    await laptop.send(f"MARKREAD #tea {WHEN}")
    assert (await laptop.expect("MARKREAD")).params == ["#tea", WHEN]
    told = await phone.expect("MARKREAD")
    assert told.params == ["#tea", WHEN]
    assert await phone.answers("MARKREAD #tea") == [("MARKREAD", ["#tea", WHEN])]
    older = "timestamp=2024-04-01T12:00:00.000Z"  # markers only move forward
    assert await phone.answers(f"MARKREAD #tea {older}") == [("MARKREAD", ["#tea", WHEN])]
