"""REDACT (draft/message-redaction) across nodes: the members of the other
node that have the capability are told, and the message leaves the shared
history for every node."""

from __future__ import annotations

import asyncio

from cluster.conftest import Cluster
from cluster.test_cluster_messages import CAPS, channel_known, visible
from ircclient import RawClient

REDACT_CAPS = [*CAPS, "batch", "draft/chathistory", "draft/message-redaction"]


async def history_msgids(client: RawClient, channel: str) -> list[str]:
    replay = await client.ask(f"CHATHISTORY LATEST {channel} * 10")
    return [m.tags["msgid"] for m in replay if m.command == "PRIVMSG"]


async def history_becomes(
    client: RawClient, channel: str, wanted: list[str], timeout: float = 10
) -> None:
    """Wait until CHATHISTORY on ``client``'s node returns exactly ``wanted``
    (the origin writes history in batches, every flush_interval)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await history_msgids(client, channel) == wanted:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"history of {channel} never became {wanted}")


async def test_a_redaction_on_one_node_reaches_the_other_and_empties_history(
    cluster: Cluster,
) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", REDACT_CAPS)
    bob = await n2.client("bob", REDACT_CAPS)
    carol = await n2.client("carol", CAPS)  # no draft/message-redaction
    await visible(alice, "carol")
    await alice.ask("JOIN #tea")  # alice creates it: op, may redact anything
    await channel_known(bob, "#tea")
    for client in (bob, carol):
        await client.ask("JOIN #tea")
        await alice.expect("JOIN")

    await alice.send("PRIVMSG #tea :oops")
    msgid = (await alice.expect("PRIVMSG")).tags["msgid"]
    for client in (bob, carol):
        assert (await client.expect("PRIVMSG")).tags["msgid"] == msgid
    await alice.send("PRIVMSG #tea :kept")
    kept = (await alice.expect("PRIVMSG")).tags["msgid"]
    for client in (bob, carol):
        assert (await client.expect("PRIVMSG")).tags["msgid"] == kept
    await history_becomes(bob, "#tea", [msgid, kept])

    await alice.send(f"REDACT #tea {msgid} :typo")
    echo = await alice.expect("REDACT")
    assert echo.params == ["#tea", msgid, "typo"]
    redact = await bob.expect("REDACT")
    assert redact.params == ["#tea", msgid, "typo"]
    assert redact.source is not None and redact.source.startswith("alice!")
    await carol.nothing()  # n2 told bob already; carol lacks the cap
    await history_becomes(bob, "#tea", [kept])
    assert await history_msgids(alice, "#tea") == [kept]
