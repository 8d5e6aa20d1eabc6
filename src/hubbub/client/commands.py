"""Slash commands typed by a person, shared by the terminal and desktop clients
so both behave identically. Pure: text in, an :class:`Outcome` out (lines to
send plus what the UI should do locally)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hubbub.client.client import split_text
from hubbub.protocol.masks import normalize_ban_mask
from hubbub.protocol.message import Message, ProtocolError, parse

CHANNEL_PREFIXES = "#&"


def is_channel(name: str | None) -> bool:
    return name is not None and len(name) > 1 and name[0] in CHANNEL_PREFIXES


@dataclass(slots=True)
class Outcome:
    """What one input line asks for. ``open`` names a conversation to show;
    ``close`` names one to remove from the list (its PART is dropped when the
    channel was left already); ``quit`` is set (possibly to "") when the
    person wants to leave."""

    send: list[Message] = field(default_factory=list)
    open: str | None = None
    close: str | None = None
    info: list[str] = field(default_factory=list)
    error: str | None = None
    quit: str | None = None


Handler = Callable[[list[str], str, str | None], Outcome]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    usage: str
    summary: str
    handler: Handler


COMMANDS: dict[str, Command] = {}


def command(name: str, usage: str, summary: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[name] = Command(name, usage, summary, handler)
        return handler

    return register


def _fail(text: str) -> Outcome:
    return Outcome(error=text)


def _usage(name: str) -> Outcome:
    return _fail(f"Usage: {COMMANDS[name].usage}")


def _privmsgs(target: str, text: str, command: str = "PRIVMSG") -> list[Message]:
    return [Message(command, [target, chunk]) for chunk in split_text(text)]


def parse_input(text: str, current: str | None) -> Outcome:
    """Interpret one line typed in conversation ``current`` (None: the server view).

    Plain text is said to the current conversation; ``//text`` says ``/text``.
    """
    if not text.strip():
        return Outcome()
    if text.strip() == "{quit}":  # the classic tutorial clients' way out
        return Outcome(quit="Leaving")
    if text.startswith("/") and not text.startswith("//"):
        name, _, rest = text[1:].partition(" ")
        cmd = COMMANDS.get(name.lower())
        if cmd is None:
            return _fail(f"Unknown command /{name}. Type /help for the list.")
        return cmd.handler(rest.split(), rest.strip(), current)
    if text.startswith("//"):
        text = text[1:]
    if current is None:
        return _fail("This is the server view: /join a channel or /query someone first.")
    return Outcome(send=_privmsgs(current, text))


def _split_first(rest: str) -> tuple[str, str]:
    first, _, tail = rest.partition(" ")
    return first, tail.strip()


@command("join", "/join #channel [key]", "join a channel")
def _join(args: list[str], rest: str, current: str | None) -> Outcome:
    if not args:
        return _usage("join")
    channel = args[0] if is_channel(args[0]) else "#" + args[0]
    params = [channel, *args[1:2]]
    return Outcome(send=[Message("JOIN", params)], open=channel)


@command("part", "/part [#channel] [reason]", "leave a channel")
def _part(args: list[str], rest: str, current: str | None) -> Outcome:
    if args and is_channel(args[0]):
        channel, reason = _split_first(rest)
    elif is_channel(current):
        channel, reason = current or "", rest
    else:
        return _usage("part")
    return Outcome(send=[Message("PART", [channel, reason] if reason else [channel])])


@command("close", "/close [reason]", "close this conversation (leaving the channel)")
def _close(args: list[str], rest: str, current: str | None) -> Outcome:
    if current is None:
        return _fail("The server view stays open; /quit leaves the server.")
    part = [Message("PART", [current, rest] if rest else [current])] if is_channel(current) else []
    return Outcome(send=part, close=current)


@command("msg", "/msg nick|#channel text", "send a message without switching to it")
def _msg(args: list[str], rest: str, current: str | None) -> Outcome:
    target, text = _split_first(rest)
    if not target or not text:
        return _usage("msg")
    return Outcome(send=_privmsgs(target, text))


@command("query", "/query nick [text]", "open a private conversation")
def _query(args: list[str], rest: str, current: str | None) -> Outcome:
    nick, text = _split_first(rest)
    if not nick or is_channel(nick):
        return _usage("query")
    return Outcome(send=_privmsgs(nick, text) if text else [], open=nick)


@command("me", "/me action", "describe what you do")
def _me(args: list[str], rest: str, current: str | None) -> Outcome:
    if current is None:
        return _fail("/me needs a channel or private conversation.")
    if not rest:
        return _usage("me")
    chunks = split_text(rest, 390)
    return Outcome(send=[Message("PRIVMSG", [current, f"\x01ACTION {c}\x01"]) for c in chunks])


@command("notice", "/notice nick|#channel text", "send a notice")
def _notice(args: list[str], rest: str, current: str | None) -> Outcome:
    target, text = _split_first(rest)
    if not target or not text:
        return _usage("notice")
    return Outcome(send=_privmsgs(target, text, "NOTICE"))


@command("nick", "/nick newnick", "change your nickname")
def _nick(args: list[str], rest: str, current: str | None) -> Outcome:
    if len(args) != 1:
        return _usage("nick")
    return Outcome(send=[Message("NICK", args)])


@command("topic", "/topic [#channel] [new topic]", "show or set the topic")
def _topic(args: list[str], rest: str, current: str | None) -> Outcome:
    if args and is_channel(args[0]):
        channel, text = _split_first(rest)
    elif is_channel(current):
        channel, text = current or "", rest
    else:
        return _usage("topic")
    return Outcome(send=[Message("TOPIC", [channel, text] if text else [channel])])


def _channel_and_rest(rest: str, current: str | None) -> tuple[str | None, str]:
    """Commands that act on a channel take it first, or use the current one."""
    first, tail = _split_first(rest)
    if is_channel(first):
        return first, tail
    return (current if is_channel(current) else None), rest


@command("kick", "/kick nick [reason]", "remove someone from the channel")
def _kick(args: list[str], rest: str, current: str | None) -> Outcome:
    channel, tail = _channel_and_rest(rest, current)
    nick, reason = _split_first(tail)
    if channel is None or not nick:
        return _usage("kick")
    return Outcome(send=[Message("KICK", [channel, nick, reason] if reason else [channel, nick])])


def _list_mode(name: str, sign: str, letter: str) -> Handler:
    def handler(args: list[str], rest: str, current: str | None) -> Outcome:
        channel, tail = _channel_and_rest(rest, current)
        targets = tail.split()
        if channel is None or not targets:
            return _usage(name)
        if letter == "b":
            targets = [normalize_ban_mask(t) for t in targets]
        messages = [
            Message("MODE", [channel, sign + letter * len(chunk), *chunk])
            for chunk in (targets[i : i + 3] for i in range(0, len(targets), 3))
        ]
        return Outcome(send=messages)

    return handler


for _name, _sign, _letter, _usage_text, _summary in (
    ("ban", "+", "b", "/ban nick|mask", "ban from the channel"),
    ("unban", "-", "b", "/unban mask", "lift a ban"),
    ("op", "+", "o", "/op nick...", "make channel operator"),
    ("deop", "-", "o", "/deop nick...", "take channel operator away"),
    ("voice", "+", "v", "/voice nick...", "give voice"),
    ("devoice", "-", "v", "/devoice nick...", "take voice away"),
):
    command(_name, _usage_text, _summary)(_list_mode(_name, _sign, _letter))


@command("mode", "/mode [target] [+modes [args]]", "show or change modes")
def _mode(args: list[str], rest: str, current: str | None) -> Outcome:
    if not args or args[0][:1] in "+-":
        if current is None:
            return _usage("mode")
        args = [current, *args]
    return Outcome(send=[Message("MODE", args)])


@command("whois", "/whois nick", "who is that?")
def _whois(args: list[str], rest: str, current: str | None) -> Outcome:
    if len(args) != 1:
        return _usage("whois")
    return Outcome(send=[Message("WHOIS", args)])


@command("names", "/names [#channel]", "list the people in a channel")
def _names(args: list[str], rest: str, current: str | None) -> Outcome:
    channel = args[0] if args else current
    if not is_channel(channel):
        return _usage("names")
    return Outcome(send=[Message("NAMES", [channel or ""])])


@command("list", "/list [pattern]", "list channels")
def _list(args: list[str], rest: str, current: str | None) -> Outcome:
    return Outcome(send=[Message("LIST", args[:1])])


@command("away", "/away [message]", "set away (no message: back)")
def _away(args: list[str], rest: str, current: str | None) -> Outcome:
    return Outcome(send=[Message("AWAY", [rest] if rest else [])])


@command("invite", "/invite nick [#channel]", "invite someone to a channel")
def _invite(args: list[str], rest: str, current: str | None) -> Outcome:
    channel = args[1] if len(args) > 1 else current
    if not args or not is_channel(channel):
        return _usage("invite")
    return Outcome(send=[Message("INVITE", [args[0], channel or ""])])


@command("raw", "/raw IRC LINE", "send a line to the server as it is")
def _raw(args: list[str], rest: str, current: str | None) -> Outcome:
    if not rest:
        return _usage("raw")
    try:
        return Outcome(send=[parse(rest)])
    except ProtocolError as exc:
        return _fail(f"Not a valid IRC line ({exc.reason}).")


@command("quit", "/quit [reason]", "leave the server and close")
def _quit(args: list[str], rest: str, current: str | None) -> Outcome:
    return Outcome(quit=rest or "Leaving")


@command("help", "/help [command]", "this help")
def _help(args: list[str], rest: str, current: str | None) -> Outcome:
    if args:
        cmd = COMMANDS.get(args[0].lstrip("/").lower())
        if cmd is None:
            return _fail(f"No command /{args[0].lstrip('/')}.")
        return Outcome(info=[f"{cmd.usage} - {cmd.summary}"])
    lines = ["Commands (type text without / to talk):"]
    lines += [f"  {c.usage:<34} {c.summary}" for c in COMMANDS.values()]
    return Outcome(info=lines)
