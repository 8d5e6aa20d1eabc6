"""draft/event-playback over real sockets: channel events stored with the
messages and replayed by CHATHISTORY to clients with the cap only; client
tags kept with history (+draft/reply, +draft/react), +typing relayed only;
CHATHISTORY TARGETS with ``*`` bounds."""

from __future__ import annotations

import asyncio
from typing import Any

from harness import join_all
from hubbub.protocol.message import Message
from ircclient import RawClient

BASE = ["batch", "server-time", "message-tags", "echo-message", "draft/chathistory"]
PLAYBACK = [*BASE, "draft/event-playback"]


async def replayed(client: RawClient, line: str) -> list[Message]:
    """The lines inside the chathistory batch answering ``line``."""
    lines = await client.ask(line)
    assert lines[0].command == "BATCH" and lines[-1].command == "BATCH", lines
    ref = lines[0].params[0][1:]
    inner = lines[1:-1]
    assert all(m.tags.get("batch") == ref for m in inner), inner
    return inner


def seen(messages: list[Message]) -> list[tuple[str, list[str]]]:
    return [(m.command, m.params) for m in messages]


async def test_events_are_replayed_with_their_live_msgid_and_time(irc: Any) -> None:
    alice = await irc.client("alice", PLAYBACK)
    bob = await irc.client("bob", BASE)
    await join_all("#ev", alice)
    live: list[Message] = []
    await alice.send("TOPIC #ev :first topic")
    live.append(await alice.expect("TOPIC"))
    await join_all("#ev", bob)
    live.append(await alice.expect("JOIN"))
    await alice.send("MODE #ev +v bob")
    live.append(await alice.expect("MODE"))
    await alice.send("PRIVMSG #ev :hello")
    live.append(await alice.expect("PRIVMSG"))
    await bob.send("NICK robert")
    live.append(await alice.expect("NICK"))
    await alice.send("KICK #ev robert :bye")
    live.append(await alice.expect("KICK"))

    got = await replayed(alice, "CHATHISTORY LATEST #ev * 50")
    got = got[1:]  # alice's own JOIN, before the first topic
    assert seen(got) == [
        ("TOPIC", ["#ev", "first topic"]),
        ("JOIN", ["#ev"]),
        ("MODE", ["#ev", "+v", "bob"]),
        ("PRIVMSG", ["#ev", "hello"]),
        ("NICK", ["robert"]),
        ("KICK", ["#ev", "robert", "bye"]),
    ]
    assert [(m.tags["msgid"], m.tags["time"], m.source) for m in got] == [
        (m.tags["msgid"], m.tags["time"], m.source) for m in live
    ]


async def test_without_the_cap_only_messages_and_the_limit_counts_them(irc: Any) -> None:
    alice = await irc.client("alice", PLAYBACK)
    bob = await irc.client("bob", BASE)
    await join_all("#ev", alice, bob)
    await alice.ask("PRIVMSG #ev :one")
    for n in range(5):
        await alice.ask(f"TOPIC #ev :topic {n}")
    await alice.ask("@+draft/react=+1 TAGMSG #ev")
    await bob.sync()
    assert seen(await replayed(bob, "CHATHISTORY LATEST #ev * 1")) == [("PRIVMSG", ["#ev", "one"])]
    got = await replayed(alice, "CHATHISTORY LATEST #ev * 2")
    assert [m.command for m in got] == ["TOPIC", "TAGMSG"]
    assert got[1].tags["+draft/react"] == "+1"


async def test_part_and_quit_are_replayed_quit_in_every_channel(irc: Any) -> None:
    alice = await irc.client("alice", PLAYBACK)
    bob = await irc.client("bob", BASE)
    await join_all("#one", alice, bob)
    await join_all("#two", alice, bob)
    await bob.send("PART #one :later")
    await alice.expect("PART")
    await bob.send("QUIT :gone")
    quit_live = await alice.expect("QUIT")
    one = await replayed(alice, "CHATHISTORY LATEST #one * 2")
    two = await replayed(alice, "CHATHISTORY LATEST #two * 1")
    assert seen(one) == [("JOIN", ["#one"]), ("PART", ["#one", "later"])]
    assert seen(two) == [("QUIT", ["Quit: gone"])]
    assert two[0].tags["msgid"] == quit_live.tags["msgid"]


