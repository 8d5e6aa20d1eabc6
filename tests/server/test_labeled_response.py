"""labeled-response over real sockets, after the examples of
https://ircv3.net/specs/extensions/labeled-response, and the two bugs of
issue 13: dispatcher refusals without a label, and other users' messages
held in a running labeled command's batch."""

from __future__ import annotations

import asyncio

from harness import RunningServer
from hubbub.protocol.message import Message
from hubbub.server.api import Context
from hubbub.server.commands.registry import CommandSpec

CAPS = ["labeled-response", "batch", "echo-message", "message-tags"]


async def test_echoed_privmsg_is_the_one_labeled_reply(irc: RunningServer) -> None:
    alice = await irc.client("alice", CAPS)
    await irc.client("bob")
    await alice.send("@label=pQraCjj82e PRIVMSG bob :Hello")
    echo = await alice.expect("PRIVMSG")
    assert echo.tags["label"] == "pQraCjj82e" and "batch" not in echo.tags
    assert echo.params == ["bob", "Hello"]


async def test_message_to_oneself_arrives_once_and_its_echo_is_the_labeled_reply(
    irc: RunningServer,
) -> None:
    """To oneself with echo-message: the message arrives as anyone's would
    (unlabeled) and the echo is the one labeled reply, with no batch."""
    alice = await irc.client("alice", CAPS)
    for command in ("PRIVMSG", "NOTICE", "TAGMSG"):
        text = "" if command == "TAGMSG" else " :hi me"
        lines = await alice.ask(f"@label=self{command};+draft/react=x {command} alice{text}")
        assert [m.command for m in lines] == [command, command]
        assert sorted(m.tags.get("label", "") for m in lines) == ["", f"self{command}"]
        assert not any("batch" in m.tags for m in lines)


async def test_no_reply_is_a_labeled_ack(irc: RunningServer) -> None:
    alice = await irc.client("alice", ["labeled-response", "batch"])
    await irc.client("bob")
    await alice.send("@label=dc11f13f11 PRIVMSG bob :Hi")
    ack = await alice.expect("ACK")
    assert ack.tags == {"label": "dc11f13f11"} and ack.params == []


async def test_whois_comes_in_one_labeled_batch(irc: RunningServer) -> None:
    alice = await irc.client("alice", CAPS)
    await irc.client("bob")
    lines = await alice.ask("@label=mGhe5V7RTV WHOIS bob")
    start, *inner, end = lines
    assert (start.command, start.tags["label"]) == ("BATCH", "mGhe5V7RTV")
    ref = start.params[0][1:]
    assert start.params[1] == "labeled-response"
    assert inner[0].command == "311" and inner[-1].command == "318"
    assert all(m.tags.get("batch") == ref for m in inner)
    assert (end.command, end.params) == ("BATCH", ["-" + ref])


async def test_dispatcher_refusals_carry_the_label(irc: RunningServer) -> None:
    alice = await irc.client("alice", CAPS)
    answers = [
        (await alice.ask(line))[0]
        for line in ("@label=a1 NOSUCHCOMMAND", "@label=a2 JOIN", "@label=a3 KILL bob :x")
    ]
    assert [(m.command, m.tags.get("label")) for m in answers] == [
        ("421", "a1"),
        ("461", "a2"),
        ("481", "a3"),
    ]
    assert not any("batch" in m.tags for m in answers)


async def test_other_users_messages_are_not_held_in_a_labeled_response(
    irc: RunningServer,
) -> None:
    release = asyncio.Event()

    async def slow(ctx: Context, msg: Message) -> None:
        ctx.send("NOTICE", ctx.nick, "working")
        await release.wait()
        ctx.send("NOTICE", ctx.nick, "done")

    irc.server.commands["SLOW"] = CommandSpec("SLOW", slow, 0, False, False, 1, "")
    alice = await irc.client("alice", CAPS)
    bob = await irc.client("bob")
    await alice.send("@label=s1 SLOW")
    await bob.send("PRIVMSG alice :are you there?")
    await bob.sync()  # the server has relayed it
    # It reaches alice while her command still runs, outside its batch.
    direct = await alice.read()
    assert direct.command == "PRIVMSG" and direct.params == ["alice", "are you there?"]
    assert "batch" not in direct.tags and "label" not in direct.tags
    release.set()
    start, working, done, end = [await alice.read() for _ in range(4)]
    assert (start.command, start.tags["label"]) == ("BATCH", "s1")
    ref = start.params[0][1:]
    assert [working.params[1], done.params[1]] == ["working", "done"]
    assert working.tags["batch"] == done.tags["batch"] == ref
    assert end.params == ["-" + ref]
