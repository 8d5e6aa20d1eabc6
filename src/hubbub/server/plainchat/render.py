"""What a plain-chat user reads: the IRC lines the server sends them, as
one short line per event (``nick: text``, ``nick has joined the chat!``...),
the way the tutorials' servers wrote them. Pure."""

from __future__ import annotations

from hubbub.protocol.casemap import fold, is_channel_name
from hubbub.protocol.message import Message

ERRONEOUS_NICK = "432"
NICK_IN_USE = "433"
NO_NICK_GIVEN = "431"
NAME_PROBLEMS = frozenset((ERRONEOUS_NICK, NICK_IN_USE, NO_NICK_GIVEN))


def nick_of(source: str | None) -> str:
    return (source or "").partition("!")[0]


def name_problem(numeric: str, name: str, nicklen: int) -> str:
    """Why ``name`` cannot be had, in words (431, 432, 433)."""
    if numeric == NICK_IN_USE:
        return f"The name {name} is already taken."
    if numeric == NO_NICK_GIVEN or not name:
        return "A name cannot be empty."
    return (
        f"{name} cannot be a name: use up to {nicklen} letters, digits or - _ [ ] \\ ` ^ {{ }} |, "
        "starting with a letter, with no spaces."
    )


def render(msg: Message, me: str, channel: str) -> str | None:
    """The line shown for ``msg`` to the user ``me`` in ``channel``; None:
    nothing to show (modes, the welcome burst, capabilities...)."""
    command = msg.command
    params = msg.params
    nick = nick_of(msg.source)
    if command in ("PRIVMSG", "NOTICE") and len(params) == 2:
        return _message(command, nick, params[0], params[1], me, channel)
    if command == "JOIN":
        return f"{nick} has joined the chat!"
    if command in ("PART", "QUIT"):
        return f"{nick} has left the chat."
    if command == "KICK" and len(params) >= 2:
        reason = params[2] if len(params) > 2 else ""
        if fold(params[1]) == fold(me):
            return f"You were kicked out of {params[0]} by {nick} ({reason}). Type /join to return."
        return f"{params[1]} has left the chat. (kicked by {nick}: {reason})"
    if command == "NICK" and params:
        if fold(nick) == fold(me) or fold(params[0]) == fold(me):
            return f"You are now known as {params[0]}."
        return f"{nick} is now known as {params[0]}."
    if command == "TOPIC" and len(params) == 2:
        return f"{nick} set the topic: {params[1]}"
    if command == "INVITE" and len(params) == 2:
        return f"{nick} invites you to {params[1]}."
    if command in ("ERROR", "FAIL") and params:
        return f"[server] {params[-1]}"
    if command.isdigit() and command[0] in "45" and len(params) >= 2:
        about = " ".join(params[1:-1])
        return f"[server] {about}: {params[-1]}" if about else f"[server] {params[-1]}"
    return None


def _message(command: str, nick: str, target: str, text: str, me: str, channel: str) -> str | None:
    action = text.startswith("\x01ACTION ") and command == "PRIVMSG"
    if text.startswith("\x01") and not action:
        return None  # CTCP requests (VERSION, PING...) mean nothing here
    body = f"* {nick} {text[8:].rstrip(chr(1))}" if action else f"{nick}: {text}"
    if command == "NOTICE":
        return f"[notice] {body}"
    if is_channel_name(target.lstrip("~&@%+")):
        return body if fold(target) == fold(channel) else f"[{target}] {body}"
    if fold(target) == fold(me):
        return f"[private] {body}"
    return f"[private to {target}] {body}"  # our own, echoed
