"""LINKS on a cluster node lists every live node of the network: its own
server first (hop count 0), then the others, each linked to it (hop count 1:
every node hears every other on the bus), as nodes start, stop or die
(docs/cluster.md)."""

from __future__ import annotations

import asyncio

from cluster.conftest import Cluster
from ircclient import RawClient

INFO = "hubbub chat server"  # [server] description, the default


def links(here: str, *others: str) -> list[list[str]]:
    """The 364 parameters after the client, as ``here``'s node answers."""
    own = f"{here}.test.local"
    return [[own, own, f"0 {INFO}"]] + [
        [f"{other}.test.local", own, f"1 {INFO}"] for other in sorted(others)
    ]


async def until_links(client: RawClient, expected: list[list[str]], timeout: float = 10) -> None:
    """Wait until ``client``'s LINKS lists ``expected``, then check its end."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        answer = await client.ask("LINKS")
        assert answer[-1].command == "365"
        assert answer[-1].params == [client.nick, "*", "End of /LINKS list"]
        listed = [m.params[1:] for m in answer[:-1] if m.command == "364"]
        assert len(listed) == len(answer) - 1  # 364s, then 365, nothing else
        if listed == expected:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{client.nick} sees {listed}, not {expected}")
        await asyncio.sleep(0.05)


async def test_links_follow_the_nodes_as_they_start_and_stop(cluster: Cluster) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice")
    bob = await n2.client("bob")
    await until_links(alice, links("n1", "n2"))
    await until_links(bob, links("n2", "n1"))

    n3 = await cluster.start("n3")  # a node with no user yet is linked too
    carol = await n3.client("carol")
    await until_links(alice, links("n1", "n2", "n3"))
    await until_links(bob, links("n2", "n1", "n3"))
    await until_links(carol, links("n3", "n1", "n2"))
    answer = await alice.ask("LINKS n2.* *.test.local")  # a mask, asked of another node
    assert [m.params[1] for m in answer if m.command == "364"] == [
        "n1.test.local",
        "n2.test.local",
        "n3.test.local",
    ]
    answer = await alice.ask("LINKS n3*")
    assert [m.params[1:] for m in answer] == [links("n1", "n3")[1], ["n3*", "End of /LINKS list"]]

    assert await n2.stop() == 0  # says goodbye: gone at once, not at the timeout
    await until_links(alice, links("n1", "n3"), timeout=2)
    await until_links(carol, links("n3", "n1"), timeout=2)


async def test_a_dead_node_leaves_the_links_when_it_is_split(cluster: Cluster) -> None:
    n1, n2 = await asyncio.gather(cluster.start("n1"), cluster.start("n2"))
    alice = await n1.client("alice")
    await until_links(alice, links("n1", "n2"))
    n2.kill()  # no goodbye: split after node_timeout (3 s here)
    await until_links(alice, links("n1"), timeout=10)
    n2 = await cluster.start("n2")  # back, as a new run
    await until_links(alice, links("n1", "n2"))
    await until_links(await n2.client("bob"), links("n2", "n1"))
