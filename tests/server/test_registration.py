"""Registration, CAP negotiation, PING/PONG, QUIT and malformed input."""

from __future__ import annotations

import re

from harness import RunningServer, ServerFactory, cap_ls
from ircclient import RawClient


async def test_a_username_of_nothing_but_emoji_registers_as_user(irc: RunningServer) -> None:
    client = await irc.client()
    await client.send("NICK emo")
    await client.send("USER \U0001f60a\U0001f60a\U0001f60a 0 * :realname")
    welcome = await client.expect("001")
    assert welcome.params[1].split("!")[1].startswith("~user@")


async def test_welcome_burst_has_complete_isupport(irc: RunningServer) -> None:
    client = await irc.client()
    await client.send("NICK alice")
    await client.send("USER alice 0 * :Alice Liddell")
    burst = await client.collect_until("376")
    commands = [m.command for m in burst]
    for numeric in ("001", "002", "003", "004", "005", "251", "255", "375", "372", "376"):
        assert numeric in commands
    # Cloaking is on by default: the welcome names the cloaked host, not the IP.
    assert burst[0].params[0] == "alice"
    assert re.fullmatch(
        r"Welcome to the TestNet IRC Network, alice!~alice@[a-z2-7]{16}\.hubbub",
        burst[0].params[1],
    )
    tokens = {t.split("=")[0] for m in burst if m.command == "005" for t in m.params[1:-1]}
    for token in [
        "CASEMAPPING",
        "CHANTYPES",
        "CHANMODES",
        "PREFIX",
        "NICKLEN",
        "CHANNELLEN",
        "TOPICLEN",
        "NETWORK",
        "MODES",
        "TARGMAX",
        "STATUSMSG",
        "ELIST",
        "EXCEPTS",
        "INVEX",
        "MONITOR",
        "UTF8ONLY",
        "BOT",
        "WHOX",
        "AWAYLEN",
        "KICKLEN",
    ]:
        assert token in tokens
    assert all(m.params[-1] == "are supported by this server" for m in burst if m.command == "005")


async def test_erroneous_and_duplicate_nicks(irc: RunningServer) -> None:
    await irc.client("alice")
    bob = await irc.client()
    await bob.send("NICK 9lives")
    assert (await bob.expect("432")).params == ["*", "9lives", "Erroneous nickname"]
    await bob.send("NICK ALICE")
    assert (await bob.expect("433")).params == ["*", "ALICE", "Nickname is already in use"]
    await bob.send("NICK")
    assert (await bob.expect("431")).command == "431"


async def test_nick_change_seen_by_channel_peers(irc: RunningServer) -> None:
    alice, bob = await irc.in_channel("alice", "bob", channel="#x")
    carol = await irc.client("carol")
    await alice.send("NICK alicia")
    assert ((await alice.expect("NICK")).source or "").startswith("alice!")
    seen = await bob.expect("NICK")
    assert (seen.source or "").startswith("alice!") and seen.params == ["alicia"]
    await carol.nothing()


async def test_cap_negotiation_holds_registration(irc: RunningServer) -> None:
    client = await irc.client()
    assert "server-time" in await cap_ls(client)
    await client.send("NICK capper")
    await client.send("USER capper 0 * :x")
    await client.nothing()  # held until CAP END
    await client.send("CAP REQ :multi-prefix bogus-cap")
    nak = await client.expect("CAP")
    assert nak.params == ["*", "NAK", "multi-prefix bogus-cap"]
    await client.send("CAP REQ :multi-prefix server-time")
    assert (await client.expect("CAP")).params == ["*", "ACK", "multi-prefix server-time"]
    await client.send("CAP LIST")
    listed = await client.expect("CAP")
    assert set(listed.params[-1].split()) >= {"multi-prefix", "server-time"}
    await client.send("CAP END")
    assert (await client.expect("001")).params[0] == "capper"
    await client.send("CAP FOO")
    assert (await client.expect("410")).params[1] == "FOO"


