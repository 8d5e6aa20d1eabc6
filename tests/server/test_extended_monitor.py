"""extended-monitor: MONITOR watchers get AWAY, SETNAME, CHGHOST and ACCOUNT
of the people they watch, when they asked for each notification."""

from __future__ import annotations

import pytest

from harness import OPERS, RunningServer, ServerFactory, identify

pytestmark = pytest.mark.usefixtures("cheap_hashes")

ALL = ["extended-monitor", "away-notify", "setname", "chghost", "account-notify"]


async def test_watchers_with_extended_monitor_see_changes(start_server: ServerFactory) -> None:
    irc: RunningServer = await start_server(**OPERS)
    watcher = await irc.client("watcher", ALL)
    plain = await irc.client("plain", ALL[1:])  # monitors without extended-monitor
    await irc.server.store.accounts.create("bar", "bar-password")
    bar = await irc.client("bar")
    for client in (watcher, plain):
        await client.ask("MONITOR + bar")

    await bar.ask("AWAY :afk")
    await bar.ask("AWAY")
    await bar.ask("SETNAME :Bar Baz")
    await identify(bar, "bar", "bar-password")
    boss = await irc.oper("boss")
    await boss.ask("SETHOST bar bar@new.host")
    seen = await watcher.sync()
    assert [(m.command, m.params) for m in seen] == [
        ("AWAY", ["afk"]),
        ("AWAY", []),
        ("SETNAME", ["Bar Baz"]),
        ("ACCOUNT", ["bar"]),
        ("CHGHOST", ["bar", "new.host"]),
    ]
    assert all((m.source or "").startswith("bar!") for m in seen)
    await plain.nothing()


async def test_a_watcher_without_the_notification_cap_sees_nothing(irc: RunningServer) -> None:
    watcher = await irc.client("watcher", ["extended-monitor"])
    bar = await irc.client("bar")
    await watcher.ask("MONITOR + bar")
    await bar.ask("AWAY :afk")
    await bar.ask("SETNAME :Bar Baz")
    await watcher.nothing()


async def test_a_watcher_sharing_a_channel_is_told_once(irc: RunningServer) -> None:
    watcher = await irc.client("watcher", ALL)
    bar = await irc.client("bar")
    await watcher.ask("MONITOR + bar")
    await watcher.ask("JOIN #both")
    await bar.ask("JOIN #both")
    await watcher.sync()
    await bar.ask("AWAY :afk")
    assert [m.command for m in await watcher.sync()] == ["AWAY"]
