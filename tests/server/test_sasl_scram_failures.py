"""SCRAM-SHA-256 failure paths over a real socket: each malformed or forged
message gets 904 with its reason, and the same connection can then log in
properly and register (nothing is left half-authenticated)."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

import pytest

from harness import RunningServer
from ircclient import RawClient
from saslclient import b64, scram, scram_first, send_response, start_sasl

pytestmark = pytest.mark.usefixtures("cheap_hashes")

PASSWORD = "correct horse"
FAILED = "SASL authentication failed: "

Attack = Callable[[RawClient], Awaitable[None]]


def first_message(text: str) -> Attack:
    """Send ``text`` as the client-first message."""

    async def attack(client: RawClient) -> None:
        await start_sasl(client, "SCRAM-SHA-256")
        await send_response(client, text.encode())

    return attack


def final_message(build: Callable[[str, str], str]) -> Attack:
    """A proper client-first for alice, then ``build(nonce, good_final)`` as final."""

    async def attack(client: RawClient) -> None:
        first = await scram_first(client, "alice")
        await send_response(client, build(first.nonce, first.final(PASSWORD)).encode())

    return attack


async def wrong_password(client: RawClient) -> None:
    first = await scram_first(client, "alice")
    await send_response(client, first.final("not the password").encode())


async def unknown_user(client: RawClient) -> None:
    first = await scram_first(client, "nobody")  # the server answers as for anyone
    await send_response(client, first.final(PASSWORD).encode())


async def data_after_signature(client: RawClient) -> None:
    first = await scram_first(client, "alice")
    await send_response(client, first.final(PASSWORD).encode())
    await client.expect("AUTHENTICATE")  # the server signature
    await client.send("AUTHENTICATE " + b64("more"))


async def not_base64(client: RawClient) -> None:
    await start_sasl(client, "SCRAM-SHA-256")
    await client.send("AUTHENTICATE ***")


def forged_proof(nonce: str, good: str) -> str:
    return good.rpartition(",p=")[0] + ",p=" + b64(secrets.token_bytes(32))


CASES: list[tuple[str, Attack, str]] = [
    ("wrong-password", wrong_password, "invalid account name or password"),
    ("unknown-user", unknown_user, "invalid account name or password"),
    ("forged-proof", final_message(forged_proof), "invalid account name or password"),
    (
        "short-proof",
        final_message(lambda n, good: good.rpartition(",p=")[0] + ",p=" + b64(b"x" * 8)),
        "invalid account name or password",
    ),
    (
        "wrong-nonce",
        final_message(lambda n, good: good.replace(f"r={n}", f"r={n}x")),
        "nonce mismatch",
    ),
    (
        "client-nonce-only",
        final_message(lambda n, good: good.replace(f"r={n}", f"r={n[:24]}")),
        "nonce mismatch",
    ),
    (
        "binding-mismatch",
        final_message(lambda n, good: good.replace("c=biws", "c=" + b64("y,,"))),
        "channel binding data does not match",
    ),
    (
        "final-without-proof",
        final_message(lambda n, good: good.rpartition(",p=")[0]),
        "malformed SCRAM client-final message",
    ),
    (
        "final-proof-not-base64",
        final_message(lambda n, good: good.rpartition(",p=")[0] + ",p=***"),
        "malformed SCRAM client-final message",
    ),
    ("first-garbage", first_message("garbage"), "malformed SCRAM client-first message"),
    ("first-bad-flag", first_message("x,,n=alice,r=abc"), "malformed SCRAM client-first message"),
    ("first-no-nonce", first_message("n,,n=alice"), "malformed SCRAM client-first message"),
    ("first-empty-name", first_message("n,,n=,r=abc"), "malformed SCRAM client-first message"),
    ("first-bad-escape", first_message("n,,n=al=zz,r=abc"), "malformed SCRAM client-first message"),
    (
        "channel-binding",
        first_message("p=tls-unique,,n=alice,r=abc"),
        "channel binding is not supported",
    ),
    ("extension", first_message("n,,m=ext,n=alice,r=abc"), "malformed SCRAM client-first message"),
    (
        "other-authzid",
        first_message("n,a=bob,n=alice,r=abc"),
        "authorization identity must be the account itself",
    ),
    ("data-after-signature", data_after_signature, "unexpected data after the server signature"),
    ("not-base64", not_base64, "the response is not valid base64"),
]


@pytest.mark.parametrize(("attack", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_scram_failure_gets_904_and_the_connection_stays_usable(
    irc: RunningServer, attack: Attack, reason: str
) -> None:
    await irc.server.store.accounts.create("alice", PASSWORD)
    client = await irc.client()
    await client.send("CAP LS 302")
    await client.send("CAP REQ :sasl")
    await client.expect(lambda m: m.command == "CAP" and m.params[1] == "ACK")
    await attack(client)
    failure = await client.expect(lambda m: m.command in ("900", "903", "904"))
    assert (failure.command, failure.params) == ("904", ["*", FAILED + reason])
    assert [m.command for m in await client.sync()] == []  # no 900/903 afterwards
    # the same connection logs in properly and registers
    assert await scram(client, "alice", PASSWORD) == "903"
    await client.send("CAP END")
    await client.register("alice")
    whois = await client.ask("WHOIS alice")
    assert [m.params[2] for m in whois if m.command == "330"] == ["alice"]


async def test_a_scram_extension_after_the_nonce_is_refused(irc: RunningServer) -> None:
    """RFC 5802: an unknown mandatory extension (m=) must make the exchange fail."""
    client = await irc.client()
    await start_sasl(client, "SCRAM-SHA-256")
    await send_response(client, b"n,,n=alice,r=abc,m=ext")
    failure = await client.expect("904")
    assert failure.params == ["*", FAILED + "unsupported SCRAM extension"]
    await client.register("alice")  # and registration goes on without an account
    assert [m.params for m in await client.ask("WHOIS alice") if m.command == "330"] == []
