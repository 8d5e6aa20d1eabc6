"""draft/channel-rename: RENAME keeps the channel, with a PART/JOIN fallback."""

from __future__ import annotations

import pytest

from chanserv_client import cs, login_client, registered_channel, stored_channel
from harness import RunningServer, join_all, joined, until
from hubbub.protocol.message import Message

pytestmark = pytest.mark.usefixtures("cheap_hashes")

CAP = "draft/channel-rename"


def lines(messages: list[Message]) -> list[tuple[str, list[str]]]:
    return [(m.command, m.params) for m in messages]


async def test_rename_keeps_members_modes_topic_and_metadata(irc: RunningServer) -> None:
    op = await irc.client("op", [CAP, "draft/metadata-3", "batch"])
    modern = await irc.client("modern", [CAP])
    legacy = await irc.client("legacy")
    await join_all("#old", op, modern, legacy)
    await op.ask("TOPIC #old :tea time")
    await op.ask("MODE #old +mk sesame")
    await op.ask("MODE #old +v legacy")
    await op.ask("METADATA #old SET display-name :Old Room")
    await modern.sync()
    await legacy.sync()

    answer = await op.ask("RENAME #old #new :better name")
    assert lines(answer) == [("RENAME", ["#old", "#new", "better name"])]
    assert answer[0].source is not None and answer[0].source.startswith("op!")
    assert lines(await modern.sync()) == [("RENAME", ["#old", "#new", "better name"])]

    seen = await legacy.sync()
    assert [m.command for m in seen] == ["PART", "JOIN", "332", "333", "353", "366"]
    assert seen[0].params == ["#old", "better name"] and (seen[0].source or "").startswith(
        "legacy!"
    )
    assert seen[1].params == ["#new"]
    assert seen[2].params == ["legacy", "#new", "tea time"]
    assert seen[4].params[-1].split() == ["@op", "modern", "+legacy"]

    modes = await legacy.ask("MODE #new")
    assert modes[0].params[:3] == ["legacy", "#new", "+mntk"]
    assert [m.command for m in await legacy.ask("MODE #old")] == ["403"]
    # members keep talking in the renamed channel
    await legacy.send("PRIVMSG #new :still here")
    assert (await modern.expect("PRIVMSG")).params == ["#new", "still here"]
    got = await op.ask("METADATA #new GET display-name")
    assert [m.params for m in got if m.command == "761"] == [
        ["op", "#new", "display-name", "*", "Old Room"]
    ]


async def test_a_case_only_rename_needs_no_fallback(irc: RunningServer) -> None:
    op = await irc.client("op", [CAP])
    legacy = await irc.client("legacy")
    await join_all("#tea", op, legacy)
    assert lines(await op.ask("RENAME #tea #TEA")) == [("RENAME", ["#tea", "#TEA", ""])]
    await legacy.nothing()
    names = await legacy.ask("NAMES #tea")
    assert names[0].params[2] == "#TEA"


async def test_refusals(irc: RunningServer) -> None:
    op = await irc.client("op", [CAP])
    member = await irc.client("member", [CAP])
    await join_all("#a", op, member)
    await joined(op, "#b")
    cases = {
        "RENAME #a #b": ("FAIL", ["RENAME", "CHANNEL_NAME_IN_USE", "#a", "#b"]),
        "RENAME #a &a": ("FAIL", ["RENAME", "CANNOT_RENAME", "#a", "&a"]),
        "RENAME #a #bad,name": ("FAIL", ["RENAME", "CANNOT_RENAME", "#a", "#bad,name"]),
        "RENAME #nowhere #c": ("403", ["op", "#nowhere"]),
        "RENAME #a": ("461", ["op", "RENAME"]),
    }
    for line, (command, params) in cases.items():
        answer = await op.ask(line)
        assert [m.command for m in answer] == [command], (line, answer)
        assert answer[0].params[: len(params)] == params, line
    assert [m.command for m in await member.ask("RENAME #a #c")] == ["482"]
    outsider = await irc.client("outsider")
    assert [m.command for m in await outsider.ask("RENAME #a #c")] == ["442"]


async def test_history_and_registration_follow_the_rename(irc: RunningServer) -> None:
    alice = await registered_channel(irc)
    await alice.ask("CAP REQ draft/channel-rename")
    await alice.ask("PRIVMSG #reg :before the rename")
    bob = await login_client(irc, "bob")
    await joined(bob, "#reg")
    await alice.sync()
    await alice.ask("MODE #reg +o bob")
    refused = await bob.ask("RENAME #reg #stolen")
    assert [m.params[1] for m in refused if m.command == "FAIL"] == ["CANNOT_RENAME"]

    assert [m.command for m in await alice.ask("RENAME #reg #renamed")] == ["RENAME"]
    stored = await stored_channel(irc, "#renamed")
    assert stored is not None and stored.founder == "alice"
    assert await stored_channel(irc, "#reg") is None
    assert "Information on #renamed" in await cs(alice, "INFO #renamed")

    async def moved() -> bool:
        records = await irc.server.store.history.latest("#renamed", None, 10, messages_only=True)
        return [r.text for r in records] == ["before the rename"]

    await until(moved)
    assert await irc.server.store.history.latest("#reg", None, 10, messages_only=True) == []
