"""Every line that reaches a user several devices share reaches each device
formatted for that device's own capabilities: tags, TAGMSG, cap-gated
notifications, multiline batches, the channel-rename fallback (issue 16)."""

from __future__ import annotations

import pytest

from harness import RunningServer, ServerFactory, join_all, joined
from ircclient import RawClient
from server.test_multiclient import PASSWORD, device

pytestmark = pytest.mark.usefixtures("cheap_hashes")

MODERN = ("message-tags", "server-time", "away-notify", "invite-notify", "setname")


async def settled(*clients: RawClient) -> None:
    for client in clients:
        await client.sync()


async def test_each_device_gets_the_tags_it_asked_for(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc, caps=MODERN)
    b, _ = await device(irc)
    bob = await irc.client("bob", ["message-tags"])
    await join_all("#tea", bob, a)
    await settled(a, b, bob)

    await bob.send("PRIVMSG alice :hi")
    tagged = await a.expect("PRIVMSG")
    assert "time" in tagged.tags and "msgid" in tagged.tags
    plain = await b.expect("PRIVMSG")
    assert plain.tags == {} and plain.params == ["alice", "hi"]

    # TAGMSG: only to the device that negotiated message-tags
    await bob.send("@+typing=active TAGMSG alice")
    await bob.send("@+draft/react=x TAGMSG #tea")
    typing = await a.expect("TAGMSG")
    assert typing.params == ["alice"] and typing.tags["+typing"] == "active"
    react = await a.expect("TAGMSG")
    assert react.params == ["#tea"] and react.tags["+draft/react"] == "x"
    await a.nothing()
    await b.nothing()

    # cap-gated notifications: the device that asked, not its sibling
    await bob.ask("AWAY :brb")
    assert (await a.expect("AWAY")).params == ["brb"]
    await b.nothing()
    await bob.ask("SETNAME :Bob B")
    await bob.ask("INVITE carol #tea")  # no such nick: nothing to anyone
    carol = await irc.client("carol")
    await bob.ask("INVITE carol #tea")
    invite = await a.expect("INVITE")
    assert invite.params == ["carol", "#tea"] and "time" in invite.tags
    await b.nothing()
    await carol.expect("INVITE")

    # an invitation to the user itself, and a channel event: each as it asked
    await bob.ask("JOIN #coffee")
    await bob.ask("INVITE alice #coffee")
    assert "time" in (await a.expect("INVITE")).tags
    assert (await b.expect("INVITE")).tags == {}
    await joined(carol, "#tea")
    await a.sync()
    await b.sync()
    await bob.ask("KICK #tea carol :out")
    assert "time" in (await a.expect("KICK")).tags
    assert (await b.expect("KICK")).tags == {}
    await b.nothing()


async def test_tagmsg_echo_to_sibling_devices(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc, caps=("message-tags",))
    b, _ = await device(irc)
    c, _ = await device(irc, caps=("message-tags", "echo-message"))
    bob = await irc.client("bob", ["message-tags"])
    await join_all("#tea", bob, a)
    await settled(a, b, c, bob)

    await a.send("@+typing=active TAGMSG bob")
    assert (await bob.expect("TAGMSG")).tags["+typing"] == "active"
    assert (await c.expect("TAGMSG")).params == ["bob"]
    await a.send("@+typing=done TAGMSG #tea")
    assert (await bob.expect("TAGMSG")).tags["+typing"] == "done"
    assert (await c.expect("TAGMSG")).params == ["#tea"]
    # to oneself: the devices with message-tags, once each
    await a.send("@+typing=paused TAGMSG alice")
    assert (await a.expect("TAGMSG")).tags["+typing"] == "paused"
    assert (await c.expect("TAGMSG")).tags["+typing"] == "paused"
    for client in (a, b, c, bob):
        await client.nothing()


async def test_setname_reaches_the_devices_that_asked(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc, caps=("setname",))
    b, _ = await device(irc)
    c, _ = await device(irc, caps=("setname",))
    replies = await b.ask("SETNAME :Alice A")
    assert replies == []
    assert (await a.expect("SETNAME")).params == ["Alice A"]
    assert (await c.expect("SETNAME")).params == ["Alice A"]
    await a.nothing()
    await c.nothing()


MULTI = ("draft/multiline", "batch", "message-tags", "echo-message")


