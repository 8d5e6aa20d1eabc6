"""Channels over real sockets: JOIN, PART, TOPIC, NAMES, LIST, INVITE, KICK,
and the channel modes enforced at join and when speaking."""

from __future__ import annotations

from harness import RunningServer, identify, joined
from hubbub.protocol.message import Message
from ircclient import RawClient


async def setup(irc: RunningServer, *nicks: str, channel: str = "#chan") -> list[RawClient]:
    """The first nick creates the channel (and is op); the others join it."""
    clients = []
    for nick in nicks:
        c = await irc.client(nick)
        await joined(c, channel)
        clients.append(c)
    for c in clients:
        await c.sync()
    return clients


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
    await bob.send("JOIN #a,#b,#c,#d k1,wrong")
    lines = await bob.sync()
    got = [(m.command, m.params[0] if m.command == "JOIN" else m.params[1]) for m in lines]
    assert ("JOIN", "#a") in got
    assert ("475", "#b") in got
    assert ("JOIN", "#c") in got
    assert ("JOIN", "#d") in got
    refusal = next(m for m in lines if m.command == "475")
    assert refusal.params == ["bob", "#b", "Cannot join channel (+k)"]
    await bob.send("JOIN #b k2")
    assert commands(await bob.sync())[0] == "JOIN"


