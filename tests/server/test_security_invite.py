"""INVITE (issue 12, M3): only a channel operator's invite opens anything;
an invite belongs to the person invited, not to the nick, and it expires.
"""

from __future__ import annotations

import pytest

from harness import RunningServer, ServerFactory
from hubbub.protocol.message import Message
from hubbub.server.state import Channel, User
from hubbub.server.world import World
from ircclient import RawClient
from sessionkit import NullSink


def commands(lines: list[Message]) -> list[str]:
    return [m.command for m in lines]


async def channel_with(irc: RunningServer, *modes: str) -> tuple[RawClient, RawClient]:
    """op (channel operator) and member (no status) in #c, then ``modes`` set."""
    op = await irc.client("op")
    await op.ask("JOIN #c")
    member = await irc.client("member")
    await member.ask("JOIN #c")
    for mode in modes:
        await op.ask(f"MODE #c {mode}")
    await member.sync()
    return op, member


# --- a member without status opens nothing --------------------------------------------


@pytest.mark.parametrize(
    ("mode", "refusal"),
    [("+k sesame", "475"), ("+l 2", "471"), ("+b carol!*@*", "474")],
)
async def test_member_invite_does_not_override(irc: RunningServer, mode: str, refusal: str) -> None:
    _op, member = await channel_with(irc, mode)
    carol = await irc.client("carol")
    assert commands(await member.ask("INVITE carol #c")) == ["341"]
    assert commands(await carol.sync()) == ["INVITE"]  # told, but let in by nothing
    assert commands(await carol.ask("JOIN #c")) == [refusal]


async def test_member_invite_does_not_open_a_later_plus_i(irc: RunningServer) -> None:
    op, member = await channel_with(irc)
    carol = await irc.client("carol")
    await member.ask("INVITE carol #c")
    await carol.expect("INVITE")
    await op.ask("MODE #c +i")
    assert commands(await carol.ask("JOIN #c")) == ["473"]


async def test_only_operators_invite_to_invite_only_channels(irc: RunningServer) -> None:
    _op, member = await channel_with(irc, "+i")
    await irc.client("carol")
    replies = await member.ask("INVITE carol #c")
    assert [(m.command, m.params[1]) for m in replies] == [("482", "#c")]


@pytest.mark.parametrize("mode", ["+i", "+k sesame", "+l 2", "+b carol!*@*"])
async def test_operator_invite_opens_every_restriction(irc: RunningServer, mode: str) -> None:
    op, _member = await channel_with(irc, mode)
    carol = await irc.client("carol")
    assert commands(await op.ask("INVITE carol #c")) == ["341"]
    await carol.expect("INVITE")
    assert commands(await carol.ask("JOIN #c"))[0] == "JOIN"


# --- the invite belongs to a person ---------------------------------------------------


async def test_later_holder_of_the_nick_gets_nothing(irc: RunningServer) -> None:
    op, _member = await channel_with(irc, "+i")
    carol = await irc.client("carol")
    await op.ask("INVITE carol #c")
    await carol.send("QUIT")
    assert await carol.closed()
    mallory = await irc.client("carol")  # takes the nick the invite named
    assert commands(await mallory.ask("JOIN #c")) == ["473"]


async def test_nick_change_drops_the_invite(irc: RunningServer) -> None:
    op, _member = await channel_with(irc, "+i")
    carol = await irc.client("carol")
    await op.ask("INVITE carol #c")
    await carol.ask("NICK carol2")
    mallory = await irc.client("carol")
    assert commands(await mallory.ask("JOIN #c")) == ["473"]
    assert commands(await carol.ask("JOIN #c")) == ["473"]


async def test_invite_is_used_once_and_listed_until_then(irc: RunningServer) -> None:
    op, _member = await channel_with(irc, "+i")
    carol = await irc.client("carol")
    await op.ask("INVITE carol #c")
    await carol.expect("INVITE")
    listed = await carol.ask("INVITE")
    assert [(m.command, m.params[1:]) for m in listed] == [
        ("336", ["#c"]),
        ("337", ["End of /INVITE list"]),
    ]
    await carol.ask("JOIN #c")
    await carol.ask("PART #c")
    assert commands(await carol.ask("JOIN #c")) == ["473"]
    assert commands(await carol.ask("INVITE")) == ["337"]


async def test_pending_invites_per_channel_are_bounded(start_server: ServerFactory) -> None:
    irc = await start_server(channels={"max_invites": 2})
    op, _member = await channel_with(irc, "+i")
    guests = [await irc.client(f"guest{i}") for i in range(3)]
    for guest in guests:
        await op.ask(f"INVITE {guest.nick} #c")
        await guest.expect("INVITE")
    # At the bound the oldest invite made room for the newest.
    assert commands(await guests[0].ask("JOIN #c")) == ["473"]
    assert commands(await guests[1].ask("JOIN #c"))[0] == "JOIN"
    assert commands(await guests[2].ask("JOIN #c"))[0] == "JOIN"


# --- the bookkeeping, without sockets -------------------------------------------------


def _user(world: World, nick: str) -> User:
    user = User(NullSink(), "192.0.2.1", "192.0.2.1", 1, False)
    world.set_nick(user, nick)
    return user


def test_invite_expires() -> None:
    world = World()
    carol = _user(world, "carol")
    channel = Channel("#c")
    world.invite(channel, carol, now=100.0, ttl=60.0, limit=10)
    assert channel.has_invite(carol, 159.0)
    assert not channel.has_invite(carol, 160.0)


def test_expired_invites_go_before_live_ones_at_the_bound() -> None:
    world = World()
    old, live, new = (_user(world, n) for n in ("old", "live", "new"))
    channel = Channel("#c")
    world.invite(channel, old, now=0.0, ttl=10.0, limit=2)
    world.invite(channel, live, now=5.0, ttl=100.0, limit=2)
    world.invite(channel, new, now=50.0, ttl=100.0, limit=2)
    assert set(channel.invited) == {live, new}
    assert old.invites == set()


def test_quit_and_nick_change_forget_invites() -> None:
    world = World()
    carol, dave = _user(world, "carol"), _user(world, "dave")
    channel = Channel("#c")
    world.invite(channel, carol, now=0.0, ttl=10.0, limit=5)
    world.invite(channel, dave, now=0.0, ttl=10.0, limit=5)
    world.set_nick(carol, "Carol")  # same nick, other case: kept
    assert channel.has_invite(carol, 1.0)
    world.set_nick(carol, "carol2")
    world.remove_user(dave)
    assert channel.invited == {} and carol.invites == set() and dave.invites == set()
