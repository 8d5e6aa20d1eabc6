"""PRIVMSG, NOTICE and TAGMSG over real sockets: targets, errors, tags,
echo-message, labeled-response, and that nothing can be injected into
another client's stream."""

from __future__ import annotations

import asyncio

import pytest

from harness import RunningServer, join_all, joined
from hubbub.protocol.message import Message, parse_line
from ircclient import RawClient


async def in_channel(
    irc: RunningServer, *nicks: str, caps: list[str] | None = None
) -> list[RawClient]:
    return await irc.in_channel(*nicks, caps=caps)


def seen(lines: list[Message]) -> list[tuple[str, list[str]]]:
    return [(m.command, m.params) for m in lines]


# --- private messages -----------------------------------------------------------
@pytest.mark.parametrize("cmd", ["PRIVMSG", "NOTICE"])
async def test_private_message_only_reaches_target(irc: RunningServer, cmd: str) -> None:
    alice = await irc.client("alice")
    bob = await irc.client("bob")
    carol = await irc.client("carol")
    assert await alice.ask(f"{cmd} BOB :hello there") == []
    lines = await bob.sync()
    assert seen(lines) == [(cmd, ["bob", "hello there"])]
    assert lines[0].source is not None and lines[0].source.startswith("alice!~alice@")
    assert lines[0].tags == {}
    assert await carol.sync() == []


async def test_channel_message_reaches_members_except_sender(irc: RunningServer) -> None:
    alice, bob, carol = await in_channel(irc, "alice", "bob", "carol")
    outsider = await irc.client("outsider")
    assert await alice.ask("PRIVMSG #CHAN :hi all") == []
    for c in (bob, carol):
        lines = await c.sync()
        assert seen(lines) == [("PRIVMSG", ["#CHAN", "hi all"])]
    assert await outsider.sync() == []
    assert await bob.ask("NOTICE #chan :a notice") == []
    for c in (alice, carol):
        assert seen(await c.sync()) == [("NOTICE", ["#chan", "a notice"])]


async def test_statusmsg(irc: RunningServer) -> None:
    alice, bob, carol, dave = await in_channel(irc, "alice", "bob", "carol", "dave")
    await alice.send("MODE #chan +ov bob carol")
    for c in (alice, bob, carol, dave):
        await c.sync()
    assert await dave.ask("PRIVMSG @#chan :to the ops") == []
    assert seen(await alice.sync()) == [("PRIVMSG", ["@#chan", "to the ops"])]
    assert seen(await bob.sync()) == [("PRIVMSG", ["@#chan", "to the ops"])]
    assert await carol.sync() == []
    assert await alice.ask("NOTICE +#chan :voiced and up") == []
    for c in (bob, carol):
        assert seen(await c.sync()) == [("NOTICE", ["+#chan", "voiced and up"])]
    assert await dave.sync() == []
    # a message to a rank only is not the channel's history
    await irc.server.store.history.flush()
    assert await irc.server.store.history.latest("#chan", None, 10, messages_only=True) == []


async def test_multiple_targets_and_targmax(irc: RunningServer) -> None:
    alice, bob = await in_channel(irc, "alice", "bob")
    carol = await irc.client("carol")
    dave = await irc.client("dave")
    lines = await alice.ask("PRIVMSG #chan,carol,nobody,dave :many")
    assert seen(lines) == [("401", ["alice", "nobody", "No such nick/channel"])]
    assert seen(await bob.sync()) == [("PRIVMSG", ["#chan", "many"])]
    assert seen(await carol.sync()) == [("PRIVMSG", ["carol", "many"])]
    assert seen(await dave.sync()) == [("PRIVMSG", ["dave", "many"])]
    lines = await alice.ask("PRIVMSG a,b,c,d,e :too many")
    assert len(lines) == 1
    assert lines[0].command == "407"
    assert lines[0].params[:2] == ["alice", "a,b,c,d,e"]


