"""What a plain-chat user's message asks for, as the IRC lines an IRC client
would send for it (so every rule of the server applies unchanged), plus the
lines only this user sees (help, usage). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from hubbub.protocol.casemap import fold
from hubbub.protocol.message import fit_body

QUIT_WORD = "{quit}"

PROMPT = "Type your name and press enter to begin."


def welcome(nick: str, channel: str) -> str:
    return (
        f"Welcome {nick}! You are in {channel}. If you ever want to quit, "
        f"type {QUIT_WORD} to exit. Type /help for commands."
    )


HELP = (
    "Commands:",
    "  /msg NAME TEXT   a private message to NAME",
    "  /me TEXT         an action: * yourname TEXT",
    "  /nick NEWNAME    change your name",
    "  /who             who is in the chat",
    "  /join            come back after being kicked out",
    "  /quit [REASON]   leave (or type {quit})",
    "  //TEXT           send TEXT starting with one /",
)


@dataclass(frozen=True, slots=True)
class Step:
    """What one message becomes."""

    irc: tuple[str, ...] = ()  # lines for the session, as an IRC client sends them
    say: tuple[str, ...] = ()  # lines for this user only
    names: bool = False  # show the coming NAMES reply (/who)
    quit: str | None = None  # leave with this reason


def strip_own_name(text: str, names: tuple[str, ...]) -> str:
    """``text`` without a leading ``name: `` naming the sender (the third
    tutorial's client prefixes every message with it)."""
    head, sep, rest = text.partition(": ")
    if sep and head and any(fold(head) == fold(name) for name in names if name):
        return rest
    return text


def fit_text(prefix: str, text: str) -> str:
    """``text`` cut so that ``prefix + text`` fits one IRC line, as IRC cuts."""
    return fit_body(prefix + text)[len(prefix) :]


def chat_step(text: str, channel: str) -> Step:
    """What a registered user's message (own name already stripped) asks for."""
    if text == QUIT_WORD:
        return Step(quit="left the chat")
    if text.startswith("/") and not text.startswith("//"):
        return _command(text[1:], channel)
    if text.startswith("//"):
        text = text[1:]
    if not text:
        return Step()
    return Step(irc=(_privmsg(channel, text),))


def _privmsg(target: str, text: str) -> str:
    prefix = f"PRIVMSG {target} :"
    return prefix + fit_text(prefix, text)


def _command(line: str, channel: str) -> Step:
    name, _, rest = line.partition(" ")
    name = name.lower()
    rest = rest.strip()
    if name == "msg":
        target, _, text = rest.partition(" ")
        text = text.strip()
        if not target or not text or target.startswith(("#", ":")):
            return Step(say=("Usage: /msg NAME TEXT",))
        return Step(irc=(_privmsg(target, text),))
    if name == "me":
        if not rest:
            return Step(say=("Usage: /me TEXT",))
        return Step(irc=(_privmsg(channel, f"\x01ACTION {rest}\x01"),))
    if name == "nick":
        if not rest:
            return Step(say=("Usage: /nick NEWNAME",))
        return Step(irc=(f"NICK :{rest}",))
    if name == "who":
        return Step(irc=(f"NAMES {channel}",), names=True)
    if name == "join":
        return Step(irc=(f"JOIN {channel}",))
    if name == "help":
        return Step(say=HELP)
    if name == "quit":
        return Step(quit=rest or "left the chat")
    return Step(say=(f"Unknown command /{name}. Type /help for the commands.",))


def name_lines(name: str, first: bool, echo: bool) -> tuple[str, ...]:
    """The registration an IRC client sends for ``name`` (the first time:
    with USER, and echo-message asked for when ``echo``)."""
    nick = f"NICK :{name}"
    if not first:
        return (nick,)
    lines = (nick, "USER plain 0 * :plain chat")
    return ("CAP REQ :echo-message", *lines, "CAP END") if echo else lines
