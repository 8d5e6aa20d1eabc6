"""NickServ, nick protection, and what peers see of accounts."""

from __future__ import annotations

import asyncio

import pytest

from certs import make_client_cert, tls_client
from harness import RunningServer, ServerFactory
from ircclient import RawClient
from saslclient import plain

PASSWORD = "correct-horse"


pytestmark = pytest.mark.usefixtures("cheap_hashes")


async def ns(client: RawClient, text: str) -> str:
    """Send ``text`` to NickServ; return its answer (NOTICE lines joined)."""
    await client.send(f"PRIVMSG NickServ :{text}")
    await client.send("PING :done")
    lines: list[str] = []
    while True:
        msg = await client.read()
        if msg.command == "PONG":
            return "\n".join(lines)
        if msg.command == "NOTICE" and (msg.source or "").startswith("NickServ!"):
            assert msg.params[0] == client.nick
            lines.append(msg.params[1])


async def test_help(irc) -> None:
    client = await irc.client("alice")
    text = await ns(client, "HELP")
    for name in ("REGISTER", "IDENTIFY", "INFO", "GHOST", "SET", "CERT", "DROP"):
        assert name in text
    assert "SHA-256" in await ns(client, "help cert")
    assert "Unknown command" in await ns(client, "FROBNICATE")
    assert "No help" in await ns(client, "HELP FROBNICATE")


async def test_register_identify_info(irc) -> None:
    alice = await irc.client("alice")
    await alice.send(f"PRIVMSG NickServ :REGISTER {PASSWORD} alice@example.org")
    logged_in = await alice.expect("900")
    assert logged_in.params[2] == "alice"
    assert "registered" in (await alice.expect("NOTICE")).params[1]
    assert "already logged in" in await ns(alice, f"REGISTER {PASSWORD}")
    info = await ns(alice, "INFO")
    assert "Account: alice" in info and "alice@example.org" in info
    assert "Logged in now: alice" in info

    # another connection: wrong password, then right, with and without account name
    other = await irc.client("other")
    assert "Invalid" in await ns(other, "IDENTIFY alice wrongpassword")
    assert "Invalid" in await ns(other, f"IDENTIFY {PASSWORD}")  # account "other" does not exist
    text = await ns(other, f"IDENTIFY alice {PASSWORD}")
    assert "now logged in as alice" in text
    public = await ns(other, "INFO alice")
    assert "alice@example.org" in public  # other is logged in to alice: it is their account
    assert "Logged in now: alice, other" in await ns(alice, "INFO")
    stranger = await irc.client("stranger")
    public = await ns(stranger, "INFO alice")
    assert "Account: alice" in public and "example.org" not in public
    # who is logged in to an account is shown only to the account (issue 12)
    assert "Logged in now" not in public and "other" not in public
    assert "not registered" in await ns(stranger, "INFO nobody")
    assert "at least 8" in await ns(stranger, "REGISTER short")


async def test_set_password_and_logout(irc) -> None:
    alice = await irc.client("alice")
    assert "not logged in" in await ns(alice, f"SET PASSWORD {PASSWORD} newpassword1")
    await ns(alice, f"REGISTER {PASSWORD}")
    # the current password is required (issue 12)
    assert "Syntax" in await ns(alice, "SET PASSWORD newpassword1")
    assert "at least" in await ns(alice, f"SET PASSWORD {PASSWORD} short")
    assert "Invalid" in await ns(alice, "SET PASSWORD wrongpassword newpassword1")
    assert "changed" in await ns(alice, f"SET PASSWORD {PASSWORD} newpassword1")
    assert "logged out" in await ns(alice, "LOGOUT")
    assert "Invalid" in await ns(alice, f"IDENTIFY {PASSWORD}")
    assert "now logged in" in await ns(alice, "IDENTIFY newpassword1")


