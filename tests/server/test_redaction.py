"""draft/message-redaction over real sockets: who may REDACT what, who sees
the REDACT, the FAIL codes of the spec, and the message leaving history."""

from __future__ import annotations

from typing import Any

import pytest

from harness import OPERS, join_all, oper_up
from hubbub.protocol.message import Message
from ircclient import RawClient

CAPS = [
    "batch",
    "server-time",
    "message-tags",
    "echo-message",
    "draft/chathistory",
    "draft/message-redaction",
]
PASSWORD = "correct horse battery"
pytestmark = pytest.mark.usefixtures("cheap_hashes")


async def say(client: RawClient, target: str, text: str) -> str:
    """Send a PRIVMSG; its msgid, read from the echo."""
    await client.send(f"PRIVMSG {target} :{text}")
    echo = await client.expect(lambda m: m.command == "PRIVMSG" and m.params[1] == text)
    return echo.tags["msgid"]


async def latest_texts(client: RawClient, target: str) -> list[str]:
    lines = await client.ask(f"CHATHISTORY LATEST {target} * 50")
    return [m.params[1] for m in lines if m.command == "PRIVMSG"]


def redacts(lines: list[Message]) -> list[tuple[str, list[str]]]:
    return [((m.source or "").split("!")[0], m.params) for m in lines if m.command == "REDACT"]


async def test_op_redacts_anyone_members_with_the_cap_see_it(irc: Any) -> None:
    alice, bob = await irc.in_channel("alice", "bob", channel="#r", caps=CAPS)
    carol = await irc.client("carol", ["message-tags", "echo-message"])
    await join_all("#r", carol)
    await alice.sync()
    await bob.sync()
    msgid = await say(bob, "#r", "spam spam")
    await alice.sync()
    await carol.sync()
    assert await latest_texts(alice, "#r") == ["spam spam"]

    await alice.send(f"REDACT #r {msgid} :spam")
    assert redacts(await alice.sync()) == [("alice", ["#r", msgid, "spam"])]
    assert redacts(await bob.sync()) == [("alice", ["#r", msgid, "spam"])]
    await carol.nothing()  # no cap, no REDACT
    assert await latest_texts(bob, "#r") == []


async def test_a_member_cannot_redact_others_nor_guests_their_own(irc: Any) -> None:
    alice, bob = await irc.in_channel("alice", "bob", channel="#r", caps=CAPS)
    msgid = await say(alice, "#r", "mine")
    await bob.sync()
    lines = await bob.ask(f"REDACT #r {msgid}")
    assert [(m.command, m.params[:4]) for m in lines] == [
        ("FAIL", ["REDACT", "REDACT_FORBIDDEN", "#r", msgid])
    ]
    own = await say(bob, "#r", "my own, as a guest")
    lines = await bob.ask(f"REDACT #r {own}")
    assert [m.params[1] for m in lines if m.command == "FAIL"] == ["REDACT_FORBIDDEN"]
    await alice.sync()
    assert await latest_texts(alice, "#r") == ["mine", "my own, as a guest"]


async def test_logged_in_sender_redacts_own_message_within_the_window(
    start_server: Any,
) -> None:
    irc = await start_server(history={"redaction_window": "1h"})
    op = await irc.client("op", CAPS)
    await join_all("#w", op)
    alice = await irc.logged_in("alice", PASSWORD, CAPS)
    await join_all("#w", alice)
    await op.sync()
    msgid = await say(alice, "#w", "oops")
    await op.sync()
    assert redacts(await alice.ask(f"REDACT #w {msgid}")) == [("alice", ["#w", msgid])]
    assert redacts(await op.sync()) == [("alice", ["#w", msgid])]
    assert await latest_texts(op, "#w") == []


