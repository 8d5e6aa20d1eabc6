"""The client library against a real hubbub server over real sockets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from libpeers import PeerFactory, client_config, free_port, make_cert, settle

from hubbub.client import (
    CertificateChanged,
    CertificatePinned,
    Client,
    ClientConfig,
    Connected,
    Disconnected,
    Error,
    Join,
    MessageEvent,
    Names,
    NickChange,
    Numeric,
    Raw,
    TopicChange,
    fingerprint,
)


async def test_channel_and_private_messages(peer: PeerFactory) -> None:
    alice = await peer("alice", channels=["#lobby"])
    await alice.events().wait_for(Names, lambda e: e.channel == "#lobby")
    bob = await peer("bob", channels=["#lobby"])
    await bob.events().wait_for(Names, lambda e: e.channel == "#lobby")
    await alice.events().wait_for(Join, lambda e: e.nick == "bob")

    assert {"echo-message", "server-time", "multi-prefix"} <= alice.caps
    assert [m.prefixes + m.nick for m in alice.state.sorted_members("#lobby")] == ["@alice", "bob"]

    alice.say("#lobby", "hello, everyone")
    got = await bob.events().wait_for(MessageEvent)
    assert (got.source, got.conversation, got.text, got.own) == (
        "alice",
        "#lobby",
        "hello, everyone",
        False,
    )
    assert abs(got.time - datetime.now(UTC)) < timedelta(seconds=5)
    echo = await alice.events().wait_for(MessageEvent)
    assert echo.own and echo.text == "hello, everyone"

    bob.say("alice", "psst, alice")
    private = await alice.events().wait_for(MessageEvent, lambda e: not e.own)
    assert (private.conversation, private.target, private.text) == ("bob", "alice", "psst, alice")
    own = await bob.events().wait_for(MessageEvent, lambda e: e.own)
    assert own.conversation == "alice"

    bob.action("#lobby", "waves")
    action = await alice.events().wait_for(MessageEvent, lambda e: e.kind == "action")
    assert action.text == "waves"


async def test_state_follows_topic_and_nick(peer: PeerFactory) -> None:
    alice = await peer("alice", channels=["#lobby"])
    await alice.events().wait_for(Names)
    alice.send_raw("TOPIC #lobby :Welcome all")
    topic = await alice.events().wait_for(TopicChange)
    assert (topic.topic, topic.by) == ("Welcome all", "alice")
    alice.set_nick("alicia")
    change = await alice.events().wait_for(NickChange)
    assert change.own and alice.nick == "alicia"
    channel = alice.state.channel("#LOBBY")
    assert channel is not None and channel.topic == "Welcome all"
    assert [m.nick for m in channel.members.values()] == ["alicia"]


async def test_history_backfill_on_join(peer: PeerFactory) -> None:
    early = await peer("early", channels=["#hist"])
    await early.events().wait_for(Names)
    for text in ("first", "second"):
        early.say("#hist", text)
        await early.events().wait_for(MessageEvent, lambda e, t=text: e.text == t)
    late = await peer("late", channels=["#hist"])
    assert late.caps & {"chathistory", "draft/chathistory"}
    old = [await late.events().wait_for(MessageEvent) for _ in range(2)]
    assert [(e.source, e.text, e.history) for e in old] == [
        ("early", "first", True),
        ("early", "second", True),
    ]
    assert old[0].msgid and old[0].time <= old[1].time


async def test_quit_ends_quietly(peer: PeerFactory) -> None:
    """Our own QUIT: one Disconnected marked as requested, no Error for the
    server's goodbye, no reconnect."""
    alice = await peer("alice", channels=["#lobby"])
    await alice.events().wait_for(Names)
    seen = alice.subscribe()
    await alice.quit("bye")
    after = [event async for event in seen if not isinstance(event, Raw)]
    assert not [e for e in after if isinstance(e, Error)]
    (gone,) = [e for e in after if isinstance(e, Disconnected)]
    assert gone.requested and gone.retry_in is None and gone.reason == "you quit"


async def test_answers_ctcp_queries(peer: PeerFactory) -> None:
    """irssi's /ping and /ctcp nick version get answers; unknown queries do not."""
    alice = await peer("alice")
    bob = await peer("bob")
    lines = bob.subscribe(raw=True)
    for query in ("\x01PING 1712345678 123\x01", "\x01VERSION\x01", "\x01FINGER\x01"):
        bob.say("alice", query)
    bob.say("alice", "\x01CLIENTINFO\x01")
    answers: list[Any] = []
    while len(answers) < 3:
        raw = await lines.wait_for(Raw, lambda e: e.message.command == "NOTICE")
        answers.append(raw.message.params[1])
    assert answers[0] == "\x01PING 1712345678 123\x01"
    assert answers[1].startswith("\x01VERSION hubbub ")
    assert answers[2] == "\x01CLIENTINFO ACTION CLIENTINFO PING VERSION\x01"
    assert alice.connected


async def test_nick_in_use_falls_back(peer: PeerFactory) -> None:
    first = await peer("sam")
    second = await peer("sam")
    assert first.nick == "sam"
    assert second.nick == "sam_"


