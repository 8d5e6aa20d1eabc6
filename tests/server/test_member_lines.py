"""member_lines without sockets: a real server's world (tests/sessionkit.py)
whose channel lines take their turn in a real BusOrder, as on a cluster node
on the bus. The user who acts sees its own line at once; the other members'
lines wait for the bus, and go only to those still in the channel then (a
kicked member learns it was kicked anyway)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.server.app import Server
from hubbub.server.cluster.order import BusOrder
from sessionkit import MemoryClient, memory_server


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with memory_server(tmp_path / "data") as running:
        yield running


def commands(client: MemoryClient) -> list[str]:
    """What ``client`` was sent since last asked: command and source nick."""
    return [f"{m.command} {(m.source or '').split('!')[0]}" for m in client.take_messages()]


def in_tea(server: Server, *nicks: str) -> list[MemoryClient]:
    clients = []
    for nick in nicks:
        client = MemoryClient(server)
        client.register(nick)
        client.receive("JOIN #tea")
        clients.append(client)
    for client in clients:
        client.take()
    return clients


def on_the_bus(server: Server) -> BusOrder:
    order = BusOrder(lambda: True, stale_after=60)
    server.hooks.message_order.append(order)
    return order


def turn(order: BusOrder) -> None:
    """The bus hands back the event published after what is held."""
    number = order.bind()
    assert number is not None
    order.came_back(number)


async def test_the_actor_sees_its_part_at_once_the_others_at_its_turn(server: Server) -> None:
    alice, carol = in_tea(server, "alice", "carol")
    order = on_the_bus(server)
    alice.receive("PRIVMSG #tea :last words", "PART #tea")
    assert commands(alice) == ["PART alice"]
    assert commands(carol) == []
    turn(order)
    assert commands(carol) == ["PRIVMSG alice", "PART alice"]


async def test_a_member_who_left_meanwhile_gets_nothing_more(server: Server) -> None:
    alice, carol, dave = in_tea(server, "alice", "carol", "dave")
    order = on_the_bus(server)
    alice.receive("TOPIC #tea :new topic")
    carol.receive("PART #tea")
    dave.receive("QUIT :bye")
    assert commands(carol) == ["PART carol"]
    turn(order)
    assert commands(carol) == []  # it saw itself leave before the TOPIC's turn
    assert commands(alice) == ["TOPIC alice", "PART carol", "QUIT dave"]


async def test_a_kicked_member_learns_it_at_the_kicks_turn(server: Server) -> None:
    alice, bob, carol = in_tea(server, "alice", "bob", "carol")
    order = on_the_bus(server)
    bob.receive("PRIVMSG #tea :one", "PRIVMSG #tea :two")
    alice.receive("KICK #tea bob :enough")
    assert commands(alice) == ["KICK alice"]
    assert commands(bob) == [] and commands(carol) == []
    turn(order)
    assert commands(carol) == ["PRIVMSG bob", "PRIVMSG bob", "KICK alice"]
    assert commands(bob) == ["KICK alice"]


async def test_join_nick_and_mode_lines_wait_too(server: Server) -> None:
    alice, carol = in_tea(server, "alice", "carol")
    order = on_the_bus(server)
    dave = MemoryClient(server)
    dave.register("dave")
    dave.receive("JOIN #tea")
    assert "JOIN dave" in commands(dave)  # its JOIN, topic and names at once
    alice.receive("MODE #tea +v dave", "NICK alice2")
    assert commands(alice) == ["MODE alice", "NICK alice"]
    assert commands(carol) == []
    turn(order)
    assert commands(carol) == ["JOIN dave", "MODE alice", "NICK alice"]
    assert commands(dave) == ["MODE alice", "NICK alice"]


async def test_off_the_bus_every_line_goes_at_once(server: Server) -> None:
    connected = [True]
    alice, carol = in_tea(server, "alice", "carol")
    server.hooks.message_order.append(BusOrder(lambda: connected[0], stale_after=60))
    connected[0] = False
    alice.receive("PART #tea")
    assert commands(carol) == ["PART alice"]
