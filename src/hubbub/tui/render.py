"""How one chat line looks in the terminal: time, coloured nick, highlights."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from hubbub.client import formatting
from hubbub.client.colours import nick_colour
from hubbub.client.session import Conversation, Line
from hubbub.protocol.printable import printable

HIGHLIGHT_STYLE = "bold black on #e5c07b"
_KIND_STYLES = {
    "event": "italic #8a8f98",
    "info": "#8a8f98",
    "error": "bold #ff6b6b",
    "notice": "#d19a66",
}


def render_line(line: Line) -> Text:
    text = Text(no_wrap=False)
    text.append(line.time.astimezone().strftime("%H:%M "), style="dim")
    body_style = "dim" if line.history else ""
    if line.nick and line.kind in ("message", "action", "notice"):
        colour = nick_colour(line.nick)
        nick = printable(line.nick)
        if line.kind == "message":
            text.append("<", style="dim")
            text.append(nick, style=f"bold {colour}")
            text.append("> ", style="dim")
        elif line.kind == "action":
            text.append("* ", style=colour)
            text.append(nick + " ", style=f"bold {colour}")
        else:
            text.append(f"-{nick}- ", style=f"bold {_KIND_STYLES['notice']}")
        style = HIGHLIGHT_STYLE if line.highlight else body_style
        append_formatted(text, line.text, Style.parse(style) if style else Style())
    else:
        prefix = "!! " if line.kind == "error" else "-- "
        body = printable(formatting.strip(line.text))
        text.append(prefix + body, style=_KIND_STYLES.get(line.kind, ""))
    return text


def append_formatted(text: Text, body: str, base: Style) -> None:
    """Append ``body`` drawing its IRC bold, italics, underline and colours;
    other control characters are shown, never passed to the terminal."""
    for raw, fmt in formatting.runs(body):
        part = printable(raw)
        if fmt.plain:
            text.append(part, style=base)
            continue
        extra = Style(
            bold=fmt.bold or None,
            italic=fmt.italics or None,
            underline=fmt.underline or None,
            strike=fmt.strikethrough or None,
            reverse=fmt.reverse or None,
            color=fmt.fg,
            bgcolor=fmt.bg,
        )
        text.append(part, style=base + extra)


def render_conversation(conv: Conversation) -> Text:
    """The entry in the conversation list: name, unread count, highlight."""
    label = Text(printable(conv.name) if conv.kind != "server" else "(server)")
    if conv.unread:
        label.append(f" ({conv.unread})", style="bold #61afef")
    if conv.highlight:
        label.stylize("bold #e5c07b")
    elif conv.kind == "channel" and not conv.joined:
        label.stylize("dim")
    return label


def render_member(entry: str) -> Text:
    nick = entry.lstrip("~&@%+")
    prefix = entry[: len(entry) - len(nick)]
    label = Text(printable(prefix), style="bold #98c379")
    label.append(printable(nick), style=nick_colour(nick))
    return label
