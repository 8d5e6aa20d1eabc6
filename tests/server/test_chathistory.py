"""History storage and IRCv3 CHATHISTORY: every subcommand with msgid and
timestamp selectors, TARGETS, errors, private history, autoreplay, retention."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from harness import cap_ls, joined, until
from hubbub.protocol.message import Message
from ircclient import RawClient

CAPS = ["batch", "server-time", "message-tags", "echo-message", "draft/chathistory"]
pytestmark = pytest.mark.usefixtures("cheap_hashes")
PASSWORD = "correct horse battery"


async def login_client(irc: Any, nick: str, caps: list[str]) -> RawClient:
    """A client logged in (SASL PLAIN over loopback) to a new account ``nick``."""
    client: RawClient = await irc.logged_in(nick, PASSWORD, caps)
    return client


def ts(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


async def post(client: RawClient, target: str, texts: list[str]) -> list[Message]:
    """Send messages and return their echoes (carrying msgid and time)."""
    echoes = []
    for text in texts:
        await client.send(f"PRIVMSG {target} :{text}")
        echoes.append(await client.expect(_privmsg_with(text)))
    return echoes


async def history(client: RawClient, line: str) -> tuple[Message | None, list[Message]]:
    """Send a CHATHISTORY command; (BATCH start or None, the messages)."""
    lines = await client.ask(line)
    start = next((m for m in lines if m.command == "BATCH" and m.params[0].startswith("+")), None)
    return start, [m for m in lines if m.command in ("PRIVMSG", "NOTICE", "CHATHISTORY")]


def around_all(echoes: list[Message]) -> tuple[str, str]:
    """Timestamps a second before the first and after the last of ``echoes``."""
    first = datetime.fromisoformat(echoes[0].tags["time"])
    last = datetime.fromisoformat(echoes[-1].tags["time"])
    return ts(first - timedelta(seconds=1)), ts(last + timedelta(seconds=1))


async def history_texts(client: RawClient, line: str) -> list[str]:
    """The texts of the messages a CHATHISTORY command returns, oldest first."""
    return texts((await history(client, line))[1])


def texts(messages: list[Message]) -> list[str]:
    return [m.params[1] for m in messages]


async def channel_with_history(irc: Any, count: int = 10) -> tuple[RawClient, list[Message]]:
    alice = await irc.client("alice", CAPS)
    await joined(alice, "#h")
    echoes = await post(alice, "#h", [f"m{i}" for i in range(count)])
    return alice, echoes


async def test_advertised(irc: Any) -> None:
    client = await RawClient.connect("127.0.0.1", irc.port())
    irc.clients.append(client)
    assert "draft/chathistory" in await cap_ls(client)
    await client.send("NICK x")
    await client.send("USER x 0 * :x")
    await client.send("CAP END")
    lines = await client.collect_until("376")
    tokens = [p for m in lines if m.command == "005" for p in m.params[1:-1]]
    assert "CHATHISTORY=1000" in tokens
    assert "MSGREFTYPES=msgid,timestamp" in tokens


async def test_latest(irc: Any) -> None:
    alice, echoes = await channel_with_history(irc)
    start, got = await history(alice, "CHATHISTORY LATEST #h * 3")
    assert start is not None and start.params[1:] == ["chathistory", "#h"]
    ref = start.params[0][1:]
    assert texts(got) == ["m7", "m8", "m9"]
    for message, echo in zip(got, echoes[7:], strict=True):
        assert message.tags["batch"] == ref
        assert message.tags["msgid"] == echo.tags["msgid"]
        assert message.tags["time"] == echo.tags["time"]
        assert message.source == echo.source
        assert message.params[0] == "#h"
    # after a msgid / a timestamp, newest first up to the limit
    assert await history_texts(
        alice, f"CHATHISTORY LATEST #H msgid={echoes[6].tags['msgid']} 10"
    ) == ["m7", "m8", "m9"]
    first = datetime.fromisoformat(echoes[0].tags["time"])
    _, got = await history(
        alice, f"CHATHISTORY LATEST #h timestamp={ts(first - timedelta(seconds=1))} 1"
    )
    assert texts(got) == ["m9"]
    _, got = await history(
        alice, f"CHATHISTORY LATEST #h timestamp={ts(first + timedelta(hours=1))} 5"
    )
    assert got == []


async def test_before_after_with_msgid_and_timestamp(irc: Any) -> None:
    alice, echoes = await channel_with_history(irc)
    msgid = echoes[5].tags["msgid"]
    assert await history_texts(alice, f"CHATHISTORY BEFORE #h msgid={msgid} 3") == [
        "m2",
        "m3",
        "m4",
    ]
    assert await history_texts(alice, f"CHATHISTORY AFTER #h msgid={msgid} 2") == ["m6", "m7"]
    low, high = around_all(echoes)
    assert await history_texts(alice, f"CHATHISTORY BEFORE #h timestamp={high} 2") == ["m8", "m9"]
    assert await history_texts(alice, f"CHATHISTORY AFTER #h timestamp={low} 2") == ["m0", "m1"]
    # an unknown msgid gives an empty batch
    start, got = await history(alice, "CHATHISTORY BEFORE #h msgid=nosuchid 3")
    assert start is not None and got == []


async def test_around_and_between(irc: Any) -> None:
    alice, echoes = await channel_with_history(irc)
    msgid = echoes[5].tags["msgid"]
    assert await history_texts(alice, f"CHATHISTORY AROUND #h msgid={msgid} 3") == [
        "m4",
        "m5",
        "m6",
    ]
    at = echoes[5].tags["time"]
    _, got = await history(alice, f"CHATHISTORY AROUND #h timestamp={at} 1")
    # limit 1: nothing before, and the first message at or after the timestamp
    # (m5, or an earlier one stored in the same millisecond)
    assert texts(got) == [e.params[1] for e in echoes if e.tags["time"] >= at][:1]
    a, b = echoes[2].tags["msgid"], echoes[6].tags["msgid"]
    assert await history_texts(alice, f"CHATHISTORY BETWEEN #h msgid={a} msgid={b} 10") == [
        "m3",
        "m4",
        "m5",
    ]
    # backwards: the messages nearest the first selector, still oldest first
    assert await history_texts(alice, f"CHATHISTORY BETWEEN #h msgid={b} msgid={a} 2") == [
        "m4",
        "m5",
    ]
    low, high = around_all(echoes)
    assert await history_texts(
        alice, f"CHATHISTORY BETWEEN #h timestamp={low} timestamp={high} 4"
    ) == ["m0", "m1", "m2", "m3"]
    assert await history_texts(alice, f"CHATHISTORY BETWEEN #h timestamp={low} msgid={a} 10") == [
        "m0",
        "m1",
    ]


async def test_limit_is_capped(start_server: Any) -> None:
    irc = await start_server(history={"chathistory_limit": 4})
    alice, _ = await channel_with_history(irc)
    assert await history_texts(alice, "CHATHISTORY LATEST #h * 100") == ["m6", "m7", "m8", "m9"]


async def test_targets(irc: Any) -> None:
    alice = await login_client(irc, "alice", CAPS)
    await alice.send("JOIN #h")
    await alice.sync()
    await post(alice, "#h", ["m0", "m1"])
    bob = await login_client(irc, "bob", CAPS)
    await post(alice, "bob", ["hi bob"])
    await bob.send("JOIN #other")
    await post(bob, "#other", ["elsewhere"])
    now = datetime.now(UTC)
    low, high = ts(now - timedelta(minutes=5)), ts(now + timedelta(minutes=5))
    start, got = await history(alice, f"CHATHISTORY TARGETS timestamp={low} timestamp={high} 10")
    assert start is not None and start.params[1:] == ["draft/chathistory-targets"]
    assert [m.params[:2] for m in got] == [["TARGETS", "#h"], ["TARGETS", "bob"]]
    assert all(m.tags["batch"] == start.params[0][1:] for m in got)
    assert datetime.fromisoformat(got[0].params[2]) <= datetime.fromisoformat(got[1].params[2])
    _, got = await history(alice, f"CHATHISTORY TARGETS timestamp={low} timestamp={high} 1")
    assert [m.params[:2] for m in got] == [["TARGETS", "#h"]]  # the earliest first
    _, got = await history(bob, f"CHATHISTORY TARGETS timestamp={high} timestamp={low} 10")
    assert sorted(m.params[1] for m in got) == ["#other", "alice"]


# who asks (alice is in #h, bob is not), the command, the start of the FAIL's params
ERRORS: list[tuple[str, str, list[str]]] = [
    ("alice", "FROB #h * 5", ["UNKNOWN_COMMAND", "FROB", "Unknown command"]),
    ("alice", "LATEST #h *", ["NEED_MORE_PARAMS", "LATEST"]),
    ("alice", "BETWEEN #h * 5", ["NEED_MORE_PARAMS", "BETWEEN"]),
    (
        "alice",
        "BEFORE #h timestamp=yesterday 5",
        ["INVALID_PARAMS", "BEFORE", "timestamp=yesterday"],
    ),
    ("alice", "BEFORE #h * 5", ["INVALID_PARAMS", "BEFORE", "*"]),
    ("alice", "LATEST #h * zero", ["INVALID_PARAMS", "LATEST", "zero"]),
    ("alice", "LATEST #h * 0", ["INVALID_PARAMS", "LATEST", "0"]),
    ("alice", "TARGETS msgid=x timestamp=2020-01-01T00:00:00Z 5", ["INVALID_PARAMS", "TARGETS"]),
    ("bob", "LATEST #h * 5", ["INVALID_TARGET", "LATEST", "#h"]),  # members only
    ("bob", "LATEST #nowhere * 5", ["INVALID_TARGET", "LATEST", "#nowhere"]),
    ("bob", "LATEST bad!nick * 5", ["INVALID_TARGET", "LATEST", "bad!nick"]),
]


async def test_errors(irc: Any) -> None:
    clients = {"alice": (await channel_with_history(irc, 1))[0]}
    clients["bob"] = await irc.client("bob", CAPS)
    for who, line, expected in ERRORS:
        replies = await clients[who].ask(f"CHATHISTORY {line}")
        assert [m.command for m in replies] == ["FAIL"], (line, replies)
        assert replies[0].params[: len(expected) + 1] == ["CHATHISTORY", *expected], line


async def test_without_batch_and_with_account_tag(irc: Any) -> None:
    alice = await login_client(irc, "alice", CAPS)
    await alice.send("JOIN #h")
    await post(alice, "#h", ["one", "two"])
    plain = await irc.client("plain", ["draft/chathistory"])
    await plain.ask("JOIN #h")
    start, got = await history(plain, "CHATHISTORY LATEST #h * 10")
    assert start is None
    assert texts(got) == ["one", "two"] and all(not m.tags for m in got)
    tagged = await irc.client("tagged", ["batch", "server-time", "account-tag"])
    await tagged.ask("JOIN #h")
    _, got = await history(tagged, "CHATHISTORY LATEST #h * 10")
    assert [m.tags.get("account") for m in got] == ["alice", "alice"]
    assert all("msgid" not in m.tags and "time" in m.tags for m in got)


async def test_private_history_only_for_the_two_parties(irc: Any) -> None:
    alice = await login_client(irc, "alice", CAPS)
    bob = await login_client(irc, "bob", CAPS)
    await post(alice, "bob", ["hello bob"])
    await post(bob, "alice", ["hello alice"])
    await alice.sync()
    _, got = await history(alice, "CHATHISTORY LATEST bob * 10")
    assert texts(got) == ["hello bob", "hello alice"]
    assert [m.params[0] for m in got] == ["bob", "alice"]
    assert await history_texts(bob, "CHATHISTORY LATEST alice * 10") == ["hello bob", "hello alice"]
    # a third party asking for either side sees only its own (empty) conversation
    carol = await login_client(irc, "carol", CAPS)
    for target in ("alice", "bob"):
        start, got = await history(carol, f"CHATHISTORY LATEST {target} * 10")
        assert start is not None and got == []
    # alice is known by her account: under another nick she still has it, and
    # bob finds it by her account name while she is away
    await alice.ask("NICK alice2")
    assert await history_texts(alice, "CHATHISTORY LATEST bob * 10") == ["hello bob", "hello alice"]
    await alice.send("QUIT")
    assert await alice.closed()
    assert await history_texts(bob, "CHATHISTORY LATEST alice * 10") == ["hello bob", "hello alice"]
    # (guests, and whoever takes a nick or an account name later: see
    # tests/server/test_security_history.py)


async def test_notice_and_tagmsg(irc: Any) -> None:
    alice = await irc.client("alice", CAPS)
    await alice.ask("JOIN #h")
    await alice.send("NOTICE #h :a notice")
    await alice.send("@+typing=active TAGMSG #h")  # relayed, never stored
    await alice.send("@+draft/react=ok TAGMSG #h")
    await alice.ask("PRIVMSG #h :text")
    _, got = await history(alice, "CHATHISTORY LATEST #h * 10")
    assert [(m.command, m.params[1]) for m in got] == [("NOTICE", "a notice"), ("PRIVMSG", "text")]
    rows = await irc.server.store.history.latest("#h", None, 10)
    rows = [r for r in rows if r.command != "JOIN"]  # the JOIN is kept for event-playback
    assert [r.command for r in rows] == ["NOTICE", "TAGMSG", "PRIVMSG"]
    assert rows[1].tags == {"+draft/react": "ok"}
    assert rows[0].sender.startswith("alice!") and rows[0].account is None


async def test_history_disabled(start_server: Any) -> None:
    irc = await start_server(history={"enabled": False})
    alice, _ = await channel_with_history(irc, 3)
    start, got = await history(alice, "CHATHISTORY LATEST #h * 10")
    assert start is not None and got == []


async def test_autoreplay_on_join(start_server: Any) -> None:
    irc = await start_server(history={"autoreplay_lines": 3})
    _, echoes = await channel_with_history(irc, 5)
    late = await irc.client("late", ["server-time"])
    await late.send("JOIN #h")
    await late.expect("366")
    replayed = [await late.expect("PRIVMSG") for _ in range(3)]
    assert texts(replayed) == ["m2", "m3", "m4"]
    assert [m.tags["time"] for m in replayed] == [e.tags["time"] for e in echoes[2:]]
    bare = await irc.client("bare")
    await bare.send("JOIN #h")
    await bare.expect("366")
    assert texts([await bare.expect("PRIVMSG") for _ in range(3)]) == ["m2", "m3", "m4"]
    # a client with draft/chathistory asks for itself: no replay
    modern = await irc.client("modern", CAPS)
    await modern.send("JOIN #h")
    await modern.expect("366")
    await modern.nothing()


async def stored_texts(irc: Any, target: str) -> list[str]:
    return [r.text for r in await irc.server.store.history.latest(target, None, 100)]


async def test_retention(start_server: Any) -> None:
    irc = await start_server(history={"max_messages_per_target": 3, "retention_interval": 0.1})
    await channel_with_history(irc, 6)

    async def trimmed() -> bool:
        return await stored_texts(irc, "#h") == ["m3", "m4", "m5"]

    await until(trimmed, timeout=10)


async def test_retention_by_age(start_server: Any) -> None:
    irc = await start_server(history={"max_age": "2s", "retention_interval": 0.2})
    alice, _ = await channel_with_history(irc, 2)
    assert await history_texts(alice, "CHATHISTORY LATEST #h * 10") == ["m0", "m1"]

    async def emptied() -> bool:
        return (await history(alice, "CHATHISTORY LATEST #h * 10"))[1] == []

    await until(emptied, timeout=15)
    assert await irc.server.store.history.latest("#h", None, 10) == []


def _privmsg_with(text: str) -> Callable[[Message], bool]:
    """A matcher for the PRIVMSG carrying ``text``."""
    return lambda m: m.command == "PRIVMSG" and m.params[1] == text
