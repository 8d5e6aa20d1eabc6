"""IRC formatting codes as irssi, WeeChat and bots send them."""

from __future__ import annotations

from datetime import UTC, datetime

from chatevents import said

from hubbub.client import events as ev
from hubbub.client.formatting import Style, runs, strip
from hubbub.client.session import ChatSession, mentions


def test_toggles_and_reset() -> None:
    assert runs("plain") == [("plain", Style())]
    assert runs("a \x02bold\x02 \x1ditalic\x1fboth\x0f end") == [
        ("a ", Style()),
        ("bold", Style(bold=True)),
        (" ", Style()),
        ("italic", Style(italics=True)),
        ("both", Style(italics=True, underline=True)),
        (" end", Style()),
    ]
    assert runs("\x1estruck\x1e\x11mono\x16rev") == [
        ("struck", Style(strikethrough=True)),
        ("mono", Style(monospace=True)),
        ("rev", Style(monospace=True, reverse=True)),
    ]


def test_colours() -> None:
    assert runs("\x0304red\x03 plain") == [("red", Style(fg="#ff0000")), (" plain", Style())]
    assert runs("\x031,8black on yellow") == [
        ("black on yellow", Style(fg="#000000", bg="#ffff00"))
    ]
    # Three digits: the third is text; a comma not followed by a digit is text.
    assert runs("\x03123") == [("3", Style(fg="#0000fc"))]
    assert runs("\x0304,text") == [(",text", Style(fg="#ff0000"))]
    # A bare \x03 (or one followed by ",bg" only) ends the colours.
    assert runs("\x0304red\x03,5 after") == [("red", Style(fg="#ff0000")), (",5 after", Style())]
    # 99 is "the default colour"; the extended 16-98 have their own values.
    assert runs("\x0399,52x") == [("x", Style(bg="#ff0000"))]
    assert runs("\x04FF8800hex\x04,x") == [("hex", Style(fg="#ff8800")), (",x", Style())]
    # A background survives a change of foreground.
    assert runs("\x033,4a\x035b") == [
        ("a", Style(fg="#009300", bg="#ff0000")),
        ("b", Style(fg="#7f0000", bg="#ff0000")),
    ]


def test_strip_mentions_and_line_mode() -> None:
    text = "plain, then \x02bold\x02 and \x034red\x03 and \x1funderline\x1f"
    assert strip(text) == "plain, then bold and red and underline"
    assert mentions("\x02alice\x02: look", "alice")
    s = ChatSession("alice")
    s.apply(ev.Join("alice", "#lobby", own=True, time=datetime.now(UTC)))
    s.apply(said("ivan", "#lobby", "\x0304hi\x03 \x02alice\x02"))
    line = s.current.lines[-1]
    assert line.highlight and line.plain() == "<ivan> hi alice"
