"""SASL 3.2: PLAIN, EXTERNAL (TLS client certificates) and SCRAM-SHA-256."""

from __future__ import annotations

from pathlib import Path

import pytest

from certs import make_client_cert, tls_client
from harness import cap_ls
from ircclient import RawClient
from saslclient import b64, one_step, plain, scram, send_response, start_sasl

# the non_loopback_address fixture (tests/netaddr.py)

PASSWORD = "correct horse"


pytestmark = pytest.mark.usefixtures("cheap_hashes")


async def finish_registration(client: RawClient, nick: str) -> None:
    await client.send("CAP END")
    await client.send(f"NICK {nick}")
    await client.send(f"USER {nick} 0 * :{nick}")
    await client.expect("376")
    client.nick = nick


async def request_sasl(client: RawClient) -> None:
    await client.send("CAP LS 302")
    await client.send("CAP REQ :sasl")
    await client.expect(lambda m: m.command == "CAP" and m.params[1] == "ACK")


async def whois_account(client: RawClient, nick: str) -> str | None:
    await client.send(f"WHOIS {nick}")
    replies = await client.collect_until("318")
    found = [m.params[2] for m in replies if m.command == "330"]
    return found[0] if found else None


async def test_cap_ls_advertises_mechanisms(irc) -> None:
    client = await irc.client()
    assert "sasl=PLAIN,EXTERNAL,SCRAM-SHA-256" in await cap_ls(client)


async def test_plain_before_registration(irc) -> None:
    await irc.server.store.accounts.create("alice", PASSWORD)
    client = await irc.client()
    await request_sasl(client)
    await start_sasl(client, "PLAIN")
    await send_response(client, f"\0alice\0{PASSWORD}".encode())
    logged_in = await client.expect("900")
    assert logged_in.params[2] == "alice"
    success = await client.expect("903")
    assert success.params[-1] == "SASL authentication successful"
    await finish_registration(client, "alice")
    assert await whois_account(client, "alice") == "alice"


async def test_plain_wrong_password_and_unknown_account(irc) -> None:
    await irc.server.store.accounts.create("alice", PASSWORD)
    client = await irc.client()
    await request_sasl(client)
    assert await plain(client, "alice", "wrong password") == "904"
    assert await plain(client, "nobody", PASSWORD) == "904"
    assert await plain(client, "ALICE", PASSWORD) == "903"  # names are case-insensitive


async def test_plain_over_tls(irc) -> None:
    await irc.server.store.accounts.create("alice", PASSWORD)
    client = await RawClient.connect("127.0.0.1", irc.port("tls"), tls=True)
    irc.clients.append(client)
    await request_sasl(client)
    assert await plain(client, "alice", PASSWORD) == "903"
    await finish_registration(client, "alice")


async def test_plain_authzid_must_match(irc) -> None:
    await irc.server.store.accounts.create("alice", PASSWORD)
    client = await irc.client()
    await start_sasl(client, "PLAIN")
    await send_response(client, f"bob\0alice\0{PASSWORD}".encode())
    await client.expect("904")


async def test_chunked_responses(irc) -> None:
    # a 300-byte response is exactly 400 base64 characters: it needs a "+" after it
    exact = "p" * (300 - len("\0alice\0"))
    longer = "q" * 350
    await irc.server.store.accounts.create("alice", exact)
    await irc.server.store.accounts.create("bob", longer)
    client = await irc.client()
    assert len(b64(f"\0alice\0{exact}")) == 400
    assert await plain(client, "alice", exact) == "903"
    other = await irc.client()
    assert len(b64(f"\0bob\0{longer}")) > 400
    assert await plain(other, "bob", longer) == "903"


async def test_a_response_over_the_limit_in_valid_chunks_fails_the_exchange(irc) -> None:
    """Each line a full 400-byte chunk, 8 kB in all: 904, not 905 (which is
    for one line over 400), as irctest's testPlainInfiniteMessages expects."""
    client = await irc.client()
    await start_sasl(client, "PLAIN")
    for _ in range(30):
        await client.send("AUTHENTICATE " + "A" * 400)
    failed = await client.expect("904")
    assert "too long" in failed.params[-1]


async def test_too_long_abort_unknown_mechanism(irc) -> None:
    client = await irc.client()
    await start_sasl(client, "PLAIN")
    await client.send("AUTHENTICATE " + "A" * 404)
    await client.expect("905")
    await start_sasl(client, "PLAIN")
    await client.send("AUTHENTICATE *")
    await client.expect("906")
    await client.send("AUTHENTICATE DIGEST-MD5")
    mechs = await client.expect("908")
    assert mechs.params[1] == "PLAIN,EXTERNAL,SCRAM-SHA-256"
    await client.expect("904")
    # after all that, a normal exchange still works
    await irc.server.store.accounts.create("alice", PASSWORD)
    assert await plain(client, "alice", PASSWORD) == "903"


