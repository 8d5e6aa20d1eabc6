"""Always-on users and the NickServ commands of one account on many devices
(SESSIONS, SET MULTICLIENT, SET ALWAYS-ON)."""

from __future__ import annotations

import pytest

from harness import OPERS, RunningServer, ServerFactory, joined
from ircclient import RawClient
from server.test_multiclient import PASSWORD, device

pytestmark = pytest.mark.usefixtures("cheap_hashes")


async def ns(client: RawClient, text: str) -> str:
    """NickServ's answer to ``text`` (its NOTICE lines joined)."""
    lines = await client.ask(f"PRIVMSG NickServ :{text}")
    return "\n".join(m.params[1] for m in lines if m.command == "NOTICE")


async def restart(irc: RunningServer, start_server: ServerFactory) -> RunningServer:
    data_dir = irc.server.config.server.data_dir
    for client in irc.clients:
        await client.close()
    irc.clients.clear()
    await irc.server.stop()
    return await start_server(server={"data_dir": str(data_dir)})


async def test_always_on_stays_away_and_survives_a_restart(start_server: ServerFactory) -> None:
    irc = await start_server()
    await irc.account("alice", PASSWORD)
    alice, _ = await device(irc)
    assert "ALWAYS-ON is now ON" in await ns(alice, "SET ALWAYS-ON ON")
    await joined(alice, "#tea")
    bob = await irc.client("bob", ["away-notify"])
    await joined(bob, "#tea")
    await alice.sync()

    await alice.send("QUIT :bye")
    assert await alice.closed()
    away = await bob.expect("AWAY")
    assert (away.source or "").startswith("alice!") and away.params == ["no devices connected"]
    await bob.nothing()  # no QUIT
    replies = await bob.ask("PRIVMSG alice :are you there?")
    assert [m.params[1:] for m in replies if m.command == "301"] == [
        ["alice", "no devices connected"]
    ]
    names = next(m for m in await bob.ask("NAMES #tea") if m.command == "353")
    assert "alice" in names.params[-1]

    irc = await restart(irc, start_server)
    bob = await irc.client("bob")
    names = next(m for m in await joined(bob, "#tea") if m.command == "353")
    assert "alice" in names.params[-1]
    whois = await bob.ask("WHOIS alice")
    assert any(m.command == "301" for m in whois)

    alice, burst = await device(irc)
    assert ("JOIN", ["#tea"]) in [(m.command, m.params) for m in burst]
    assert "no devices connected" not in str([m.params for m in await bob.ask("WHOIS alice")])
    await bob.nothing()  # no JOIN: alice never left


async def test_set_always_on_refused_when_disabled(start_server: ServerFactory) -> None:
    irc = await start_server(accounts={"always_on": "disabled"})
    await irc.account("alice", PASSWORD)
    alice, _ = await device(irc)
    assert "cannot be changed: it is disabled" in await ns(alice, "SET ALWAYS-ON ON")
    bob = await irc.client("bob")
    await joined(alice, "#tea")
    await joined(bob, "#tea")
    await alice.send("QUIT")
    assert (await bob.expect("QUIT")).source.startswith("alice!")  # type: ignore[union-attr]


async def test_mandatory_always_on_needs_no_setting(start_server: ServerFactory) -> None:
    irc = await start_server(accounts={"always_on": "mandatory"}, **OPERS)
    await irc.account("alice", PASSWORD)
    alice, _ = await device(irc)
    await alice.send("QUIT")
    assert await alice.closed()
    bob = await irc.client("bob")
    assert any(m.command == "311" for m in await bob.ask("WHOIS alice"))
    # KILL takes an always-on user off the network
    oper = await irc.oper()
    await oper.ask("KILL alice :enough")
    assert not any(m.command == "311" for m in await bob.ask("WHOIS alice"))


async def test_sessions_lists_the_devices(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    await device(irc)
    b, _ = await device(irc)
    text = await ns(b, "SESSIONS")
    assert "Connections logged in to alice: 2" in text
    assert text.count("address: 127.0.0.1") == 2
    assert "(this one)" in text.splitlines()[2]
    guest = await irc.client("guest")
    assert "not logged in" in await ns(guest, "SESSIONS")


async def test_set_multiclient_off_refuses_the_nick(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc)
    assert "MULTICLIENT is now OFF" in await ns(a, "SET MULTICLIENT OFF")
    client = await irc.client()
    await client.send("NICK alice")
    await client.send("USER x 0 * :x")
    assert (await client.expect("433")).params[1] == "alice"
    assert "Syntax" in await ns(a, "SET MULTICLIENT maybe")
