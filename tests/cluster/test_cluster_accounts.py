"""Accounts network-wide: an account registered on one node is protected on
the other at once, and one dropped there logs its users out here and is
free to register again."""

from __future__ import annotations

import asyncio

from cluster.conftest import Cluster
from cluster.test_cluster_messages import CAPS, visible
from ircclient import RawClient

PASSWORD = "correct-horse-battery"
PROTECTION = "[accounts]\nnick_protection_delay = 0.5\n"


async def registered_account(client: RawClient) -> None:
    """``client`` registers an account named after its nick (and is logged in)."""
    replies = await client.ask(f"REGISTER * * {PASSWORD}")
    assert ("REGISTER", ["SUCCESS", client.nick, "Account created"]) in [
        (m.command, m.params) for m in replies
    ], replies


async def crossed(sender: RawClient, watcher: RawClient, nick: str) -> None:
    """``sender`` takes ``nick`` and ``watcher``'s node sees it: every event
    ``sender``'s node published before has been applied there (one node's
    events arrive in the order it published them)."""
    await sender.ask(f"NICK {nick}")
    sender.nick = nick
    await visible(watcher, nick)


async def test_an_account_registered_on_one_node_is_protected_on_the_other(
    cluster: Cluster,
) -> None:
    cluster.extra = PROTECTION
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", CAPS)
    peer = await n2.client("peer", CAPS)
    await visible(peer, "alice")
    await registered_account(alice)
    await crossed(alice, peer, "alice_away")  # leaves the nick alice free

    await peer.ask("JOIN #room")
    intruder = await n2.client("alice", CAPS)
    warning = await intruder.expect("NOTICE")
    assert warning.source is not None and warning.source.startswith("NickServ!")
    assert "The nick alice is registered" in warning.params[1]
    assert "0.5 seconds" in warning.params[1]
    await intruder.ask("JOIN #room")
    await peer.expect("JOIN")
    renamed = await peer.expect("NICK", timeout=10)
    assert (renamed.source or "").startswith("alice!")
    assert renamed.params[0].startswith("Guest")
    assert (await intruder.expect("NICK")).params == renamed.params


async def test_an_account_dropped_on_one_node_logs_out_and_is_forgotten_on_the_other(
    cluster: Cluster,
) -> None:
    cluster.extra = PROTECTION
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", CAPS)
    bob = await n2.client("bob", CAPS)
    await visible(bob, "alice")
    await registered_account(alice)
    identified = await bob.ask(f"PRIVMSG NickServ :IDENTIFY alice {PASSWORD}")
    assert "900" in [m.command for m in identified], identified

    dropped = await alice.ask(f"PRIVMSG NickServ :DROP alice {PASSWORD}")
    assert any("has been deleted" in m.params[-1] for m in dropped), dropped
    logged_out = await bob.expect("901")  # as on the node that dropped it
    assert logged_out.params[-1] == "You are now logged out"
    whois = await bob.ask("WHOIS bob")
    assert "330" not in [m.command for m in whois]

    await crossed(alice, bob, "alice_gone")
    newcomer = await n2.client("alice", CAPS)
    await registered_account(newcomer)  # n2 knows the name is free again