async def test_invalid_base64_fails(irc) -> None:
    client = await irc.client()
    await start_sasl(client, "PLAIN")
    await client.send("AUTHENTICATE !!!notbase64")
    await client.expect("904")


async def test_cap_end_during_exchange_aborts(irc) -> None:
    client = await irc.client()
    await request_sasl(client)
    await start_sasl(client, "PLAIN")
    await finish_registration(client, "alice")
    aborted = await client.expect("906")
    assert aborted.params[0] == "alice"


async def test_after_registration_and_already_authenticated(irc) -> None:
    await irc.server.store.accounts.create("alice", PASSWORD)
    peer = await irc.client("peer", ["account-notify", "extended-join"])
    client = await irc.client("alice")
    await client.send("JOIN #room")
    await peer.send("JOIN #room")
    await peer.expect("366")
    assert await plain(client, "alice", PASSWORD) == "903"
    notify = await peer.expect("ACCOUNT")
    assert notify.source.startswith("alice!") and notify.params == ["alice"]
    await client.send("AUTHENTICATE PLAIN")
    await client.expect("907")
    assert await whois_account(peer, "alice") == "alice"


async def test_plain_refused_on_plaintext_unless_allowed(
    start_server, non_loopback_address: str
) -> None:
    address = non_loopback_address
    listen = [{"host": "0.0.0.0", "port": 0}]
    for allowed in (False, True):
        irc = await start_server(listen=listen, accounts={"plaintext_sasl": allowed})
        await irc.server.store.accounts.create("alice", PASSWORD)
        client = await RawClient.connect(address, irc.port())
        irc.clients.append(client)
        await client.send("AUTHENTICATE PLAIN")
        if allowed:
            await client.expect("AUTHENTICATE")
            await send_response(client, f"\0alice\0{PASSWORD}".encode())
            await client.expect("903")
        else:
            refused = await client.expect("904")
            assert "TLS" in refused.params[-1]
            # SCRAM does not reveal the password, so it stays available
            assert await scram(client, "alice", PASSWORD) == "903"


# --- SCRAM-SHA-256 -----------------------------------------------------------------


async def test_scram_sha_256(irc) -> None:
    await irc.server.store.accounts.create("alice", PASSWORD)
    client = await irc.client()
    await request_sasl(client)
    assert await scram(client, "alice", PASSWORD) == "903"
    assert client.log[-2].command == "900"
    await finish_registration(client, "alice")
    assert await whois_account(client, "alice") == "alice"


async def test_scram_wrong_password_and_unknown_account(irc) -> None:
    await irc.server.store.accounts.create("alice", PASSWORD)
    client = await irc.client()
    assert await scram(client, "alice", "not the password") == "904"
    assert await scram(client, "nobody", PASSWORD) == "904"  # same flow, fails at the proof
    assert await scram(client, "alice", PASSWORD) == "903"


# --- EXTERNAL ------------------------------------------------------------------------


async def test_external_with_client_certificate(irc, tmp_path: Path) -> None:
    cert, key, fingerprint = make_client_cert(tmp_path, "alice")
    await irc.server.store.accounts.create("alice", PASSWORD)
    await irc.server.store.accounts.add_certfp("alice", fingerprint)
    client = await tls_client(irc, cert, key)
    await request_sasl(client)
    await start_sasl(client, "EXTERNAL")
    await client.send("AUTHENTICATE +")
    logged_in = await client.expect("900")
    assert logged_in.params[2] == "alice"
    await client.expect("903")
    await finish_registration(client, "alice")
    assert await whois_account(client, "alice") == "alice"


async def test_external_failures(irc, tmp_path: Path) -> None:
    cert, key, fingerprint = make_client_cert(tmp_path, "stranger")
    await irc.server.store.accounts.create("alice", PASSWORD)
    # no certificate at all
    bare = await tls_client(irc)
    await start_sasl(bare, "EXTERNAL")
    await bare.send("AUTHENTICATE +")
    refused = await bare.expect("904")
    assert "certificate" in refused.params[-1]
    # a certificate no account knows
    stranger = await tls_client(irc, cert, key)
    await start_sasl(stranger, "EXTERNAL")
    await stranger.send("AUTHENTICATE +")
    await stranger.expect("904")
    # a certificate of alice's, but asking to be someone else
    await irc.server.store.accounts.add_certfp("alice", fingerprint)
    assert await one_step(stranger, "EXTERNAL", b"bob") == "904"
    assert await one_step(stranger, "EXTERNAL", b"alice") == "903"
    # plaintext connections have no certificate
    plain_client = await irc.client()
    await start_sasl(plain_client, "EXTERNAL")
    await plain_client.send("AUTHENTICATE +")
    await plain_client.expect("904")
