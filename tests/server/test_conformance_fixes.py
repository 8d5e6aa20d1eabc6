"""Conformance fixes found with the irctest suite: NAMES of several channels,
MONITOR and a nick change that only changes case."""

from __future__ import annotations

from harness import RunningServer, joined


async def test_names_of_several_channels_ends_once(irc: RunningServer) -> None:
    nick = await irc.client("nick1")
    await joined(nick, "#chan1")
    await joined(nick, "#chan2")
    answer = await nick.answers("NAMES #chan1,#nowhere,#chan2")
    assert answer == [
        ("353", ["nick1", "=", "#chan1", "@nick1"]),
        ("353", ["nick1", "=", "#chan2", "@nick1"]),
        ("366", ["nick1", "#chan1,#nowhere,#chan2", "End of /NAMES list"]),
    ]
    assert await nick.answers("NAMES #nowhere") == [
        ("366", ["nick1", "#nowhere", "End of /NAMES list"])
    ]


async def test_monitor_sees_nick_changes_but_not_case_changes(irc: RunningServer) -> None:
    watcher = await irc.client("watcher")
    await watcher.ask("MONITOR + qux")
    baz = await irc.client("baz")
    await baz.ask("NICK qux")
    online = await watcher.sync()
    assert [m.command for m in online] == ["730"]
    assert online[0].params[1].startswith("qux!")
    await baz.ask("NICK QUX")
    await watcher.nothing()
    await baz.ask("NICK other")
    assert [(m.command, m.params[1]) for m in await watcher.sync()] == [("731", "QUX")]
