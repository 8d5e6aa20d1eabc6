"""One password rule everywhere a password is set, with the configured
minimum length (issue 11); SCRAM-SHA-256 keys with the configured PBKDF2
rounds, upgraded at the next password login (issue 12, M5)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles

from harness import RunningServer, ServerFactory
from hubbub.server.app import Server
from hubbub.server.config import ConfigError, parse_config
from hubbub.store import open_store
from ircclient import RawClient
from server.security_helpers import PASSWORD, login_client, service

CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(Server, "password_hasher", CHEAP)
    yield


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def authenticate(client: RawClient, line: bytes) -> str:
    await client.send("AUTHENTICATE " + (b64(line) if line else "+"))
    reply = await client.expect(lambda m: m.command in ("AUTHENTICATE", "903", "904"))
    return reply.command if reply.command != "AUTHENTICATE" else reply.params[0]


async def scram_login(client: RawClient, account: str, password: str) -> tuple[str, int]:
    """SASL SCRAM-SHA-256 as RFC 5802's client: (903 or 904, the i= offered)."""
    await client.send("CAP REQ :sasl")
    await client.expect(lambda m: m.command == "CAP" and m.params[1] == "ACK")
    await client.send("AUTHENTICATE SCRAM-SHA-256")
    await client.expect("AUTHENTICATE")
    first_bare = f"n={account},r={secrets.token_urlsafe(18)}"
    server_first = base64.b64decode(await authenticate(client, f"n,,{first_bare}".encode()))
    attrs = dict(part.split("=", 1) for part in server_first.decode().split(","))
    iterations = int(attrs["i"])
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(attrs["s"]), iterations
    )
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    without_proof = f"c=biws,r={attrs['r']}"
    auth_message = f"{first_bare},{server_first.decode()},{without_proof}".encode()
    signature = hmac.digest(hashlib.sha256(client_key).digest(), auth_message, "sha256")
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    answer = await authenticate(client, f"{without_proof},p={b64(proof)}".encode())
    if answer == "904":
        return answer, iterations
    return await authenticate(client, b""), iterations


async def test_min_password_length_applies_to_every_way_of_setting_one(
    start_server: ServerFactory,
) -> None:
    irc = await start_server(accounts={"min_password_length": 12})
    short, long = "password-11", "password-123"
    client = await irc.client("dora", ["draft/account-registration"])
    fail = next(m for m in await client.ask(f"REGISTER * * {short}") if m.command == "FAIL")
    assert fail.params[:3] == ["REGISTER", "WEAK_PASSWORD", "dora"]
    assert fail.params[-1] == "Passwords must be at least 12 characters long"
    reply = await service(client, "NickServ", f"REGISTER {short}")
    assert reply == "Registration failed: Passwords must be at least 12 characters long."
    assert not irc.server.store.accounts.exists("dora")
    assert "registered" in await service(client, "NickServ", f"REGISTER {long}")
    reply = await service(client, "NickServ", f"SET PASSWORD {long} {short}")
    assert reply == "Password not changed: Passwords must be at least 12 characters long."
    assert await irc.server.store.accounts.verify_password("dora", long) is not None


async def test_the_default_minimum_is_8(irc: RunningServer) -> None:
    client = await irc.client("eddy")
    assert "at least 8 characters" in await service(client, "NickServ", "REGISTER abc")
    assert "registered" in await service(client, "NickServ", "REGISTER abcdefgh")
    assert "at least 8 characters" in await service(client, "NickServ", "SET PASSWORD abcdefgh x")


@pytest.mark.parametrize(
    "accounts",
    [{"min_password_length": 0}, {"scram_iterations": 4095}, {"scram_iterations": "many"}],
)
def test_bad_account_settings_are_refused(accounts: dict[str, object]) -> None:
    key = next(iter(accounts))
    with pytest.raises(ConfigError, match=key):
        parse_config({"accounts": accounts})


async def test_scram_uses_the_configured_iterations(start_server: ServerFactory) -> None:
    irc = await start_server(accounts={"scram_iterations": 5000})
    await irc.server.store.accounts.create("finn", PASSWORD)
    client = await RawClient.connect("127.0.0.1", irc.port())
    irc.clients.append(client)
    assert await scram_login(client, "finn", PASSWORD) == ("903", 5000)


async def test_old_scram_keys_are_upgraded_at_the_next_password_login(
    tmp_path: Path, start_server: ServerFactory
) -> None:
    old = await open_store(tmp_path / "data0" / "hubbub.db", hasher=CHEAP, scram_iterations=4096)
    try:
        await old.accounts.create("gwen", PASSWORD)
    finally:
        await old.close()
    irc = await start_server(accounts={"scram_iterations": 6000})
    before = await irc.server.store.accounts.get_scram("gwen")
    assert before is not None and before.iterations == 4096
    first = await RawClient.connect("127.0.0.1", irc.port())
    irc.clients.append(first)
    assert await scram_login(first, "gwen", PASSWORD) == ("903", 4096)  # SCRAM cannot upgrade
    await login_client(irc, "gwen", create=False)  # PLAIN, with the password
    after = await irc.server.store.accounts.get_scram("gwen")
    assert after is not None and after.iterations == 6000 and after.salt != before.salt
    second = await RawClient.connect("127.0.0.1", irc.port())
    irc.clients.append(second)
    assert await scram_login(second, "gwen", PASSWORD) == ("903", 6000)
    third = await RawClient.connect("127.0.0.1", irc.port())
    irc.clients.append(third)
    assert (await scram_login(third, "gwen", "wrong-password"))[0] == "904"


async def test_an_unknown_account_is_offered_the_configured_iterations(
    start_server: ServerFactory,
) -> None:
    irc = await start_server(accounts={"scram_iterations": 7000})
    client = await RawClient.connect("127.0.0.1", irc.port())
    irc.clients.append(client)
    assert await scram_login(client, "nobody", PASSWORD) == ("904", 7000)
