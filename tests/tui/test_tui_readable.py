"""What the Textual client shows is readable and inert: control characters
from other users are displayed, not obeyed; WHOIS replies are sentences; the
Alt+digit hint matches the keys. Real server, Textual's pilot."""

from __future__ import annotations

import re
from pathlib import Path

from libpeers import PeerFactory, client_config
from rich.text import Text
from textual.widgets import RichLog, Static

from hubbub.client import Names
from hubbub.client.session import Line
from hubbub.tui.app import PLACEHOLDER, ChatApp
from hubbub.tui.chatinput import ChatInput
from hubbub.tui.render import render_line
from uiwait import log_text, until

HOSTILE = "look \x1b]0;pwned\x07 \x1b[2J\x9b31m\x7f here"


shown = log_text  # the name these tests use


def make_app(irc: object, tmp_path: Path) -> ChatApp:
    port = irc.port()  # type: ignore[attr-defined]
    return ChatApp(client_config(port, "alice", tmp_path / "tui", channels=["#lobby"]))


def test_render_line_shows_controls_instead_of_sending_them() -> None:
    from datetime import UTC, datetime

    line = Line(datetime.now(UTC), "message", "\x02bold\x02 " + HOSTILE, nick="bob")
    text: Text = render_line(line)
    assert "look ^[]0;pwned^G ^[[2J<U+009B>31m^? here" in text.plain
    assert not any(ch in text.plain for ch in "\x1b\x07\x9b\x7f\x02")
    notice = render_line(Line(datetime.now(UTC), "info", "topic: \x1b[31mred"))
    assert "^[[31mred" in notice.plain and "\x1b" not in notice.plain


async def test_escape_sequences_from_others_are_shown_not_obeyed(
    irc: object, peer: PeerFactory, tmp_path: Path
) -> None:
    bob = await peer("bob", channels=["#lobby"])
    await bob.events().wait_for(Names)
    app = make_app(irc, tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.session.current.name == "#lobby")
        bob.send_raw("TOPIC #lobby :\x1b]0;title\x07 news")
        bob.say("#lobby", HOSTILE)
        await until(pilot, lambda: "<bob> look" in shown(app))
        assert "<bob> look ^[]0;pwned^G ^[[2J<U+009B>31m^? here" in shown(app)
        log = app.query_one("#messages", RichLog)
        drawn = "".join(seg.text for strip in log.lines for seg in strip)
        assert not any(ch in drawn for ch in "\x1b\x07\x9b\x7f")
        topic = str(app.query_one("#topic", Static).render())
        assert "^[]0;title^G news" in topic and "\x1b" not in topic


async def test_whois_reads_as_sentences(irc: object, peer: PeerFactory, tmp_path: Path) -> None:
    bob = await peer("bob", channels=["#lobby"], realname="Bob Builder")
    await bob.events().wait_for(Names)
    app = make_app(irc, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.current.name == "#lobby")
        field = app.query_one(ChatInput)
        field.value = "/whois bob"
        await pilot.press("enter")
        await until(pilot, lambda: "End of WHOIS for bob" in shown(app))
        text = shown(app)
        # the host is the cloak others see (server.cloak is on by default)
        assert re.search(r"bob is ~bob@[a-z2-7]{16}\.hubbub \(real name: Bob Builder\)", text)
        assert "bob is on @#lobby" in text
        assert "bob is connected to irc.test.local" in text
        assert "bob has been idle " in text and ", signed on " in text
        assert "seconds idle" not in text and "End of /WHOIS list" not in text


async def test_alt_0_is_the_tenth_conversation(irc: object, tmp_path: Path) -> None:
    assert "Alt+1..0" in PLACEHOLDER
    app = make_app(irc, tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: app.session.current.name == "#lobby")
        for n in range(8):
            app.session.open(f"friend{n}")
        ordered = app.session.ordered()
        assert len(ordered) == 10
        await pilot.press("alt+0")
        assert app.session.current is ordered[9]
        await pilot.press("alt+1")
        assert app.session.current is app.session.server
