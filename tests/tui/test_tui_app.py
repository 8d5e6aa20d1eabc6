"""The Textual client driven through its test pilot against a real server,
with a library client on the other side."""

from __future__ import annotations

from pathlib import Path

from libpeers import PeerFactory, client_config, in_order, joined_peer
from textual import events
from textual.pilot import Pilot
from textual.widgets import OptionList, RichLog

from hubbub.client import Kick, MessageEvent, Names, TopicChange
from hubbub.tui.app import ChatApp
from hubbub.tui.chatinput import ChatInput
from uiwait import log_text, until

shown = log_text  # the name these tests use


async def type_line(pilot: Pilot[None], text: str) -> None:
    field = pilot.app.query_one(ChatInput)
    field.value = text
    field.cursor_position = len(text)
    await pilot.press("enter")


def make_app(irc: object, tmp_path: Path, nick: str = "alice") -> ChatApp:
    port = irc.port()  # type: ignore[attr-defined]
    return ChatApp(client_config(port, nick, tmp_path / "tui", channels=["#lobby"]))


def joined(app: ChatApp, channel: str) -> bool:
    conv = app.session.get(channel)
    return conv is not None and conv.joined and bool(conv.members)


async def test_message_goes_out_and_comes_in(
    irc: object, peer: PeerFactory, tmp_path: Path
) -> None:
    bob = await joined_peer(peer, "bob", "#lobby")
    app = make_app(irc, tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        await until(pilot, lambda: joined(app, "#lobby"))
        assert app.session.current.name == "#lobby"
        await pilot.press(*"hello bob", "enter")
        got = await bob.events().wait_for(MessageEvent)
        assert (got.source, got.text) == ("alice", "hello bob")

        bob.say("#lobby", "hi alice, welcome")
        await until(pilot, lambda: "<bob> hi alice, welcome" in shown(app))
        assert "<alice> hello bob" in shown(app)
        assert "alice has joined" not in shown(app) and "You have joined #lobby" in shown(app)
        line = app.session.current.lines[-1]
        assert line.highlight and line.nick == "bob"
        assert app.session.current.members == ["@bob", "alice"]

        bob.say("alice", "a secret")
        await until(pilot, lambda: app.session.get("bob") is not None)
        private = app.session.get("bob")
        assert private is not None and private.unread == 1 and private.highlight


async def test_commands(irc: object, peer: PeerFactory, tmp_path: Path) -> None:
    app = make_app(irc, tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        await until(pilot, lambda: joined(app, "#lobby"))
        bob = await joined_peer(peer, "bob", "#lobby")
        await until(pilot, lambda: "bob has joined #lobby" in shown(app))

        await type_line(pilot, "/topic Tea and biscuits")
        topic = await bob.events().wait_for(TopicChange)
        assert topic.topic == "Tea and biscuits"
        await until(pilot, lambda: "Tea and biscuits" in str(app.query_one("#topic").render()))

        await type_line(pilot, "/me pours the tea")
        action = await bob.events().wait_for(MessageEvent)
        assert (action.kind, action.text) == ("action", "pours the tea")

        await type_line(pilot, "/msg bob just you")
        private = await bob.events().wait_for(MessageEvent)
        assert (private.conversation, private.text) == ("alice", "just you")

        await type_line(pilot, "/op bob")
        await until(pilot, lambda: "@bob" in app.session.current.members)

        await type_line(pilot, "/help")
        assert "/join #channel [key]" in shown(app)
        await type_line(pilot, "/frobnicate")
        assert "Unknown command /frobnicate" in shown(app)

        await type_line(pilot, "/kick bob out you go")
        kick = await bob.events().wait_for(Kick)
        assert (kick.nick, kick.by, kick.reason) == ("bob", "alice", "out you go")
        await until(pilot, lambda: "bob was kicked from #lobby by alice (out you go)" in shown(app))

        await type_line(pilot, "/join #second")
        await until(pilot, lambda: joined(app, "#second"))
        assert app.session.current.name == "#second"

        def listed() -> list[str | None]:
            sidebar = app.query_one("#conversations", OptionList)
            return [sidebar.get_option_at_index(i).id for i in range(sidebar.option_count)]

        assert "#second" in listed()
        await type_line(pilot, "/close done here")
        await until(pilot, lambda: "#second" not in listed())
        assert app.session.current is app.session.server
        await pilot.pause(0.3)  # the server's PART does not bring it back
        assert "#second" not in listed() and app.session.get("#second") is None

        await type_line(pilot, "/quit see you")
    assert not app.client.connected


async def test_history_and_completion(irc: object, peer: PeerFactory, tmp_path: Path) -> None:
    bob = await peer("bobby", channels=["#lobby"])
    await bob.events().wait_for(Names)
    app = make_app(irc, tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        await until(pilot, lambda: "@bobby" in app.session.current.members)
        field = app.query_one(ChatInput)
        await pilot.press(*"/jo", "tab")
        assert field.value == "/join "
        field.value = ""
        await pilot.press(*"bo", "tab")
        assert field.value == "bobby: "
        await pilot.press(*"tea?", "enter")
        await pilot.press(*"/names", "enter")
        await pilot.press("up")
        assert field.value == "/names"
        await pilot.press("up")
        assert field.value == "bobby: tea?"
        await pilot.press("down", "down")
        assert field.value == ""
        got = await bob.events().wait_for(MessageEvent)
        assert got.text == "bobby: tea?"


async def test_keys_switch_conversations_and_scroll(
    irc: object, peer: PeerFactory, tmp_path: Path
) -> None:
    """Ctrl+N/Ctrl+P and Alt+digit switch conversations (Ctrl+P used to open
    Textual's command palette instead); PageUp/PageDown scroll the messages from
    the input line, and a new line does not yank a person reading back."""
    bob = await joined_peer(peer, "bob", "#lobby")
    app = make_app(irc, tmp_path)
    async with app.run_test(size=(110, 20)) as pilot:
        await until(pilot, lambda: joined(app, "#lobby"))
        bob.say("alice", "psst")
        await until(pilot, lambda: app.session.get("bob") is not None)
        names = [c.name for c in app.session.ordered()]
        assert names[1:] == ["#lobby", "bob"]

        await pilot.press("ctrl+p")
        assert app.session.current is app.session.server
        assert app.screen is app.screen_stack[0]  # no command palette
        assert app.query_one(ChatInput).has_focus
        await pilot.press("ctrl+p")
        assert app.session.current.name == "bob"
        await pilot.press("ctrl+n")
        assert app.session.current is app.session.server
        await pilot.press("alt+3")
        assert app.session.current.name == "bob"
        await pilot.press("alt+2")
        assert app.session.current.name == "#lobby"
        await pilot.press("alt+9")  # no ninth conversation: stay
        assert app.session.current.name == "#lobby"

        log = app.query_one("#messages", RichLog)
        for _ in range(3):
            await type_line(pilot, "/help")
        await until(pilot, lambda: log.max_scroll_y > 20 and log.scroll_y == log.max_scroll_y)
        await pilot.press("pageup")
        await until(pilot, lambda: log.scroll_y < log.max_scroll_y)
        reading = log.scroll_y
        bob.say("#lobby", "something new")
        await until(pilot, lambda: "<bob> something new" in shown(app))
        await pilot.pause(0.1)
        assert log.scroll_y == reading
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown")
        await until(pilot, lambda: log.scroll_y == log.max_scroll_y)
        bob.say("#lobby", "and more")
        await until(pilot, lambda: "<bob> and more" in shown(app))
        await until(pilot, lambda: log.scroll_y == log.max_scroll_y)


async def test_history_shows_above_the_join(irc: object, peer: PeerFactory, tmp_path: Path) -> None:
    bob = await joined_peer(peer, "bob", "#lobby")
    for text in ("said before alice came", "and once more"):
        bob.say("#lobby", text)
        await bob.events().wait_for(MessageEvent, lambda e, t=text: e.text == t)
    app = make_app(irc, tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        await until(pilot, lambda: "<bob> and once more" in shown(app))
        text = shown(app)
        assert in_order(
            text, "<bob> said before alice came", "<bob> and once more", "You have joined #lobby"
        )
        bob.say("#lobby", "live now")
        await until(pilot, lambda: "<bob> live now" in shown(app))
        assert shown(app).rstrip().endswith("<bob> live now")


async def test_alt_digit_from_a_real_terminal(irc: object, tmp_path: Path) -> None:
    """What xterm or tmux send for Alt+2 (ESC 2) reaches the app as alt+2 and
    switches conversations; the 2 does not end up in the input line."""
    from textual._xterm_parser import XTermParser

    app = make_app(irc, tmp_path)
    parser = XTermParser()
    keys = [e for e in [*parser.feed("\x1b2"), *parser.feed("")] if isinstance(e, events.Key)]
    assert [(k.key, k.character) for k in keys] == [("alt+2", "2")]
    async with app.run_test(size=(110, 30)) as pilot:
        await until(pilot, lambda: joined(app, "#lobby"))
        await pilot.press("ctrl+p")
        assert app.session.current is app.session.server
        app.post_message(events.Key("alt+2", "2"))
        await until(pilot, lambda: app.session.current.name == "#lobby")
        assert app.query_one(ChatInput).value == ""


async def test_irc_formatting_and_bracketed_topics(
    irc: object, peer: PeerFactory, tmp_path: Path
) -> None:
    """Bold and colours from irssi are drawn, not shown as stray digits; a topic
    with square brackets is text, not Textual markup (it used to vanish)."""
    bob = await joined_peer(peer, "bob", "#lobby")
    app = make_app(irc, tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        await until(pilot, lambda: joined(app, "#lobby"))
        bob.say("#lobby", "plain, then \x02bold\x02 and \x034red\x03!")
        await until(pilot, lambda: "<bob> plain, then bold and red!" in shown(app))
        log = app.query_one("#messages", RichLog)
        styled = {seg.text: seg.style for strip in log.lines for seg in strip if seg.style}
        assert styled["bold"].bold
        red = styled["red"].color
        assert red is not None and red.triplet is not None and red.triplet.hex == "#ff0000"

        bob.send_raw("TOPIC #lobby :[/red] rules [b]first")
        await until(pilot, lambda: "[/red] rules [b]first" in str(app.query_one("#topic").render()))
