"""WHO/WHOX, WHOIS, WHOWAS, ISON, USERHOST, AWAY, SETNAME, MONITOR, chghost."""

from __future__ import annotations

import pytest

from harness import OPERS, RunningServer, ServerFactory, identify, join_all, joined, oper_up
from hubbub.protocol.message import Message
from ircclient import RawClient

SERVER = "irc.test.local"
HOST = "127.0.0.1"


@pytest.fixture
async def start_server(start_server: ServerFactory) -> ServerFactory:
    """These tests assert the real host, so cloaking is off here (the cloak
    itself is tested in test_security_cloak.py)."""

    async def start(**sections: dict[str, object]) -> RunningServer:
        server = {"cloak": False, **sections.pop("server", {})}
        return await start_server(server=server, **sections)

    return start


def params(messages: list[Message], command: str) -> list[list[str]]:
    return [m.params for m in messages if m.command == command]


# --- WHO -----------------------------------------------------------------------


async def test_who_channel_lists_members_with_flags(irc: RunningServer) -> None:
    alice, bob = await irc.in_channel("alice", "bob")
    await alice.ask("AWAY :brb")
    replies = await bob.ask("WHO #CHAN")
    assert [m.command for m in replies] == ["352", "352", "315"]
    rows = sorted(params(replies, "352"), key=lambda p: p[5])
    assert rows == [
        ["bob", "#chan", "~alice", HOST, SERVER, "alice", "G@", "0 alice realname"],
        ["bob", "#chan", "~bob", HOST, SERVER, "bob", "H", "0 bob realname"],
    ]
    assert replies[-1].params[:2] == ["bob", "#CHAN"]


async def test_who_nick_exact_casefolded_and_mask(irc: RunningServer) -> None:
    await irc.client("coolNick")
    other = await irc.client("other")
    for mask in ("coolNick", "coolnick", "coolni*"):
        replies = await other.ask(f"WHO {mask}")
        assert [m.command for m in replies] == ["352", "315"]
        assert replies[0].params == [
            "other",
            "*",
            "~coolNick",
            HOST,
            SERVER,
            "coolNick",
            "H",
            "0 coolNick realname",
        ]
        assert replies[1].params[:2] == ["other", mask]
    assert params(await other.ask("WHO nobody"), "315") == [["other", "nobody", "End of WHO list"]]
    star = await other.ask("WHO *")
    assert sorted(p[5] for p in params(star, "352")) == ["coolNick", "other"]