async def test_errors(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    assert seen(await alice.ask("PRIVMSG nobody :hi")) == [
        ("401", ["alice", "nobody", "No such nick/channel"])
    ]
    assert seen(await alice.ask("PRIVMSG #nowhere :hi")) == [
        ("403", ["alice", "#nowhere", "No such channel"])
    ]
    assert seen(await alice.ask("PRIVMSG")) == [("411", ["alice", "No recipient given (PRIVMSG)"])]
    assert seen(await alice.ask("NOTICE")) == [("411", ["alice", "No recipient given (NOTICE)"])]
    assert seen(await alice.ask("PRIVMSG alice")) == [("412", ["alice", "No text to send"])]
    assert seen(await alice.ask("PRIVMSG alice :")) == [("412", ["alice", "No text to send"])]
    (bob,) = await in_channel(irc, "bob")
    assert [m.command for m in await alice.ask("PRIVMSG #chan :from outside")] == ["404"]
    assert await bob.sync() == []


# --- echo-message -------------------------------------------------------------------
async def test_echo_message(irc: RunningServer) -> None:
    alice = await irc.client("alice", caps=["echo-message"])
    bob = await irc.client("bob")
    await join_all("#chan", alice, bob)
    lines = await alice.ask("PRIVMSG #chan :echoed")
    assert seen(lines) == [("PRIVMSG", ["#chan", "echoed"])]
    assert lines[0].source is not None and lines[0].source.startswith("alice!")
    assert seen(await bob.sync()) == [("PRIVMSG", ["#chan", "echoed"])]
    assert seen(await alice.ask("NOTICE bob :direct")) == [("NOTICE", ["bob", "direct"])]
    assert seen(await bob.sync()) == [("NOTICE", ["bob", "direct"])]
    # without message-tags, a TAGMSG is not echoed
    assert await alice.ask("@+typing=active TAGMSG bob") == []


async def test_echo_shares_msgid(irc: RunningServer) -> None:
    alice = await irc.client("alice", caps=["echo-message", "message-tags"])
    bob = await irc.client("bob", caps=["message-tags"])
    (mine,) = await alice.ask("PRIVMSG bob :same id")
    (theirs,) = await bob.sync()
    assert mine.tags["msgid"] == theirs.tags["msgid"]


# --- tags ----------------------------------------------------------------------------
async def test_server_tags_only_for_clients_that_asked(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    tagged = await irc.client("tagged", caps=["message-tags"])
    timed = await irc.client("timed", caps=["server-time"])
    both = await irc.client("both", caps=["message-tags", "server-time"])
    plain = await irc.client("plain")
    await join_all("#chan", tagged, timed, both, plain, alice)
    await alice.send("PRIVMSG #chan :tags?")
    (line,) = await tagged.sync()
    assert set(line.tags) == {"msgid"}
    (line,) = await timed.sync()
    assert set(line.tags) == {"time"}
    assert line.tags["time"].endswith("Z")
    (first,) = await both.sync()
    assert set(first.tags) == {"msgid", "time"}
    (line,) = await plain.sync()
    assert line.tags == {}
    # every message gets its own id
    await alice.send("PRIVMSG #chan :again")
    (again,) = await both.sync()
    assert again.tags["msgid"] != first.tags["msgid"]


async def test_client_tags_relayed_only_to_message_tags_clients(irc: RunningServer) -> None:
    alice = await irc.client("alice", caps=["message-tags"])
    bob = await irc.client("bob", caps=["message-tags"])
    carol = await irc.client("carol")
    await join_all("#chan", alice, bob, carol)
    await alice.send(
        "@+draft/react=\\:)\\s;+example.com/x;msgid=forged;time=2000 PRIVMSG #chan :hi"
    )
    (line,) = await bob.sync()
    assert line.tags["+draft/react"] == ";) "
    assert line.tags["+example.com/x"] == ""
    assert line.tags["msgid"] != "forged"
    assert "time" not in line.tags
    (line,) = await carol.sync()
    assert line.tags == {}
    assert line.params == ["#chan", "hi"]
    # TAGMSG reaches message-tags clients only
    await alice.send("@+typing=active TAGMSG #chan")
    lines = await bob.sync()
    assert seen(lines) == [("TAGMSG", ["#chan"])]
    assert lines[0].tags["+typing"] == "active"
    assert await carol.sync() == []
    await alice.send("@+typing=active TAGMSG carol")
    assert await carol.sync() == []
    await alice.send("@+typing=paused TAGMSG bob")
    lines = await bob.sync()
    assert seen(lines) == [("TAGMSG", ["bob"])]
    assert lines[0].tags["+typing"] == "paused"
    # a TAGMSG without client tags is dropped
    assert await alice.ask("TAGMSG bob") == []
    assert await bob.sync() == []


# --- labeled-response -------------------------------------------------------------------
async def test_labeled_response(irc: RunningServer) -> None:
    caps = ["labeled-response", "batch", "message-tags"]
    alice = await irc.client("alice", caps=caps)
    await joined(alice, "#chan")
    bob = await irc.client("bob")
    await joined(bob, "#chan")
    await alice.sync()
    # no output: ACK
    lines = await alice.ask("@label=one PRIVMSG bob :hi")
    assert seen(lines) == [("ACK", [])]
    assert lines[0].tags["label"] == "one"
    assert lines[0].source == "irc.test.local"
    assert seen(await bob.sync()) == [("PRIVMSG", ["bob", "hi"])]
    # one line: the label goes on it
    lines = await alice.ask("@label=two MODE alice")
    assert seen(lines) == [("221", ["alice", "+"])]
    assert lines[0].tags["label"] == "two"
    # several lines: a labeled-response batch
    lines = await alice.ask("@label=three NAMES #chan")
    assert [m.command for m in lines] == ["BATCH", "353", "366", "BATCH"]
    start, *inner, end = lines
    assert start.tags["label"] == "three"
    assert start.params[0].startswith("+")
    assert start.params[1] == "labeled-response"
    ref = start.params[0][1:]
    assert all(m.tags.get("batch") == ref for m in inner)
    assert end.params == ["-" + ref]
    assert all("label" not in m.tags for m in (*inner, end))
    # an error is labeled too
    lines = await alice.ask("@label=four PRIVMSG nobody :hi")
    assert [(m.command, m.tags.get("label")) for m in lines] == [("401", "four")]


async def test_labeled_echo(irc: RunningServer) -> None:
    alice = await irc.client("alice", caps=["labeled-response", "batch", "echo-message"])
    bob = await irc.client("bob")
    lines = await alice.ask("@label=e1 PRIVMSG bob :echo me")
    assert seen(lines) == [("PRIVMSG", ["bob", "echo me"])]
    assert lines[0].tags["label"] == "e1"
    (line,) = await bob.sync()
    assert "label" not in line.tags


async def test_label_ignored_without_capability(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    await irc.client("bob")
    assert await alice.ask("@label=x PRIVMSG bob :hi") == []


# --- no injection -------------------------------------------------------------------------
async def read_raw_until_pong(client: RawClient, token: str) -> list[bytes]:
    lines = []
    while True:
        raw = await asyncio.wait_for(client.reader.readline(), 5)
        assert raw, "connection closed"
        lines.append(raw)
        if b"PONG" in raw and token.encode() in raw:
            return lines


async def test_no_line_injection(irc: RunningServer) -> None:
    alice = await irc.client("alice", caps=["message-tags"])
    bob = await irc.client("bob", caps=["message-tags"])
    plain = await irc.client("plain")
    await join_all("#chan", alice, bob, plain)
    # escaped CR/LF/NUL-ish content in a client tag value
    await alice.send("@+x=a\\rQUIT\\n:evil\\0 PRIVMSG #chan :tagged")
    # raw CR and NUL in the middle of a line
    await alice.send_raw(b"PRIVMSG #chan :one\rPRIVMSG #chan :two\r\n")
    await alice.send_raw(b"PRIVMSG #chan :nul\x00byte\r\n")
    # a lone LF still ends a line: this is two lines, both fine
    await alice.send_raw(b"PRIVMSG #chan :first\nPRIVMSG #chan :second\r\n")
    replies = await alice.sync()
    assert [m.command for m in replies] == ["400", "400"]
    for client, name in ((bob, "bob"), (plain, "plain")):
        token = f"raw-{name}"
        await client.send(f"PING {token}")
        raw = await read_raw_until_pong(client, token)
        for line in raw:
            assert line.endswith(b"\r\n")
            assert b"\r" not in line[:-2]
            assert b"\x00" not in line
        texts = [parse_line(line.rstrip(b"\r\n")).params[-1] for line in raw[:-1]]
        assert texts == ["tagged", "first", "second"]
        if client is bob:
            tagged = raw[0]
            assert tagged.startswith(b"@")
            assert b"+x=a\\rQUIT\\n:evil0" in tagged
    # everyone is still connected and talking
    await bob.send("PRIVMSG #chan :still here")
    assert seen(await alice.sync()) == [("PRIVMSG", ["#chan", "still here"])]


async def test_no_injection_via_params(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    bob = await irc.client("bob")
    # the only way to get CR into text is raw bytes, which are refused whole
    await alice.send_raw(b"PRIVMSG bob :hello\r:evil!x@y PRIVMSG bob :fake\r\n")
    assert [m.command for m in await alice.sync()] == ["400"]
    assert await bob.sync() == []
