"""The PRIVMSG fast path (``messaging._raw_private``, run by
``Session.handle_line``): the lines it takes must come out exactly as the
general path (parse, dispatcher, handler) makes them, and every line it does
not recognise for certain must reach the general path, errors included."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from hubbub.server import session as session_module
from hubbub.server.app import Server
from hubbub.server.commands import messaging
from sessionkit import MemoryClient, memory_server

# What differs between two servers for the same exchange: ids and clocks.
_VARYING = re.compile(r"(msgid|time)=[^; ]*")

TAG_CAPS = ("message-tags", "server-time", "account-tag")


def _alice_and_bob(
    server: Server, alice_caps: tuple[str, ...] = (), bob_caps: tuple[str, ...] = ()
) -> tuple[MemoryClient, MemoryClient]:
    alice, bob = MemoryClient(server), MemoryClient(server)
    alice.register("alice", *alice_caps)
    bob.register("bob", *bob_caps)
    return alice, bob


def _normalised(lines: list[str]) -> list[str]:
    return [_VARYING.sub(r"\1=*", line) for line in lines]


async def _exchange(
    tmp_path: Path,
    fast: bool,
    line: bytes,
    *,
    alice_caps: tuple[str, ...] = (),
    bob_caps: tuple[str, ...] = (),
    bob_away: bool = False,
    in_room: bool = False,
) -> tuple[list[str], list[str]]:
    """What alice and bob see after alice sends ``line`` (with or without
    the fast path), normalised. Both runs use one data directory, so one
    cloak secret: the same hosts."""
    async with memory_server(tmp_path) as server:
        if not fast:
            server.raw_commands = {}
        alice, bob = _alice_and_bob(server, alice_caps, bob_caps)
        if bob_away:
            bob.receive("AWAY :at lunch")
        if in_room:
            alice.receive("JOIN #room")
            bob.receive("JOIN #room")
        alice.take(), bob.take()
        alice.session.receive_data(line + b"\r\n")
        return _normalised(alice.take()), _normalised(bob.take())


SAME_EITHER_WAY = [
    b"PRIVMSG bob :hello there",
    b"NOTICE bob :hello there",
    b"PRIVMSG BoB :folded to bob",
    b"PRIVMSG alice :to myself",
    b"PRIVMSG nobody :hi",
    b"NOTICE nobody :hi",
    b"PRIVMSG bob hello",
    b"PRIVMSG  bob :two spaces",
    b"PRIVMSG bob  :a space after the target",
    b"PRIVMSG bob,alice :two targets",
    b"PRIVMSG bob :",
    b"PRIVMSG bob",
    b"PRIVMSG :bob",
    b"PRIVMSG #room :to the channel",
    b"PRIVMSG NickServ :help",
    b"NOTICE NickServ :help",
    b"PRIVMSG bob :nul \x00 inside",
    b"PRIVMSG bob :cr \r inside",
    b"PRIVMSG bob :bad utf-8 \xff\xfe",
    b"PRIVMSG bob :" + b"x" * 600,
    # fits the sender's 512 bytes, not with the relayed prefix: cut alike
    b"PRIVMSG bob :" + "\u00e9".encode() * 247,
    b"PRIVMSG bob :\x01ACTION waves\x01",
    b"PRIVMSG bob ::starts with a colon",
    b":alice PRIVMSG bob :with a source",
    b"@+draft/react=x PRIVMSG bob :with a client tag",
    b"privmsg bob :lower-case command",
]


@pytest.mark.parametrize("line", SAME_EITHER_WAY, ids=lambda line: repr(line[:40]))
async def test_a_line_comes_out_as_the_general_path_makes_it(tmp_path: Path, line: bytes) -> None:
    general = await _exchange(tmp_path, False, line, in_room=True)
    fast = await _exchange(tmp_path, True, line, in_room=True)
    assert fast == general


@pytest.mark.parametrize(
    "options",
    [
        {"alice_caps": ("echo-message",)},
        {"alice_caps": ("echo-message", *TAG_CAPS), "bob_caps": TAG_CAPS},
        {"bob_caps": TAG_CAPS},
        {"bob_away": True},
        {"alice_caps": ("labeled-response", "batch", "echo-message")},
    ],
    ids=["echo", "echo-with-tags", "recipient-tags", "away", "labeled-caps"],
)
async def test_caps_and_away_come_out_as_the_general_path_makes_them(
    tmp_path: Path, options: dict[str, object]
) -> None:
    line = b"PRIVMSG bob :hello there"
    general = await _exchange(tmp_path, False, line, **options)  # type: ignore[arg-type]
    fast = await _exchange(tmp_path, True, line, **options)  # type: ignore[arg-type]
    assert fast == general
    assert any("PRIVMSG bob :hello there" in seen for seen in fast[1])


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    parsed: list[bytes] = []
    real = session_module.parse_line

    def counting(line: bytes) -> object:
        parsed.append(line)
        return real(line)

    monkeypatch.setattr(session_module, "parse_line", counting)
    return parsed


async def test_the_common_line_skips_the_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with memory_server(tmp_path) as server:
        alice, bob = _alice_and_bob(server)
        calls = server.commands["PRIVMSG"].calls
        parsed = _count_parses(monkeypatch)
        alice.receive("PRIVMSG bob :one", "NOTICE bob :two", "PRIVMSG bob :three")
        assert parsed == []
        assert [line.split(" ", 1)[1] for line in bob.take()] == [
            "PRIVMSG bob :one",
            "NOTICE bob :two",
            "PRIVMSG bob :three",
        ]
        assert server.commands["PRIVMSG"].calls == calls + 2  # still counted
        alice.receive("PRIVMSG nobody :hi", "PRIVMSG #room :hi", "PRIVMSG bob hi")
        assert len(parsed) == 3  # each left to the general path


async def test_an_unregistered_client_gets_451_not_a_delivery(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        bob, stranger = MemoryClient(server), MemoryClient(server)
        bob.register("bob")
        stranger.receive("PRIVMSG bob :let me in")
        [refusal] = stranger.take_messages()
        assert refusal.command == "451"
        assert bob.take() == []


async def test_a_failure_in_the_fast_path_is_an_error_reply_and_a_log_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    async with memory_server(tmp_path) as server:
        alice, _bob = _alice_and_bob(server)
        monkeypatch.setattr(messaging, "_to_user", broken)
        with caplog.at_level(logging.ERROR):
            alice.receive("PRIVMSG bob :hello", "PING :still-here")
        error, pong = alice.take_messages()
        assert (error.command, error.params[1:]) == (
            "400",
            ["PRIVMSG", "Internal error; the command was not completed"],
        )
        assert pong.command == "PONG"  # the session goes on
        assert "command PRIVMSG from alice failed" in caplog.text
