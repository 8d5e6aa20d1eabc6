"""Deleting an account (NickServ DROP) leaves nothing a later account of
the same name could inherit (issue 11): channel access, founded channels,
and the logged-in connections all go with it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher, profiles

from harness import RunningServer, ServerFactory
from hubbub.server.app import Server
from hubbub.server.commands.chanserv_channels import state_of
from ircclient import RawClient
from server.security_helpers import PASSWORD, login_client, service

OPER = {"opers": [{"name": "root", "password": "root-password"}]}


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(
        Server, "password_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST)
    )
    yield


async def names(client: RawClient, channel: str) -> str:
    lines = await client.ask(f"JOIN {channel}")
    return next(m for m in lines if m.command == "353").params[-1]


async def registered_channel(irc: RunningServer, founder: str, channel: str) -> RawClient:
    client = await login_client(irc, founder)
    await client.ask(f"JOIN {channel}")
    assert "now registered" in await service(client, "ChanServ", f"REGISTER {channel}")
    return client


async def test_op_access_of_a_dropped_account_is_not_inherited(irc: RunningServer) -> None:
    alice = await registered_channel(irc, "alice", "#reg")
    gina = await login_client(irc, "gina")
    assert "op access" in await service(alice, "ChanServ", "ACCESS #reg ADD gina op")
    assert "has been deleted" in await service(gina, "NickServ", f"DROP gina {PASSWORD}")
    await alice.ask("PART #reg")  # the channel is empty
    await gina.send("QUIT")
    assert await gina.closed()
    impostor = await irc.client("gina")
    assert "registered" in await service(impostor, "NickServ", f"REGISTER {PASSWORD}")
    assert await names(impostor, "#reg") == "gina"  # no @: the access entry went
    assert "gina" not in await service(alice, "ChanServ", "ACCESS #reg LIST")
    await state_of(irc.server).drain()
    stored = await irc.server.store.channels.get("#reg")
    assert stored is not None and dict(stored.access) == {}


async def test_a_dropped_founder_takes_the_registration_with_it(irc: RunningServer) -> None:
    alice = await registered_channel(irc, "alice", "#reg")
    bob = await login_client(irc, "bob")
    await bob.ask("JOIN #reg")
    reply = await service(alice, "NickServ", f"DROP alice {PASSWORD}")
    assert "Channel registrations dropped: #reg" in reply
    notice = await bob.expect(lambda m: m.command == "NOTICE" and m.params[0] == "#reg")
    assert "no longer registered" in notice.params[1]
    assert "not registered" in await service(bob, "ChanServ", "INFO #reg")
    await state_of(irc.server).drain()
    assert await irc.server.store.channels.get("#reg") is None
    # a new account "alice" is founder of nothing
    await alice.send("QUIT")
    assert await alice.closed()
    newcomer = await irc.client("alice")
    assert "registered" in await service(newcomer, "NickServ", f"REGISTER {PASSWORD}")
    assert "not registered" in await service(newcomer, "ChanServ", "ACCESS #reg ADD bob op")


async def test_drop_logs_out_every_connection_with_account_notify(irc: RunningServer) -> None:
    alice = await login_client(irc, "alice")
    other = await RawClient.connect("127.0.0.1", irc.port())
    irc.clients.append(other)
    await other.register("elsewhere")
    assert "now logged in" in await service(other, "NickServ", f"IDENTIFY alice {PASSWORD}")
    watcher = await irc.client("watcher", ["account-notify"])
    for client in (alice, other, watcher):
        await client.ask("JOIN #room")
    await alice.send(f"PRIVMSG NickServ :DROP alice {PASSWORD}")
    for client in (alice, other):
        assert (await client.expect("901")).params[0] == client.nick
    seen = {(m.source or "").split("!")[0] for m in await watcher.sync() if m.command == "ACCOUNT"}
    assert seen == {"alice", "elsewhere"}
    done = await alice.expect(lambda m: m.command == "NOTICE" and "deleted" in m.params[1])
    assert done.source is not None and done.source.startswith("NickServ!")
    assert not irc.server.store.accounts.exists("alice")


async def test_drop_needs_the_password_but_not_from_an_operator(
    start_server: ServerFactory,
) -> None:
    irc = await start_server(**OPER)
    gina = await login_client(irc, "gina")
    assert "Invalid password" in await service(gina, "NickServ", "DROP gina not-the-password")
    assert "DROP gina <password>" in await service(gina, "NickServ", "DROP gina")
    assert irc.server.store.accounts.exists("gina")
    root = await irc.client("root")
    assert [m.command for m in await root.ask("OPER root root-password")][-1] == "381"
    assert "has been deleted" in await service(root, "NickServ", "DROP gina")
    await gina.expect("901")
    assert not irc.server.store.accounts.exists("gina")
    assert "does not exist" in await service(root, "NickServ", "DROP gina")