async def test_extended_join_clients_get_the_extended_form(irc: Any) -> None:
    alice = await irc.client("alice", [*PLAYBACK, "extended-join"])
    await join_all("#ev", alice)
    (join,) = await replayed(alice, "CHATHISTORY LATEST #ev * 1")
    assert seen([join]) == [("JOIN", ["#ev", "*", "alice realname"])]


async def test_reply_and_react_tags_are_kept_typing_is_not(irc: Any) -> None:
    alice = await irc.client("alice", PLAYBACK)
    bob = await irc.client("bob", PLAYBACK)
    await join_all("#t", alice, bob)
    await alice.send("PRIVMSG #t :question")
    asked = await alice.expect("PRIVMSG")
    await bob.send(f"@+draft/reply={asked.tags['msgid']} PRIVMSG #t :answer")
    await bob.send("@+typing=active TAGMSG #t")
    typing = await alice.expect("TAGMSG")
    assert typing.tags["+typing"] == "active"  # relayed live
    await bob.send(f"@+draft/react=ok;+draft/reply={asked.tags['msgid']} TAGMSG #t")
    await alice.expect(lambda m: m.command == "TAGMSG" and "+draft/react" in m.tags)
    got = await replayed(alice, "CHATHISTORY LATEST #t * 3")
    assert [m.command for m in got] == ["PRIVMSG", "PRIVMSG", "TAGMSG"]
    assert got[1].tags["+draft/reply"] == asked.tags["msgid"]
    assert got[2].tags["+draft/react"] == "ok"
    assert all("+typing" not in m.tags for m in got)


async def test_targets_with_star_bounds(irc: Any) -> None:
    alice = await irc.client("alice", PLAYBACK)
    await join_all("#a", alice)
    await join_all("#b", alice)
    await alice.ask("PRIVMSG #a :x")
    await asyncio.sleep(0.01)  # not in the same millisecond
    await alice.ask("PRIVMSG #b :y")
    got = await replayed(alice, "CHATHISTORY TARGETS * * 10")
    assert [m.params[1] for m in got] == ["#a", "#b"]
    got = await replayed(alice, "CHATHISTORY TARGETS * * 1")
    assert [m.params[1] for m in got] == ["#b"]  # the latest, counted back from now
    fails = await alice.ask("CHATHISTORY TARGETS * msgid=abc 10")
    assert [m.params[:2] for m in fails if m.command == "FAIL"] == [
        ["CHATHISTORY", "INVALID_PARAMS"]
    ]


async def test_targets_bounds_are_excluded_and_events_do_not_count(irc: Any) -> None:
    alice = await irc.client("alice", PLAYBACK)
    await join_all("#a", alice)
    await join_all("#b", alice)
    await alice.send("PRIVMSG #a :x")
    first = await alice.expect("PRIVMSG")
    await asyncio.sleep(0.01)
    await alice.send("PRIVMSG #b :y")
    second = await alice.expect("PRIVMSG")
    bob = await irc.client("bob", BASE)
    await join_all("#a", bob)  # an event after the messages: not a message
    await alice.sync()
    after_first = f"timestamp={first.tags['time']}"
    for query in (f"{after_first} *", f"* {after_first}"):
        got = await replayed(alice, f"CHATHISTORY TARGETS {query} 10")
        assert [m.params[1:] for m in got] == [["#b", second.tags["time"]]]
    got = await replayed(alice, "CHATHISTORY TARGETS * * 10")
    assert [m.params[1:] for m in got] == [
        ["#a", first.tags["time"]],
        ["#b", second.tags["time"]],
    ]


async def test_client_tags_up_to_the_spec_limit_are_relayed_and_replayed(irc: Any) -> None:
    alice = await irc.client("alice", PLAYBACK)
    bob = await irc.client("bob", PLAYBACK)
    await join_all("#big", alice, bob)
    key = "+draft/react="
    at_limit = "x" * (4094 - len(key))  # the tag data may take 4094 bytes
    await alice.send(f"@{key}{at_limit} TAGMSG #big")
    assert (await bob.expect("TAGMSG")).tags["+draft/react"] == at_limit
    lines = await alice.ask(f"@{key}{at_limit}y TAGMSG #big")
    assert "417" in [m.command for m in lines]  # ERR_INPUTTOOLONG
    await bob.nothing()
    (replay,) = await replayed(alice, "CHATHISTORY LATEST #big * 1")
    assert replay.command == "TAGMSG" and replay.tags["+draft/react"] == at_limit
