"""Channel mode +C, the $m: mute extban, KICK with several targets, LINKS,
HELPOP and the silence owed to a NOTICE."""

from __future__ import annotations

from harness import RunningServer, join_all
from hubbub.protocol.message import Message


def commands(messages: list[Message]) -> list[str]:
    return [m.command for m in messages]


async def test_no_ctcp_mode_lets_only_action_through(irc: RunningServer) -> None:
    op, user = await irc.in_channel("op", "user")
    assert commands(await op.ask("MODE #chan +C")) == ["MODE"]
    await user.sync()
    assert await user.ask("PRIVMSG #chan :\x01ACTION waves\x01") == []
    refused = await user.ask("PRIVMSG #chan :\x01VERSION\x01")
    assert [(m.command, m.params[1]) for m in refused] == [("404", "#chan")]
    assert await user.ask("PRIVMSG #chan :plain text") == []
    got = await op.sync()
    assert [m.params[1] for m in got] == ["\x01ACTION waves\x01", "plain text"]
    assert "C" in (await op.ask("MODE #chan"))[0].params[2]


async def test_mute_extban_silences_without_banning(irc: RunningServer) -> None:
    op, quiet, voiced = await irc.in_channel("op", "quiet", "voiced")
    answer = await op.ask("MODE #chan +b $m:quiet")
    assert [m.params for m in answer if m.command == "MODE"] == [["#chan", "+b", "$m:quiet!*@*"]]
    await op.ask("MODE #chan +b $m:voiced!*@*")
    await op.ask("MODE #chan +v voiced")
    for client in (quiet, voiced):
        await client.sync()
    assert commands(await quiet.ask("PRIVMSG #chan :hello?")) == ["404"]
    assert await voiced.ask("PRIVMSG #chan :voice wins") == []
    assert [m.params[1] for m in await op.sync() if m.command == "PRIVMSG"] == ["voice wins"]
    # muted, not banned: can part and come back
    await quiet.ask("PART #chan")
    assert "JOIN" in commands(await quiet.ask("JOIN #chan"))
    await op.ask("MODE #chan +e $m:*!~quiet@*")  # an exception lifts the mute
    await quiet.sync()
    assert await quiet.ask("PRIVMSG #chan :excepted") == []
    assert [m.params[1] for m in await op.sync() if m.command == "PRIVMSG"] == ["excepted"]
    await op.ask("MODE #chan -e $m:*!~quiet@*")
    await op.ask("MODE #chan -b $m:quiet!*@*")
    await quiet.sync()
    assert await quiet.ask("PRIVMSG #chan :free again") == []
    assert [m.params[1] for m in await op.sync() if m.command == "PRIVMSG"] == ["free again"]
    isupport = " ".join(" ".join(m.params) for m in op.log if m.command == "005")
    assert "EXTBAN=$,am" in isupport


async def test_kick_several_targets(irc: RunningServer) -> None:
    op, bar, baz, qux = await irc.in_channel("op", "bar", "baz", "qux")
    await op.ask("KICK #chan bar,baz :bye")
    kicks = [m.params for m in await qux.sync() if m.command == "KICK"]
    assert kicks == [["#chan", "bar", "bye"], ["#chan", "baz", "bye"]]
    await join_all("#chan", bar, baz)
    await op.sync()
    await qux.sync()
    await op.ask("KICK #chan,#chan bar,baz :again")
    assert [m.params[1] for m in await qux.sync() if m.command == "KICK"] == ["bar", "baz"]
    answer = await op.ask("KICK #chan a,b,c,d,e")
    assert commands(answer) == ["407"]
    assert commands(await op.ask("KICK #chan,#other qux")) == ["461"]
    isupport = " ".join(" ".join(m.params) for m in op.log if m.command == "005")
    assert "KICK:4" in isupport


async def test_links_lists_this_server(irc: RunningServer) -> None:
    client = await irc.client("nick")
    answer = await client.ask("LINKS")
    assert [(m.command, m.params) for m in answer] == [
        ("364", ["nick", "irc.test.local", "irc.test.local", "0 hubbub chat server"]),
        ("365", ["nick", "*", "End of /LINKS list"]),
    ]
    assert commands(await client.ask("LINKS other.server")) == ["365"]
    assert commands(await client.ask("LINKS irc.test.* *")) == ["364", "365"]
    refused = await client.ask("LINKS other.server *")
    assert [(m.command, m.params[1]) for m in refused] == [("402", "other.server")]


async def test_helpop_is_help(irc: RunningServer) -> None:
    client = await irc.client("nick")
    assert await client.answers("HELPOP PRIVMSG") == await client.answers("HELP PRIVMSG")
    assert commands(await client.ask("HELPOP NOSUCHTHING")) == ["524"]


async def test_notice_to_nobody_gets_no_error(irc: RunningServer) -> None:
    client = await irc.client("nick")
    assert await client.ask("NOTICE #nonexistent :hello") == []
    assert await client.ask("NOTICE nobody :hello") == []
    assert commands(await client.ask("PRIVMSG #nonexistent :hello")) == ["403"]
