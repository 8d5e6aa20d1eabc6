"""Logging in safely (issues 11 and 12), over real sockets: login throttling,
no passwords over plaintext from other hosts, bounded password hashing, and
the low items (PASS and K-lines before SASL, SET PASSWORD, CERT ADD, INFO,
registrations per IP, what reaches the logs).

Each attack test reproduces the attack; on the code before the fix it
fails (the attack succeeded)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from argon2 import PasswordHasher, profiles

from certs import make_client_cert, tls_client
from harness import OPER_NAME, OPER_PASSWORD, OPERS, RunningServer, ServerFactory
from hubbub.protocol.message import Message
from hubbub.server.app import Server
from ircclient import RawClient

# the non_loopback_address fixture (tests/netaddr.py)

PASSWORD = "correct-horse"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(
        Server, "password_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST)
    )
    yield


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def sasl_plain(client: RawClient, account: str, password: str) -> Message:
    """Run SASL PLAIN; the final 903 or 904."""
    await client.send("AUTHENTICATE PLAIN")
    reply = await client.expect(lambda m: m.command in ("AUTHENTICATE", "904"))
    if reply.command == "904":
        return reply
    await client.send("AUTHENTICATE " + b64(f"\0{account}\0{password}"))
    return await client.expect(lambda m: m.command in ("903", "904"))


async def sasl_scram_first(client: RawClient, account: str) -> Message:
    """Start SCRAM-SHA-256 for ``account``: the server-first challenge or 904."""
    await client.send("AUTHENTICATE SCRAM-SHA-256")
    await client.expect("AUTHENTICATE")
    await client.send("AUTHENTICATE " + b64(f"n,,n={account},r={secrets.token_hex(8)}"))
    return await client.expect(lambda m: m.command in ("AUTHENTICATE", "904"))


async def scram_login(client: RawClient, account: str, password: str) -> Message:
    """A whole SCRAM-SHA-256 exchange (RFC 5802 client side); 903 or 904."""
    await client.send("AUTHENTICATE SCRAM-SHA-256")
    await client.expect("AUTHENTICATE")
    nonce = secrets.token_hex(12)
    first_bare = f"n={account},r={nonce}"
    await client.send("AUTHENTICATE " + b64(f"n,,{first_bare}"))
    reply = await client.expect(lambda m: m.command in ("AUTHENTICATE", "904"))
    if reply.command == "904":
        return reply
    server_first = base64.b64decode(reply.params[0]).decode()
    attrs = dict(part.split("=", 1) for part in server_first.split(","))
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"])
    )
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    without_proof = f"c=biws,r={attrs['r']}"
    auth_message = f"{first_bare},{server_first},{without_proof}".encode()
    signature = hmac.digest(hashlib.sha256(client_key).digest(), auth_message, "sha256")
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    final = f"{without_proof},p={base64.b64encode(proof).decode()}"
    await client.send("AUTHENTICATE " + b64(final))
    reply = await client.expect(lambda m: m.command in ("AUTHENTICATE", "904"))
    if reply.command == "904":
        return reply
    await client.send("AUTHENTICATE +")
    return await client.expect(lambda m: m.command in ("903", "904"))


async def ns(client: RawClient, text: str) -> str:
    """PRIVMSG NickServ; its NOTICE lines up to a PING barrier, joined."""
    replies = await client.ask(f"PRIVMSG NickServ :{text}")
    return "\n".join(m.params[1] for m in replies if m.command == "NOTICE")


async def oper(irc: RunningServer, nick: str = "boss") -> RawClient:
    client = await irc.client(nick)
    await client.send("OPER admin letmein")
    await client.expect("381")
    return client


async def remote_client(irc: RunningServer, address: str) -> RawClient:
    """A client connecting from the non-loopback address (listener on 0.0.0.0)."""
    client = await RawClient.connect(address, irc.port())
    irc.clients.append(client)
    return client


# --- login throttling (issue 11) ---------------------------------------------------


async def test_guessing_one_account_is_throttled_on_every_path(
    start_server: ServerFactory,
) -> None:
    irc = await start_server(
        accounts={"login_attempts_per_account": 2, "login_attempts_per_ip": 100}
    )
    await irc.server.store.accounts.create("alice", PASSWORD)
    await irc.server.store.accounts.create("bob", PASSWORD)
    guesser = await irc.client()
    for guess in ("123456", "password"):
        failed = await sasl_plain(guesser, "alice", guess)
        assert failed.command == "904" and "invalid" in failed.params[-1]
    # the right password no longer helps: the account's attempts are used up
    throttled = await sasl_plain(guesser, "alice", PASSWORD)
    assert throttled.command == "904"
    assert "too many failed attempts; try again in" in throttled.params[-1]
    # the same account by SCRAM and by NickServ, from other connections
    scram = await sasl_scram_first(await irc.client(), "alice")
    assert scram.command == "904" and "too many failed attempts" in scram.params[-1]
    other = await irc.client("other")
    assert "Refused: too many failed attempts" in await ns(other, f"IDENTIFY alice {PASSWORD}")
    assert await irc.server.store.accounts.get("alice") is not None
    # another account is not affected
    assert (await sasl_plain(await irc.client(), "bob", PASSWORD)).command == "903"


async def test_guessing_from_one_address_is_throttled_across_accounts_and_paths(
    start_server: ServerFactory, tmp_path: Path
) -> None:
    irc = await start_server(
        accounts={"login_attempts_per_account": 100, "login_attempts_per_ip": 3}
    )
    await irc.server.store.accounts.create("alice", PASSWORD)
    await irc.server.store.accounts.create("bob", PASSWORD)
    assert (await sasl_plain(await irc.client(), "alice", "wrong guess")).command == "904"
    assert "Invalid" in await ns(await irc.client("someone"), "IDENTIFY nobody wrongguess")
    cert, key, _ = make_client_cert(tmp_path, "stranger")
    stranger = await tls_client(irc, cert, key)  # a certificate no account knows
    await stranger.send("AUTHENTICATE EXTERNAL")
    await stranger.expect("AUTHENTICATE")
    await stranger.send("AUTHENTICATE +")
    assert "not linked" in (await stranger.expect("904")).params[-1]
    # three failures from 127.0.0.1: even bob's right password is refused now
    throttled = await sasl_plain(await irc.client(), "bob", PASSWORD)
    assert throttled.command == "904" and "too many failed attempts" in throttled.params[-1]


async def test_oper_guesses_are_throttled_per_address(start_server: ServerFactory) -> None:
    irc = await start_server(accounts={"login_attempts_per_ip": 3}, **OPERS)
    guesser = await irc.client("guesser")
    for guess in ("hunter2", "password", "letmein1"):
        answer = await guesser.ask(f"OPER {OPER_NAME} {guess}")
        assert [(m.command, m.params[-1]) for m in answer] == [("464", "Password incorrect")]
    # three failures from 127.0.0.1: even the right password is not checked now
    answer = await guesser.ask(f"OPER {OPER_NAME} {OPER_PASSWORD}")
    assert [m.command for m in answer] == ["464"]
    assert answer[0].params[-1].startswith("Password not checked: too many failed attempts")
    assert "o" not in irc.server.world.find_user("guesser").modes  # type: ignore[union-attr]


async def test_successful_logins_cost_nothing(start_server: ServerFactory) -> None:
    irc = await start_server(accounts={"login_attempts_per_account": 2, "login_attempts_per_ip": 2})
    await irc.server.store.accounts.create("alice", PASSWORD)
    for _ in range(5):
        assert (await sasl_plain(await irc.client(), "alice", PASSWORD)).command == "903"


# --- passwords over plaintext from another host (issue 11) ---------------------------


async def test_password_commands_refused_over_plaintext_from_another_host(
    start_server: ServerFactory, non_loopback_address: str
) -> None:
    irc = await start_server(listen=[{"host": "0.0.0.0", "port": 0}])
    await irc.server.store.accounts.create("alice", PASSWORD)
    client = await remote_client(irc, non_loopback_address)
    await client.register("newbie")
    replies = await client.ask(f"REGISTER * * :{PASSWORD}")
    fail = next(m for m in replies if m.command == "FAIL")
    assert fail.params[:3] == ["REGISTER", "UNACCEPTABLE_PASSWORD", "newbie"]
    assert "TLS" in fail.params[-1]
    assert "Registration failed: Passwords are refused" in await ns(client, f"REGISTER {PASSWORD}")
    assert "Refused: passwords are refused" in await ns(client, f"IDENTIFY alice {PASSWORD}")
    assert await irc.server.store.accounts.get("newbie") is None
    # SCRAM never sends the password: it still logs in, and then SET PASSWORD is refused
    assert (await scram_login(client, "alice", PASSWORD)).command == "903"
    refused = await ns(client, f"SET PASSWORD {PASSWORD} newpassword1")
    assert "Refused: passwords are refused" in refused
    assert await irc.server.store.accounts.verify_password("alice", PASSWORD) is not None


async def test_plaintext_passwords_allowed_when_configured(
    start_server: ServerFactory, non_loopback_address: str
) -> None:
    irc = await start_server(
        listen=[{"host": "0.0.0.0", "port": 0}], accounts={"plaintext_sasl": True}
    )
    client = await remote_client(irc, non_loopback_address)
    await client.register("newbie")
    replies = await client.ask(f"REGISTER * * :{PASSWORD}")
    assert any(m.command == "REGISTER" and m.params[0] == "SUCCESS" for m in replies)
    other = await remote_client(irc, non_loopback_address)
    await other.register("other")
    assert "now logged in as newbie" in await ns(other, f"IDENTIFY newbie {PASSWORD}")


# --- password hashing as an amplifier (issue 12, M2) ---------------------------------


async def test_one_privmsg_cannot_ask_a_service_several_times(irc: RunningServer) -> None:
    await irc.server.store.accounts.create("alice", PASSWORD)
    client = await irc.client("attacker")
    replies = await client.ask("PRIVMSG NickServ,NickServ,NickServ,NickServ :IDENTIFY alice x")
    assert [m.command for m in replies] == ["407"]
    assert replies[0].params[1] == "NickServ,NickServ,NickServ,NickServ"
    # mixed with a person, too: nothing is delivered, nothing is checked
    bob = await irc.client("bob")
    replies = await client.ask("PRIVMSG bob,NickServ :IDENTIFY alice x")
    assert [m.command for m in replies] == ["407"]
    await bob.nothing(0.1)
    # one target is fine
    assert "Invalid" in await ns(client, "IDENTIFY alice wrongpassword")


async def test_each_password_hash_is_charged_to_flood_control(
    start_server: ServerFactory,
) -> None:
    # 10 tokens, practically no refill; a hash costs 8 on top of the line's 1
    irc = await start_server(
        limits={
            "flood_control": True,
            "flood_burst": 10,
            "flood_rate": 0.001,
            "flood_max_queue": 3,
        },
        accounts={"hash_flood_cost": 8},
    )
    await irc.server.store.accounts.create("alice", PASSWORD)
    client = await irc.client("guesser")  # NICK and USER took 2 tokens
    # 8 tokens left: the IDENTIFY and its hash take 9, so the 5 PINGs after it
    # overflow the 3-line queue: Excess Flood. Charged per line only (1),
    # 7 tokens would have answered all five.
    await client.send(
        "PRIVMSG NickServ :IDENTIFY alice wrongpassword\r\n" + "PING x\r\n" * 4 + "PING x"
    )
    lines = await client.collect_until("ERROR")
    assert "Excess Flood" in lines[-1].params[0]
    assert not [m for m in lines if m.command == "PONG"]


class GatedHasher(PasswordHasher):
    """Cheap argon2 whose verify() waits for the test to release it, so a
    hash can be held in progress without any timing."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1, hash_len=16, salt_len=16)
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.entered.release()
        self.release.wait(10)
        return super().verify(hash, password)


