"""One account, many devices: connections logged in to one account that ask
for its user's nick share that user (issue 16)."""

from __future__ import annotations

import pytest

from harness import RunningServer, ServerFactory, joined, sasl_plain
from ircclient import RawClient

pytestmark = pytest.mark.usefixtures("cheap_hashes")

PASSWORD = "pw-alice-1"


async def device(
    irc: RunningServer, nick: str = "alice", account: str = "alice", caps: tuple[str, ...] = ()
) -> tuple[RawClient, list]:
    """A connection logged in by SASL to ``account`` asking for ``nick``;
    it and everything up to its end of MOTD (the burst)."""
    client = await irc.client()
    await client.send("CAP LS 302")
    await client.send("CAP REQ :" + " ".join(["sasl", *caps]))
    await client.send(f"NICK {nick}")
    await client.send(f"USER {nick} 0 * :{nick} realname")
    await client.expect(lambda m: m.command == "CAP" and m.params[1] == "ACK")
    assert (await sasl_plain(client, account, PASSWORD)).command == "903"
    await client.send("CAP END")
    burst = await client.collect_until("376")
    burst += await client.sync()
    client.nick = nick
    return client, burst


def commands(lines: list) -> list[tuple[str | None, str, list[str]]]:
    return [(m.source.split("!")[0] if m.source else None, m.command, m.params) for m in lines]


async def test_two_then_three_devices_are_one_user(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc)
    bob = await irc.client("bob")
    await joined(a, "#tea")
    await joined(bob, "#tea")
    await a.sync()

    b, burst = await device(irc)
    welcome = next(m for m in burst if m.command == "001")
    assert welcome.params[0] == "alice"
    seen = commands(burst)
    assert ("alice", "JOIN", ["#tea"]) in seen
    names = next(m for m in burst if m.command == "353")
    assert "alice" in names.params[-1] and "bob" in names.params[-1]
    assert any(m.command == "366" for m in burst)
    await bob.nothing()  # nobody else sees a device arrive
    await a.nothing()

    # a message from one device: the channel once, the other device too
    await a.send("PRIVMSG #tea :hello from the laptop")
    heard = await bob.expect("PRIVMSG")
    assert heard.params == ["#tea", "hello from the laptop"]
    echo = await b.expect("PRIVMSG")
    assert (echo.source or "").startswith("alice!") and echo.params == [
        "#tea",
        "hello from the laptop",
    ]
    await a.nothing()  # no echo-message asked for: the sender gets nothing back
    await bob.nothing()

    # messages to the user reach every device
    await bob.send("PRIVMSG alice :hi both")
    assert (await a.expect("PRIVMSG")).params == ["alice", "hi both"]
    assert (await b.expect("PRIVMSG")).params == ["alice", "hi both"]

    # a private message from a device: the other device sees it too
    await b.send("PRIVMSG bob :from the phone")
    assert (await bob.expect("PRIVMSG")).params == ["bob", "from the phone"]
    assert (await a.expect("PRIVMSG")).params == ["bob", "from the phone"]

    # a third device
    c, burst = await device(irc)
    assert ("alice", "JOIN", ["#tea"]) in commands(burst)
    await bob.nothing()

    # NICK, TOPIC, JOIN and PART from one device show on the others
    await c.send("NICK alicia")
    for client in (a, b, c, bob):
        msg = await client.expect("NICK")
        assert (msg.source or "").startswith("alice!") and msg.params == ["alicia"]
    await bob.nothing()
    await a.send("TOPIC #tea :tea time")
    for client in (a, b, c, bob):
        assert (await client.expect("TOPIC")).params == ["#tea", "tea time"]
    await b.send("JOIN #coffee")
    for client in (a, b, c):
        assert (await client.expect("JOIN")).params[0] == "#coffee"
        assert (await client.expect("366")).params[1] == "#coffee"
    await a.send("PART #coffee")
    for client in (a, b, c):
        assert (await client.expect("PART")).params[0] == "#coffee"

    # one user for everyone else: WHO lists one alicia, LUSERS counts two users
    who = [m for m in await bob.ask("WHO #tea") if m.command == "352"]
    assert sorted(m.params[5] for m in who) == ["alicia", "bob"]
    lusers = next(m for m in await bob.ask("LUSERS") if m.command == "251")
    assert "There are 2 users" in lusers.params[-1]

    # devices leave one by one: only the last one's QUIT is seen
    await a.send("QUIT :laptop off")
    assert await a.closed()
    await b.send("QUIT :phone off")
    assert await b.closed()
    await bob.nothing()
    assert (await c.ask("PRIVMSG bob :still here")) == []
    assert (await bob.expect("PRIVMSG")).params == ["bob", "still here"]
    await c.send("QUIT :last one")
    quit_ = await bob.expect("QUIT")
    assert (quit_.source or "").startswith("alicia!") and quit_.params == ["Quit: last one"]
    await bob.nothing()
    assert irc.server.world.find_user("alicia") is None


