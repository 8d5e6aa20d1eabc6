"""IRC text formatting (bold, italics, underline, colours...), as irssi, WeeChat,
HexChat and bots send it: https://modern.ircdocs.horse/formatting. Pure: text
in, styled runs out, so each UI draws them its own way and line mode strips them."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

BOLD = "\x02"
ITALICS = "\x1d"
UNDERLINE = "\x1f"
STRIKETHROUGH = "\x1e"
MONOSPACE = "\x11"
REVERSE = "\x16"
COLOUR = "\x03"
HEX_COLOUR = "\x04"
RESET = "\x0f"
CODES = BOLD + ITALICS + UNDERLINE + STRIKETHROUGH + MONOSPACE + REVERSE + COLOUR + HEX_COLOUR
CODES += RESET

# The 16 classic colours, then the 83 extended ones (16-98); 99 is "default".
_BASE = (
    "ffffff 000000 00007f 009300 ff0000 7f0000 9c009c fc7f00 "
    "ffff00 00fc00 009393 00ffff 0000fc ff00ff 7f7f7f d2d2d2 "
)
_EXTENDED = (
    "470000 472100 474700 324700 004700 00472c 004747 002747 000047 2e0047 470047 47002a "
    "740000 743a00 747400 517400 007400 007449 007474 004074 000074 4b0074 740074 740045 "
    "b50000 b56300 b5b500 7db500 00b500 00b571 00b5b5 0063b5 0000b5 7500b5 b500b5 b5006b "
    "ff0000 ff8c00 ffff00 b2ff00 00ff00 00ffa0 00ffff 008cff 0000ff a500ff ff00ff ff0098 "
    "ff5959 ffb459 ffff71 cfff60 6fff6f 65ffc9 6dffff 59b4ff 5959ff c459ff ff66ff ff59bc "
    "ff9c9c ffd39c ffff9c e2ff9c 9cff9c 9cffdb 9cffff 9cd3ff 9c9cff dc9cff ff9cff ff94d3 "
    "000000 131313 282828 363636 4d4d4d 656565 818181 9f9f9f bcbcbc e2e2e2 ffffff"
)
PALETTE = tuple("#" + c for c in (_BASE + _EXTENDED).split())

_COLOUR_ARGS = re.compile(r"(\d{1,2})?(?:,(\d{1,2}))?")
_HEX_ARGS = re.compile(r"([0-9a-fA-F]{6})?(?:,([0-9a-fA-F]{6}))?")


@dataclass(frozen=True, slots=True)
class Style:
    bold: bool = False
    italics: bool = False
    underline: bool = False
    strikethrough: bool = False
    monospace: bool = False
    reverse: bool = False
    fg: str | None = None  # "#rrggbb"; None: the UI's own colour
    bg: str | None = None

    @property
    def plain(self) -> bool:
        return self == _PLAIN


_PLAIN = Style()
_TOGGLES = {
    BOLD: "bold",
    ITALICS: "italics",
    UNDERLINE: "underline",
    STRIKETHROUGH: "strikethrough",
    MONOSPACE: "monospace",
    REVERSE: "reverse",
}


def _palette(code: str | None) -> str | None:
    if code is None:
        return None
    number = int(code)
    return PALETTE[number] if number < len(PALETTE) else None  # 99 and beyond: default


def runs(text: str) -> list[tuple[str, Style]]:
    """Split ``text`` into (text, style) runs with the formatting codes removed."""
    if not any(code in text for code in CODES):
        return [(text, _PLAIN)] if text else []
    out: list[tuple[str, Style]] = []
    style = _PLAIN
    start = i = 0
    while i < len(text):
        ch = text[i]
        if ch not in CODES:
            i += 1
            continue
        if i > start:
            out.append((text[start:i], style))
        i += 1
        if ch in _TOGGLES:
            name = _TOGGLES[ch]
            flipped: dict[str, Any] = {name: not getattr(style, name)}
            style = replace(style, **flipped)
        elif ch == RESET:
            style = _PLAIN
        else:
            pattern = _COLOUR_ARGS if ch == COLOUR else _HEX_ARGS
            match = pattern.match(text, i)
            assert match is not None  # both patterns match the empty string
            fg, bg = match.group(1), match.group(2)
            if fg is None:  # a bare colour code (or one with only ",bg"): colours off
                style = replace(style, fg=None, bg=None)
                # a comma without a foreground is ordinary text
                i = match.start()
            else:
                i = match.end()
                if ch == COLOUR:
                    style = replace(style, fg=_palette(fg), bg=_palette(bg) if bg else style.bg)
                else:
                    style = replace(
                        style, fg="#" + fg.lower(), bg="#" + bg.lower() if bg else style.bg
                    )
        start = i
    if start < len(text):
        out.append((text[start:], style))
    return out


def strip(text: str) -> str:
    """``text`` without formatting codes, for line mode, mentions and searching."""
    if not any(code in text for code in CODES):
        return text
    return "".join(part for part, _ in runs(text))
