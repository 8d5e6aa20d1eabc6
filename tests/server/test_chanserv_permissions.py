"""ChanServ permissions (issue 11) and founder protection (issue 12): who may
OP/VOICE whom, who may read the access list, answers when nothing changes,
and op-access users who may not kick, deop or ban the founder."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher, profiles

from chanserv_client import cs, cs_all, join, login_client, modes_seen, registered_channel
from hubbub.protocol.message import Message
from hubbub.server.app import Server
from ircclient import RawClient


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many accounts log in here; the default argon2 cost is not under test."""
    monkeypatch.setattr(
        Server, "password_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST)
    )


async def with_roles(irc: Any) -> tuple[RawClient, RawClient, RawClient, RawClient]:
    """#reg founded by alice; bob has op access, carol voice access, dave none;
    all four in the channel."""
    alice = await registered_channel(irc)
    await irc.server.store.accounts.create("bob", "correct horse battery")
    await irc.server.store.accounts.create("carol", "correct horse battery")
    assert "op access" in await cs(alice, "ACCESS #reg ADD bob op")
    assert "voice access" in await cs(alice, "ACCESS #reg ADD carol voice")
    bob = await login_client(irc, "bob", create=False)
    carol = await login_client(irc, "carol", create=False)
    dave = await irc.client("dave")
    for client in (bob, carol, dave):
        await join(client, "#reg")
    for client in (alice, bob, carol, dave):
        await client.sync()
    return alice, bob, carol, dave


def commands(lines: list[Message]) -> list[str]:
    return [m.command for m in lines]


# --- OP / VOICE rights ----------------------------------------------------------------


async def test_op_access_user_ops_another_user(irc: Any) -> None:
    _alice, bob, _carol, dave = await with_roles(irc)
    await bob.send("PRIVMSG ChanServ :OP #reg dave")
    assert (await dave.expect("MODE")).params == ["#reg", "+o", "dave"]


async def test_voice_access_user_may_voice_only_themself(irc: Any) -> None:
    _alice, _bob, carol, dave = await with_roles(irc)
    await carol.ask("PRIVMSG ChanServ :DEVOICE #reg")  # carol got +v on join
    await carol.send("PRIVMSG ChanServ :VOICE #reg")
    assert (await carol.expect("MODE")).params == ["#reg", "+v", "carol"]
    assert "do not have op access" in await cs(carol, "VOICE #reg dave")
    assert modes_seen(await dave.sync()) == [["#reg", "-v", "carol"], ["#reg", "+v", "carol"]]


async def test_voice_access_user_is_refused_op(irc: Any) -> None:
    _alice, _bob, carol, dave = await with_roles(irc)
    assert "do not have op access" in await cs(carol, "OP #reg")
    assert "do not have op access" in await cs(carol, "OP #reg dave")
    assert modes_seen(await dave.sync()) == []


async def test_no_access_user_is_refused_everything(irc: Any) -> None:
    alice, _bob, _carol, _dave = await with_roles(irc)
    eve = await login_client(irc, "eve")
    await join(eve, "#reg")
    await alice.sync()
    assert "do not have voice access" in await cs(eve, "VOICE #reg")
    assert "do not have op access" in await cs(eve, "OP #reg")
    assert modes_seen(await alice.sync()) == []


# --- ACCESS LIST rights ---------------------------------------------------------------


async def test_access_list_needs_a_role(irc: Any) -> None:
    alice, bob, carol, dave = await with_roles(irc)
    assert "not logged in" in await cs(dave, "ACCESS #reg LIST")
    eve = await login_client(irc, "eve")
    assert "do not have voice access" in await cs(eve, "ACCESS #reg LIST")
    for client in (alice, bob, carol):
        listing = await cs_all(client, "ACCESS #reg LIST")
        assert listing[0] == "Access list of #reg:" and "  carol voice" in listing
    # Only the founder changes it.
    assert "founder access" in await cs(bob, "ACCESS #reg ADD eve op")
    assert "founder access" in await cs(bob, "ACCESS #reg DEL carol")


# --- answers when nothing changes -----------------------------------------------------


async def test_no_change_gets_a_notice(irc: Any) -> None:
    alice, bob, carol, _dave = await with_roles(irc)
    assert await cs(alice, "OP #reg") == "alice is already an operator on #reg."
    assert await cs(bob, "OP #reg") == "bob is already an operator on #reg."
    assert await cs(carol, "VOICE #reg") == "carol is already voiced on #reg."
    assert await cs(alice, "DEOP #reg carol") == "carol is not an operator on #reg."
    assert await cs(alice, "DEVOICE #reg bob") == "bob is not voiced on #reg."
    assert modes_seen(await carol.sync()) == []


# --- the founder is protected ---------------------------------------------------------


async def test_op_access_user_cannot_kick_the_founder(irc: Any) -> None:
    alice, bob, _carol, _dave = await with_roles(irc)
    replies = await bob.ask("KICK #reg alice :coup")
    assert [(m.command, m.params[1]) for m in replies] == [("482", "#reg")]
    assert "KICK" not in commands(await alice.sync())
    # Other people are still kickable, and the founder may kick anyone.
    assert commands(await bob.ask("KICK #reg dave"))[0] == "KICK"
    assert commands(await alice.ask("KICK #reg bob"))[0] == "KICK"


async def test_op_access_user_cannot_deop_the_founder(irc: Any) -> None:
    alice, bob, _carol, _dave = await with_roles(irc)
    replies = await bob.ask("MODE #reg -o+v alice dave")
    assert [(m.command, m.params[1]) for m in replies if m.command == "482"] == [("482", "#reg")]
    assert modes_seen(await alice.sync()) == [["#reg", "+v", "dave"]]
    assert "founder" in await cs(bob, "DEOP #reg alice")
    assert modes_seen(await alice.sync()) == []
    # The founder may step down themself.
    await alice.send("PRIVMSG ChanServ :DEOP #reg")
    assert (await alice.expect("MODE")).params == ["#reg", "-o", "alice"]


async def test_op_access_user_cannot_ban_the_founder(irc: Any) -> None:
    alice, bob, _carol, _dave = await with_roles(irc)
    for mask in ("alice!*@*", "*!*@*", "$a:alice"):
        replies = await bob.ask(f"MODE #reg +b {mask}")
        assert commands(replies) == ["482"], mask
    assert modes_seen(await alice.sync()) == []
    listed = await bob.ask("MODE #reg +b")
    assert commands(listed) == ["368"]  # nothing was added


async def test_founder_gets_back_in_past_every_lock(irc: Any) -> None:
    alice, bob, _carol, _dave = await with_roles(irc)
    await alice.ask("PART #reg")
    await bob.ask("MODE #reg +iklb sesame 1 alice!*@*")
    assert commands(await join(alice, "#reg"))[0] == "JOIN"
    # ... which nobody else gets
    eve = await irc.client("eve")
    assert commands(await join(eve, "#reg")) == ["475"]
