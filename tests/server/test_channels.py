"""Channels over real sockets: JOIN, PART, TOPIC, NAMES, LIST, INVITE, KICK,
and the channel modes enforced at join and when speaking."""

from __future__ import annotations

import re

from harness import CLOAKED_HOST, RunningServer, identify, join_all, joined
from hubbub.protocol.message import Message
from ircclient import RawClient


async def setup(irc: RunningServer, *nicks: str, channel: str = "#chan") -> list[RawClient]:
    """The first nick creates the channel (and is op); the others join it."""
    return await irc.in_channel(*nicks, channel=channel)


def commands(lines: list[Message]) -> list[str]:
    return [m.command for m in lines]


def names_of(lines: list[Message]) -> list[str]:
    return sorted(n for m in lines if m.command == "353" for n in m.params[-1].split())


# --- JOIN ---------------------------------------------------------------------
async def test_creator_gets_op_and_names(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    lines = await joined(alice, "#chan")
    assert commands(lines) == ["JOIN", "353", "366"]
    assert lines[0].source is not None and lines[0].source.startswith("alice!~alice@")
    assert lines[0].params == ["#chan"]
    assert lines[1].params == ["alice", "=", "#chan", "@alice"]
    assert lines[2].params == ["alice", "#chan", "End of /NAMES list"]
    bob = await irc.client("bob")
    lines = await joined(bob, "#CHAN")
    assert lines[0].params == ["#chan"]  # the channel's own spelling
    assert names_of(lines) == ["@alice", "bob"]
    seen = await alice.sync()
    assert [(m.command, m.params) for m in seen] == [("JOIN", ["#chan"])]
    assert seen[0].source is not None and seen[0].source.startswith("bob!")


async def test_join_several_with_keys(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    for chan, key in (("#a", "k1"), ("#b", "k2"), ("#c", "")):
        await joined(alice, chan)
        if key:
            await alice.send(f"MODE {chan} +k {key}")
    await alice.sync()
    bob = await irc.client("bob")
    lines = await bob.ask("JOIN #a,#b,#c,#d k1,wrong")
    got = [(m.command, m.params[0] if m.command == "JOIN" else m.params[1]) for m in lines]
    assert ("JOIN", "#a") in got
    assert ("475", "#b") in got
    assert ("JOIN", "#c") in got
    assert ("JOIN", "#d") in got
    refusal = next(m for m in lines if m.command == "475")
    assert refusal.params == ["bob", "#b", "Cannot join channel (+k)"]
    assert commands(await bob.ask("JOIN #b k2"))[0] == "JOIN"


async def test_join_twice_is_silent(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    assert await joined(alice, "#chan") == []


async def test_join_invalid_name(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    lines = await alice.ask("JOIN nochan")
    assert [(m.command, m.params[1]) for m in lines] == [("403", "nochan")]


async def test_join_zero_parts_everything(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    await joined(alice, "#other")
    await joined(bob, "#other")
    await alice.sync()
    lines = await bob.ask("JOIN 0")
    assert sorted(m.params[0] for m in lines if m.command == "PART") == ["#chan", "#other"]
    seen = await alice.sync()
    assert sorted(m.params[0] for m in seen if m.command == "PART") == ["#chan", "#other"]
    assert commands(await bob.ask("PRIVMSG #chan :still here?")) == ["404"]


async def test_extended_join(irc: RunningServer) -> None:
    alice = await irc.client("alice", caps=["extended-join"])
    plain = await irc.client("plain")
    await join_all("#chan", alice, plain)
    bob = await irc.client("bob")
    await joined(bob, "#chan")
    ext = [m for m in await alice.sync() if m.command == "JOIN"]
    assert [m.params for m in ext] == [["#chan", "*", "bob realname"]]
    await identify(bob, *await irc.account("bobacct"))
    await bob.send("PART #chan")
    await joined(bob, "#chan")
    ext = [m for m in await alice.sync() if m.command == "JOIN"]
    assert [m.params for m in ext] == [["#chan", "bobacct", "bob realname"]]
    # a client without the capability gets the plain form
    plain_joins = [m for m in await plain.sync() if m.command == "JOIN"]
    assert [m.params for m in plain_joins] == [["#chan"], ["#chan"]]


# --- PART ---------------------------------------------------------------------
async def test_part_with_reason(irc: RunningServer) -> None:
    alice, bob, carol = await setup(irc, "alice", "bob", "carol")
    await bob.send("PART #chan :gone fishing")
    for c in (alice, bob, carol):
        lines = await c.sync()
        assert [(m.command, m.params) for m in lines] == [("PART", ["#chan", "gone fishing"])]
        assert lines[0].source is not None and lines[0].source.startswith("bob!")
    assert await bob.answers("PART #chan") == [
        ("442", ["bob", "#chan", "You're not on that channel"])
    ]
    assert commands(await bob.ask("PART #nowhere")) == ["403"]
    await carol.send("PART #chan")
    assert [m.params for m in await alice.sync()] == [["#chan"]]


async def test_empty_channel_disappears(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    await alice.send("MODE #chan +sk key")
    await alice.ask("TOPIC #chan :hello")
    await alice.ask("PART #chan")
    await bob.ask("PART #chan")
    assert irc.server.world.find_channel("#chan") is None
    lines = await bob.ask("LIST")
    assert [m for m in lines if m.command == "322"] == []
    assert commands(await bob.ask("MODE #chan")) == ["403"]
    # joining again makes a brand new channel: bob is op, no key, no topic
    lines = await joined(bob, "#chan")
    assert commands(lines) == ["JOIN", "353", "366"]
    assert names_of(lines) == ["@bob"]


# --- TOPIC --------------------------------------------------------------------
async def test_topic_protected(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    assert await bob.answers("TOPIC #chan") == [("331", ["bob", "#chan", "No topic is set"])]
    assert await bob.answers("TOPIC #chan :bob's topic") == [
        ("482", ["bob", "#chan", "You're not channel operator"])
    ]
    await alice.send("TOPIC #chan :the topic here")
    for c in (alice, bob):
        lines = await c.sync()
        assert [(m.command, m.params) for m in lines] == [("TOPIC", ["#chan", "the topic here"])]
        assert lines[0].source is not None and lines[0].source.startswith("alice!")
    lines = await bob.ask("TOPIC #chan")
    assert commands(lines) == ["332", "333"]
    assert lines[0].params == ["bob", "#chan", "the topic here"]
    assert lines[1].params[:2] == ["bob", "#chan"]
    assert re.fullmatch(rf"alice!~alice@{CLOAKED_HOST}", lines[1].params[2])
    assert lines[1].params[3].isdigit() and len(lines[1].params) == 4
    await alice.ask("MODE #chan -t")
    await bob.sync()
    await bob.send("TOPIC #chan :")  # anyone may change (and clear) it now
    for c in (alice, bob):
        assert [m.params for m in await c.sync()] == [["#chan", ""]]
    carol = await irc.client("carol")
    assert commands(await carol.ask("TOPIC #chan :outside")) == ["442"]


async def test_topic_sent_on_join(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    await alice.ask("TOPIC #chan :welcome all")
    bob = await irc.client("bob")
    lines = await joined(bob, "#chan")
    assert commands(lines) == ["JOIN", "332", "333", "353", "366"]
    assert lines[1].params == ["bob", "#chan", "welcome all"]


# --- NAMES ------------------------------------------------------------------------
async def test_names_multi_prefix_and_userhost(irc: RunningServer) -> None:
    alice, _bob = await setup(irc, "alice", "bob")
    await alice.ask("MODE #chan +v alice")
    plain = await irc.client("plain")
    assert names_of(await plain.ask("NAMES #chan")) == ["@alice", "bob"]
    multi = await irc.client("multi", caps=["multi-prefix"])
    assert names_of(await multi.ask("NAMES #chan")) == ["@+alice", "bob"]
    full = await irc.client("full", caps=["multi-prefix", "userhost-in-names"])
    entries = names_of(await full.ask("NAMES #chan"))
    assert len(entries) == 2
    assert entries[0].startswith("@+alice!~alice@")
    assert entries[1].startswith("bob!~bob@")


async def test_names_unknown_and_no_args(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    assert await alice.answers("NAMES #nowhere") == [
        ("366", ["alice", "#nowhere", "End of /NAMES list"])
    ]
    assert commands(await alice.ask("NAMES")) == ["366"]


async def test_secret_channel_hidden_from_outsiders(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    await joined(alice, "#open")
    await alice.ask("MODE #chan +s")
    carol = await irc.client("carol")
    listed = [m.params[1] for m in await carol.ask("LIST") if m.command == "322"]
    assert listed == ["#open"]
    assert await carol.answers("NAMES #chan") == [("366", ["carol", "#chan", "End of /NAMES list"])]
    # members still see it, marked secret with '@'
    listed = [m.params[1] for m in await bob.ask("LIST") if m.command == "322"]
    assert sorted(listed) == ["#chan", "#open"]
    lines = await bob.ask("NAMES #chan")
    assert lines[0].command == "353"
    assert lines[0].params[1:3] == ["@", "#chan"]


async def test_names_hides_invisible_from_outsiders(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    await bob.ask("MODE bob +i")
    carol = await irc.client("carol")
    assert names_of(await carol.ask("NAMES #chan")) == ["@alice"]
    assert names_of(await alice.ask("NAMES #chan")) == ["@alice", "bob"]


# --- LIST ---------------------------------------------------------------------------
async def test_list_with_elist_filters(irc: RunningServer) -> None:
    a, b, _c = await setup(irc, "a", "b", "c", channel="#big")
    await joined(a, "#small")
    await joined(a, "#medium")
    await joined(b, "#medium")
    await a.ask("TOPIC #big :big topic")
    viewer = await irc.client("viewer")

    async def listing(arg: str) -> list[str]:
        lines = await viewer.ask(f"LIST {arg}".rstrip())
        assert lines[0].command == "321"
        assert lines[-1].command == "323"
        return sorted(m.params[1] for m in lines if m.command == "322")

    assert await listing("") == ["#big", "#medium", "#small"]
    assert await listing(">1") == ["#big", "#medium"]
    assert await listing("<2") == ["#small"]
    assert await listing("#m*") == ["#medium"]
    assert await listing("!#m*") == ["#big", "#small"]
    assert await listing(">1,!#b*") == ["#medium"]
    assert await listing("#SMALL") == ["#small"]
    assert await listing("C<60") == ["#big", "#medium", "#small"]
    assert await listing("C>60") == []
    assert await listing("T<60") == ["#big"]
    entry = next(m for m in await viewer.ask("LIST #big") if m.command == "322")
    assert entry.params == ["viewer", "#big", "3", "big topic"]


# --- INVITE ---------------------------------------------------------------------------
async def test_invite_only_and_invite(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    await joined(alice, "#chan")
    bob = await irc.client("bob", caps=["invite-notify"])
    await joined(bob, "#chan")
    watcher = await irc.client("watcher", caps=["invite-notify"])
    await joined(watcher, "#chan")
    await alice.send("MODE #chan +io bob")
    for c in (alice, bob, watcher):
        await c.sync()
    carol = await irc.client("carol")
    assert await carol.answers("JOIN #chan") == [
        ("473", ["carol", "#chan", "Cannot join channel (+i)"])
    ]
    # a non-op may not invite into a +i channel
    assert commands(await watcher.ask("INVITE carol #chan")) == ["482"]
    assert await alice.answers("INVITE carol #chan") == [("341", ["alice", "carol", "#chan"])]
    got = await carol.sync()
    assert [(m.command, m.params) for m in got] == [("INVITE", ["carol", "#chan"])]
    assert got[0].source is not None and got[0].source.startswith("alice!")
    # invite-notify: the other op hears it; a non-op does not on a +i channel
    notified = await bob.sync()
    assert [(m.command, m.params) for m in notified] == [("INVITE", ["carol", "#chan"])]
    assert await watcher.sync() == []
    lines = await joined(carol, "#chan")
    assert commands(lines)[0] == "JOIN"
    # the invitation was used up
    await carol.ask("PART #chan")
    assert commands(await carol.ask("JOIN #chan")) == ["473"]


async def test_invite_errors(irc: RunningServer) -> None:
    alice, _bob = await setup(irc, "alice", "bob")
    assert commands(await alice.ask("INVITE nobody #chan")) == ["401"]
    assert await alice.answers("INVITE bob #chan") == [
        ("443", ["alice", "bob", "#chan", "is already on channel"])
    ]
    carol = await irc.client("carol")
    assert commands(await carol.ask("INVITE bob #chan")) == ["442"]
    assert commands(await carol.ask("INVITE bob #nowhere")) == ["403"]
    assert commands(await carol.ask("INVITE bob")) == ["461"]


async def test_invite_exception(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    await alice.ask("MODE #chan +iI carol")
    carol = await irc.client("carol")
    assert commands(await joined(carol, "#chan"))[0] == "JOIN"
    dave = await irc.client("dave")
    assert commands(await joined(dave, "#chan")) == ["473"]


# --- KICK -------------------------------------------------------------------------------
async def test_kick_with_reason(irc: RunningServer) -> None:
    alice, bob, carol = await setup(irc, "alice", "bob", "carol")
    await alice.send("KICK #chan bob :behave")
    for c in (alice, bob, carol):
        lines = await c.sync()
        assert [(m.command, m.params) for m in lines] == [("KICK", ["#chan", "bob", "behave"])]
        assert lines[0].source is not None and lines[0].source.startswith("alice!")
    assert names_of(await carol.ask("NAMES #chan")) == ["@alice", "carol"]
    assert commands(await bob.ask("PRIVMSG #chan :hey")) == ["404"]
    assert await carol.sync() == []
    # default reason is the kicker's nick
    lines = await alice.ask("KICK #chan carol")
    assert [m.params for m in lines] == [["#chan", "carol", "alice"]]


async def test_kick_errors(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    assert commands(await bob.ask("KICK #chan alice")) == ["482"]
    assert await alice.answers("KICK #chan nobody") == [
        ("441", ["alice", "nobody", "#chan", "They aren't on that channel"])
    ]
    carol = await irc.client("carol")
    assert commands(await carol.ask("KICK #chan bob")) == ["442"]
    assert commands(await carol.ask("KICK #nowhere bob")) == ["403"]


# --- modes enforced -------------------------------------------------------------------------
async def test_ban_at_join_and_exception(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    await alice.ask("MODE #chan +b bob")
    bob = await irc.client("bob")
    lines = await joined(bob, "#chan")
    assert [(m.command, m.params) for m in lines] == [
        ("474", ["bob", "#chan", "Cannot join channel (+b)"])
    ]
    # Channel masks see the cloaked host (bob's real address is hidden).
    await alice.ask("MODE #chan +e bob!*@*.hubbub")
    assert commands(await joined(bob, "#chan"))[0] == "JOIN"
    carol = await irc.client("carol")
    await alice.ask("MODE #chan +b *!*@*")
    assert commands(await joined(carol, "#chan")) == ["474"]
    # an invitation overrides the ban
    await alice.ask("INVITE carol #chan")
    await carol.sync()
    assert commands(await joined(carol, "#chan"))[0] == "JOIN"


async def test_ban_prevents_speaking(irc: RunningServer) -> None:
    alice, bob, carol = await setup(irc, "alice", "bob", "carol")
    await alice.send("MODE #chan +b bob!*@*")
    for c in (alice, bob, carol):
        await c.sync()
    assert await bob.answers("PRIVMSG #chan :can you hear me") == [
        ("404", ["bob", "#chan", "Cannot send to channel (you're banned)"])
    ]
    assert await carol.sync() == []
    # a ban exception lets them speak
    await alice.ask("MODE #chan +e bob")
    await bob.ask("PRIVMSG #chan :better")
    assert [m.params for m in await carol.sync() if m.command == "PRIVMSG"] == [["#chan", "better"]]
    # so does voice, even without the exception
    await alice.ask("MODE #chan -e+v bob bob")
    await bob.ask("PRIVMSG #chan :voiced")
    assert [m.params for m in await carol.sync() if m.command == "PRIVMSG"] == [["#chan", "voiced"]]


async def test_account_extban(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    await alice.ask("MODE #chan +b $a:bobacct")
    bob = await irc.client("bob")
    assert commands(await joined(bob, "#chan"))[0] == "JOIN"  # not logged in
    await bob.send("PART #chan")
    await identify(bob, *await irc.account("BobAcct"))
    await bob.sync()
    assert commands(await joined(bob, "#chan")) == ["474"]


async def test_key_enforced(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    await alice.ask("MODE #chan +k sesame")
    bob = await irc.client("bob")
    for key in ("", "wrong", "SESAME"):
        lines = await joined(bob, "#chan", key)
        assert [(m.command, m.params) for m in lines] == [
            ("475", ["bob", "#chan", "Cannot join channel (+k)"])
        ]
    assert commands(await joined(bob, "#chan", "sesame"))[0] == "JOIN"


async def test_limit_enforced(irc: RunningServer) -> None:
    alice, _bob = await setup(irc, "alice", "bob")
    await alice.ask("MODE #chan +l 2")
    carol = await irc.client("carol")
    lines = await joined(carol, "#chan")
    assert [(m.command, m.params) for m in lines] == [
        ("471", ["carol", "#chan", "Cannot join channel (+l)"])
    ]
    await alice.ask("MODE #chan +l 3")
    assert commands(await joined(carol, "#chan"))[0] == "JOIN"


async def test_moderated(irc: RunningServer) -> None:
    alice, bob, carol = await setup(irc, "alice", "bob", "carol")
    await alice.send("MODE #chan +m")
    for c in (alice, bob, carol):
        await c.sync()
    assert await bob.answers("PRIVMSG #chan :hello?") == [
        ("404", ["bob", "#chan", "Cannot send to channel (+m)"])
    ]
    assert commands(await bob.ask("NOTICE #chan :hello?")) == ["404"]
    assert await carol.sync() == []
    await alice.ask("MODE #chan +v bob")
    await carol.sync()
    await bob.ask("PRIVMSG #chan :now I can")
    assert [m.params for m in await carol.sync()] == [["#chan", "now I can"]]
    await alice.ask("PRIVMSG #chan :ops can always")
    assert [m.params for m in await carol.sync()] == [["#chan", "ops can always"]]


async def test_no_external_messages(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    dave = await irc.client("dave")
    assert await dave.answers("PRIVMSG #chan :from outside") == [
        ("404", ["dave", "#chan", "Cannot send to channel (no external messages)"])
    ]
    assert await alice.sync() == []
    await alice.ask("MODE #chan -n")
    assert await dave.ask("PRIVMSG #chan :from outside") == []
    lines = await alice.sync()
    assert [(m.command, m.params) for m in lines] == [("PRIVMSG", ["#chan", "from outside"])]


# --- NICK and QUIT seen by peers ------------------------------------------------------------
async def test_nick_change_seen_by_peers(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    stranger = await irc.client("stranger")
    await bob.send("NICK robert")
    for c in (alice, bob):
        lines = await c.sync()
        assert [(m.command, m.params) for m in lines] == [("NICK", ["robert"])]
        assert lines[0].source is not None and lines[0].source.startswith("bob!")
    assert await stranger.sync() == []
    assert names_of(await alice.ask("NAMES #chan")) == ["@alice", "robert"]
    assert [m.params for m in await alice.ask("MODE #chan +o robert")] == [
        ["#chan", "+o", "robert"]
    ]


async def test_quit_seen_by_peers(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    stranger = await irc.client("stranger")
    await bob.send("QUIT :off to bed")
    lines = await alice.sync()
    assert [(m.command, m.params) for m in lines] == [("QUIT", ["Quit: off to bed"])]
    assert lines[0].source is not None and lines[0].source.startswith("bob!")
    assert await stranger.sync() == []
    assert names_of(await alice.ask("NAMES #chan")) == ["@alice"]


async def test_quit_carries_server_time_and_msgid(irc: RunningServer) -> None:
    """Like every other relayed event (clients order and de-duplicate by them)."""
    watcher = await irc.client("watcher", caps=["server-time", "message-tags"])
    leaver = await irc.client("leaver")
    for client in (watcher, leaver):
        await client.send("JOIN #qt")
    await watcher.sync()
    await leaver.sync()
    await leaver.send("QUIT :bye now")
    [quit_line] = [m for m in await watcher.sync() if m.command == "QUIT"]
    assert quit_line.params == ["Quit: bye now"]
    assert set(quit_line.tags) == {"time", "msgid"}