async def test_ghost(irc) -> None:
    await irc.server.store.accounts.create("alice", PASSWORD)
    stale = await irc.client("alice")
    fresh = await irc.client("alice_")
    assert "not logged in" in await ns(fresh, "GHOST alice")
    await ns(fresh, f"IDENTIFY alice {PASSWORD}")
    bystander = await irc.client("bob")
    assert "not your nick" in await ns(fresh, "GHOST bob")
    assert "not online" in await ns(fresh, "GHOST nobody")
    assert "disconnected" in await ns(fresh, "GHOST alice")
    error = await stale.expect("ERROR")
    assert "GHOST" in error.params[0]
    await fresh.send("NICK alice")
    await fresh.expect("NICK")
    await bystander.nothing()


async def test_drop(irc) -> None:
    alice = await irc.client("alice")
    await ns(alice, f"REGISTER {PASSWORD}")
    second = await irc.client("second")
    await ns(second, f"IDENTIFY alice {PASSWORD}")
    assert "DROP alice <password>" in await ns(alice, "DROP")
    assert "DROP alice <password>" in await ns(alice, "DROP alice")  # the password is required
    assert "Invalid password" in await ns(alice, "DROP alice wrong-password")
    assert await irc.server.store.accounts.get("alice") is not None
    await alice.send(f"PRIVMSG NickServ :DROP alice {PASSWORD}")
    await alice.expect("901")
    assert "deleted" in (await alice.expect("NOTICE")).params[1]
    await second.expect("901")
    assert await irc.server.store.accounts.get("alice") is None
    assert "not registered" in await ns(alice, "INFO alice")


