"""An unregistered channel's history lives as long as the channel (issue 12,
H3): whoever re-creates an emptied channel, or creates it after a restart,
reads none of its past, however secret it was. Registered channels keep
their history until their registration is dropped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles

from harness import RunningServer, make_config
from hubbub.server.app import Server
from hubbub.server.commands.chanserv_channels import state_of
from ircclient import RawClient
from server.security_helpers import CAPS, ask_history, login_client, post, service


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(
        Server, "password_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST)
    )
    yield


async def latest(client: RawClient, channel: str) -> list[str]:
    served, fails = await ask_history(client, f"CHATHISTORY LATEST {channel} * 100")
    assert fails == []
    return served


async def test_a_recreated_secret_channel_shows_no_old_history(irc: RunningServer) -> None:
    alice = await irc.client("alice", CAPS)
    await alice.ask("JOIN #secret")
    await alice.ask("MODE #secret +sik hunter2")
    await post(alice, "#secret", ["the plan"])
    assert await latest(alice, "#secret") == ["the plan"]
    await alice.ask("PART #secret")
    mallory = await irc.client("mallory", CAPS)
    await mallory.ask("JOIN #secret")  # a new, empty channel: mallory is its op
    assert await latest(mallory, "#secret") == []
    # the new incarnation has a history of its own, from its first message
    await post(mallory, "#secret", ["mine"])
    assert await latest(mallory, "#secret") == ["mine"]


async def test_a_registered_channel_keeps_its_history_until_dropped(irc: RunningServer) -> None:
    alice = await login_client(irc, "alice")
    await alice.ask("JOIN #reg")
    assert "now registered" in await service(alice, "ChanServ", "REGISTER #reg")
    await post(alice, "#reg", ["kept"])
    await alice.ask("PART #reg")
    await alice.ask("JOIN #reg")
    assert await latest(alice, "#reg") == ["kept"]
    await alice.ask("PART #reg")
    assert "dropped" in await service(alice, "ChanServ", "DROP #reg")  # empty: history goes
    await alice.ask("JOIN #reg")
    assert await latest(alice, "#reg") == []


async def test_dropping_a_live_channel_keeps_history_for_its_lifetime(irc: RunningServer) -> None:
    alice = await login_client(irc, "alice")
    await alice.ask("JOIN #live")
    assert "now registered" in await service(alice, "ChanServ", "REGISTER #live")
    await post(alice, "#live", ["said while registered"])
    assert "dropped" in await service(alice, "ChanServ", "DROP #live")
    assert await latest(alice, "#live") == ["said while registered"]
    await alice.ask("PART #live")  # now unregistered: its history ends with it
    await alice.ask("JOIN #live")
    assert await latest(alice, "#live") == []


async def test_after_a_restart_only_registered_channels_have_history(tmp_path: Path) -> None:
    async def run(server: Server) -> RunningServer:
        await server.start()
        return RunningServer(server)

    data = tmp_path / "data"
    first = await run(Server(make_config(data)))
    try:
        alice = await login_client(first, "alice")
        await alice.ask("JOIN #reg,#temp")
        assert "now registered" in await service(alice, "ChanServ", "REGISTER #reg")
        await state_of(first.server).drain()
        await post(alice, "#reg", ["registered words"])
        await post(alice, "#temp", ["temporary words"])
    finally:
        for client in first.clients:
            await client.close()
        await first.server.stop()

    second = await run(Server(make_config(data)))
    try:
        alice = await login_client(second, "alice", create=False)
        await alice.ask("JOIN #reg,#temp")
        assert await latest(alice, "#reg") == ["registered words"]
        assert await latest(alice, "#temp") == []
    finally:
        for client in second.clients:
            await client.close()
        await second.server.stop()