async def test_the_window_expires_for_senders_not_for_operators(start_server: Any) -> None:
    irc = await start_server(history={"redaction_window": 1}, **OPERS)
    alice = await irc.logged_in("alice", PASSWORD, CAPS)
    await join_all("#w", alice)
    boss = await irc.client("boss", CAPS)
    await join_all("#w", boss)
    await alice.sync()
    await alice.ask("MODE #w -o alice")  # the channel's creator: no longer its op
    msgid = await say(alice, "#w", "old news")
    record = await irc.server.store.history.find(msgid)
    assert record is not None
    # Age the stored message past the window instead of sleeping.
    irc.server.store.history.redact(msgid)
    irc.server.store.history.append(record._replace(time_ms=record.time_ms - 5000))
    lines = await alice.ask(f"REDACT #w {msgid}")
    assert [m.params[:5] for m in lines if m.command == "FAIL"] == [
        ["REDACT", "REDACT_WINDOW_EXPIRED", "#w", msgid, "1"]
    ]
    await oper_up(boss)
    await boss.sync()
    assert redacts(await boss.ask(f"REDACT #w {msgid}")) == [("boss", ["#w", msgid])]


async def test_an_oper_redacts_in_a_channel_it_is_not_in(start_server: Any) -> None:
    irc = await start_server(**OPERS)
    alice, bob = await irc.in_channel("alice", "bob", channel="#r", caps=CAPS)
    msgid = await say(bob, "#r", "bad")
    await alice.sync()
    boss = await irc.client("boss", CAPS)
    await oper_up(boss)
    assert redacts(await boss.ask(f"REDACT #r {msgid} :rules")) == [
        ("boss", ["#r", msgid, "rules"])
    ]
    assert redacts(await alice.sync()) == [("boss", ["#r", msgid, "rules"])]


async def test_unknown_msgid_invalid_target_and_msgids_of_other_channels(irc: Any) -> None:
    (alice,) = await irc.in_channel("alice", channel="#a", caps=CAPS)
    (bob,) = await irc.in_channel("bob", channel="#b", caps=CAPS)
    elsewhere = await say(bob, "#b", "in #b")

    def fails(lines: list[Message]) -> list[list[str]]:
        return [m.params[:-1] for m in lines if m.command == "FAIL"]

    assert fails(await alice.ask("REDACT #a nosuchid")) == [
        ["REDACT", "UNKNOWN_MSGID", "#a", "nosuchid"]
    ]
    # alice is op of #a, but bob's message is not #a's
    assert fails(await alice.ask(f"REDACT #a {elsewhere}")) == [
        ["REDACT", "UNKNOWN_MSGID", "#a", elsewhere]
    ]
    assert fails(await alice.ask(f"REDACT #b {elsewhere}")) == [["REDACT", "INVALID_TARGET", "#b"]]
    assert fails(await alice.ask("REDACT #nowhere x")) == [["REDACT", "INVALID_TARGET", "#nowhere"]]
    assert [m.command for m in await alice.ask("REDACT #a")] == ["461"]
    await bob.sync()
    assert await latest_texts(bob, "#b") == ["in #b"]


async def test_a_reaction_tagmsg_is_redacted(irc: Any) -> None:
    alice, bob = await irc.in_channel("alice", "bob", channel="#r", caps=CAPS)
    await alice.send("@+draft/react=:) TAGMSG #r")
    echo = await alice.expect("TAGMSG")
    await bob.expect("TAGMSG")
    msgid = echo.tags["msgid"]
    assert redacts(await alice.ask(f"REDACT #r {msgid}")) == [("alice", ["#r", msgid])]
    assert await irc.server.store.history.find(msgid) is None


async def test_private_message_redacted_by_its_logged_in_sender(irc: Any) -> None:
    alice = await irc.logged_in("alice", PASSWORD, CAPS)
    bob = await irc.logged_in("bob", PASSWORD, CAPS)
    eve = await irc.logged_in("eve", PASSWORD, CAPS)
    msgid = await say(alice, "bob", "just for bob")
    await bob.expect("PRIVMSG")
    # eve names another conversation: the msgid is not in hers
    assert [m.params[1] for m in await eve.ask(f"REDACT bob {msgid}") if m.command == "FAIL"] == [
        "UNKNOWN_MSGID"
    ]
    lines = await bob.ask(f"REDACT alice {msgid}")
    assert [m.params[1] for m in lines if m.command == "FAIL"] == ["REDACT_FORBIDDEN"]
    assert redacts(await alice.ask(f"REDACT bob {msgid}")) == [("alice", ["bob", msgid])]
    assert redacts(await bob.sync()) == [("alice", ["bob", msgid])]
    assert await latest_texts(bob, "alice") == []