async def test_cert_add_list_del(irc, tmp_path) -> None:
    plain_alice = await irc.client("alice")
    await ns(plain_alice, f"REGISTER {PASSWORD}")
    assert "not connected with a TLS client certificate" in await ns(plain_alice, "CERT ADD")
    cert, key, fingerprint = make_client_cert(tmp_path, "alice")
    alice = await tls_client(irc, cert, key)
    await alice.register("alice2")
    await ns(alice, f"IDENTIFY alice {PASSWORD}")
    assert "Not added" in await ns(alice, "CERT ADD nothex")
    colons = ":".join(fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()
    assert "Added" in await ns(alice, f"CERT ADD {colons}")
    assert fingerprint in await ns(alice, "CERT LIST")
    assert "Client certificates: 1" in await ns(alice, "INFO")
    bob = await tls_client(irc, cert, key)
    await bob.register("bob")
    await ns(bob, f"REGISTER {PASSWORD}")
    assert "already linked" in await ns(bob, "CERT ADD")
    assert "Removed" in await ns(alice, f"CERT DEL {fingerprint}")
    assert "not linked" in await ns(alice, f"CERT DEL {fingerprint}")
    assert "No client certificates" in await ns(alice, "CERT LIST")


async def test_cert_add_current_certificate_then_external(irc, tmp_path) -> None:
    cert, key, fingerprint = make_client_cert(tmp_path, "alice")
    first = await tls_client(irc, cert, key)
    await first.register("alice")
    await ns(first, f"REGISTER {PASSWORD}")
    assert fingerprint in await ns(first, "CERT ADD")
    second = await tls_client(irc, cert, key)
    await second.send("AUTHENTICATE EXTERNAL")
    await second.expect("AUTHENTICATE")
    await second.send("AUTHENTICATE +")
    await second.expect("903")


# --- nick protection ----------------------------------------------------------------


async def alice_protected(start_server: ServerFactory, delay: float) -> RunningServer:
    """A server that renames a guest using the registered nick alice after ``delay`` s."""
    irc = await start_server(accounts={"nick_protection_delay": delay})
    await irc.server.store.accounts.create("alice", PASSWORD)
    return irc


async def test_nick_protection_renames_after_delay(start_server) -> None:
    irc = await alice_protected(start_server, delay=0.3)
    peer = await irc.client("peer")
    await peer.send("JOIN #room")
    await peer.expect("366")
    intruder = await irc.client("alice")
    warning = await intruder.expect("NOTICE")
    assert "registered" in warning.params[1] and "0.3 seconds" in warning.params[1]
    await intruder.send("JOIN #room")
    await peer.expect("JOIN")
    renamed = await peer.expect("NICK")
    assert (renamed.source or "").startswith("alice!")
    assert renamed.params[0].startswith("Guest")
    own = await intruder.expect("NICK")
    assert own.params == renamed.params
    await intruder.send("WHOIS alice")
    await intruder.expect("401")


async def test_logging_in_cancels_protection(start_server) -> None:
    irc = await alice_protected(start_server, delay=0.5)
    owner = await irc.client("alice")
    await owner.expect("NOTICE")
    assert "now logged in" in await ns(owner, f"IDENTIFY {PASSWORD}")
    await asyncio.sleep(0.6)
    await owner.nothing()
    await owner.send("WHOIS alice")
    await owner.expect("311")
    # changing away from the nick within the delay cancels too
    other = await irc.client("bob")
    await other.send("NICK ALICE")  # taken: 433
    await other.expect("433")
    await irc.server.store.accounts.create("carol", PASSWORD)
    await other.send("NICK carol")
    await other.expect("NICK")
    await other.expect("NOTICE")
    await other.send("NICK dave")
    await other.expect("NICK")
    await asyncio.sleep(0.6)
    await other.nothing()


async def test_strict_mode_renames_at_once(start_server) -> None:
    irc = await start_server(accounts={"nick_protection": "strict"})
    await irc.server.store.accounts.create("alice", PASSWORD)
    client = await irc.client("alice")
    notice = await client.expect("NOTICE")
    assert "registered" in notice.params[1]
    renamed = await client.expect("NICK", timeout=1.0)
    assert renamed.params[0].startswith("Guest")
    # SASL before registration keeps the nick
    owner = await irc.client()
    assert await plain(owner, "alice", PASSWORD) == "903"
    await owner.register("alice")
    await owner.nothing()


async def test_protection_off(start_server) -> None:
    irc = await start_server(accounts={"nick_protection": "off", "nick_protection_delay": 0})
    await irc.server.store.accounts.create("alice", PASSWORD)
    client = await irc.client("alice")
    await client.nothing()


# --- what peers see ------------------------------------------------------------------


async def test_peers_see_accounts(irc) -> None:
    await irc.server.store.accounts.create("alice", PASSWORD)
    peer = await irc.client("peer", ["account-notify", "extended-join", "account-tag"])
    plain_peer = await irc.client("plainpeer")
    alice = await irc.client("alice")
    for client in (peer, plain_peer, alice):
        await client.send("JOIN #room")
        await client.expect("366")
    await peer.expect(lambda m: m.command == "JOIN" and m.source.startswith("alice!"))
    await ns(alice, f"IDENTIFY {PASSWORD}")
    notify = await peer.expect("ACCOUNT")
    assert notify.source.startswith("alice!") and notify.params == ["alice"]
    await alice.send("PRIVMSG #room :hello")
    message = await peer.expect("PRIVMSG")
    assert message.tags.get("account") == "alice"
    await alice.send("PART #room")
    await alice.send("JOIN #room")
    joined = await peer.expect("JOIN")
    assert joined.params == ["#room", "alice", "alice realname"]
    await plain_peer.send("WHOIS alice")
    whois = await plain_peer.expect("330")
    assert whois.params[1:3] == ["alice", "alice"]
    await ns(alice, "LOGOUT")
    logout = await peer.expect("ACCOUNT")
    assert logout.params == ["*"]
    # plain_peer asked for none of this and saw none of it
    await plain_peer.send("PING :x")
    seen = await plain_peer.collect_until("PONG")
    assert not [m for m in seen if m.command == "ACCOUNT" or m.tags.get("account")]
