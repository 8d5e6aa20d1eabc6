"""PRIVMSG, NOTICE and TAGMSG to nicks, channels and @#chan/+#chan."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Iterable
from functools import partial

from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import CHANTYPES, fold, is_channel_name
from hubbub.protocol.message import MAX_BODY_BYTES, Message, escape_tag_value, fit_body
from hubbub.server.api import Context, Delivered
from hubbub.server.commands.multiline_lines import collect
from hubbub.server.commands.registry import command
from hubbub.server.delivery import (
    TAG_MESSAGE_TAGS,
    Event,
    add_tag,
    deliver_body,
    render,
)
from hubbub.server.devices import connections_of, expand, siblings
from hubbub.server.multiline_form import CAP as MULTILINE_CAP
from hubbub.server.services import find_service
from hubbub.server.state import PREFIX_MODES, SYMBOL_TO_MODE, Channel, User

_STATUS_SYMBOLS = "".join(SYMBOL_TO_MODE)
_new_tuple = tuple.__new__
_CHANNEL_OR_STATUS = frozenset(CHANTYPES + _STATUS_SYMBOLS)


def client_tags(msg: Message) -> dict[str, str]:
    return {k: v for k, v in msg.tags.items() if k.startswith("+")}


def check_channel_send(channel: Channel, user: User) -> str | None:
    """Why ``user`` may not speak in ``channel``, or None."""
    member = user in channel.members
    if "n" in channel.modes and not member:
        return "Cannot send to channel (no external messages)"
    if channel.is_voiced_or_op(user):
        return None
    if "m" in channel.modes:
        return "Cannot send to channel (+m)"
    if channel.is_banned(user):
        return "Cannot send to channel (you're banned)"
    if channel.is_muted(user):
        return "Cannot send to channel (you're muted)"
    return None


def _is_blocked_ctcp(channel: Channel, text: str) -> bool:
    """+C: no CTCP to the channel except ACTION (/me)."""
    if "C" not in channel.modes or not text.startswith("\x01"):
        return False
    return text[1:].split(" ", 1)[0].rstrip("\x01").upper() != "ACTION"


def _relay(ctx: Context, msg: Message, cmd: str) -> Awaitable[None] | None:
    """Every PRIVMSG, NOTICE and TAGMSG passes here: kept lean on purpose
    (docs/performance.md, "where the time goes")."""
    user = ctx.user
    params = msg.params
    if (
        msg.tags
        and "batch" in msg.tags
        and cmd != "TAGMSG"
        and (ctx.conn.open_batch is not None or MULTILINE_CAP in ctx.conn.caps)
    ):
        collect(ctx, msg, cmd)  # a line of a draft/multiline batch
        return None
    if not params or not params[0]:
        ctx.reply(rpl.ERR_NORECIPIENT, f"No recipient given ({cmd})")
        return None
    text = ""
    if cmd != "TAGMSG":
        if len(params) < 2 or not params[1]:
            ctx.reply(rpl.ERR_NOTEXTTOSEND, "No text to send")
            return None
        text = params[1]
    tags = client_tags(msg) if msg.tags else {}
    if cmd == "TAGMSG" and not tags:
        return None
    targets = params[0].split(",")
    if len(targets) > 1:
        limit = ctx.server.config.limits.targmax
        if len(targets) > limit:
            ctx.reply(rpl.ERR_TOOMANYTARGETS, params[0], f"Too many targets (max {limit})")
            return None
        # A service command may hash a password: one line, one command, so
        # "NickServ,NickServ,..." cannot multiply the work per flood token.
        if cmd == "PRIVMSG" and any(find_service(ctx.server, t) is not None for t in targets):
            ctx.reply(rpl.ERR_TOOMANYTARGETS, params[0], "A message to a service takes one target")
            return None
    if cmd != "TAGMSG":
        user.last_active = time.time()
    pending: list[Awaitable[None]] = []
    for target in targets:
        if not target:
            continue
        if target[0] in _CHANNEL_OR_STATUS:
            name = target.lstrip(_STATUS_SYMBOLS) or target
            if is_channel_name(name):
                _to_channel(ctx, cmd, target, name, text, tags)
                continue
        result = _to_nick(ctx, cmd, target, text, tags)
        if result is not None:
            pending.append(result)
    if pending:
        return _wait_all(pending)
    return None


def _body(source: str, cmd: str, target: str, text: str) -> tuple[str, str]:
    """The relayed line without tags, and the text it carries.

    Every part is clean by construction (a registered source, a known
    target, parsed text), so no escaping. The text fitted the sender's 512
    bytes but may not with our longer prefix: then it is cut at a character
    boundary, and the cut text is what recipients and history get.
    """
    if cmd == "TAGMSG":
        return f":{source} TAGMSG {target}", text
    body = f":{source} {cmd} {target} :{text}"
    fitted = fit_body(body)
    if fitted is body:
        return body, text
    return fitted, fitted[len(body) - len(text) :]


def _to_channel(
    ctx: Context, cmd: str, target: str, name: str, text: str, tags: dict[str, str]
) -> None:
    """``target`` is as the sender wrote it: ``name`` after any status prefix."""
    user = ctx.user
    status = target[: len(target) - len(name)]
    channel = ctx.server.world.find_channel(name)
    if channel is None:
        if cmd != "NOTICE":  # no error replies to a NOTICE (RFC 2812 3.3.2)
            ctx.reply(rpl.ERR_NOSUCHCHANNEL, name, "No such channel")
        return
    reason = check_channel_send(channel, user)
    if reason is None and cmd != "TAGMSG" and _is_blocked_ctcp(channel, text):
        reason = "Cannot send CTCP to channel (+C)"
    if reason is not None:
        ctx.reply(rpl.ERR_CANNOTSENDTOCHAN, channel.name, reason)
        return
    event = Event(ctx.server.event_ids, user, tags)
    body, text = _body(user.source, cmd, target, text)
    order = ctx.server.hooks.message_order
    if not status and order and order[0].holding():
        # Delivered here in the bus's one order, as on every other node; the
        # echo then carries the command's label (its labeled response).
        conn = ctx.conn
        label = conn.sink.take_label() if "echo-message" in conn.caps else None
        later = partial(_deliver_to_channel, ctx, cmd, channel, status, body, event, label)
        order[0].hold(later)
    else:
        _deliver_to_channel(ctx, cmd, channel, status, body, event)
    delivered = Delivered(ctx.server, user, cmd, channel.name, None, text, event, status=status)
    for listener in ctx.server.hooks.delivered:
        listener(delivered)


def members_of_rank(channel: Channel, status: str) -> Iterable[User]:
    """The members a message to ``status`` + channel (``@#chan``, ``+#chan``)
    reaches: those with that rank or a higher one; all of them for '' (the
    channel's own member view, not a copy: read it before anything changes)."""
    if not status:
        return channel.members.keys()
    lowest = max(PREFIX_MODES.index(SYMBOL_TO_MODE[s]) for s in status)
    allowed = PREFIX_MODES[: lowest + 1]
    return [m for m, modes in channel.members.items() if any(p in modes for p in allowed)]


def _deliver_to_channel(
    ctx: Context,
    cmd: str,
    channel: Channel,
    status: str,
    body: str,
    event: Event,
    label: str | None = None,
) -> None:
    """To the members here (those of rank ``status`` and up, if any) and the
    sender's echoes; ``label`` tags the echo of a message that waited for
    its turn (``message_order``), its command's labeled response."""
    user = ctx.user
    recipients = [m for m in members_of_rank(channel, status) if m is not user]
    if cmd == "TAGMSG":  # only to connections that asked for tags, device by device
        recipients = [m for m in expand(recipients) if m.tag_mask & TAG_MESSAGE_TAGS]
    echoes = _echoes(ctx, cmd)
    if label is not None and ctx.conn in echoes:
        echoes.remove(ctx.conn)
        tagged = add_tag(render(body, event, ctx.conn.tag_mask), "label=" + escape_tag_value(label))
        ctx.conn.sink.write(tagged)
    recipients += echoes
    deliver_body(recipients, body, event)
    ctx.server.metrics.channel_message(cmd, len(recipients))


def _to_nick(
    ctx: Context, cmd: str, target: str, text: str, tags: dict[str, str]
) -> Awaitable[None] | None:
    server = ctx.server
    folded = fold(target)  # once, for both lookups
    service = server.hooks.services.get(folded)
    if service is not None:
        return service.handler(ctx, text) if cmd == "PRIVMSG" else None
    other = server.world.users.get(folded)
    if other is None or not other.registered:
        if cmd != "NOTICE":  # no error replies to a NOTICE (RFC 2812 3.3.2)
            ctx.reply(rpl.ERR_NOSUCHNICK, target, "No such nick/channel")
        return None
    _to_user(ctx, cmd, other, text, tags)
    return None


def _to_user(ctx: Context, cmd: str, other: User, text: str, tags: dict[str, str]) -> None:
    """Deliver to ``other`` (a registered user, perhaps the sender), the
    sender's echoes and the history; both paths of a private message end here."""
    user = ctx.user
    server = ctx.server
    body, text = _body(user.source, cmd, other.nick, text)
    # api.private_listeners, inlined: this runs for every private message
    hooks = server.hooks
    if user.history_party is None and other.history_party is None:
        listeners = hooks.delivered_between_guests
    else:
        listeners = hooks.delivered
    # (checked here first: most senders have neither, and this runs per message)
    has_echoes = "echo-message" in ctx.conn.caps or user.devices is not None
    # The message's id and time only for whoever shows its tags or keeps it:
    # between two guests without message-tags or server-time nobody does,
    # and that message skips the clock and the id counter.
    event = (
        Event(server.event_ids, user, tags)
        if listeners or has_echoes or other.tag_mask or other.devices is not None or other is user
        else None
    )
    if other is user:
        # To oneself: it arrives as anyone's message would (on every device
        # that takes it), outside the labeled response; with echo-message
        # the echo is that response.
        for conn in connections_of(user):
            if _takes(conn, cmd):
                conn.sink.write_unlabeled(render(body, event, conn.tag_mask))
        server.metrics.delivered[cmd].n += 1
    elif other.devices is not None:  # a TAGMSG only to the devices that take tags
        deliver_body([d for d in other.devices if _takes(d, cmd)], body, event)
        server.metrics.delivered[cmd].n += 1
    elif cmd != "TAGMSG" or other.tag_mask & TAG_MESSAGE_TAGS:  # _takes, inlined
        other.sink.write(render(body, event, other.tag_mask))  # deliver_one, no devices
        server.metrics.delivered[cmd].n += 1
    echoes = _echoes(ctx, cmd, to_siblings=other is not user) if has_echoes else None
    if echoes:
        deliver_body(echoes, body, event)
        server.metrics.delivered[cmd].n += 1
    if cmd == "PRIVMSG" and other.away is not None:
        ctx.reply(rpl.RPL_AWAY, other.nick, other.away)
    if listeners:
        # The tuple made directly: a named tuple's constructor is a Python
        # function, and this runs for every stored private message.
        delivered: Delivered = _new_tuple(
            Delivered, (server, user, cmd, other.nick, other, text, event, None, "")
        )
        for listener in listeners:
            listener(delivered)


def _echoes(ctx: Context, cmd: str, *, to_siblings: bool = True) -> list[User]:
    """Who gets the sender's own message back: its connection with
    echo-message, and the user's other devices whatever their caps (they
    must show what was said from this one)."""
    conn = ctx.conn
    echoes = [conn] if "echo-message" in conn.caps and _takes(conn, cmd) else []
    if to_siblings and ctx.user.devices is not None:
        echoes += [d for d in siblings(ctx.user, ctx.conn) if _takes(d, cmd)]
    return echoes


def _takes(conn: User, cmd: str) -> bool:
    return cmd != "TAGMSG" or bool(conn.tag_mask & TAG_MESSAGE_TAGS)


async def _wait_all(pending: list[Awaitable[None]]) -> None:
    for item in pending:
        await item


def _raw_private(cmd: str, ctx: Context, line: bytes) -> bool:
    """``cmd <nick> :<text>`` from a registered user to another, read
    straight from the line: most lines a server gets are this. Whatever
    this does not recognise for certain (tags, a channel, several targets,
    a service, an unknown nick, a device, a line the parser would refuse)
    it leaves to the general path, which also gives any error reply."""
    if len(line) + 2 > MAX_BODY_BYTES or ctx.user is not ctx.conn or not ctx.user.registered:
        return False
    try:
        text = line.decode()
    except UnicodeDecodeError:
        return False
    head, colon, message = text.partition(" :")
    if not colon or not message or "\0" in message or "\r" in message:
        return False
    # A nick holds no space, comma, NUL, CR or channel or status prefix
    # (casemap.valid_nick), so a target found among the users is one nick.
    folded = fold(head[len(cmd) + 1 :])
    server = ctx.server
    other = server.world.users.get(folded)
    if other is None or not other.registered or folded in server.hooks.services:
        return False
    ctx.user.last_active = time.time()
    _to_user(ctx, cmd, other, message, {})
    return True


@command("PRIVMSG", cost=1, raw=partial(_raw_private, "PRIVMSG"))
def privmsg(ctx: Context, msg: Message) -> Awaitable[None] | None:
    """PRIVMSG <target>[,<target>] :<text>: send a message."""
    return _relay(ctx, msg, "PRIVMSG")


@command("NOTICE", cost=1, raw=partial(_raw_private, "NOTICE"))
def notice(ctx: Context, msg: Message) -> None:
    """NOTICE <target>[,<target>] :<text>: a message that must not be auto-answered."""
    _relay(ctx, msg, "NOTICE")  # services never answer a NOTICE


@command("TAGMSG", cost=1)
def tagmsg(ctx: Context, msg: Message) -> None:
    """TAGMSG <target>: a message made only of client tags (typing, reactions)."""
    _relay(ctx, msg, "TAGMSG")