async def test_who_shows_operators_and_only_operators_with_o(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    op = await irc.client("op")
    viewer = await irc.client("viewer")
    await oper_up(op)
    await op.ask("AWAY :gone")
    replies = await viewer.ask("WHO op")
    assert replies[0].params[6] == "G*"
    only_opers = await viewer.ask("WHO * o")
    assert [p[5] for p in params(only_opers, "352")] == ["op"]


async def test_who_respects_invisible_users(irc: RunningServer) -> None:
    evan = await irc.client("evan")
    shiv = await irc.client("shiv")
    await evan.ask("MODE evan +i")
    assert [m.command for m in await shiv.ask("WHO eva*")] == ["315"]
    # a plain nickname is not a mask: invisibility does not apply
    assert [m.command for m in await shiv.ask("WHO evan")] == ["352", "315"]
    await joined(evan, "#test")
    await joined(shiv, "#test")
    assert [m.command for m in await shiv.ask("WHO eva*")] == ["352", "315"]


async def test_who_secret_channel_hidden_from_outsiders(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    outsider = await irc.client("outsider")
    await joined(alice, "#hidden")
    await alice.ask("MODE #hidden +s")
    assert [m.command for m in await outsider.ask("WHO #hidden")] == ["315"]
    # invisible members of a public channel are hidden from outsiders too
    await joined(alice, "#public")
    await alice.ask("MODE alice +i")
    assert [m.command for m in await outsider.ask("WHO #public")] == ["315"]
    assert [m.command for m in await alice.ask("WHO #hidden")] == ["352", "315"]


async def test_who_multi_prefix_and_bot_flag(irc: RunningServer) -> None:
    bot = await irc.client("bot")
    plain = await irc.client("plain")
    multi = await irc.client("multi", caps=["multi-prefix"])
    await joined(bot, "#chan")
    await joined(plain, "#chan")
    await joined(multi, "#chan")
    await bot.ask("MODE bot +B")
    await bot.ask("MODE #chan +v bot")
    await plain.sync()
    await multi.sync()
    flags = {p[5]: p[6] for p in params(await multi.ask("WHO #chan"), "352")}
    assert flags["bot"] == "H@+B"
    flags = {p[5]: p[6] for p in params(await plain.ask("WHO #chan"), "352")}
    assert flags["bot"] == "H@B"


async def test_whox_all_fields_in_canonical_order(irc: RunningServer) -> None:
    cool = await irc.client("coolNick")
    other = await irc.client("other")
    await joined(cool, "#chan")
    for fields in ("tcuihsnfdlaor", "roaldfnshiuct"):
        replies = await other.ask(f"WHO coolNick %{fields},123")
        assert [m.command for m in replies] == ["354", "315"]
        p = replies[0].params
        assert p[:10] == [
            "other",
            "123",
            "*",
            "~coolNick",
            HOST,
            HOST,
            SERVER,
            "coolNick",
            "H",
            "0",
        ]
        assert p[10].isdigit()
        assert p[11:] == ["0", "n/a", "coolNick realname"]
        assert replies[1].params[:2] == ["other", "coolNick"]


async def test_whox_token_account_and_channel(irc: RunningServer) -> None:
    cool = await irc.client("coolNick")
    other = await irc.client("other")
    replies = await other.ask("WHO coolNick %tn,321")
    assert replies[0].params == ["other", "321", "coolNick"]
    assert (await other.ask("WHO coolNick %na"))[0].params == ["other", "coolNick", "0"]
    await identify(cool, *await irc.account("coolAcct"))
    assert (await other.ask("WHO coolNick %na"))[0].params == ["other", "coolNick", "coolAcct"]
    await joined(cool, "#room")
    rows = params(await other.ask("WHO #room %cnf"), "354")
    assert rows == [["other", "#room", "coolNick", "H@"]]


# --- WHOIS ---------------------------------------------------------------------


async def test_whois_numerics(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    target = await irc.client("target")
    asker = await irc.client("asker")
    await joined(target, "#one")
    await joined(target, "#two")
    await oper_up(target)
    await target.ask("MODE target +B")
    await target.ask("AWAY :on a break")
    await identify(target, *await irc.account("acct"))
    replies = await asker.ask("WHOIS target")
    by = {m.command: m.params for m in replies}
    assert [m.command for m in replies] == [
        "311",
        "319",
        "312",
        "313",
        "335",
        "301",
        "317",
        "330",
        "318",
    ]
    assert by["311"] == ["asker", "target", "~target", HOST, "*", "target realname"]
    assert by["319"][:2] == ["asker", "target"]
    assert sorted(by["319"][2].split()) == ["@#one", "@#two"]
    assert by["312"][:3] == ["asker", "target", SERVER]
    assert by["313"][:2] == ["asker", "target"]
    assert by["335"][:2] == ["asker", "target"]
    assert by["301"] == ["asker", "target", "on a break"]
    assert by["317"][:2] == ["asker", "target"]
    assert by["317"][2].isdigit() and by["317"][3].isdigit()
    assert by["330"][:3] == ["asker", "target", "acct"]
    assert by["318"][:2] == ["asker", "target"]


async def test_whois_actual_host_only_for_self_and_opers(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    alice = await irc.client("alice")
    bob = await irc.client("bob")
    assert not {"338", "378"} & {m.command for m in await bob.ask("WHOIS alice")}
    own = {m.command: m.params for m in await alice.ask("WHOIS alice")}
    assert own["338"][:3] == ["alice", "alice", HOST]
    assert own["378"][:2] == ["alice", "alice"] and HOST in own["378"][2]
    await oper_up(bob)
    seen = {m.command: m.params for m in await bob.ask("WHOIS alice")}
    assert seen["338"][:3] == ["bob", "alice", HOST]
    assert seen["378"][:2] == ["bob", "alice"] and HOST in seen["378"][2]


async def test_whois_secure_connection(irc: RunningServer) -> None:
    secure = await RawClient.connect("127.0.0.1", irc.port("tls"), tls=True)
    irc.clients.append(secure)
    await secure.register("secure")
    plain = await irc.client("plain")
    replies = await plain.ask("WHOIS secure")
    assert params(replies, "671") == [["plain", "secure", "is using a secure connection"]]
    assert "671" not in {m.command for m in await secure.ask("WHOIS plain")}


async def test_whois_hides_secret_channels_and_handles_unknown(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    bob = await irc.client("bob")
    await joined(alice, "#open")
    await joined(alice, "#secret")
    await alice.ask("MODE #secret +s")
    assert params(await bob.ask("WHOIS alice"), "319") == [["bob", "alice", "@#open"]]
    replies = await bob.ask("WHOIS ghost")
    assert [(m.command, m.params[:2]) for m in replies] == [
        ("401", ["bob", "ghost"]),
        ("318", ["bob", "ghost"]),
    ]
    # WHOIS <server> <nick>, the server given by name or by one of its nicks
    alice_311 = ["bob", "alice", "~alice", HOST, "*", "alice realname"]
    assert params(await bob.ask(f"WHOIS {SERVER} alice"), "311") == [alice_311]
    assert params(await bob.ask("WHOIS alice alice"), "311") == [alice_311]
    replies = await bob.ask("WHOIS other.server alice")
    assert [(m.command, m.params[:2]) for m in replies] == [("402", ["bob", "other.server"])]


# --- WHOWAS --------------------------------------------------------------------


async def test_whowas(irc: RunningServer) -> None:
    asker = await irc.client("asker")
    for _ in range(2):
        gone = await irc.client("gone")
        await gone.send("QUIT :bye")
        assert await gone.closed()
    replies = await asker.ask("WHOWAS gone")
    assert [m.command for m in replies] == ["314", "312", "314", "312", "369"]
    assert replies[0].params == ["asker", "gone", "~gone", HOST, "*", "gone realname"]
    assert replies[1].params[:3] == ["asker", "gone", SERVER]
    assert replies[-1].params[:2] == ["asker", "gone"]
    assert [m.command for m in await asker.ask("WHOWAS gone 1")] == ["314", "312", "369"]
    assert [m.command for m in await asker.ask("WHOWAS gone 0")] == [
        "314",
        "312",
        "314",
        "312",
        "369",
    ]
    replies = await asker.ask("WHOWAS never")
    assert [(m.command, m.params[:2]) for m in replies] == [
        ("406", ["asker", "never"]),
        ("369", ["asker", "never"]),
    ]
    # a nick change leaves a trace too
    await asker.ask("NICK renamed")
    assert params(await asker.ask("WHOWAS asker"), "314")[0][1] == "asker"


# --- ISON, USERHOST ------------------------------------------------------------


async def test_ison_and_userhost(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    alice = await irc.client("Alice")
    bob = await irc.client("bob")
    await oper_up(alice)
    await alice.ask("AWAY :away")
    assert params(await bob.ask("ISON alice nobody bob"), "303") == [["bob", "Alice bob"]]
    assert params(await bob.ask("ISON nobody"), "303") == [["bob", ""]]
    replies = await bob.ask("USERHOST alice bob nobody")
    assert params(replies, "302") == [["bob", f"Alice*=-~Alice@{HOST} bob=+~bob@{HOST}"]]
    assert [m.command for m in await bob.ask("USERHOST")] == ["461"]


# --- AWAY ----------------------------------------------------------------------


async def test_away_replies_and_away_notify(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    notified = await irc.client("notified", caps=["away-notify"])
    plain = await irc.client("plain")
    outside = await irc.client("outside", caps=["away-notify"])
    await join_all("#chan", alice, notified, plain)
    replies = await alice.ask("AWAY :gone fishing")
    assert params(replies, "306") == [["alice", "You have been marked as being away"]]
    msg = await notified.expect("AWAY")
    assert msg.source is not None and msg.source.startswith("alice!")
    assert msg.params == ["gone fishing"]
    assert await plain.sync() == []
    assert await outside.sync() == []
    replies = await plain.ask("PRIVMSG alice :hi")
    assert params(replies, "301") == [["plain", "alice", "gone fishing"]]
    replies = await alice.ask("AWAY")
    assert params(replies, "305") == [["alice", "You are no longer marked as being away"]]
    msg = await notified.expect("AWAY")
    assert msg.params == []
    # back again without having been away: nobody is told
    await alice.ask("AWAY")
    assert await notified.sync() == []


async def test_away_is_truncated_and_announced_on_join(start_server: ServerFactory) -> None:
    irc = await start_server(limits={"awaylen": 5})
    alice = await irc.client("alice")
    watcher = await irc.client("watcher", caps=["away-notify"])
    await joined(watcher, "#chan")
    await alice.ask("AWAY :a long away message")
    await joined(alice, "#chan")
    msg = await watcher.expect("AWAY")
    assert msg.params == ["a lon"]
    assert params(await watcher.ask("WHOIS alice"), "301") == [["watcher", "alice", "a lon"]]


# --- SETNAME -------------------------------------------------------------------


async def test_setname(irc: RunningServer) -> None:
    foo = await irc.client("foo", caps=["setname"])
    bar = await irc.client("bar", caps=["setname"])
    baz = await irc.client("baz")
    await join_all("#chan", foo, bar, baz)
    replies = await foo.ask("SETNAME :New Name")
    assert [(m.source, m.command, m.params) for m in replies] == [
        (f"foo!~foo@{HOST}", "SETNAME", ["New Name"])
    ]
    msg = await bar.expect("SETNAME")
    assert msg.source == f"foo!~foo@{HOST}" and msg.params == ["New Name"]
    assert await baz.sync() == []
    assert params(await baz.ask("WHOIS foo"), "311")[0][-1] == "New Name"
    replies = await foo.ask("SETNAME :" + "x" * 300)
    assert [(m.command, m.params[:2]) for m in replies] == [
        ("FAIL", ["SETNAME", "INVALID_REALNAME"])
    ]
    replies = await foo.ask("SETNAME :")
    assert [(m.command, m.params[:2]) for m in replies] == [
        ("FAIL", ["SETNAME", "INVALID_REALNAME"])
    ]


# --- MONITOR -------------------------------------------------------------------


async def test_monitor_notifications(irc: RunningServer) -> None:
    foo = await irc.client("foo")
    assert params(await foo.ask("MONITOR + bar"), "731") == [["foo", "bar"]]
    bar = await irc.client("bar")
    msg = await foo.expect("730")
    assert msg.params[1] == f"bar!~bar@{HOST}"
    await bar.send("QUIT :bye")
    msg = await foo.expect("731")
    assert msg.params[1] == "bar"
    # a nick change is an offline and an online
    baz = await irc.client("baz")
    assert await foo.sync() == []
    await baz.ask("NICK bar")
    msg = await foo.expect("730")
    assert msg.params[1].startswith("bar!")
    await baz.ask("NICK other")
    msg = await foo.expect("731")
    assert msg.params[1] == "bar"
    # MONITOR - stops the notifications
    await foo.ask("MONITOR - bar")
    await baz.ask("NICK bar")
    assert await foo.sync() == []


async def test_monitor_list_status_clear(irc: RunningServer) -> None:
    foo = await irc.client("foo")
    await irc.client("bar")
    replies = await foo.ask("MONITOR + bar,baz,*!bad@mask")
    assert sorted((m.command, m.params[1]) for m in replies) == [
        ("730", f"bar!~bar@{HOST}"),
        ("731", "baz"),
    ]
    replies = await foo.ask("MONITOR L")
    assert replies[-1].command == "733"
    listed = {n for p in params(replies, "732") for n in p[1].split(",")}
    assert listed == {"bar", "baz"}
    replies = await foo.ask("MONITOR S")
    assert sorted((m.command, m.params[1]) for m in replies) == [
        ("730", f"bar!~bar@{HOST}"),
        ("731", "baz"),
    ]
    assert await foo.ask("MONITOR C") == []
    assert [m.command for m in await foo.ask("MONITOR L")] == ["733"]
    assert [m.command for m in await foo.ask("MONITOR +")] == ["461"]


async def test_monitor_limit(start_server: ServerFactory) -> None:
    irc = await start_server(limits={"monitor": 2})
    foo = await irc.client("foo")
    replies = await foo.ask("MONITOR + a,b,c,d")
    assert params(replies, "734") == [["foo", "2", "c,d", "Monitor list is full."]]
    assert params(replies, "731") == [["foo", "a,b"]]
    assert foo_watching(irc) == {"a", "b"}


def foo_watching(irc: RunningServer) -> set[str]:
    user = irc.server.world.find_user("foo")
    assert user is not None
    return set(user.monitoring)


# --- chghost -------------------------------------------------------------------


async def test_change_host_chghost_and_cycle(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    admin = await irc.client("admin")
    target = await irc.client("target", caps=["chghost"])
    capable = await irc.client("capable", caps=["chghost"])
    legacy = await irc.client("legacy")
    await oper_up(admin)
    await join_all("#chan", target, capable, legacy)
    replies = await admin.ask("SETHOST target vhost@example.org")
    assert [p[-1] for p in params(replies, "NOTICE")] == ["target is now target!vhost@example.org"]
    old = f"target!~target@{HOST}"
    for client in (target, capable):
        msg = await client.expect("CHGHOST")
        assert msg.source == old and msg.params == ["vhost", "example.org"]
    got = await legacy.sync()
    assert [(m.source, m.command, m.params) for m in got] == [
        (old, "QUIT", ["Changing host"]),
        ("target!vhost@example.org", "JOIN", ["#chan"]),
        (SERVER, "MODE", ["#chan", "+o", "target"]),
    ]
    assert params(await legacy.ask("WHOIS target"), "311")[0][2:4] == ["vhost", "example.org"]
    replies = await admin.ask("SETHOST target :bad host!")
    assert [m.command for m in replies] == ["FAIL"]
    plain = await irc.client("plain")
    assert [m.command for m in await plain.ask("SETHOST target x.org")] == ["481"]
