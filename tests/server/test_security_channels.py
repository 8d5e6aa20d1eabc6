"""Low items of issue 12: secret channels stay secret, channel names hold no
control characters, and a relayed MODE never exceeds 512 bytes."""

from __future__ import annotations

import asyncio

import pytest

from harness import RunningServer
from hubbub.protocol.casemap import valid_channel
from hubbub.protocol.message import Message, parse
from hubbub.server.api import ModeChange
from hubbub.server.mode_changes import LINE_LIMIT, split_mode_lines
from ircclient import RawClient


def commands(lines: list[Message]) -> list[str]:
    return [m.command for m in lines]


# --- +s channels do not exist for outsiders ------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "MODE #secret",
        "MODE #secret +b",
        "MODE #secret +o outsider",
        "TOPIC #secret",
        "TOPIC #secret :mine now",
        "KICK #secret owner",
        "INVITE outsider #secret",
        "PART #secret",
    ],
)
async def test_secret_channel_looks_absent_to_outsiders(irc: RunningServer, line: str) -> None:
    owner = await irc.client("owner")
    await owner.ask("JOIN #secret")
    await owner.ask("TOPIC #secret :plans")
    await owner.ask("MODE #secret +s")
    outsider = await irc.client("outsider")
    replies = await outsider.ask(line)
    assert [(m.command, m.params[1:]) for m in replies] == [("403", ["#secret", "No such channel"])]
    # Exactly what a channel that does not exist answers.
    absent = await outsider.ask(line.replace("#secret", "#absent"))
    assert [(m.command, m.params[1:]) for m in absent] == [("403", ["#absent", "No such channel"])]


async def test_public_channel_still_answers_outsiders(irc: RunningServer) -> None:
    owner = await irc.client("owner")
    await owner.ask("JOIN #open")
    outsider = await irc.client("outsider")
    assert commands(await outsider.ask("MODE #open")) == ["324", "329"]
    assert commands(await outsider.ask("TOPIC #open")) == ["331"]


# --- channel names -------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["#a\x01b", "#a\x02", "#bell\x07", "#del\x7f", "#tab\tx", "#a:b"])
async def test_control_characters_in_channel_names_are_refused(
    irc: RunningServer, bad: str
) -> None:
    alice = await irc.client("alice")
    replies = await alice.ask(f"JOIN {bad}")
    assert [(m.command, m.params[1:]) for m in replies] == [("479", [bad, "Illegal channel name"])]
    assert irc.server.world.find_channel(bad) is None


def test_valid_channel_refuses_every_control_character() -> None:
    for code in [*range(0x20), 0x7F]:
        assert not valid_channel(f"#a{chr(code)}b", 64), hex(code)
    for bad in ("#a b", "#a,b", "#a:b", "a", "#", "#" + "x" * 64):
        assert not valid_channel(bad, 64), bad
    for good in ("#a", "#café", "#a-b_c.d", "#" + "x" * 63):
        assert valid_channel(good, 64), good


async def test_names_without_a_channel_prefix_get_403(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    assert commands(await alice.ask("JOIN nochan")) == ["403"]
    assert commands(await alice.ask("JOIN #" + "x" * 80)) == ["403"]  # too long


# --- MODE lines fit 512 bytes ----------------------------------------------------------


async def raw_lines_until_pong(client: RawClient) -> list[bytes]:
    await client.send("PING :barrier")
    lines: list[bytes] = []
    while True:
        raw = await asyncio.wait_for(client.reader.readline(), 5)
        if not raw:
            raise ConnectionError("closed")
        if parse(raw.decode().rstrip("\r\n")).command == "PONG":
            return lines
        lines.append(raw)


async def test_relayed_mode_toggles_are_split(irc: RunningServer) -> None:
    nick = "o" * 30  # a long source makes the relayed line longer than the sent one
    op = await irc.client(nick)
    await op.ask("JOIN #c")
    watcher = await irc.client("watcher")
    await watcher.ask("JOIN #c")
    await op.sync()
    toggles = "+m-m" * 120  # 480 mode letters and signs in one 500-byte command
    await op.send(f"MODE #c {toggles}")
    lines = [line for line in await raw_lines_until_pong(watcher) if b" MODE " in line]
    assert len(lines) > 1
    assert all(len(line) <= LINE_LIMIT for line in lines)
    relayed = "".join(parse(line.decode().rstrip("\r\n")).params[1] for line in lines)
    assert relayed.count("m") == 240  # every change, in order
    assert relayed.startswith("+m-m") and relayed.endswith("-m")


async def test_relayed_long_bans_are_split(irc: RunningServer) -> None:
    nick = "b" * 30
    op = await irc.client(nick)
    await op.ask("JOIN #c")
    watcher = await irc.client("watcher")
    await watcher.ask("JOIN #c")
    await op.sync()
    banned = [f"{c * 50}!{c * 10}@{c * 50}.example" for c in "wxyz"]
    await op.send("MODE #c +bbbb " + " ".join(banned))
    lines = [line for line in await raw_lines_until_pong(watcher) if b" MODE " in line]
    assert all(len(line) <= LINE_LIMIT for line in lines)
    masks = [p for line in lines for p in parse(line.decode().rstrip("\r\n")).params[2:]]
    assert masks == banned


def test_split_respects_modes_and_length() -> None:
    head = ":" + "n" * 30 + "!~user@host MODE #c"
    masks = [f"{i:02d}" + "m" * 60 + "!*@*" for i in range(20)]
    changes = [ModeChange(True, "b", m) for m in masks]
    groups = split_mode_lines(head, changes, max_params=4)
    assert [c.param for g in groups for c in g] == masks
    for group in groups:
        assert len(group) <= 4
        words = [head[1:].split()[0], "MODE", "#c", "+" + "b" * len(group)]
        line = ":" + " ".join(words + [c.param or "" for c in group]) + "\r\n"
        assert len(line.encode()) <= LINE_LIMIT
    flags = [ModeChange(i % 2 == 0, "i") for i in range(600)]
    flag_groups = split_mode_lines(head, flags)
    assert sum(len(g) for g in flag_groups) == 600
    assert len(flag_groups) > 1


def test_split_keeps_a_short_change_list_whole() -> None:
    changes = [ModeChange(True, "o", "alice"), ModeChange(False, "m")]
    assert split_mode_lines(":a!b@c MODE #c", changes) == [changes]