async def test_join_twice_is_silent(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    assert await joined(alice, "#chan") == []


async def test_join_invalid_name(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    await alice.send("JOIN nochan")
    lines = await alice.sync()
    assert [(m.command, m.params[1]) for m in lines] == [("403", "nochan")]


async def test_join_zero_parts_everything(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    await joined(alice, "#other")
    await joined(bob, "#other")
    await alice.sync()
    await bob.send("JOIN 0")
    lines = await bob.sync()
    assert sorted(m.params[0] for m in lines if m.command == "PART") == ["#chan", "#other"]
    seen = await alice.sync()
    assert sorted(m.params[0] for m in seen if m.command == "PART") == ["#chan", "#other"]
    await bob.send("PRIVMSG #chan :still here?")
    assert commands(await bob.sync()) == ["404"]


async def test_extended_join(irc: RunningServer) -> None:
    alice = await irc.client("alice", caps=["extended-join"])
    await joined(alice, "#chan")
    plain = await irc.client("plain")
    await joined(plain, "#chan")
    await alice.sync()
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
    await bob.send("PART #chan")
    lines = await bob.sync()
    assert [(m.command, m.params) for m in lines] == [
        ("442", ["bob", "#chan", "You're not on that channel"])
    ]
    await bob.send("PART #nowhere")
    assert commands(await bob.sync()) == ["403"]
    await carol.send("PART #chan")
    assert [m.params for m in await alice.sync()] == [["#chan"]]


async def test_empty_channel_disappears(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    await alice.send("MODE #chan +sk key")
    await alice.send("TOPIC #chan :hello")
    await alice.sync()
    await alice.send("PART #chan")
    await bob.send("PART #chan")
    await alice.sync()
    await bob.sync()
    assert irc.server.world.find_channel("#chan") is None
    await bob.send("LIST")
    lines = await bob.sync()
    assert [m for m in lines if m.command == "322"] == []
    await bob.send("MODE #chan")
    assert commands(await bob.sync()) == ["403"]
    # joining again makes a brand new channel: bob is op, no key, no topic
    lines = await joined(bob, "#chan")
    assert commands(lines) == ["JOIN", "353", "366"]
    assert names_of(lines) == ["@bob"]


# --- TOPIC --------------------------------------------------------------------
async def test_topic_protected(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    await bob.send("TOPIC #chan")
    lines = await bob.sync()
    assert [(m.command, m.params) for m in lines] == [("331", ["bob", "#chan", "No topic is set"])]
    await bob.send("TOPIC #chan :bob's topic")
    lines = await bob.sync()
    assert [(m.command, m.params) for m in lines] == [
        ("482", ["bob", "#chan", "You're not channel operator"])
    ]
    await alice.send("TOPIC #chan :the topic here")
    for c in (alice, bob):
        lines = await c.sync()
        assert [(m.command, m.params) for m in lines] == [("TOPIC", ["#chan", "the topic here"])]
        assert lines[0].source is not None and lines[0].source.startswith("alice!")
    await bob.send("TOPIC #chan")
    lines = await bob.sync()
    assert commands(lines) == ["332", "333"]
    assert lines[0].params == ["bob", "#chan", "the topic here"]
    assert lines[1].params[:3] == ["bob", "#chan", "alice!~alice@127.0.0.1"]
    assert lines[1].params[3].isdigit() and len(lines[1].params) == 4
    await alice.send("MODE #chan -t")
    await alice.sync()
    await bob.sync()
    await bob.send("TOPIC #chan :")  # anyone may change (and clear) it now
    for c in (alice, bob):
        assert [m.params for m in await c.sync()] == [["#chan", ""]]
    carol = await irc.client("carol")
    await carol.send("TOPIC #chan :outside")
    assert commands(await carol.sync()) == ["442"]


async def test_topic_sent_on_join(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    await alice.send("TOPIC #chan :welcome all")
    await alice.sync()
    bob = await irc.client("bob")
    lines = await joined(bob, "#chan")
    assert commands(lines) == ["JOIN", "332", "333", "353", "366"]
    assert lines[1].params == ["bob", "#chan", "welcome all"]


# --- NAMES ------------------------------------------------------------------------
async def test_names_multi_prefix_and_userhost(irc: RunningServer) -> None:
    alice, _bob = await setup(irc, "alice", "bob")
    await alice.send("MODE #chan +v alice")
    await alice.sync()
    plain = await irc.client("plain")
    await plain.send("NAMES #chan")
    assert names_of(await plain.sync()) == ["@alice", "bob"]
    multi = await irc.client("multi", caps=["multi-prefix"])
    await multi.send("NAMES #chan")
    assert names_of(await multi.sync()) == ["@+alice", "bob"]
    full = await irc.client("full", caps=["multi-prefix", "userhost-in-names"])
    await full.send("NAMES #chan")
    entries = names_of(await full.sync())
    assert len(entries) == 2
    assert entries[0].startswith("@+alice!~alice@")
    assert entries[1].startswith("bob!~bob@")


async def test_names_unknown_and_no_args(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    await alice.send("NAMES #nowhere")
    lines = await alice.sync()
    assert [(m.command, m.params) for m in lines] == [
        ("366", ["alice", "#nowhere", "End of /NAMES list"])
    ]
    await alice.send("NAMES")
    assert commands(await alice.sync()) == ["366"]


async def test_secret_channel_hidden_from_outsiders(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    await joined(alice, "#open")
    await alice.send("MODE #chan +s")
    await alice.sync()
    carol = await irc.client("carol")
    await carol.send("LIST")
    listed = [m.params[1] for m in await carol.sync() if m.command == "322"]
    assert listed == ["#open"]
    await carol.send("NAMES #chan")
    lines = await carol.sync()
    assert [(m.command, m.params) for m in lines] == [
        ("366", ["carol", "#chan", "End of /NAMES list"])
    ]
    # members still see it, marked secret with '@'
    await bob.send("LIST")
    listed = [m.params[1] for m in await bob.sync() if m.command == "322"]
    assert sorted(listed) == ["#chan", "#open"]
    await bob.send("NAMES #chan")
    lines = await bob.sync()
    assert lines[0].command == "353"
    assert lines[0].params[1:3] == ["@", "#chan"]


async def test_names_hides_invisible_from_outsiders(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    await bob.send("MODE bob +i")
    await bob.sync()
    carol = await irc.client("carol")
    await carol.send("NAMES #chan")
    assert names_of(await carol.sync()) == ["@alice"]
    await alice.send("NAMES #chan")
    assert names_of(await alice.sync()) == ["@alice", "bob"]


# --- LIST ---------------------------------------------------------------------------
async def test_list_with_elist_filters(irc: RunningServer) -> None:
    a, b, _c = await setup(irc, "a", "b", "c", channel="#big")
    await joined(a, "#small")
    await joined(a, "#medium")
    await joined(b, "#medium")
    await a.send("TOPIC #big :big topic")
    await a.sync()
    viewer = await irc.client("viewer")

    async def listing(arg: str) -> list[str]:
        await viewer.send(f"LIST {arg}".rstrip())
        lines = await viewer.sync()
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
    await viewer.send("LIST #big")
    entry = next(m for m in await viewer.sync() if m.command == "322")
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
    await carol.send("JOIN #chan")
    lines = await carol.sync()
    assert [(m.command, m.params) for m in lines] == [
        ("473", ["carol", "#chan", "Cannot join channel (+i)"])
    ]
    # a non-op may not invite into a +i channel
    await watcher.send("INVITE carol #chan")
    assert commands(await watcher.sync()) == ["482"]
    await alice.send("INVITE carol #chan")
    lines = await alice.sync()
    assert [(m.command, m.params) for m in lines] == [("341", ["alice", "carol", "#chan"])]
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
    await carol.send("PART #chan")
    await carol.sync()
    await carol.send("JOIN #chan")
    assert commands(await carol.sync()) == ["473"]


async def test_invite_errors(irc: RunningServer) -> None:
    alice, _bob = await setup(irc, "alice", "bob")
    await alice.send("INVITE nobody #chan")
    assert commands(await alice.sync()) == ["401"]
    await alice.send("INVITE bob #chan")
    lines = await alice.sync()
    assert [(m.command, m.params) for m in lines] == [
        ("443", ["alice", "bob", "#chan", "is already on channel"])
    ]
    carol = await irc.client("carol")
    await carol.send("INVITE bob #chan")
    assert commands(await carol.sync()) == ["442"]
    await carol.send("INVITE bob #nowhere")
    assert commands(await carol.sync()) == ["403"]
    await carol.send("INVITE bob")
    assert commands(await carol.sync()) == ["461"]


async def test_invite_exception(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    await alice.send("MODE #chan +iI carol")
    await alice.sync()
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
    await carol.send("NAMES #chan")
    assert names_of(await carol.sync()) == ["@alice", "carol"]
    await bob.send("PRIVMSG #chan :hey")
    assert commands(await bob.sync()) == ["404"]
    assert await carol.sync() == []
    # default reason is the kicker's nick
    await alice.send("KICK #chan carol")
    lines = await alice.sync()
    assert [m.params for m in lines] == [["#chan", "carol", "alice"]]


async def test_kick_errors(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    await bob.send("KICK #chan alice")
    assert commands(await bob.sync()) == ["482"]
    await alice.send("KICK #chan nobody")
    lines = await alice.sync()
    assert [(m.command, m.params) for m in lines] == [
        ("441", ["alice", "nobody", "#chan", "They aren't on that channel"])
    ]
    carol = await irc.client("carol")
    await carol.send("KICK #chan bob")
    assert commands(await carol.sync()) == ["442"]
    await carol.send("KICK #nowhere bob")
    assert commands(await carol.sync()) == ["403"]


# --- modes enforced -------------------------------------------------------------------------
async def test_ban_at_join_and_exception(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    await alice.send("MODE #chan +b bob")
    await alice.sync()
    bob = await irc.client("bob")
    lines = await joined(bob, "#chan")
    assert [(m.command, m.params) for m in lines] == [
        ("474", ["bob", "#chan", "Cannot join channel (+b)"])
    ]
    await alice.send("MODE #chan +e bob!*@127.0.0.1")
    await alice.sync()
    assert commands(await joined(bob, "#chan"))[0] == "JOIN"
    carol = await irc.client("carol")
    await alice.send("MODE #chan +b *!*@*")
    await alice.sync()
    assert commands(await joined(carol, "#chan")) == ["474"]
    # an invitation overrides the ban
    await alice.send("INVITE carol #chan")
    await alice.sync()
    await carol.sync()
    assert commands(await joined(carol, "#chan"))[0] == "JOIN"


async def test_ban_prevents_speaking(irc: RunningServer) -> None:
    alice, bob, carol = await setup(irc, "alice", "bob", "carol")
    await alice.send("MODE #chan +b bob!*@*")
    for c in (alice, bob, carol):
        await c.sync()
    await bob.send("PRIVMSG #chan :can you hear me")
    lines = await bob.sync()
    assert [(m.command, m.params) for m in lines] == [
        ("404", ["bob", "#chan", "Cannot send to channel (you're banned)"])
    ]
    assert await carol.sync() == []
    # a ban exception lets them speak
    await alice.send("MODE #chan +e bob")
    await alice.sync()
    await bob.send("PRIVMSG #chan :better")
    await bob.sync()
    assert [m.params for m in await carol.sync() if m.command == "PRIVMSG"] == [["#chan", "better"]]
    # so does voice, even without the exception
    await alice.send("MODE #chan -e+v bob bob")
    await alice.sync()
    await bob.send("PRIVMSG #chan :voiced")
    await bob.sync()
    assert [m.params for m in await carol.sync() if m.command == "PRIVMSG"] == [["#chan", "voiced"]]


async def test_account_extban(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    await alice.send("MODE #chan +b $a:bobacct")
    await alice.sync()
    bob = await irc.client("bob")
    assert commands(await joined(bob, "#chan"))[0] == "JOIN"  # not logged in
    await bob.send("PART #chan")
    await identify(bob, *await irc.account("BobAcct"))
    await bob.sync()
    assert commands(await joined(bob, "#chan")) == ["474"]


async def test_key_enforced(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    await alice.send("MODE #chan +k sesame")
    await alice.sync()
    bob = await irc.client("bob")
    for key in ("", "wrong", "SESAME"):
        lines = await joined(bob, "#chan", key)
        assert [(m.command, m.params) for m in lines] == [
            ("475", ["bob", "#chan", "Cannot join channel (+k)"])
        ]
    assert commands(await joined(bob, "#chan", "sesame"))[0] == "JOIN"


async def test_limit_enforced(irc: RunningServer) -> None:
    alice, _bob = await setup(irc, "alice", "bob")
    await alice.send("MODE #chan +l 2")
    await alice.sync()
    carol = await irc.client("carol")
    lines = await joined(carol, "#chan")
    assert [(m.command, m.params) for m in lines] == [
        ("471", ["carol", "#chan", "Cannot join channel (+l)"])
    ]
    await alice.send("MODE #chan +l 3")
    await alice.sync()
    assert commands(await joined(carol, "#chan"))[0] == "JOIN"


async def test_moderated(irc: RunningServer) -> None:
    alice, bob, carol = await setup(irc, "alice", "bob", "carol")
    await alice.send("MODE #chan +m")
    for c in (alice, bob, carol):
        await c.sync()
    await bob.send("PRIVMSG #chan :hello?")
    lines = await bob.sync()
    assert [(m.command, m.params) for m in lines] == [
        ("404", ["bob", "#chan", "Cannot send to channel (+m)"])
    ]
    await bob.send("NOTICE #chan :hello?")
    assert commands(await bob.sync()) == ["404"]
    assert await carol.sync() == []
    await alice.send("MODE #chan +v bob")
    await alice.sync()
    await carol.sync()
    await bob.send("PRIVMSG #chan :now I can")
    await bob.sync()
    assert [m.params for m in await carol.sync()] == [["#chan", "now I can"]]
    await alice.send("PRIVMSG #chan :ops can always")
    await alice.sync()
    assert [m.params for m in await carol.sync()] == [["#chan", "ops can always"]]


async def test_no_external_messages(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    dave = await irc.client("dave")
    await dave.send("PRIVMSG #chan :from outside")
    lines = await dave.sync()
    assert [(m.command, m.params) for m in lines] == [
        ("404", ["dave", "#chan", "Cannot send to channel (no external messages)"])
    ]
    assert await alice.sync() == []
    await alice.send("MODE #chan -n")
    await alice.sync()
    await dave.send("PRIVMSG #chan :from outside")
    assert await dave.sync() == []
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
    await alice.send("NAMES #chan")
    assert names_of(await alice.sync()) == ["@alice", "robert"]
    await alice.send("MODE #chan +o robert")
    assert [m.params for m in await alice.sync()] == [["#chan", "+o", "robert"]]


async def test_quit_seen_by_peers(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    stranger = await irc.client("stranger")
    await bob.send("QUIT :off to bed")
    lines = await alice.sync()
    assert [(m.command, m.params) for m in lines] == [("QUIT", ["Quit: off to bed"])]
    assert lines[0].source is not None and lines[0].source.startswith("bob!")
    assert await stranger.sync() == []
    await alice.send("NAMES #chan")
    assert names_of(await alice.sync()) == ["@alice"]


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