async def test_concurrent_hashes_are_bounded_and_refused_beyond(
    start_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher = GatedHasher()
    monkeypatch.setattr(Server, "password_hasher", hasher)
    irc = await start_server(
        accounts={"max_concurrent_hashes": 1, "max_waiting_hashes": 1}, **OPERS
    )
    try:
        await irc.server.store.accounts.create("alice", PASSWORD)
        first = await irc.client("first")
        second = await irc.client("second")
        await first.send("PRIVMSG NickServ :IDENTIFY alice wrongpassword")
        assert await asyncio.to_thread(hasher.entered.acquire, True, 5)  # hashing now
        await second.send(f"PRIVMSG NickServ :IDENTIFY alice {PASSWORD}")  # waits its turn
        await second.send("PING :queued")
        # the one running and the one waiting fill the gate: the rest are refused
        third = await irc.client("third")
        assert "Refused: the server is busy" in await ns(third, "IDENTIFY alice otherpassword")
        refused = await sasl_plain(await irc.client(), "alice", PASSWORD)
        assert refused.command == "904" and "busy" in refused.params[-1]
        registrant = await irc.client("newbie")
        replies = await registrant.ask(f"REGISTER * * :{PASSWORD}")
        fail = next(m for m in replies if m.command == "FAIL")
        assert fail.params[:2] == ["REGISTER", "TEMPORARILY_UNAVAILABLE"]
        assert await irc.server.store.accounts.get("newbie") is None
        would_be_oper = await irc.client("boss")
        busy = await would_be_oper.ask(f"OPER {OPER_NAME} {OPER_PASSWORD}")
        assert [(m.command, m.params[-1]) for m in busy] == [
            (
                "464",
                "Password not checked: the server is busy checking passwords; try again shortly",
            )
        ]
        hasher.release.set()
        assert "Invalid" in (await first.expect("NOTICE")).params[1]
        assert "now logged in" in (await second.expect("NOTICE")).params[1]
        await second.expect("PONG")
    finally:
        hasher.release.set()


# --- the low items (issue 12) ----------------------------------------------------------


async def test_authenticate_needs_the_connection_password_first(
    start_server: ServerFactory,
) -> None:
    irc = await start_server(server={"password": "letmein"})
    await irc.server.store.accounts.create("alice", PASSWORD)
    intruder = await irc.client()
    await intruder.send("CAP LS 302")
    await intruder.send("AUTHENTICATE PLAIN")
    lines = await intruder.collect_until("ERROR")
    assert [m.command for m in lines if m.command != "CAP"] == ["464", "ERROR"]
    assert await intruder.closed()
    # with PASS, SASL works and registration completes
    member = await irc.client()
    await member.send("CAP LS 302")
    await member.send("PASS letmein")
    assert (await sasl_plain(member, "alice", PASSWORD)).command == "903"
    await member.send("NICK alice")
    await member.send("USER alice 0 * :Alice")
    await member.send("CAP END")
    await member.expect("001")


async def test_authenticate_refused_for_k_lined_hosts(
    start_server: ServerFactory, non_loopback_address: str
) -> None:
    irc = await start_server(listen=[{"host": "0.0.0.0", "port": 0}], **OPERS)
    await irc.server.store.accounts.create("alice", PASSWORD)
    boss = await oper(irc)
    replies = await boss.ask(f"KLINE 1h *@{non_loopback_address} :password guessing")
    assert any("Added K-line" in m.params[-1] for m in replies)
    guesser = await remote_client(irc, non_loopback_address)
    await guesser.send("AUTHENTICATE PLAIN")
    lines = await guesser.collect_until("ERROR")
    assert [m.command for m in lines] == ["465", "ERROR"]
    assert "password guessing" in lines[0].params[-1]
    # a K-line on a user name bites as soon as USER has given it
    await boss.ask("KLINE 1h ~victim@127.0.0.1 :spamming")
    victim = await irc.client()
    await victim.send("USER victim 0 * :v")
    await victim.send("AUTHENTICATE PLAIN")
    lines = await victim.collect_until("ERROR")
    assert [m.command for m in lines] == ["465", "ERROR"]


async def test_set_password_needs_the_current_password(irc: RunningServer) -> None:
    await irc.server.store.accounts.create("alice", PASSWORD)
    # someone at alice's logged-in session (or one taken over) cannot lock her out
    session = await irc.client("alice")
    assert "now logged in" in await ns(session, f"IDENTIFY {PASSWORD}")
    assert "Syntax" in await ns(session, "SET PASSWORD hijacked-password")
    assert "Invalid" in await ns(session, "SET PASSWORD guessed-wrong hijacked-password")
    assert await irc.server.store.accounts.verify_password("alice", "hijacked-password") is None
    assert "changed" in await ns(session, f"SET PASSWORD {PASSWORD} new-password-1")
    assert await irc.server.store.accounts.verify_password("alice", "new-password-1") is not None


async def test_registrations_per_address_are_limited(start_server: ServerFactory) -> None:
    irc = await start_server(accounts={"registrations_per_ip": 2})
    await irc.server.store.accounts.create("taken", PASSWORD)
    results = []
    for nick in ("taken", "first", "second", "third"):
        client = await irc.client(nick)
        replies = await client.ask(f"REGISTER * * :{PASSWORD}")
        results.append(next(m for m in replies if m.command in ("FAIL", "REGISTER")).params[:2])
    # a refused registration (the name is taken) does not count
    assert results == [
        ["REGISTER", "ACCOUNT_EXISTS"],
        ["SUCCESS", "first"],
        ["SUCCESS", "second"],
        ["REGISTER", "TEMPORARILY_UNAVAILABLE"],
    ]
    fourth = await irc.client("fourth")
    assert "Too many accounts were registered from your address" in await ns(
        fourth, f"REGISTER {PASSWORD}"
    )
    names = sorted(a.name for a in await irc.server.store.accounts.list())
    assert names == ["first", "second", "taken"]


async def test_cert_add_accepts_only_the_connections_own_certificate(
    irc: RunningServer, tmp_path: Path
) -> None:
    _, _, victims_fingerprint = make_client_cert(tmp_path, "victim")
    cert, key, own_fingerprint = make_client_cert(tmp_path, "mallory")
    await irc.server.store.accounts.create("mallory", PASSWORD)
    plain = await irc.client("mallory")
    await ns(plain, f"IDENTIFY {PASSWORD}")
    assert "not connected with a TLS client certificate" in await ns(
        plain, f"CERT ADD {victims_fingerprint}"
    )
    tls = await tls_client(irc, cert, key)
    await tls.register("mallory2")
    await ns(tls, f"IDENTIFY mallory {PASSWORD}")
    assert "not the certificate you are connected with" in await ns(
        tls, f"CERT ADD {victims_fingerprint}"
    )
    assert await irc.server.store.accounts.list_certfps("mallory") == []
    assert own_fingerprint in await ns(tls, f"CERT ADD {own_fingerprint.upper()}")
    assert await irc.server.store.accounts.list_certfps("mallory") == [own_fingerprint]


async def test_info_shows_sessions_only_to_the_account_and_operators(
    start_server: ServerFactory,
) -> None:
    irc = await start_server(**OPERS)
    await irc.server.store.accounts.create("alice", PASSWORD)
    laptop = await irc.client("alice")
    await ns(laptop, f"IDENTIFY {PASSWORD}")
    phone = await irc.client("alice_phone")
    await ns(phone, f"IDENTIFY alice {PASSWORD}")
    stalker = await irc.client("stalker")
    public = await ns(stalker, "INFO alice")
    assert "Account: alice" in public
    assert "alice_phone" not in public and "Logged in now" not in public
    assert "Logged in now: alice, alice_phone" in await ns(laptop, "INFO")
    boss = await oper(irc)
    assert "Logged in now: alice, alice_phone" in await ns(boss, "INFO alice")


async def test_passwords_hashes_and_emails_never_reach_the_log(
    irc: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await irc.server.store.accounts.create("alice", PASSWORD)
    client = await irc.client("newbie")
    replies = await client.ask(f"REGISTER * secret.address@example.org :{PASSWORD}-2")
    assert any(m.command == "REGISTER" for m in replies)
    other = await irc.client("other")
    # the arguments swapped: the password stands where the account name belongs
    assert "Invalid" in await ns(other, f"IDENTIFY {PASSWORD}-swapped alice")
    assert "Invalid" in await ns(other, f"IDENTIFY alice {PASSWORD}-wrong")
    assert "now logged in" in await ns(other, f"IDENTIFY alice {PASSWORD}")
    await ns(other, f"SET PASSWORD {PASSWORD} {PASSWORD}-new")
    logged = caplog.text
    for secret in (PASSWORD, "secret.address", "$argon2", "scram"):
        assert secret not in logged
    assert "failed NickServ password check" in logged  # the failures are still logged


async def test_control_characters_from_clients_are_escaped_in_the_log(
    start_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    irc = await start_server(**OPERS)
    boss = await oper(irc)
    await irc.client("victim")
    await boss.send("KILL victim :\x1b[2J\x1b[31mfake line\x1b[0m")
    await boss.ask("KLINE 1h ~x\x1b]0;title\x07@host :reason \x1b[5m")
    kill = [r.getMessage() for r in caplog.records if "killed" in r.getMessage()]
    assert kill and "\\x1b[2J\\x1b[31mfake line" in kill[0]
    assert not any("\x1b" in r.getMessage() or "\x07" in r.getMessage() for r in caplog.records)


async def test_register_before_connect_refused_for_k_lined_hosts(
    start_server: ServerFactory, non_loopback_address: str
) -> None:
    irc = await start_server(listen=[{"host": "0.0.0.0", "port": 0}], **OPERS)
    boss = await oper(irc)
    await boss.ask(f"KLINE 1h *@{non_loopback_address} :account farming")
    farmer = await remote_client(irc, non_loopback_address)
    await farmer.send("NICK farmer")
    await farmer.send(f"REGISTER * * :{PASSWORD}")
    lines = await farmer.collect_until("ERROR")
    assert [m.command for m in lines] == ["465", "ERROR"]
    assert await irc.server.store.accounts.get("farmer") is None
