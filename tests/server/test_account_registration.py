"""draft/account-registration: REGISTER and VERIFY."""

from __future__ import annotations

import pytest

from harness import cap_ls
from hubbub.protocol.message import Message
from ircclient import RawClient
from saslclient import plain

PASSWORD = "correct horse"


pytestmark = pytest.mark.usefixtures("cheap_hashes")


def is_reply(command: str) -> bool:
    return command in ("FAIL", "REGISTER", "VERIFY")


async def reply_to(client: RawClient, line: str) -> Message:
    await client.send(line)
    return await client.expect(lambda m: is_reply(m.command))


async def cap_value(client: RawClient) -> str | None:
    for entry in await cap_ls(client):
        name, _, value = entry.partition("=")
        if name == "draft/account-registration":
            return value
    raise AssertionError("draft/account-registration not advertised")


async def test_capability_values(start_server) -> None:
    irc = await start_server()
    assert await cap_value(await irc.client()) == "before-connect"
    irc = await start_server(accounts={"require_email": True})
    assert await cap_value(await irc.client()) == "before-connect,email-required"
    irc = await start_server(accounts={"registration_before_connect": False})
    assert await cap_value(await irc.client()) == ""
    # a connection password must be checked first, so no early registration
    irc = await start_server(server={"password": "letmein"})
    assert await cap_value(await irc.client()) == ""


async def test_register_before_connect(irc) -> None:
    client = await irc.client()
    await client.send("CAP LS 302")
    await client.send("CAP REQ :draft/account-registration")
    await client.send("NICK alice")
    await client.send(f"REGISTER * * :{PASSWORD}")
    # 900 first (as after SASL), then the REGISTER SUCCESS standard reply
    logged_in = await client.expect("900")
    assert logged_in.params[2] == "alice"
    success = await client.expect("REGISTER")
    assert success.params[:2] == ["SUCCESS", "alice"]
    await client.send("CAP END")
    await client.send("USER alice 0 * :Alice")
    await client.expect("376")
    await client.send("WHOIS alice")
    account = await client.expect("330")
    assert account.params[2] == "alice"
    # the account works for SASL afterwards
    other = await irc.client()
    assert await plain(other, "alice", PASSWORD) == "903"


async def test_register_after_connect_with_email(irc) -> None:
    client = await irc.client("bob")
    await client.send(f"REGISTER bob bob@example.org :{PASSWORD}")
    await client.expect("900")
    success = await client.expect("REGISTER")
    assert success.params[:2] == ["SUCCESS", "bob"]
    account = await irc.server.store.accounts.get("bob")
    assert account is not None and account.email == "bob@example.org"
    fail = await reply_to(client, f"REGISTER * * :{PASSWORD}")
    assert fail.params[:3] == ["REGISTER", "ALREADY_AUTHENTICATED", "bob"]
    fail = await reply_to(client, "VERIFY bob 12345")
    assert fail.params[:3] == ["VERIFY", "ALREADY_AUTHENTICATED", "bob"]


async def test_register_failures(irc) -> None:
    await irc.server.store.accounts.create("taken", PASSWORD)
    early = await irc.client()
    fail = await reply_to(early, f"REGISTER * * :{PASSWORD}")
    assert fail.params[:3] == ["REGISTER", "NEED_NICK", "*"]

    client = await irc.client("taken")
    fail = await reply_to(client, f"REGISTER * * :{PASSWORD}")
    assert fail.params[:3] == ["REGISTER", "ACCOUNT_EXISTS", "taken"]
    await client.send("NICK carol")
    await client.expect("NICK")
    fail = await reply_to(client, "REGISTER * * :short")
    assert fail.params[:3] == ["REGISTER", "WEAK_PASSWORD", "carol"]
    fail = await reply_to(client, "REGISTER * * :" + "x" * 301)
    assert fail.params[:3] == ["REGISTER", "UNACCEPTABLE_PASSWORD", "carol"]
    fail = await reply_to(client, f"REGISTER someoneelse * :{PASSWORD}")
    assert fail.params[:3] == ["REGISTER", "ACCOUNT_NAME_MUST_BE_NICK", "someoneelse"]
    fail = await reply_to(client, f"REGISTER * not-an-address :{PASSWORD}")
    assert fail.params[:3] == ["REGISTER", "INVALID_EMAIL", "carol"]
    fail = await reply_to(client, "VERIFY carol 12345")
    assert fail.params[:3] == ["VERIFY", "INVALID_CODE", "carol"]
    await client.send("NICK Guest123")
    await client.expect("NICK")
    fail = await reply_to(client, f"REGISTER * * :{PASSWORD}")
    assert fail.params[:3] == ["REGISTER", "BAD_ACCOUNT_NAME", "Guest123"]
    # nothing was created along the way
    names = sorted(a.name for a in await irc.server.store.accounts.list())
    assert names == ["taken"]


async def test_email_required(start_server) -> None:
    irc = await start_server(accounts={"require_email": True})
    client = await irc.client("dave")
    fail = await reply_to(client, f"REGISTER * * :{PASSWORD}")
    assert fail.params[:3] == ["REGISTER", "INVALID_EMAIL", "dave"]
    success = await reply_to(client, f"REGISTER * dave@example.org :{PASSWORD}")
    assert success.params[:2] == ["SUCCESS", "dave"]


async def test_complete_connection_required(start_server) -> None:
    irc = await start_server(accounts={"registration_before_connect": False})
    client = await irc.client()
    await client.send("NICK erin")
    fail = await reply_to(client, f"REGISTER * * :{PASSWORD}")
    assert fail.params[:3] == ["REGISTER", "COMPLETE_CONNECTION_REQUIRED", "*"]
    await client.send("USER erin 0 * :Erin")
    await client.expect("376")
    success = await reply_to(client, f"REGISTER * * :{PASSWORD}")
    assert success.params[:2] == ["SUCCESS", "erin"]


async def test_registration_disabled(start_server) -> None:
    irc = await start_server(accounts={"registration": False})
    client = await irc.client("frank")
    fail = await reply_to(client, f"REGISTER * * :{PASSWORD}")
    assert fail.params[:3] == ["REGISTER", "TEMPORARILY_UNAVAILABLE", "*"]
    fail = await reply_to(client, "VERIFY frank 1")
    assert fail.params[:3] == ["VERIFY", "TEMPORARILY_UNAVAILABLE", "frank"]
    await client.send(f"PRIVMSG NickServ :REGISTER {PASSWORD}")
    notice = await client.expect("NOTICE")
    assert "disabled" in notice.params[1]
    assert await irc.server.store.accounts.list() == []
