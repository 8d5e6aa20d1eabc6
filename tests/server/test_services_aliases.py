"""NS/NICKSERV and CS/CHANSERV talk to the services, and the exact
draft/account-registration replies the issue names."""

from __future__ import annotations

import pytest

from harness import RunningServer, ServerFactory
from hubbub.protocol.message import Message
from ircclient import RawClient

pytestmark = pytest.mark.usefixtures("cheap_hashes")

PASSWORD = "correct-horse"


def notices_from(messages: list[Message], service: str) -> list[str]:
    return [
        m.params[1]
        for m in messages
        if m.command == "NOTICE" and (m.source or "").startswith(service + "!")
    ]


async def service_answer(client: RawClient, line: str, service: str) -> list[str]:
    await client.send(line)
    first = await client.expect(lambda m: bool(notices_from([m], service)))
    return notices_from([first, *await client.sync()], service)


async def test_ns_register_and_identify(irc: RunningServer) -> None:
    alice = await irc.client("alice")
    said = await service_answer(alice, f"NS REGISTER :{PASSWORD}", "NickServ")
    assert any("is registered" in line for line in said), said
    assert await irc.server.store.accounts.get("alice") is not None
    await alice.close()

    again = await irc.client("alice")
    said = await service_answer(again, f"NICKSERV IDENTIFY alice :{PASSWORD}", "NickServ")
    assert any("logged in as alice" in line for line in said), said


async def test_cs_and_chanserv_reach_chanserv(irc: RunningServer) -> None:
    client = await irc.client("someone")
    for line in ("CS HELP", "CHANSERV HELP"):
        said = await service_answer(client, line, "ChanServ")
        assert said and "ChanServ" in said[0]
    assert [m.command for m in await client.ask("NS")] == ["461"]


async def test_ns_register_keeps_the_minimum_password_length(start_server: ServerFactory) -> None:
    irc = await start_server(accounts={"min_password_length": 12})
    bob = await irc.client("bob")
    said = await service_answer(bob, "NS REGISTER short-pass", "NickServ")
    assert any("failed" in line for line in said), said
    assert await irc.server.store.accounts.get("bob") is None


async def test_register_names_an_existing_account_before_nick(irc: RunningServer) -> None:
    await irc.server.store.accounts.create("taken", PASSWORD)
    client = await irc.client()
    await client.send("CAP LS 302")
    await client.send("CAP REQ draft/account-registration")
    await client.send("REGISTER taken * :another password")
    fail = await client.expect("FAIL")
    assert fail.params[:3] == ["REGISTER", "ACCOUNT_EXISTS", "taken"]
    assert len(fail.params) == 4
    await client.send("REGISTER * * :another password")
    need = await client.expect("FAIL")
    assert need.params[:3] == ["REGISTER", "NEED_NICK", "*"]


async def test_complete_connection_required_names_the_account_asked_for(
    start_server: ServerFactory,
) -> None:
    """As irctest's account_registration checks: REGISTER, the code, the
    account parameter as sent ("*"), then the description."""
    irc = await start_server(accounts={"registration_before_connect": False})
    client = await irc.client()
    await client.send("NICK erin")
    await client.send(f"REGISTER * * :{PASSWORD}")
    fail = await client.expect("FAIL")
    assert fail.params[:3] == ["REGISTER", "COMPLETE_CONNECTION_REQUIRED", "*"]
    assert len(fail.params) == 4