async def test_websocket_transport(irc: object, peer: PeerFactory, tmp_path: Path) -> None:
    port = irc.port("websocket")  # type: ignore[attr-defined]
    ws = Client(client_config(port, "webby", tmp_path, websocket=True, channels=["#web"]))
    await ws.connect()
    try:
        await ws.events().wait_for(Names)
        other = await peer("tcp", channels=["#web"])
        await ws.events().wait_for(Join, lambda e: e.nick == "tcp")
        other.say("#web", "over tcp")
        got = await ws.events().wait_for(MessageEvent, lambda e: not e.own)
        assert got.text == "over tcp"
    finally:
        await ws.close()


async def test_reconnects_and_rejoins_after_restart(start_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    listen = {"listen": [{"host": "127.0.0.1", "port": port}]}
    server = await start_server(**listen)
    config = client_config(port, "phoenix", tmp_path, channels=["#keep"], reconnect=True)
    config.reconnect_min_delay = 0.05
    client = Client(config)
    await client.connect()
    events = client.events()
    try:
        await events.wait_for(Join, lambda e: e.own)
        await settle(server.server)
        await server.server.stop()
        gone = await events.wait_for(Disconnected)
        assert gone.reconnecting
        second = await start_server(**listen)
        await events.wait_for(Connected, timeout=10)
        again = await events.wait_for(Join, lambda e: e.own)
        assert again.channel == "#keep"
        assert client.state.channel("#keep") is not None
    finally:
        await client.close()
    await settle(second.server)


async def test_tls_trust_on_first_use(start_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    first_cert, first_key = make_cert(tmp_path / "a", "first")
    second_cert, second_key = make_cert(tmp_path / "b", "second")
    listen = [{"host": "127.0.0.1", "port": port, "tls": True}]
    pins = tmp_path / "config"

    def tls_config(verify: str = "auto") -> ClientConfig:
        return client_config(port, "secure", pins, tls=True, tls_verify=verify)

    server = await start_server(listen=listen, tls={"cert": first_cert, "key": first_key})
    client = Client(tls_config())
    await client.connect()
    assert client.connected
    news = await client.events().wait_for(CertificatePinned)
    assert news.fingerprint == fingerprint(_der(first_cert))
    await client.quit()
    pinned = json.loads((pins / "known_servers.json").read_text())
    der = _der(first_cert)
    assert pinned == {f"127.0.0.1:{port}": fingerprint(der)}

    strict = Client(tls_config("ca"))
    with pytest.raises(ConnectionError, match="not trusted"):
        await strict.connect()

    again = Client(tls_config())
    await again.connect()
    await again.quit()

    await settle(server.server)
    await server.server.stop()
    await start_server(listen=listen, tls={"cert": second_cert, "key": second_key})
    changed = Client(tls_config())
    errors = changed.subscribe()
    with pytest.raises(ConnectionError, match="has CHANGED") as refused:
        await changed.connect()
    assert str(pins) in str(refused.value)  # the warning says which file to edit
    warning = await errors.wait_for(Error)
    assert warning.fatal and "CHANGED" in warning.message and str(pins) in warning.message
    assert json.loads((pins / "known_servers.json").read_text()) == pinned


async def test_sasl_plain_login(irc: object, peer: PeerFactory) -> None:
    owner = await peer("rosa")
    owner.send_raw("REGISTER * * correct-horse-battery")
    await owner.events().wait_for(Numeric, lambda e: e.code == "900")
    await owner.quit()

    member = await peer("visitor", sasl_account="rosa", sasl_password="correct-horse-battery")
    logged_in = await member.events().wait_for(Numeric, lambda e: e.code == "900")
    assert "rosa" in logged_in.params and "sasl" in member.caps

    wrong = await peer("intruder", sasl_account="rosa", sasl_password="guess")
    failed = await wrong.events().wait_for(Numeric, lambda e: e.code == "904")
    assert failed.is_error and wrong.connected  # carries on without an account


async def test_answers_server_pings(start_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # ping_timeout is long so a slow machine cannot fail it: a second PING
    # still comes only once the first was answered (see Server._housekeep)
    limits = {"flood_control": False, "throttle": False, "ping_interval": 0.1, "ping_timeout": 60}
    irc = await start_server(limits=limits)
    client = Client(client_config(irc.port(), "pong", tmp_path))
    raw = client.subscribe(raw=True)
    await client.connect()
    try:
        # A second PING comes only if the first was answered in time.
        for _ in range(2):
            await raw.wait_for(Raw, lambda e: e.message.command == "PING")
        assert client.connected
    finally:
        await client.close()
    await settle(irc.server)


async def test_unreachable_server_is_a_readable_error(tmp_path: Path) -> None:
    client = Client(client_config(free_port(), "nobody", tmp_path))
    with pytest.raises(ConnectionError, match="connection refused"):
        await client.connect()


def _der(pem_path: Path) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(pem_path.read_bytes())
    return cert.public_bytes(serialization.Encoding.DER)


def test_certificate_changed_message_names_the_file(tmp_path: Path) -> None:
    exc = CertificateChanged("h:1", "AA:BB", "CC:DD", tmp_path / "known_servers.json")
    assert "known_servers.json" in str(exc) and "h:1" in str(exc)


def test_default_ports() -> None:
    assert ClientConfig().effective_port == 6667
    assert ClientConfig(tls=True).effective_port == 6697
    assert ClientConfig(websocket=True).effective_port == 8097