async def test_ping_pong_and_unknown_command(irc: RunningServer) -> None:
    client = await irc.client("pinger")
    await client.send("PING :token 123")
    pong = await client.expect("PONG")
    assert pong.params == ["irc.test.local", "token 123"]
    await client.send("FROBNICATE x")
    assert (await client.expect("421")).params == ["pinger", "FROBNICATE", "Unknown command"]


async def test_commands_before_registration(irc: RunningServer) -> None:
    client = await irc.client()
    await client.send("JOIN #x")
    assert (await client.expect("451")).params[0] == "*"


async def test_unregistered_quit_closes_at_once(irc: RunningServer) -> None:
    client = await irc.client()
    await client.send("QUIT")
    error = await client.expect("ERROR")
    assert error.params[0].startswith("Closing Link")
    assert await client.closed()


async def test_quit_reason_shown_to_channel(irc: RunningServer) -> None:
    alice, bob = await irc.in_channel("alice", "bob", channel="#q")
    await alice.send("QUIT :gone fishing")
    assert (await alice.expect("ERROR")).params[0].endswith("(Quit: gone fishing)")
    quit_msg = await bob.expect("QUIT")
    assert (quit_msg.source or "").startswith("alice!") and quit_msg.params == [
        "Quit: gone fishing"
    ]


async def test_connection_password(start_server: ServerFactory) -> None:
    irc = await start_server(server={"password": "sesame"})
    wrong = await irc.client()
    await wrong.send("PASS nope")
    await wrong.send("NICK a")
    await wrong.send("USER a 0 * :a")
    assert (await wrong.expect("464")).command == "464"
    assert await wrong.closed()
    right = await irc.client()
    await right.send("PASS sesame")
    await right.register("b")


async def test_invalid_utf8_and_overlong_lines(irc: RunningServer) -> None:
    client = await irc.client("alice")
    await client.send_raw(b"PRIVMSG alice :\xff\xfe\r\n")
    fail = await client.expect("FAIL")
    assert fail.params[:2] == ["PRIVMSG", "INVALID_UTF8"]
    await client.send_raw(b"PRIVMSG alice :" + b"x" * 600 + b"\r\n")
    assert (await client.expect("417")).params[0] == "alice"
    await client.send_raw(b"PRIVMSG alice :a\x00b\r\n")
    assert (await client.expect("400")).params[1] == "PRIVMSG"
    await client.send("PING :still-here")
    assert (await client.expect("PONG")).params[1] == "still-here"


async def test_bare_newline_accepted(irc: RunningServer) -> None:
    client = await irc.client()
    await client.send_raw(b"NICK lf\nUSER lf 0 * :lf\n")
    assert (await client.expect("001")).params[0] == "lf"


async def test_registration_timeout(start_server: ServerFactory) -> None:
    irc = await start_server(limits={"registration_timeout": 0.5, "flood_control": False})
    client = await irc.client()
    error = await client.expect("ERROR", timeout=5)
    assert "Registration timed out" in error.params[0]


async def test_ping_timeout(start_server: ServerFactory) -> None:
    irc = await start_server(limits={"ping_interval": 0.5, "ping_timeout": 1.0})
    client: RawClient = await irc.client("sleepy")
    ping = await client.expect("PING", timeout=10)
    assert ping.params == ["irc.test.local"]
    error = await client.expect("ERROR", timeout=5)
    assert "Ping timeout" in error.params[0]


async def test_labeled_response(irc: RunningServer) -> None:
    client = await irc.client("lab", caps=["labeled-response", "batch", "message-tags"])
    await client.send("@label=one PING :x")
    pong = await client.expect("PONG")
    assert pong.tags["label"] == "one"
    await client.send("@label=two PONG :x")
    ack = await client.expect("ACK")
    assert ack.tags["label"] == "two"
    await client.send("@label=three LUSERS")
    start = await client.expect("BATCH")
    assert start.tags["label"] == "three" and start.params[1] == "labeled-response"
    ref = start.params[0][1:]
    inner = await client.expect("251")
    assert inner.tags["batch"] == ref
    end = await client.expect("BATCH")
    assert end.params == ["-" + ref]