async def test_echo_message_device_and_sibling(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc, caps=("echo-message",))
    b, _ = await device(irc)
    bob = await irc.client("bob")
    await a.send("PRIVMSG bob :once")
    assert (await bob.expect("PRIVMSG")).params == ["bob", "once"]
    assert (await a.expect("PRIVMSG")).params == ["bob", "once"]
    assert (await b.expect("PRIVMSG")).params == ["bob", "once"]
    for client in (a, b, bob):
        await client.nothing()


async def test_a_guest_asking_for_the_nick_gets_433(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    await device(irc)
    guest = await irc.client()
    await guest.send("NICK alice")
    await guest.send("USER x 0 * :x")
    refused = await guest.expect("433")
    assert refused.params[1] == "alice"
    await guest.send("NICK other")
    assert (await guest.expect("001")).params[0] == "other"


async def test_another_account_asking_for_the_nick_gets_433(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    await irc.account("mallory", PASSWORD)
    await device(irc)
    client = await irc.client()
    await client.send("CAP REQ :sasl")
    await client.send("NICK alice")
    await client.send("USER x 0 * :x")
    await client.expect("CAP")
    assert (await sasl_plain(client, "mallory", PASSWORD)).command == "903"
    await client.send("CAP END")
    assert (await client.expect("433")).params[1] == "alice"


async def test_multiclient_off_is_the_old_behaviour(start_server: ServerFactory) -> None:
    irc = await start_server(accounts={"multiclient": False})
    await irc.account("alice", PASSWORD)
    await device(irc)
    client = await irc.client()
    await client.send("NICK alice")
    assert (await client.expect("433")).params[1] == "alice"


async def test_asking_for_the_account_name_joins_the_renamed_user(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc)
    await a.ask("NICK alicia")
    await joined(a, "#tea")
    _, burst = await device(irc)  # asks for "alice", the account's name
    assert next(m for m in burst if m.command == "001").params[0] == "alicia"
    assert ("alicia", "JOIN", ["#tea"]) in commands(burst)
    assert irc.server.world.find_user("alice") is None
    # another account's connection asking for its own name is a user of its own
    await irc.account("bob", PASSWORD)
    _, burst = await device(irc, "bob", "bob")
    assert next(m for m in burst if m.command == "001").params[0] == "bob"


async def test_read_markers_on_devices(irc: RunningServer) -> None:
    cap = "draft/read-marker"
    stamp = "timestamp=2024-02-03T04:05:06.789Z"
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc, caps=(cap,))
    await joined(a, "#tea")
    await a.ask(f"MARKREAD #tea {stamp}")
    b, burst = await device(irc, caps=(cap,))
    names = [m.command for m in burst]
    assert names.count("MARKREAD") == 1
    assert names.index("MARKREAD") < names.index("366")
    assert next(m for m in burst if m.command == "MARKREAD").params == ["#tea", stamp]
    later = "timestamp=2024-02-03T05:00:00.000Z"
    await b.ask(f"MARKREAD #tea {later}")
    assert (await a.expect("MARKREAD")).params == ["#tea", later]
    await a.nothing()
