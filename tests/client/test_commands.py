"""Slash-command parsing shared by the terminal and desktop clients."""

from __future__ import annotations

import pytest

from hubbub.client.commands import COMMANDS, parse_input
from hubbub.protocol.message import Message


def sent(text: str, current: str | None = "#lobby") -> list[str]:
    outcome = parse_input(text, current)
    assert outcome.error is None, outcome.error
    return [str(m) for m in outcome.send]


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("hello there", ["PRIVMSG #lobby :hello there"]),
        ("//not a command", ["PRIVMSG #lobby :/not a command"]),
        ("/join lobby2", ["JOIN #lobby2"]),
        ("/join #secret key", ["JOIN #secret key"]),
        ("/part", ["PART #lobby"]),
        ("/part #other bye now", ["PART #other :bye now"]),
        ("/msg bob hi there", ["PRIVMSG bob :hi there"]),
        ("/query bob hi", ["PRIVMSG bob hi"]),
        ("/me waves", ["PRIVMSG #lobby :\x01ACTION waves\x01"]),
        ("/notice bob psst", ["NOTICE bob psst"]),
        ("/nick alicia", ["NICK alicia"]),
        ("/topic", ["TOPIC #lobby"]),
        ("/topic New topic", ["TOPIC #lobby :New topic"]),
        ("/kick bob be nice", ["KICK #lobby bob :be nice"]),
        ("/kick #other bob", ["KICK #other bob"]),
        ("/ban bob", ["MODE #lobby +b bob!*@*"]),
        ("/unban *!*@evil.example", ["MODE #lobby -b *!*@evil.example"]),
        ("/op a b c d", ["MODE #lobby +ooo a b c", "MODE #lobby +o d"]),
        ("/deop bob", ["MODE #lobby -o bob"]),
        ("/voice bob", ["MODE #lobby +v bob"]),
        ("/mode +m", ["MODE #lobby +m"]),
        ("/mode bob +i", ["MODE bob +i"]),
        ("/whois bob", ["WHOIS bob"]),
        ("/names", ["NAMES #lobby"]),
        ("/list", ["LIST"]),
        ("/away lunch", ["AWAY lunch"]),
        ("/away", ["AWAY"]),
        ("/invite bob", ["INVITE bob #lobby"]),
        ("/raw PRIVMSG #x :raw text", ["PRIVMSG #x :raw text"]),
        ("/JOIN #caps", ["JOIN #caps"]),
    ],
)
def test_commands_produce_lines(text: str, lines: list[str]) -> None:
    assert sent(text) == lines


def test_local_outcomes() -> None:
    assert parse_input("/query bob", "#lobby").open == "bob"
    assert parse_input("/join #x", None).open == "#x"
    assert parse_input("/quit gone fishing", "#lobby").quit == "gone fishing"
    assert parse_input("{quit}", "#lobby").quit == "Leaving"
    assert parse_input("/help", None).info[1].strip().startswith("/join")
    assert "/kick nick [reason]" in parse_input("/help kick", None).info[0]
    assert parse_input("   ", "#lobby").send == []


@pytest.mark.parametrize(
    ("text", "current", "error"),
    [
        ("/bogus", "#lobby", "Unknown command /bogus"),
        ("hello", None, "server view"),
        ("/me waves", None, "/me needs"),
        ("/kick bob", "bob", "Usage: /kick"),
        ("/nick", "#lobby", "Usage: /nick"),
        ("/raw ", "#lobby", "Usage: /raw"),
        ("/raw :only-a-source", "#lobby", "Not a valid IRC line"),
    ],
)
def test_mistakes_explain_themselves(text: str, current: str | None, error: str) -> None:
    outcome = parse_input(text, current)
    assert outcome.error is not None and error in outcome.error
    assert outcome.send == []


def test_long_text_is_split_and_every_command_has_help() -> None:
    outcome = parse_input("word " * 200, "#lobby")
    assert len(outcome.send) == 3
    assert all(len(Message.to_bytes(m)) <= 512 for m in outcome.send)
    for cmd in COMMANDS.values():
        assert cmd.usage.startswith("/" + cmd.name) and cmd.summary
