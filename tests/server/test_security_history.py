"""Private history belongs to accounts, not nicks (issue 12, H1): a guest
using an account's nick, a client racing nick protection, and whoever
registers a dropped account's name read none of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher, profiles

from harness import RunningServer, ServerFactory
from hubbub.server.app import Server
from ircclient import RawClient
from server.security_helpers import CAPS, PASSWORD, ask_history, login_client, post, service

SECRETS = ["secret for bob", "secret for alice"]


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(
        Server, "password_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST)
    )
    yield


def window() -> str:
    """TARGETS timestamps around now."""
    now = datetime.now(UTC)
    low, high = now - timedelta(hours=1), now + timedelta(hours=1)
    return " ".join("timestamp=" + t.strftime("%Y-%m-%dT%H:%M:%S.000Z") for t in (low, high))


async def alice_and_bob_talk(irc: RunningServer) -> tuple[RawClient, RawClient]:
    alice = await login_client(irc, "alice")
    bob = await login_client(irc, "bob")
    await post(alice, "bob", SECRETS[:1])
    await post(bob, "alice", SECRETS[1:])
    _, fails = await ask_history(alice, "CHATHISTORY LATEST bob * 100")
    assert fails == []
    return alice, bob


async def leave(client: RawClient) -> None:
    await client.send("QUIT")
    assert await client.closed()


async def test_guest_with_an_account_nick_during_the_grace_reads_nothing(
    irc: RunningServer,
) -> None:
    alice, _bob = await alice_and_bob_talk(irc)
    await leave(alice)
    mallory = await irc.client("alice", CAPS)  # nick protection's 30 s grace
    served, fails = await ask_history(mallory, "CHATHISTORY LATEST bob * 100")
    assert served == []
    assert [f.params[:4] for f in fails] == [["CHATHISTORY", "MESSAGE_ERROR", "LATEST", "bob"]]
    served, fails = await ask_history(mallory, f"CHATHISTORY TARGETS {window()} 100")
    assert served == []
    assert [f.params[:3] for f in fails] == [["CHATHISTORY", "MESSAGE_ERROR", "TARGETS"]]


async def test_the_owner_identifying_during_the_grace_reads_at_once(irc: RunningServer) -> None:
    alice, _bob = await alice_and_bob_talk(irc)
    await leave(alice)
    again = await irc.client("alice", CAPS)  # nick protection's 30 s grace starts
    assert "now logged in" in await service(again, "NickServ", f"IDENTIFY alice {PASSWORD}")
    served, fails = await ask_history(again, "CHATHISTORY LATEST bob * 100")
    assert (served, fails) == (SECRETS, [])


async def test_strict_mode_one_write_race_reads_nothing(start_server: ServerFactory) -> None:
    irc = await start_server(accounts={"nick_protection": "strict"})
    alice, _bob = await alice_and_bob_talk(irc)
    await leave(alice)
    mallory = await RawClient.connect("127.0.0.1", irc.port())
    irc.clients.append(mallory)
    await mallory.send_raw(
        b"CAP LS 302\r\nCAP REQ :batch draft/chathistory\r\nNICK alice\r\n"
        b"USER m 0 * :m\r\nCAP END\r\nCHATHISTORY LATEST bob * 100\r\n"
        b"CHATHISTORY TARGETS " + window().encode() + b" 100\r\n"
    )
    lines = await mallory.sync()
    assert not [m for m in lines if m.command in ("PRIVMSG", "CHATHISTORY")]
    fails = [m.params[:3] for m in lines if m.command == "FAIL"]
    assert fails == [
        ["CHATHISTORY", "MESSAGE_ERROR", "LATEST"],
        ["CHATHISTORY", "MESSAGE_ERROR", "TARGETS"],
    ]


async def test_guests_are_served_no_private_history(start_server: ServerFactory) -> None:
    irc = await start_server(accounts={"nick_protection": "off"})
    alice, bob = await alice_and_bob_talk(irc)
    await leave(alice)
    mallory = await irc.client("alice", CAPS)
    served, fails = await ask_history(mallory, "CHATHISTORY LATEST bob * 100")
    assert served == []
    assert [f.params[:4] for f in fails] == [["CHATHISTORY", "INVALID_TARGET", "LATEST", "bob"]]
    served, fails = await ask_history(mallory, f"CHATHISTORY TARGETS {window()} 100")
    assert (served, fails) == ([], [])
    # bob keeps his side of a talk with the guest, filed under its nick; it
    # is not the account alice's conversation
    await post(mallory, "bob", ["from a guest"])
    await bob.expect(lambda m: m.command == "PRIVMSG" and m.params[1] == "from a guest")
    served, _ = await ask_history(bob, "CHATHISTORY LATEST alice * 100")
    assert served == ["from a guest"]  # alice online is the guest
    await leave(mallory)
    served, _ = await ask_history(bob, "CHATHISTORY LATEST alice * 100")
    assert served == SECRETS  # alice offline is the account


async def test_a_new_account_with_a_dropped_name_reads_nothing(irc: RunningServer) -> None:
    alice, bob = await alice_and_bob_talk(irc)
    assert "has been deleted" in await service(alice, "NickServ", f"DROP alice {PASSWORD}")
    await leave(alice)
    newcomer = await irc.client("alice", CAPS)
    assert "registered" in await service(newcomer, "NickServ", f"REGISTER {PASSWORD}")
    served, fails = await ask_history(newcomer, "CHATHISTORY LATEST bob * 100")
    assert (served, fails) == ([], [])
    served, fails = await ask_history(newcomer, f"CHATHISTORY TARGETS {window()} 100")
    assert (served, fails) == ([], [])
    # the dropped account's conversations are gone from both sides
    served, _ = await ask_history(bob, "CHATHISTORY LATEST alice * 100")
    assert served == []


async def test_history_follows_the_account_across_nicks_and_logins(irc: RunningServer) -> None:
    alice, _bob = await alice_and_bob_talk(irc)
    await leave(alice)
    again = await login_client(irc, "alice", create=False)
    await again.ask("NICK somebody")
    served, _ = await ask_history(again, "CHATHISTORY LATEST bob * 100")
    assert served == SECRETS
    # logged out, the same connection is a guest
    assert "logged out" in await service(again, "NickServ", "LOGOUT")
    served, fails = await ask_history(again, "CHATHISTORY LATEST bob * 100")
    assert served == [] and fails[0].params[1] == "INVALID_TARGET"