async def test_multiline_to_and_from_a_shared_user(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc, caps=MULTI)
    b, _ = await device(irc)
    bob = await irc.client("bob", list(MULTI))

    await bob.send("BATCH +m1 draft/multiline alice")
    await bob.send("@batch=m1 PRIVMSG alice :one")
    await bob.send("@batch=m1 PRIVMSG alice :two")
    await bob.send("BATCH -m1")
    whole = await a.sync()
    assert [m.command for m in whole] == ["BATCH", "PRIVMSG", "PRIVMSG", "BATCH"]
    fallback = await b.sync()
    assert [(m.command, m.params) for m in fallback] == [
        ("PRIVMSG", ["alice", "one"]),
        ("PRIVMSG", ["alice", "two"]),
    ]
    await bob.sync()

    # from one device: the other device sees it too, in the form it can take
    await a.send("BATCH +m2 draft/multiline bob")
    await a.send("@batch=m2 PRIVMSG bob :three")
    await a.send("@batch=m2 PRIVMSG bob :four")
    await a.send("BATCH -m2")
    echo = await a.sync()
    assert [m.command for m in echo] == ["BATCH", "PRIVMSG", "PRIVMSG", "BATCH"]
    assert [m.command for m in await bob.sync()] == ["BATCH", "PRIVMSG", "PRIVMSG", "BATCH"]
    assert [(m.command, m.params) for m in await b.sync()] == [
        ("PRIVMSG", ["bob", "three"]),
        ("PRIVMSG", ["bob", "four"]),
    ]


async def test_two_devices_open_multiline_batches_at_once(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc, caps=MULTI)
    c, _ = await device(irc, caps=MULTI)
    bob = await irc.client("bob", list(MULTI))
    # each step is read by the server before the next (a PING barrier)
    assert await a.ask("BATCH +x draft/multiline bob") == []
    assert await c.ask("BATCH +y draft/multiline bob") == []
    assert await a.ask("@batch=x PRIVMSG bob :from a") == []
    assert await c.ask("@batch=y PRIVMSG bob :from c") == []
    await a.ask("BATCH -x")
    assert [m.params[1] for m in await bob.sync() if m.command == "PRIVMSG"] == ["from a"]
    await c.ask("BATCH -y")
    assert [m.params[1] for m in await bob.sync() if m.command == "PRIVMSG"] == ["from c"]


async def test_channel_rename_each_device_as_it_asked(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc, caps=("draft/channel-rename",))
    b, _ = await device(irc)
    op = await irc.client("op")
    await join_all("#old", op, a)
    await settled(a, b)

    await op.ask("RENAME #old #new :better")
    assert [(m.command, m.params) for m in await a.sync()] == [
        ("RENAME", ["#old", "#new", "better"])
    ]
    fallback = [(m.command, m.params[:2]) for m in await b.sync()]
    assert fallback[:2] == [("PART", ["#old", "better"]), ("JOIN", ["#new"])]
    assert ("366", ["alice", "#new"]) in fallback


async def test_redact_reaches_the_devices_that_asked(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc, caps=("draft/message-redaction", "message-tags"))
    b, _ = await device(irc)
    bob = await irc.client("bob", ["message-tags", "echo-message"])
    await join_all("#tea", bob, a)
    await settled(a, b, bob)
    await bob.send("PRIVMSG #tea :oops")
    msgid = (await bob.expect("PRIVMSG")).tags["msgid"]
    await a.expect("PRIVMSG")
    await b.expect("PRIVMSG")
    await bob.ask(f"REDACT #tea {msgid}")
    assert (await a.expect("REDACT")).params == ["#tea", msgid]
    await b.nothing()


async def test_join_autoreplay_only_to_the_device_that_joined(start_server: ServerFactory) -> None:
    irc = await start_server(history={"autoreplay_lines": 2})
    await irc.account("alice", PASSWORD)
    a, _ = await device(irc, caps=("server-time",))
    b, _ = await device(irc)
    bob = await irc.client("bob")
    await joined(bob, "#h")
    await bob.ask("PRIVMSG #h :one")
    await bob.ask("PRIVMSG #h :two")

    await a.send("JOIN #h")
    await a.expect("366")
    replayed = [await a.expect("PRIVMSG") for _ in range(2)]
    assert [m.params[1] for m in replayed] == ["one", "two"]
    assert all("time" in m.tags for m in replayed)
    await a.nothing()
    seen = [m.command for m in await b.sync()]
    assert seen[0] == "JOIN" and seen[-1] == "366" and "PRIVMSG" not in seen
