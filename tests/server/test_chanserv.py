"""ChanServ: REGISTER/INFO/DROP, ACCESS roles, OP/VOICE, topic lock, and a
registered channel's state coming back when it is re-created."""

from __future__ import annotations

from typing import Any

import pytest

from chanserv_client import (
    PASSWORD,
    cs,
    cs_all,
    join,
    login_client,
    modes_seen,
    registered_channel,
    stored_channel,
)

pytestmark = pytest.mark.usefixtures("cheap_hashes")


async def test_register_needs_login_and_operator_status(irc: Any) -> None:
    anon = await irc.client("anon")
    await join(anon, "#open")
    assert "logged in" in await cs(anon, "REGISTER #open")
    bob = await login_client(irc, "bob")
    await join(bob, "#open")
    assert "channel operator" in await cs(bob, "REGISTER #open")
    assert "channel operator" in await cs(bob, "REGISTER #nowhere")


async def test_register_info_drop(irc: Any) -> None:
    alice = await registered_channel(irc)
    assert "already registered" in await cs(alice, "REGISTER #reg")
    info = await cs_all(alice, "INFO #REG")
    assert any("Founder" in line and "alice" in line for line in info)
    assert any("Topic lock : OFF" in line for line in info)
    stored = await stored_channel(irc, "#reg")
    assert stored is not None and stored.founder == "alice"
    bob = await login_client(irc, "bob")
    assert "founder" in await cs(bob, "DROP #reg")
    assert "dropped" in await cs(alice, "DROP #reg")
    assert "not registered" in await cs(alice, "INFO #reg")
    assert await stored_channel(irc, "#reg") is None


async def test_access_roles_on_join(irc: Any) -> None:
    alice = await registered_channel(irc)
    await login_client(irc, "bob")  # the account must exist; bob disconnects later
    assert "op access" in await cs(alice, "ACCESS #reg ADD bob op")
    await irc.server.store.accounts.create("carol", PASSWORD)
    assert "voice access" in await cs(alice, "ACCESS #reg ADD carol voice")
    assert "no account" in await cs(alice, "ACCESS #reg ADD nobody op")
    listing = await cs_all(alice, "ACCESS #reg LIST")
    assert "  alice founder" in listing and "  bob op" in listing and "  carol voice" in listing

    carol = await login_client(irc, "carol", create=False)
    seen = await join(carol, "#reg")
    assert ["#reg", "+v", "carol"] in modes_seen(seen)
    mode = next(m for m in seen if m.command == "MODE")
    assert (mode.source or "").startswith("ChanServ!")
    # carol may not grant roles
    assert "founder" in await cs(carol, "ACCESS #reg ADD carol op")

    dave = await irc.client("dave")
    seen = await join(dave, "#reg")
    assert modes_seen(seen) == []

    stored = await stored_channel(irc, "#reg")
    assert stored is not None and dict(stored.access) == {"bob": "op", "carol": "voice"}
    assert "removed" in await cs(alice, "ACCESS #reg DEL carol")
    stored = await stored_channel(irc, "#reg")
    assert stored is not None and dict(stored.access) == {"bob": "op"}


async def test_op_deop_voice_devoice(irc: Any) -> None:
    alice = await registered_channel(irc)
    bob = await irc.client("bob")
    await join(bob, "#reg")
    await alice.sync()
    await alice.send("PRIVMSG ChanServ :DEOP #reg")
    assert (await alice.expect("MODE")).params == ["#reg", "-o", "alice"]
    await alice.send("PRIVMSG ChanServ :OP #reg")
    assert (await alice.expect("MODE")).params == ["#reg", "+o", "alice"]
    await alice.send("PRIVMSG ChanServ :VOICE #reg bob")
    assert (await alice.expect("MODE")).params == ["#reg", "+v", "bob"]
    await alice.send("PRIVMSG ChanServ :DEVOICE #reg bob")
    assert (await alice.expect("MODE")).params == ["#reg", "-v", "bob"]
    assert modes_seen(await bob.sync()) == [
        ["#reg", "-o", "alice"],
        ["#reg", "+o", "alice"],
        ["#reg", "+v", "bob"],
        ["#reg", "-v", "bob"],
    ]
    # bob has no access
    assert "not logged in" in await cs(bob, "OP #reg")
    assert "is not on" in await cs(alice, "OP #reg nobody")


