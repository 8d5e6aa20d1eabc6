"""MODE: channel modes (lists, key, limit, flags, prefixes) and user modes."""

from __future__ import annotations

import pytest

from harness import OPERS, RunningServer, ServerFactory, oper_up
from hubbub.protocol.message import Message
from hubbub.server.actions import set_modes
from hubbub.server.commands.modes import ModeChange, parse_channel_modes, parse_user_modes
from hubbub.server.mode_changes import format_changes, normalize_list_mask
from ircclient import RawClient


async def setup(irc: RunningServer, *nicks: str) -> list[RawClient]:
    """The first nick creates #chan (and is op); the others join it."""
    return await irc.in_channel(*nicks)


def modes(lines: list[Message]) -> list[list[str]]:
    return [m.params for m in lines if m.command == "MODE"]


def numerics(lines: list[Message], code: str) -> list[list[str]]:
    return [m.params for m in lines if m.command == code]


# --- pure helpers ----------------------------------------------------------
def test_parse_channel_modes_sequential_args() -> None:
    changes, queries, unknown = parse_channel_modes("+ov-b+lkX", ["a", "b", "m", "5", "key"])
    assert changes == [
        ModeChange(True, "o", "a"),
        ModeChange(True, "v", "b"),
        ModeChange(False, "b", "m"),
        ModeChange(True, "l", "5"),
    ]  # the fifth parameterised change is over MODES=4
    assert queries == []
    assert unknown == ["X"]


def test_parse_channel_modes_queries_and_missing_params() -> None:
    changes, queries, unknown = parse_channel_modes("+bekl-l", [])
    assert changes == [ModeChange(False, "l")]
    assert queries == ["b", "e"]
    assert unknown == []
    changes, _, _ = parse_channel_modes("-k", [])
    assert changes == [ModeChange(False, "k")]


def test_format_changes_groups_signs() -> None:
    out = format_changes(
        [
            ModeChange(True, "o", "alice"),
            ModeChange(True, "v", "bob"),
            ModeChange(False, "b", "x!*@*"),
            ModeChange(False, "i"),
            ModeChange(True, "m"),
        ]
    )
    assert out == ["+ov-bi+m", "alice", "bob", "x!*@*"]


def test_normalize_list_mask() -> None:
    assert normalize_list_mask("bob") == "bob!*@*"
    assert normalize_list_mask("bob!u") == "bob!u@*"
    assert normalize_list_mask("host.example") == "*!*@host.example"
    assert normalize_list_mask("$a:alice") == "$a:alice"
    assert normalize_list_mask("$a") == "$a"
    assert normalize_list_mask("$a:") is None
    assert normalize_list_mask("$z:foo") is None
    assert normalize_list_mask("") is None


def test_parse_user_modes() -> None:
    changes, unknown = parse_user_modes("+iZ-o+wQZ")
    assert changes == [ModeChange(True, "i"), ModeChange(False, "o"), ModeChange(True, "w")]
    assert unknown == ["Z", "Q"]


