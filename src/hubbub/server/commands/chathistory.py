"""IRCv3 chathistory (https://ircv3.net/specs/extensions/chathistory).

Clients without ``draft/event-playback`` get PRIVMSG and NOTICE only; with
it, TAGMSG and the channel events stored with the messages too. In TARGETS
either timestamp may be ``*``, an open bound on the side of now: ``<T> *``
and ``* <T>`` both list what happened since T, ``* *`` everything.

``CHATHISTORY LATEST|BEFORE|AFTER|AROUND|BETWEEN|TARGETS``, answered from the
store's history. Channel history is for the channel's current members;
private history only for its two parties, and only to a logged-in user:
an account is known by its id (never reused), so neither a guest using its
nick nor a later account of the same name reads it. While nick protection
is still deciding about the user's nick, every CHATHISTORY is refused
(``FAIL CHATHISTORY MESSAGE_ERROR``). Results go in a ``chathistory`` batch (a
``draft/chathistory-targets`` one for TARGETS) when the client has the batch
capability, as plain lines otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import UTC, datetime

from hubbub.protocol.casemap import fold, is_channel_name, valid_nick
from hubbub.protocol.integers import ascii_int
from hubbub.protocol.message import Message
from hubbub.server.api import Context
from hubbub.server.capabilities import register_capability
from hubbub.server.commands.registry import command
from hubbub.server.history import send_paced
from hubbub.server.history_lines import EVENT_PLAYBACK_CAP, format_server_time, replay
from hubbub.server.isupport import register_token
from hubbub.server.logtext import for_log
from hubbub.server.nick_protection import protection_pending
from hubbub.store import HistoryRecord, Selector, conversation_key

log = logging.getLogger(__name__)

CAP = "draft/chathistory"
SUBCOMMANDS = ("LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN", "TARGETS")
# Parameters after the subcommand each one needs.
_ARITY = {"LATEST": 3, "BEFORE": 3, "AFTER": 3, "AROUND": 3, "BETWEEN": 4, "TARGETS": 3}

_LOST = "Messages could not be retrieved"
_GUEST = "Private history is kept for logged-in users only; log in first"
_PENDING = "Your nick is registered to an account; log in or change nick first"

register_capability(CAP)
register_token("CHATHISTORY", lambda config: str(config.history.chathistory_limit))
register_token("MSGREFTYPES", lambda _config: "msgid,timestamp")


# What ``*`` stands for in TARGETS: no bound on that side.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


class _Invalid(Exception):
    """A parameter that cannot be parsed: FAIL ... INVALID_PARAMS <param>."""

    def __init__(self, param: str, description: str) -> None:
        super().__init__(description)
        self.param = param
        self.description = description


def parse_timestamp(text: str) -> datetime:
    """``YYYY-MM-DDThh:mm:ss.sssZ`` (seconds fraction optional), in UTC."""
    if not text.endswith("Z") or "T" not in text:
        raise ValueError(text)
    when = datetime.fromisoformat(text[:-1])
    if when.tzinfo is not None:
        raise ValueError(text)
    return when.replace(tzinfo=UTC)


def _selector(param: str, allow_star: bool = False) -> Selector | None:
    """``msgid=…`` or ``timestamp=…`` (``*`` for LATEST, as None)."""
    if allow_star and param == "*":
        return None
    kind, sep, value = param.partition("=")
    if sep and value and kind == "msgid":
        return value
    if sep and value and kind == "timestamp":
        try:
            return parse_timestamp(value)
        except ValueError:
            raise _Invalid(param, "Invalid timestamp") from None
    raise _Invalid(param, "Invalid message reference")


def _timestamp_only(param: str, star: datetime) -> datetime:
    """A TARGETS bound: a timestamp, or ``*`` for ``star`` (no bound)."""
    if param == "*":
        return star
    selector = _selector(param)
    if not isinstance(selector, datetime):
        raise _Invalid(param, "TARGETS takes timestamps only")
    return selector


def _limit(ctx: Context, param: str) -> int:
    limit = ascii_int(param)
    if not limit:
        raise _Invalid(param, "Invalid limit")
    return min(limit, ctx.server.config.history.chathistory_limit)


@command("CHATHISTORY", min_params=1, cost=2)
def chathistory(ctx: Context, msg: Message) -> Awaitable[None] | None:
    """CHATHISTORY <subcommand> <target> <reference> [<reference>] <limit>: message history."""
    sub = msg.params[0].upper()
    if sub not in SUBCOMMANDS:
        ctx.fail("CHATHISTORY", "UNKNOWN_COMMAND", msg.params[0], description="Unknown command")
        return None
    args = msg.params[1:]
    if protection_pending(ctx.server, ctx.user):
        target = args[0] if args and sub != "TARGETS" else "*"
        ctx.fail("CHATHISTORY", "MESSAGE_ERROR", sub, target, description=_PENDING)
        return None
    if len(args) < _ARITY[sub]:
        ctx.fail("CHATHISTORY", "NEED_MORE_PARAMS", sub, description="Missing parameters")
        return None
    if len(args) > _ARITY[sub]:
        ctx.fail("CHATHISTORY", "INVALID_PARAMS", sub, description="Too many parameters")
        return None
    try:
        if sub == "TARGETS":
            # "*" is an open bound on the side of now: "<T> *" and "* <T>"
            # are both what happened since T ("* *": everything, latest first).
            start = _timestamp_only(args[0], _FAR_FUTURE)
            end = _timestamp_only(args[1], _EPOCH if args[0] == "*" else _FAR_FUTURE)
            return _targets(ctx, start, end, _limit(ctx, args[2]))
        target = args[0]
        first = _selector(args[1], allow_star=sub == "LATEST")
        second = _selector(args[2]) if sub == "BETWEEN" else None
        limit = _limit(ctx, args[-1])
    except _Invalid as exc:
        ctx.fail("CHATHISTORY", "INVALID_PARAMS", sub, exc.param, description=exc.description)
        return None
    return _history(ctx, sub, target, first, second, limit)


def _channel_key(ctx: Context, target: str) -> str | None:
    """The channel's canonical name if ``ctx.user`` may read its history."""
    channel = ctx.server.world.find_channel(target)
    if channel is None or ctx.user not in channel.members:
        return None
    return channel.name