async def test_topic_lock(irc: Any) -> None:
    alice = await registered_channel(irc)
    await login_client(irc, "bob")
    await cs(alice, "ACCESS #reg ADD bob op")
    bob = irc.clients[-1]
    seen = await join(bob, "#reg")
    assert ["#reg", "+o", "bob"] in modes_seen(seen)
    assert "now ON" in await cs(alice, "TOPIC #reg LOCK ON")
    await bob.send("TOPIC #reg :bob's topic")
    refused = await bob.expect("482")
    assert "locked" in refused.params[-1]
    # via ChanServ: the text starts at its first word and keeps its inner spacing
    await bob.send("PRIVMSG ChanServ :TOPIC #reg  spaced  words")
    topic = await alice.expect("TOPIC")
    assert topic.params == ["#reg", "spaced  words"]
    assert (topic.source or "").startswith("ChanServ!")
    await bob.sync()
    # the founder may change a locked topic directly
    await alice.send("TOPIC #reg :founder's topic")
    assert (await bob.expect("TOPIC")).params == ["#reg", "founder's topic"]
    stored = await stored_channel(irc, "#reg")
    assert stored is not None and stored.topic_lock
    assert stored.topic is not None and stored.topic.text == "founder's topic"
    assert "now OFF" in await cs(alice, "TOPIC #reg LOCK OFF")
    await bob.send("TOPIC #reg :bob again")
    assert (await alice.expect("TOPIC")).params == ["#reg", "bob again"]


async def test_registered_channel_is_restored_when_recreated(irc: Any) -> None:
    alice = await registered_channel(irc)
    await alice.send("TOPIC #reg :kept topic")
    await alice.send("MODE #reg +imlk 5 sesame")
    await alice.send("MODE #reg +bII spam!*@* friend!*@* $a:alice")
    await alice.send("MODE #reg +b other!*@*")
    await alice.ask("MODE #reg -b other!*@*")
    stored = await stored_channel(irc, "#reg")
    assert stored is not None and stored.topic is not None and stored.topic.text == "kept topic"
    assert stored.modes.startswith("+") and "sesame" in stored.modes
    assert [e.mask for e in stored.bans] == ["spam!*@*"]
    assert [e.mask for e in stored.invexes] == ["friend!*@*", "$a:alice"]

    await alice.ask("PART #reg")
    assert irc.server.world.find_channel("#reg") is None

    # the restored key, +i and bans apply to the first joiner too
    spam = await irc.client("spam")
    assert "475" in [m.command for m in await join(spam, "#reg")]
    assert "473" in [m.command for m in await join(spam, "#reg", "sesame")]
    friend = await irc.client("friend")
    seen = await join(friend, "#reg", "sesame")
    assert "JOIN" in [m.command for m in seen]
    # a first joiner without access gets no +o; the topic is back
    names = next(m for m in seen if m.command == "353")
    assert names.params[-1] == "friend"
    assert next(m for m in seen if m.command == "332").params[-1] == "kept topic"
    await friend.send("MODE #reg")
    mode = await friend.expect("324")
    assert mode.params[2] == "+imntkl" and mode.params[3:] == ["sesame", "5"]
    await friend.send("MODE #reg b")
    assert (await friend.expect("367")).params[2] == "spam!*@*"

    # the founder gets +o on join
    await alice.send("JOIN #reg sesame")
    op = await friend.expect("MODE")
    assert op.params == ["#reg", "+o", "alice"]


async def test_founder_first_joiner_is_opped(irc: Any) -> None:
    alice = await registered_channel(irc)
    await alice.send("PART #reg")
    seen = await join(alice, "#reg")
    names = next(m for m in seen if m.command == "353")
    assert names.params[-1] == "@alice"


async def test_help_and_unknown(irc: Any) -> None:
    anon = await irc.client("anon")
    lines = await cs_all(anon, "HELP")
    assert any("REGISTER" in line for line in lines)
    assert "Unknown command" in await cs(anon, "FROB #x")
