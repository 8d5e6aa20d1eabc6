"""The sans-I/O parts of plain chat: framing, what a message asks for, what
an IRC line looks like to a plain-chat user; and the configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubbub.protocol.message import parse
from hubbub.server.config import ConfigError, parse_config
from hubbub.server.plainchat.commands import Step, chat_step, fit_text, strip_own_name
from hubbub.server.plainchat.framing import MAX_MESSAGE_BYTES, PlainFramer
from hubbub.server.plainchat.render import name_problem, render
from hubbub.server.plainchat.text import terminal_safe, without_telnet_commands


def test_framing_lf_crlf_several_and_partial() -> None:
    framer = PlainFramer()
    assert framer.feed(b"one\r\ntwo\nthr") == [b"one", b"two"]
    assert framer.pending
    assert framer.feed(b"ee") == []
    assert framer.take_partial() == b"three"
    assert not framer.pending and framer.take_partial() is None
    assert framer.feed(b"\n") == [b""]


def test_framing_cuts_an_overlong_message_and_skips_its_rest() -> None:
    framer = PlainFramer()
    assert framer.feed(b"x" * (MAX_MESSAGE_BYTES + 10)) == []
    assert framer.feed(b"y" * 5000 + b"\nnext\n") == [b"x" * MAX_MESSAGE_BYTES, b"next"]
    assert framer.feed(b"z" * 3 * MAX_MESSAGE_BYTES) == []
    assert framer.take_partial() == b"z" * MAX_MESSAGE_BYTES


def test_own_name_prefix_is_stripped_only_for_the_sender() -> None:
    assert strip_own_name("alice: hi", ("alice",)) == "hi"
    assert strip_own_name("ALICE: hi: there", ("alice",)) == "hi: there"
    assert strip_own_name("bob: hi", ("alice",)) == "bob: hi"
    assert strip_own_name("alice:hi", ("alice",)) == "alice:hi"
    assert strip_own_name(": hi", ("",)) == ": hi"


def test_chat_steps() -> None:
    assert chat_step("hello", "#lobby") == Step(irc=("PRIVMSG #lobby :hello",))
    assert chat_step("{quit}", "#lobby").quit == "left the chat"
    assert chat_step("/quit bye now", "#lobby").quit == "bye now"
    assert chat_step("/msg bob hi there", "#lobby").irc == ("PRIVMSG bob :hi there",)
    assert chat_step("/msg bob", "#lobby").say == ("Usage: /msg NAME TEXT",)
    assert chat_step("/msg #other hi", "#lobby").say == ("Usage: /msg NAME TEXT",)
    assert chat_step("/me waves", "#lobby").irc == ("PRIVMSG #lobby :\x01ACTION waves\x01",)
    assert chat_step("/NICK carol", "#lobby").irc == ("NICK :carol",)
    assert chat_step("/who", "#lobby") == Step(irc=("NAMES #lobby",), names=True)
    assert chat_step("//etc", "#lobby").irc == ("PRIVMSG #lobby :/etc",)
    assert chat_step("/help", "#lobby").say[0] == "Commands:"
    assert chat_step("", "#lobby") == Step()


def test_long_text_is_cut_to_one_irc_line_at_a_character_boundary() -> None:
    prefix = "PRIVMSG #lobby :"
    text = fit_text(prefix, "é" * 400)
    assert len((prefix + text).encode()) <= 510 and text == "é" * len(text)
    assert len((prefix + text + "é").encode()) > 510


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (":bob!u@h PRIVMSG #lobby :hi", "bob: hi"),
        (":bob!u@h PRIVMSG #Lobby :\x01ACTION waves\x01", "* bob waves"),
        (":bob!u@h PRIVMSG #tea :hi", "[#tea] bob: hi"),
        (":bob!u@h PRIVMSG alice :psst", "[private] bob: psst"),
        (":alice!u@h PRIVMSG bob :psst", "[private to bob] alice: psst"),
        (":bob!u@h PRIVMSG alice :\x01VERSION\x01", None),
        (":NickServ!s@h NOTICE alice :identify", "[notice] NickServ: identify"),
        (":bob!u@h JOIN #lobby", "bob has joined the chat!"),
        (":bob!u@h PART #lobby :bye", "bob has left the chat."),
        (":bob!u@h QUIT :Quit: bye", "bob has left the chat."),
        (":op!u@h KICK #lobby bob :spam", "bob has left the chat. (kicked by op: spam)"),
        (":bob!u@h NICK bobby", "bob is now known as bobby."),
        (":alice!u@h NICK alicia", "You are now known as alicia."),
        (":bob!u@h TOPIC #lobby :tea time", "bob set the topic: tea time"),
        (
            ":irc.x 404 alice #lobby :Cannot send to channel",
            "[server] #lobby: Cannot send to channel",
        ),
        ("ERROR :Closing Link: h (Excess Flood)", "[server] Closing Link: h (Excess Flood)"),
        (":bob!u@h MODE #lobby +o alice", None),
        (":irc.x 005 alice CHANTYPES=# :are supported by this server", None),
    ],
)
def test_what_a_plain_chat_user_reads(line: str, shown: str | None) -> None:
    assert render(parse(line), "alice", "#lobby") == shown


def test_name_problems_say_why() -> None:
    assert name_problem("433", "bob", 30) == "The name bob is already taken."
    assert name_problem("431", "", 30) == "A name cannot be empty."
    assert name_problem("432", "1x", 30).startswith("1x cannot be a name: use up to 30 letters")


def test_config_plain_listener_and_section() -> None:
    config = parse_config(
        {"listen": [{"port": 33000, "protocol": "plain"}], "plain": {"channel": "#tea"}}
    )
    assert config.listen[0].protocol == "plain" and config.plain.channel == "#tea"
    defaults = parse_config({})
    assert defaults.plain.channel == "#lobby" and defaults.plain.echo is True
    assert {x.protocol for x in defaults.listen} == {"irc"}
    source = Path("hubbub.toml")
    with pytest.raises(ConfigError, match=r"hubbub.toml: listen.0: .*cannot have tls"):
        parse_config({"listen": [{"port": 1, "protocol": "plain", "tls": True}]}, source)
    with pytest.raises(ConfigError, match=r"plain.channel: .*channel name such as #lobby"):
        parse_config({"plain": {"channel": "lobby"}}, source)
    with pytest.raises(ConfigError, match=r"listen.0.protocol"):
        parse_config({"listen": [{"port": 1, "protocol": "telnet"}]}, source)


def test_text_is_made_safe_for_a_terminal() -> None:
    assert terminal_safe("\x02bold\x02 \x0304,12red\x03 \x04ff0000hex\x0f") == "bold red hex"
    assert terminal_safe("\x1b]0;owned\x07\x1b[2J") == "^[]0;owned^G^[[2J"
    assert terminal_safe("a\tb\x7fc\x9bd") == "a b^?c<U+009B>d"
    assert terminal_safe("caf\u00e9 \U0001f600") == "caf\u00e9 \U0001f600"


def test_telnet_commands_are_not_text() -> None:
    assert without_telnet_commands(b"hi\xff\xf4\xff\xfd\x06 there") == b"hi there"
    assert without_telnet_commands(b"caf\xc3\xa9") == b"caf\xc3\xa9"