async def _private_key(ctx: Context, party: str, target: str) -> tuple[str, str] | None:
    """(conversation key, name for the batch) of ``party``'s conversation
    with ``target``: the other party is its account when logged in (or, when
    offline, when an account of that name exists), else its nick. The batch
    names the nick as the client wrote it (clients, and irctest, match the
    batch to their query by that parameter)."""
    if not valid_nick(target, 64):
        return None
    other = ctx.server.world.find_user(target)
    if other is not None and other.registered:
        return conversation_key(party, other.history_party or other.folded), target
    other_key = await ctx.server.store.accounts.find_party(target) or fold(target)
    return conversation_key(party, other_key), target


async def _history(
    ctx: Context,
    sub: str,
    target: str,
    first: Selector | None,
    second: Selector | None,
    limit: int,
) -> None:
    history = ctx.server.store.history
    try:
        if is_channel_name(target):
            channel = _channel_key(ctx, target)
            if channel is None:
                ctx.fail(
                    "CHATHISTORY",
                    "INVALID_TARGET",
                    sub,
                    target,
                    description=_LOST,
                )
                return
            key, name = channel, channel
        else:
            party = ctx.user.history_party
            if party is None:
                ctx.fail("CHATHISTORY", "INVALID_TARGET", sub, target, description=_GUEST)
                return
            found = await _private_key(ctx, party, target)
            if found is None:
                ctx.fail(
                    "CHATHISTORY",
                    "INVALID_TARGET",
                    sub,
                    target,
                    description=_LOST,
                )
                return
            key, name = found
        records: list[HistoryRecord]
        # Without draft/event-playback: PRIVMSG and NOTICE only (the spec).
        only = EVENT_PLAYBACK_CAP not in ctx.user.caps
        if sub == "LATEST":
            records = await history.latest(key, first, limit, messages_only=only)
        elif sub == "BEFORE":
            assert first is not None
            records = await history.before(key, first, limit, messages_only=only)
        elif sub == "AFTER":
            assert first is not None
            records = await history.after(key, first, limit, messages_only=only)
        elif sub == "AROUND":
            assert first is not None
            records = await history.around(key, first, limit, messages_only=only)
        else:
            assert first is not None and second is not None
            records = await history.between(key, first, second, limit, messages_only=only)
    except Exception:
        log.exception("CHATHISTORY %s %s failed", for_log(sub), for_log(target))
        ctx.fail(
            "CHATHISTORY",
            "MESSAGE_ERROR",
            sub,
            target,
            description="Messages could not be retrieved",
        )
        return
    ref = ctx.start_batch("chathistory", name)
    conn = ctx.conn  # the device that asked, in the form it asked for
    await send_paced(conn, replay(records, conn, ref), ctx.server.config.limits.sendq // 4)
    ctx.end_batch(ref)


async def _targets(ctx: Context, start: datetime, end: datetime, limit: int) -> None:
    user = ctx.user
    channels = [channel.name for channel in user.channels.values()]
    # A guest's TARGETS are its channels: "" is no party key, so no conversation.
    try:
        found = await ctx.server.store.history.targets(
            user.history_party or "", start, end, limit, channels=channels
        )
    except Exception:
        log.exception("CHATHISTORY TARGETS failed")
        ctx.fail(
            "CHATHISTORY",
            "MESSAGE_ERROR",
            "TARGETS",
            "*",
            description="Messages could not be retrieved",
        )
        return
    ref = ctx.start_batch("draft/chathistory-targets")
    for entry in found:
        ctx.send("CHATHISTORY", "TARGETS", entry.name, format_server_time(entry.latest), batch=ref)
    ctx.end_batch(ref)