# --- channel mode query ----------------------------------------------------
async def test_channel_mode_is_and_creation_time(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    await alice.ask("MODE #chan +kl sekrit 10")
    lines = await alice.ask("MODE #chan")
    assert [m.command for m in lines] == ["324", "329"]
    assert lines[0].params == ["alice", "#chan", "+ntkl", "sekrit", "10"]
    assert lines[1].params[:2] == ["alice", "#chan"]
    assert lines[1].params[2].isdigit()
    outsider = await irc.client("carol")
    lines = await outsider.ask("MODE #chan")
    assert lines[0].params == ["carol", "#chan", "+ntkl", "*", "10"]
    await bob.sync()
    lines = await bob.ask("MODE #CHAN")
    assert lines[0].params == ["bob", "#chan", "+ntkl", "sekrit", "10"]


async def test_no_such_channel(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    assert [m.params for m in await alice.ask("MODE #nowhere +o alice")] == [
        ["alice", "#nowhere", "No such channel"]
    ]
    assert (await alice.ask("MODE #nowhere"))[0].command == "403"


async def test_mode_needs_params(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    (reply,) = await alice.ask("MODE")
    assert reply.command == "461"
    assert reply.params[:2] == ["alice", "MODE"]


# --- flags -----------------------------------------------------------------
@pytest.mark.parametrize("flag", list("imnst"))
async def test_flag_set_and_unset_broadcast(irc: RunningServer, flag: str) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    await alice.ask(f"MODE #chan -{flag}")
    await bob.sync()
    await alice.send(f"MODE #chan +{flag}")
    for c in (alice, bob):
        lines = await c.sync()
        assert len(lines) == 1
        assert lines[0].source is not None and lines[0].source.startswith("alice!")
        assert lines[0].params == ["#chan", f"+{flag}"]
    await alice.send(f"MODE #chan +{flag}")  # no-op: nothing sent to anyone
    assert await alice.sync() == []
    assert await bob.sync() == []
    await alice.send(f"MODE #chan -{flag}")
    for c in (alice, bob):
        assert modes(await c.sync()) == [["#chan", f"-{flag}"]]


async def test_combined_changes_one_line_only_what_changed(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    # n and t are on already: only i, m and v are real changes
    await alice.send("MODE #chan +intmv bob")
    for c in (alice, bob):
        assert modes(await c.sync()) == [["#chan", "+imv", "bob"]]
    await alice.send("MODE #chan -i+i-mn")
    for c in (alice, bob):
        assert modes(await c.sync()) == [["#chan", "-i+i-mn"]]


async def test_remove_every_listed_mode(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    await alice.ask("MODE #chan +int")
    assert modes(await alice.ask("MODE #chan -int")) == [["#chan", "-int"]]
    lines = await alice.ask("MODE #chan")
    assert lines[0].params == ["alice", "#chan", "+"]


# --- key ---------------------------------------------------------------------
async def test_key_set_replace_remove(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    await alice.send("MODE #chan +k beer")
    for c in (alice, bob):
        assert modes(await c.sync()) == [["#chan", "+k", "beer"]]
    assert await alice.ask("MODE #chan +k beer") == []
    assert modes(await alice.ask("MODE #chan +k wine")) == [["#chan", "+k", "wine"]]
    await alice.send("MODE #chan -k whatever")
    for c in (alice, bob):
        assert modes(await c.sync())[-1] == ["#chan", "-k", "whatever"]
    await alice.send("MODE #chan -k x")  # nothing to remove
    assert await alice.sync() == []
    await alice.ask("MODE #chan +k beer")
    await alice.send("MODE #chan -k")  # lenient: -k without a parameter
    assert modes(await alice.sync()) == [["#chan", "-k", "*"]]


@pytest.mark.parametrize("key", ["with spaces", "x" * 100, "a,b", ""])
async def test_invalid_key(irc: RunningServer, key: str) -> None:
    (alice,) = await setup(irc, "alice")
    lines = await alice.ask(f"MODE #chan +k :{key}")
    assert [m.params for m in lines] == [["alice", "#chan", "Key is not well-formed"]]
    assert lines[0].command == "525"
    carol = await irc.client("carol")
    await carol.send("JOIN #chan")
    assert (await carol.expect(lambda m: m.command in ("JOIN", "475"))).command == "JOIN"


async def test_key_missing_param_ignored(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    assert await alice.ask("MODE #chan +k") == []
    assert modes(await alice.ask("MODE #chan +km")) == [["#chan", "+m"]]


# --- limit -------------------------------------------------------------------
async def test_limit_set_unset(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    await alice.send("MODE #chan +l 5")
    for c in (alice, bob):
        assert modes(await c.sync()) == [["#chan", "+l", "5"]]
    assert await alice.ask("MODE #chan +l 5") == []
    await alice.send("MODE #chan +l 07")
    for c in (alice, bob):
        assert modes(await c.sync()) == [["#chan", "+l", "7"]]
    await alice.send("MODE #chan -l")
    for c in (alice, bob):
        assert modes(await c.sync()) == [["#chan", "-l"]]
    assert await alice.ask("MODE #chan -l") == []


@pytest.mark.parametrize("value", ["0", "-3", "abc", "99999999999999999"])
async def test_limit_invalid(irc: RunningServer, value: str) -> None:
    (alice,) = await setup(irc, "alice")
    lines = await alice.ask(f"MODE #chan +l {value}")
    assert [(m.command, m.params[:4]) for m in lines] == [("696", ["alice", "#chan", "l", value])]


async def test_limit_missing_param_then_more(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    assert modes(await alice.ask("MODE #chan +li")) == [["#chan", "+i"]]


# --- prefixes ------------------------------------------------------------------
async def test_op_and_voice(irc: RunningServer) -> None:
    alice, bob, carol = await setup(irc, "alice", "bob", "carol")
    await alice.send("MODE #chan +ov BOB carol")
    for c in (alice, bob, carol):
        lines = await c.sync()
        assert modes(lines) == [["#chan", "+ov", "bob", "carol"]]
    # bob is an op now and can act
    await bob.send("MODE #chan -o+v alice alice")
    for c in (alice, bob, carol):
        assert modes(await c.sync()) == [["#chan", "-o+v", "alice", "alice"]]
    await carol.send("NAMES #chan")
    names = (await carol.expect("353")).params[-1].split()
    assert sorted(names) == ["+alice", "+carol", "@bob"]
    await bob.send("MODE #chan +o bob")  # no change
    assert await bob.sync() == []


async def test_op_target_errors(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    dave = await irc.client("dave")
    assert await alice.answers("MODE #chan +o nobody") == [
        ("401", ["alice", "nobody", "No such nick/channel"])
    ]
    assert await alice.answers("MODE #chan +v dave") == [
        ("441", ["alice", "dave", "#chan", "They aren't on that channel"])
    ]
    await dave.sync()


async def test_op_missing_param_ignored(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    assert await alice.ask("MODE #chan +o") == []


# --- permissions ---------------------------------------------------------------
async def test_non_op_cannot_change(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    for change in ("+o bob", "+i", "+b x", "-t", "+k key", "+l 3"):
        assert await bob.answers(f"MODE #chan {change}") == [
            ("482", ["bob", "#chan", "You're not channel operator"])
        ]
    assert await alice.sync() == []


async def test_non_member_cannot_change(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    carol = await irc.client("carol")
    assert await carol.answers("MODE #chan +i") == [
        ("442", ["carol", "#chan", "You're not on that channel"])
    ]
    assert await alice.sync() == []


async def test_unknown_mode_char(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    assert await alice.answers("MODE #chan +Xi") == [
        ("472", ["alice", "X", "is unknown mode char to me"]),
        ("MODE", ["#chan", "+i"]),
    ]
    assert modes(await bob.sync()) == [["#chan", "+i"]]


async def test_modes_limit_of_four_parameters(irc: RunningServer) -> None:
    alice = (await setup(irc, "alice", "b", "c", "d", "e"))[0]
    assert modes(await alice.ask("MODE #chan +vvvvv b c d e alice")) == [
        ["#chan", "+vvvv", "b", "c", "d", "e"]
    ]
    lines = await alice.ask("MODE #chan +bbbbbi m1 m2 m3 m4 m5")
    assert modes(lines) == [["#chan", "+bbbbi", "m1!*@*", "m2!*@*", "m3!*@*", "m4!*@*"]]


# --- lists ---------------------------------------------------------------------
LISTS = [("b", "367", "368"), ("e", "348", "349"), ("I", "346", "347")]


@pytest.mark.parametrize(("letter", "entry", "end"), LISTS)
async def test_list_add_show_remove(irc: RunningServer, letter: str, entry: str, end: str) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    await alice.send(f"MODE #chan +{letter}{letter} someone *!*@bad.example")
    for c in (alice, bob):
        assert modes(await c.sync()) == [
            ["#chan", f"+{letter}{letter}", "someone!*@*", "*!*@bad.example"]
        ]
    # duplicates (case-insensitively) are ignored
    assert await alice.ask(f"MODE #chan +{letter} SOMEONE!*@*") == []
    # any member may list, with setter and time
    lines = await bob.ask(f"MODE #chan {letter}")
    assert [m.command for m in lines] == [entry, entry, end]
    first = lines[0].params
    assert first[:3] == ["bob", "#chan", "someone!*@*"]
    assert first[3].startswith("alice!")
    assert first[4].isdigit()
    assert lines[1].params[2] == "*!*@bad.example"
    assert lines[2].params[:2] == ["bob", "#chan"]
    # removal matches case-insensitively and echoes the stored mask
    await alice.send(f"MODE #chan -{letter} Someone")
    for c in (alice, bob):
        assert modes(await c.sync()) == [["#chan", f"-{letter}", "someone!*@*"]]
    assert await alice.ask(f"MODE #chan -{letter} nothere") == []
    lines = await alice.ask(f"MODE #chan +{letter}")
    assert [m.command for m in lines] == [entry, end]


async def test_list_queries_outsider(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    await alice.ask("MODE #chan +b bad")
    carol = await irc.client("carol")
    lines = await carol.ask("MODE #chan +b")
    assert [m.command for m in lines] == ["367", "368"]
    await alice.ask("MODE #chan +s")
    lines = await carol.ask("MODE #chan +b")
    # A secret channel does not exist for outsiders (it used to answer 442).
    assert [m.command for m in lines] == ["403"]


async def test_list_full(start_server: object) -> None:
    irc = await start_server(limits={"max_list_entries": 3})  # type: ignore[operator]
    (alice,) = await setup(irc, "alice")
    await alice.ask("MODE #chan +beI a b c")
    assert await alice.answers("MODE #chan +b d") == [
        ("478", ["alice", "#chan", "b", "Channel list is full"])
    ]
    assert modes(await alice.ask("MODE #chan -b+e a d")) == [["#chan", "-b+e", "a!*@*", "d!*@*"]]


async def test_extban_syntax(irc: RunningServer) -> None:
    (alice,) = await setup(irc, "alice")
    assert modes(await alice.ask("MODE #chan +bb $a:bob $a")) == [["#chan", "+bb", "$a:bob", "$a"]]
    lines = await alice.ask("MODE #chan +b $z:thing")
    assert [m.command for m in lines] == ["696"]
    assert lines[0].params[:4] == ["alice", "#chan", "b", "$z:thing"]
    assert [m.command for m in await alice.ask("MODE #chan +e $a:")] == ["696"]


async def test_isupport_advertises_modes(irc: RunningServer) -> None:
    c = await RawClient.connect(irc.host, irc.port())
    irc.clients.append(c)
    await c.send("NICK zed")
    await c.send("USER zed 0 * :z")
    lines = await c.collect_until("376")
    tokens = {t for m in lines if m.command == "005" for t in m.params[1:-1]}
    assert "CHANMODES=beI,k,l,Cimnst" in tokens
    assert "MODES=4" in tokens
    assert "PREFIX=(ov)@+" in tokens
    assert "EXTBAN=$,am" in tokens
    assert "ACCOUNTEXTBAN=a" in tokens


# --- the reusable application function -------------------------------------------
async def test_set_modes_for_services(irc: RunningServer) -> None:
    alice, bob = await setup(irc, "alice", "bob")
    channel = irc.server.world.find_channel("#chan")
    assert channel is not None
    applied = set_modes(
        irc.server,
        channel,
        "ChanServ!service@services.",
        [ModeChange(True, "o", "bob"), ModeChange(True, "m"), ModeChange(True, "o", "ghost")],
    )
    assert applied == [ModeChange(True, "o", "bob"), ModeChange(True, "m")]
    for c in (alice, bob):
        lines = await c.sync()
        assert [(m.source, m.params) for m in lines] == [
            ("ChanServ!service@services.", ["#chan", "+om", "bob"])
        ]
    assert set_modes(irc.server, channel, "x", [ModeChange(True, "m")]) == []


# --- user modes -------------------------------------------------------------------
async def test_user_mode_view_and_change(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    assert await alice.answers("MODE alice") == [("221", ["alice", "+"])]
    lines = await alice.ask("MODE Alice +iwB")
    assert [(m.source, m.command, m.params) for m in lines] == [
        ("alice", "MODE", ["alice", "+iwB"])
    ]
    assert await alice.ask("MODE alice +i") == []
    assert (await alice.ask("MODE alice"))[0].params == ["alice", "+iwB"]
    assert [m.params for m in await alice.ask("MODE alice -w")] == [["alice", "-w"]]


async def test_user_cannot_set_oper(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    alice = await irc.client("alice")
    assert await alice.ask("MODE alice +o") == []
    assert [m.params for m in await alice.ask("MODE alice +oi")] == [["alice", "+i"]]
    # only OPER gives +o; an operator may drop it and is then an operator no more
    await oper_up(alice)
    assert [m.params for m in await alice.ask("MODE alice -o")] == [["alice", "-o"]]
    assert [m.command for m in await alice.ask("REHASH")] == ["481"]


async def test_user_mode_errors(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    bob = await irc.client("bob")
    lines = await alice.ask("MODE bob")
    assert [m.command for m in lines] == ["502"]
    assert lines[0].params[0] == "alice"
    assert [m.command for m in await alice.ask("MODE bob +i")] == ["502"]
    assert await bob.sync() == []
    lines = await alice.ask("MODE nobody +i")
    assert [(m.command, m.params[:2]) for m in lines] == [("401", ["alice", "nobody"])]
    assert await alice.answers("MODE alice +iZ") == [
        ("MODE", ["alice", "+i"]),
        ("501", ["alice", "Unknown MODE flag"]),
    ]
    assert [m.command for m in await alice.ask("MODE alice +Z")] == ["501"]


async def test_bot_mode_tag(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    bob = await irc.client("bob", caps=["message-tags"])
    await alice.ask("MODE alice +B")
    await alice.send("PRIVMSG bob :beep")
    msg = await bob.expect("PRIVMSG")
    assert "bot" in msg.tags


async def test_mode_filters_hook(irc: RunningServer) -> None:
    def no_secret(_ctx: object, _channel: object, changes: list[ModeChange]) -> list[ModeChange]:
        return [c for c in changes if c.mode != "s"]

    (alice,) = await setup(irc, "alice")
    # The server owns its hooks: this filter applies to this server only.
    irc.server.hooks.mode_filters.append(no_secret)
    assert modes(await alice.ask("MODE #chan +sm")) == [["#chan", "+m"]]
