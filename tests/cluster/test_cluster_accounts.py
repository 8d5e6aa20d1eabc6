"""Accounts network-wide: an account registered on one node is protected on
the other at once, one dropped there logs its users out here and is free
to register again, and a node that was off the bus catches up when back."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cluster.conftest import Cluster, OwnRedis, cluster_with_cuttable
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


async def test_a_node_off_the_bus_catches_up_with_accounts_when_back(
    tmp_path: Path, cluster_database: str, own_redis: OwnRedis
) -> None:
    """n2 misses a DROP and a REGISTER made on n1 (its bus link is cut);
    when it is back it reads the account names from PostgreSQL: its user
    logged in to the dropped account is logged out, and the new account's
    nick is protected there."""
    cuttable = cluster_with_cuttable(tmp_path, cluster_database, own_redis, "n2")
    async with cuttable as (cluster, link):
        cluster.extra = PROTECTION
        n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
        carol = await n1.client("carol", CAPS)
        dave = await n1.client("dave", CAPS)
        bob = await n2.client("bob", CAPS)
        await visible(bob, "dave")
        await registered_account(carol)
        identified = await bob.ask(f"PRIVMSG NickServ :IDENTIFY carol {PASSWORD}")
        assert "900" in [m.command for m in identified], identified

        await link.cut()
        dropped = await carol.ask(f"PRIVMSG NickServ :DROP carol {PASSWORD}")
        assert any("has been deleted" in m.params[-1] for m in dropped), dropped
        await registered_account(dave)
        assert "901" not in [m.command for m in await bob.ask("PING :here")]  # n2 missed it
        await link.let_back()

        logged_out = await bob.expect("901", timeout=20)  # n2 has read the names again
        assert logged_out.params[-1] == "You are now logged out"
        await crossed(dave, bob, "dave_away")
        intruder = await n2.client("dave", CAPS)
        warning = await intruder.expect("NOTICE")
        assert "The nick dave is registered" in warning.params[1]
