"""KLINE/UNKLINE, DLINE/UNDLINE and STATS k/d over real sockets, and persistence."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from harness import OPERS, RunningServer, ServerFactory, make_config, oper_up
from hubbub.server.app import Server
from hubbub.server.commands.serverbans import parse_ban_duration
from ircclient import RawClient


async def oper(irc: RunningServer, nick: str = "boss") -> RawClient:
    client: RawClient = await irc.oper(nick)
    return client


def test_durations() -> None:
    assert parse_ban_duration("10m") == timedelta(minutes=10)
    assert parse_ban_duration("2h") == timedelta(hours=2)
    assert parse_ban_duration("1d") == timedelta(days=1)
    assert parse_ban_duration("30") == timedelta(minutes=30)  # bare number: minutes
    assert parse_ban_duration("0") is None
    assert parse_ban_duration("perm") is None
    with pytest.raises(ValueError):
        parse_ban_duration("soon")


async def test_klines_are_for_operators(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    client = await irc.client("pleb")
    for line in ("KLINE *@10.0.0.1 :x", "UNKLINE *@10.0.0.1", "DLINE 10.0.0.1", "UNDLINE 1.2.3.4"):
        replies = await client.ask(line)
        assert [m.command for m in replies] == ["481"]
    replies = await client.ask("STATS k")
    assert [m.command for m in replies] == ["481", "219"]


async def test_kline_disconnects_matching_user_and_refuses_at_registration(
    start_server: ServerFactory,
) -> None:
    irc = await start_server(**OPERS)
    boss = await oper(irc)
    victim = await irc.client("victim")
    bystander = await irc.client("bystander")
    for client in (victim, bystander):
        await client.send("JOIN #room")
        await client.expect("366")
    replies = await boss.ask("KLINE 1h ~victim@127.0.0.1 :spamming")
    assert any("Added K-line for ~victim@127.0.0.1 for 1h" in m.params[-1] for m in replies)
    assert (await victim.expect("465")).params[-1].endswith("spamming")
    error = await victim.expect("ERROR")
    assert "K-lined: spamming" in error.params[0]
    assert await victim.closed()
    # Bystanders see the QUIT and stay.
    quit_ = await bystander.expect("QUIT")
    assert quit_.source is not None and quit_.source.startswith("victim!")
    # Reconnecting with the same username is refused at registration.
    again = await irc.client()
    await again.send("NICK victim2")
    await again.send("USER victim 0 * :v")
    lines = await again.collect_until("ERROR")
    assert [m.command for m in lines] == ["465", "ERROR"]
    assert "K-lined: spamming" in lines[-1].params[0]
    # Another username from the same host is fine.
    await irc.client("other")
    # STATS k lists it; UNKLINE lifts it.
    stats = await boss.ask("STATS k")
    assert [m.command for m in stats] == ["216", "219"]
    assert stats[0].params[1:5] == ["K", "127.0.0.1", "*", "~victim"]
    assert "spamming" in stats[0].params[5] and "expires in" in stats[0].params[5]
    assert any("Removed" in m.params[-1] for m in await boss.ask("UNKLINE ~victim@127.0.0.1"))
    assert [m.command for m in await boss.ask("STATS k")] == ["219"]
    await irc.client("victim")
    failed = await boss.ask("UNKLINE ~victim@127.0.0.1")
    assert failed[0].command == "FAIL" and failed[0].params[1] == "NO_SUCH_BAN"


async def test_kline_by_nick_and_invalid_masks(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    boss = await oper(irc)
    await irc.client("someone")
    replies = await boss.ask("KLINE someone :bye")
    assert any("Added K-line for *@127.0.0.1 permanently" in m.params[-1] for m in replies)
    # Operators are not thrown out by their own ban.
    assert [m.command for m in await boss.ask("PING :alive")] == ["PONG"]
    for line, code in (
        ("KLINE *@* :everyone", "MASK_TOO_WIDE"),
        ("KLINE ~*@*.* :everyone", "MASK_TOO_WIDE"),
        ("KLINE nobody-here :x", "INVALID_MASK"),
        ("DLINE not-an-ip :x", "INVALID_MASK"),
        ("DLINE 0.0.0.0/0 :x", "MASK_TOO_WIDE"),
    ):
        fail = (await boss.ask(line))[0]
        assert fail.command == "FAIL" and fail.params[1] == code, (line, fail)


async def test_dline_refuses_at_accept_and_drops_connected(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    boss = await oper(irc)
    victim = await irc.client("victim")
    unregistered = await irc.client()
    replies = await boss.ask("DLINE 10m 127.0.0.0/24 :go away")
    assert any("Added D-line for 127.0.0.0/24 for 10m" in m.params[-1] for m in replies)
    for client in (victim, unregistered):
        assert (await client.expect("465")).params[-1].endswith("go away")
        assert "D-lined: go away" in (await client.expect("ERROR")).params[0]
    # A new connection is refused before it sends anything.
    fresh = await irc.client()
    lines = await fresh.collect_until("ERROR")
    assert [m.command for m in lines] == ["465", "ERROR"]
    assert await fresh.closed()
    stats = await boss.ask("STATS d")
    assert [m.command for m in stats] == ["225", "219"]
    assert stats[0].params[1:3] == ["D", "127.0.0.0/24"]
    await boss.ask("UNDLINE 127.0.0.0/24")
    await irc.client("welcome")


async def test_bans_survive_restart_and_expire(tmp_path: Path) -> None:
    config = make_config(tmp_path / "data", **OPERS)
    server = Server(config)
    await server.start()
    port = server.listeners[0].port
    boss = await RawClient.connect("127.0.0.1", port)
    await boss.register("boss")
    await oper_up(boss)
    await boss.ask("KLINE ~banned@* :persistent")
    await boss.ask("KLINE 1s ~brief@* :short")
    await boss.ask("DLINE 2d 192.0.2.0/24 :docs range")
    await boss.close()
    await server.stop()
    await asyncio.sleep(1.0)  # ~brief's second runs out

    server = Server(make_config(tmp_path / "data", **OPERS))
    await server.start()
    port = server.listeners[0].port
    try:
        client = await RawClient.connect("127.0.0.1", port)
        await client.send("NICK banned")
        await client.send("USER banned 0 * :b")
        got = await client.collect_until("ERROR")
        assert "K-lined: persistent" in got[-1].params[0], got
        boss = await RawClient.connect("127.0.0.1", port)
        await boss.register("boss")
        await oper_up(boss)
        kl = await boss.ask("STATS k")
        assert [m.params[4] for m in kl if m.command == "216"] == ["~banned"]  # ~brief expired
        dl = await boss.ask("STATS d")
        assert [m.params[2] for m in dl if m.command == "225"] == ["192.0.2.0/24"]
        brief = await RawClient.connect("127.0.0.1", port)
        await brief.register("brief")
        await brief.close()
        await boss.close()
        await client.close()
    finally:
        await server.stop()
