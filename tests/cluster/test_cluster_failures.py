"""Node failure: a node killed with SIGKILL is split off by the others
within 10 s (its users QUIT with ``*.net *.split``, their nicks free), and
restarted it rejoins with no manual step."""

from __future__ import annotations

import asyncio
import signal
import time

from cluster.conftest import Cluster
from cluster.test_cluster_messages import CAPS, channel_known, visible


async def test_a_killed_node_splits_within_ten_seconds_and_rejoins(cluster: Cluster) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", CAPS)
    bob = await n2.client("bob", CAPS)
    await visible(alice, "bob")
    await alice.ask("JOIN #tea")
    await channel_known(bob, "#tea")
    await bob.ask("JOIN #tea")
    await alice.expect("JOIN")

    assert n2.proc is not None
    n2.proc.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    quit_ = await alice.expect("QUIT", timeout=12)
    assert time.monotonic() - killed < 10
    assert quit_.params == ["*.net *.split"]
    assert quit_.source is not None and quit_.source.startswith("bob!")
    assert [m.params[-1] for m in await alice.ask("NAMES #tea") if m.command == "353"] == ["@alice"]
    n2.clients.clear()

    await n2.wait()
    n2 = await cluster.start("n2")
    bob_again = await n2.client("bob", CAPS)  # the nick was released
    await visible(alice, "bob")
    await visible(bob_again, "alice")
    await bob_again.send("PRIVMSG alice :back")
    got = await alice.expect("PRIVMSG")
    assert got.params == ["alice", "back"]


async def test_a_node_that_stops_takes_its_users_along_at_once(cluster: Cluster) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice", CAPS)
    await n2.client("bob", CAPS)
    await visible(alice, "bob")
    await alice.ask("MONITOR + bob")
    assert await n2.stop() == 0
    offline = await alice.expect("731", timeout=3)  # well before node_timeout's 3 s split
    assert offline.params[-1] == "bob"
