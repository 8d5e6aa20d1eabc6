"""What one device of a shared user does to the user's own state (AWAY,
user modes) shows on its other devices (issue 16)."""

from __future__ import annotations

import pytest

from harness import RunningServer, ServerFactory, joined
from server.test_multiclient import PASSWORD, device

pytestmark = pytest.mark.usefixtures("cheap_hashes")


async def test_away_from_one_device_shows_on_the_others(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc, caps=("away-notify",))
    b, _ = await device(irc)
    c, _ = await device(irc, caps=("away-notify",))
    bob = await irc.client("bob", ["away-notify"])
    await joined(a, "#tea")
    await joined(bob, "#tea")
    for client in (a, b, c):
        await client.sync()

    replies = await a.answers("AWAY :lunch")
    assert replies == [("306", ["alice", "You have been marked as being away"])]
    assert (await b.expect("306")).params == ["alice", "You have been marked as being away"]
    await b.nothing()  # no away-notify asked for: the numeric only
    seen = await c.expect("AWAY")  # away-notify: the AWAY line too
    assert (seen.source or "").startswith("alice!") and seen.params == ["lunch"]
    assert (await c.expect("306")).params[0] == "alice"
    await c.nothing()
    away = await bob.expect("AWAY")
    assert (away.source or "").startswith("alice!") and away.params == ["lunch"]
    await bob.nothing()

    # the user's away state, asked from another device
    whois = await b.ask("WHOIS alice")
    assert [m.params[1:] for m in whois if m.command == "301"] == [["alice", "lunch"]]

    # back, from another device
    assert await b.answers("AWAY") == [("305", ["alice", "You are no longer marked as being away"])]
    assert (await a.expect("AWAY")).params == []
    assert (await a.expect("305")).params[0] == "alice"
    await a.nothing()
    assert (await c.expect("AWAY")).params == []
    assert (await c.expect("305")).params[0] == "alice"
    assert (await bob.expect("AWAY")).params == []
    await bob.nothing()


async def test_always_on_away_while_no_device_is_connected(start_server: ServerFactory) -> None:
    irc = await start_server(accounts={"always_on": "mandatory"})
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc)
    await joined(a, "#tea")
    bob = await irc.client("bob", ["away-notify"])
    await joined(bob, "#tea")
    await a.sync()

    await a.send("QUIT :bye")
    assert await a.closed()
    away = await bob.expect("AWAY")
    assert (away.source or "").startswith("alice!") and away.params == ["no devices connected"]
    await bob.nothing()

    b, burst = await device(irc)
    assert not any(m.command in ("305", "306") for m in burst)
    back = await bob.expect("AWAY")
    assert (back.source or "").startswith("alice!") and back.params == []
    await bob.nothing()
    whois = await bob.ask("WHOIS alice")
    assert not any(m.command == "301" for m in whois)

    # an away message of the user's own outlives its devices and comes back with them
    await b.ask("AWAY :on holiday")
    assert (await bob.expect("AWAY")).params == ["on holiday"]
    await b.send("QUIT")
    assert await b.closed()
    await bob.nothing()
    _, burst = await device(irc)
    assert [m.params for m in burst if m.command == "306"] == [
        ["alice", "You have been marked as being away"]
    ]
    await bob.nothing()


async def test_user_mode_change_shows_on_every_device(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc)
    b, _ = await device(irc)
    bob = await irc.client("bob")
    await joined(a, "#tea")
    await joined(bob, "#tea")
    await a.sync()
    await b.sync()

    replies = await a.ask("MODE alice +i")
    assert [(m.source, m.command, m.params) for m in replies] == [
        ("alice", "MODE", ["alice", "+i"])
    ]
    seen = await b.expect("MODE")
    assert (seen.source, seen.params) == ("alice", ["alice", "+i"])
    await b.nothing()
    await bob.nothing()

    await b.ask("MODE alice -i+w")
    assert (await a.expect("MODE")).params == ["alice", "-i+w"]
    umode = [m.params for m in await a.ask("MODE alice") if m.command == "221"]
    assert umode == [["alice", "+w"]]

    # a new device learns the user's modes in its burst
    _, burst = await device(irc)
    assert [m.params for m in burst if m.command == "MODE"] == [["alice", "+w"]]


async def test_logout_from_one_device_makes_it_a_guest(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc)
    b, _ = await device(irc)
    bob = await irc.client("bob")
    await joined(a, "#tea")
    await joined(bob, "#tea")
    await a.sync()
    await b.sync()

    answer = await b.ask("PRIVMSG NickServ :LOGOUT")
    assert [m.command for m in answer] == ["901", "PART", "NICK", "NOTICE"]
    assert answer[0].params[0] == "alice"
    assert (answer[1].source or "").startswith("alice!") and answer[1].params == [
        "#tea",
        "Logged out",
    ]
    guest = answer[2].params[0]
    assert guest.startswith("Guest") and (answer[2].source or "").startswith("alice!")
    assert f"goes on as {guest}" in answer[3].params[1]
    await a.nothing()  # the other device and everyone else see nothing
    await bob.nothing()

    # the guest is a user of its own; alice stays on the other device
    whois = await bob.ask(f"WHOIS {guest}")
    assert not any(m.command in ("319", "330") for m in whois)
    assert any(m.command == "330" for m in await bob.ask("WHOIS alice"))
    await b.ask("PRIVMSG bob :a guest now")
    assert (await bob.expect("PRIVMSG")).source.startswith(guest + "!")  # type: ignore[union-attr]
    await a.nothing()
    await bob.ask("PRIVMSG alice :still there?")
    assert (await a.expect("PRIVMSG")).params == ["alice", "still there?"]
    await b.nothing()
    lusers = next(m for m in await bob.ask("LUSERS") if m.command == "251")
    assert "There are 3 users" in lusers.params[-1]
    sessions = await a.ask("PRIVMSG NickServ :SESSIONS")
    assert "Connections logged in to alice: 1" in sessions[0].params[1]

    # the last device logging out: the user goes, as when it disconnects
    await a.ask("PRIVMSG NickServ :LOGOUT")
    quit_ = await bob.expect("QUIT")
    assert (quit_.source or "").startswith("alice!") and quit_.params == ["Logged out"]
    assert irc.server.world.find_user("alice") is None
    # and the guest may log in again, as a new device of nobody: a user of its own
    await b.send("QUIT")
    assert await b.closed()
    assert (
        "There are 2 users"
        in next(m for m in await bob.ask("LUSERS") if m.command == "251").params[-1]
    )


async def test_logout_of_an_always_on_users_last_device(start_server: ServerFactory) -> None:
    irc = await start_server(accounts={"always_on": "mandatory"})
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc)
    bob = await irc.client("bob", ["away-notify"])
    await joined(a, "#tea")
    await joined(bob, "#tea")
    await a.sync()
    answer = await a.ask("PRIVMSG NickServ :LOGOUT")
    assert [m.command for m in answer] == ["901", "PART", "NICK", "NOTICE"]
    assert (await bob.expect("AWAY")).params == ["no devices connected"]
    await bob.nothing()
    names = next(m for m in await bob.ask("NAMES #tea") if m.command == "353")
    assert "alice" in names.params[-1]
