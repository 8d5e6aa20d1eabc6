"""draft/multiline (https://ircv3.net/specs/extensions/multiline): the
client's ``BATCH +<ref> draft/multiline <target>`` ... ``BATCH -<ref>``.

The lines in between are collected by ``multiline_lines``; at the close the
message is checked like any PRIVMSG/NOTICE (channel modes, bans, the
recipient) and delivered once: as a ``draft/multiline`` batch to recipients
with the capability, as separate lines (blank ones left out, the msgid on
the first) to the others. Each variant is serialised once per tag mask (the
fan-out rule). History keeps it as one message with one msgid, its line
composition kept so replay gives the same lines. With labeled-response and
echo-message the label rides on the echoed opening BATCH; without the echo,
an ACK carries it.
"""

from __future__ import annotations

import time
from functools import partial

from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import is_channel_name
from hubbub.protocol.message import Message, escape_tag_value, serialize_body
from hubbub.server import multiline_form
from hubbub.server.api import Context, Delivered, private_listeners
from hubbub.server.capabilities import register_capability
from hubbub.server.commands.messaging import check_channel_send, client_tags
from hubbub.server.commands.multiline_lines import expired, fail
from hubbub.server.commands.registry import command
from hubbub.server.config import Config
from hubbub.server.delivery import Event, add_tag
from hubbub.server.devices import expand, siblings
from hubbub.server.multiline_batch import OpenBatch
from hubbub.server.services import find_service
from hubbub.server.state import Channel, User

CAP = multiline_form.CAP


def _cap_value(config: Config) -> str:
    limits = config.limits
    return f"max-bytes={limits.multiline_max_bytes},max-lines={limits.multiline_max_lines}"


register_capability(CAP, config_value=_cap_value)


@command("BATCH", min_params=1)
def batch(ctx: Context, msg: Message) -> None:
    """BATCH +<ref> draft/multiline <target> | BATCH -<ref>: a multiline message."""
    reference = msg.params[0]
    conn = ctx.conn  # a batch is its connection's, not the user's devices'
    if reference[:1] == "+" and len(reference) > 1:
        _open(ctx, msg, reference[1:])
    elif reference[:1] == "-" and len(reference) > 1:
        opened = conn.open_batch
        if opened is None or opened.ref != reference[1:]:
            description = "No batch is open with that reference"
            ctx.fail("BATCH", "MULTILINE_INVALID", description=description)
            return
        conn.open_batch = None
        if opened.failed or expired(ctx, opened):
            return
        problem = opened.complete()
        if problem is not None:
            fail(ctx, opened, problem)
            return
        _deliver(ctx, opened)
    else:
        ctx.fail("BATCH", "MULTILINE_INVALID", description="Invalid batch reference")


def _open(ctx: Context, msg: Message, ref: str) -> None:
    conn = ctx.conn
    if len(msg.params) < 3 or msg.params[1] != multiline_form.BATCH_TYPE or CAP not in conn.caps:
        description = f"Only {multiline_form.BATCH_TYPE} batches with a target, after CAP REQ {CAP}"
        ctx.fail("BATCH", "MULTILINE_INVALID", description=description)
        return
    previous = conn.open_batch
    if previous is not None and not previous.failed:
        fail(ctx, previous, ("MULTILINE_INVALID", [], "A new batch opened before this one closed"))
    label = conn.sink.take_label()  # answered when the batch closes
    tags = client_tags(msg) if msg.tags else {}
    conn.open_batch = OpenBatch(ref, msg.params[2], label, tags, time.monotonic())


def _deliver(ctx: Context, opened: OpenBatch) -> None:
    user = ctx.user
    server = ctx.server
    target = opened.target
    other: User | None = None
    channel: Channel | None = None
    recipients: list[User] = []  # a channel's: its members when delivered (``_fan_out``)
    if is_channel_name(target):
        channel = server.world.find_channel(target)
        if channel is None:
            _refuse(ctx, opened, rpl.ERR_NOSUCHCHANNEL, target, "No such channel")
            return
        reason = check_channel_send(channel, user)
        if reason is not None:
            _refuse(ctx, opened, rpl.ERR_CANNOTSENDTOCHAN, channel.name, reason)
            return
        stored_target = channel.name
    else:
        if find_service(server, target) is not None:
            description = "Services take one line at a time"
            fail(ctx, opened, ("MULTILINE_INVALID_TARGET", [target, target], description))
            return
        other = server.world.find_user(target)
        if other is None or not other.registered:
            _refuse(ctx, opened, rpl.ERR_NOSUCHNICK, target, "No such nick/channel")
            return
        target = stored_target = other.nick
        recipients = [] if other is user else [other]
    event = Event(server.event_ids, user, opened.tags)
    lines = opened.lines
    form = Forms(user.source, opened.command, target, lines, event)
    conn = ctx.conn
    label = opened.label if "labeled-response" in conn.caps else None
    order = server.hooks.message_order
    if other is None and order and order[0].holding():
        # A channel message: delivered here in the bus's one order, its
        # labeled echo with it (docs/cluster.md, "Ordering").
        if label is not None and "echo-message" not in conn.caps:
            _ack(ctx, label)
        order[0].hold(partial(_fan_out, ctx, opened.command, channel, form, label, []))
    else:
        _fan_out(ctx, opened.command, channel, form, label, recipients, other is user)
        if label is not None and "echo-message" not in conn.caps and other is not user:
            _ack(ctx, label)
    if other is not None and opened.command == "PRIVMSG" and other.away is not None:
        ctx.reply(rpl.RPL_AWAY, other.nick, other.away)
    stored_tags = {**opened.tags, multiline_form.COMPOSITION_KEY: multiline_form.composition(lines)}
    text = multiline_form.combine(lines)
    delivered = Delivered(
        server, user, opened.command, stored_target, other, text, event, stored_tags
    )
    listeners = (
        server.hooks.delivered if other is None else private_listeners(server.hooks, user, other)
    )
    for listener in listeners:
        listener(delivered)


def _refuse(ctx: Context, opened: OpenBatch, numeric: str, *params: str) -> None:
    """The numeric a PRIVMSG would get, labeled with the opening BATCH's label."""
    line = (serialize_body(ctx.server.name, numeric, [ctx.nick, *params]) + "\r\n").encode()
    if opened.label is not None:
        line = add_tag(line, "label=" + escape_tag_value(opened.label))
    ctx.conn.send(line)


class Forms:
    """The message's lines per (tag mask, multiline or not), built once each
    (also by a cluster node delivering another node's multiline message)."""

    __slots__ = ("_cache", "_command", "_event", "_lines", "_source", "_target")

    def __init__(
        self,
        source: str,
        command: str,
        target: str,
        lines: list[multiline_form.Line],
        event: Event,
    ) -> None:
        self._source = source
        self._command = command
        self._target = target
        self._lines = lines
        self._event = event
        self._cache: dict[tuple[int, bool], list[bytes]] = {}

    def lines_for(self, user: User) -> list[bytes]:
        mask = user.tag_mask
        whole = multiline_form.CAP in user.caps and "batch" in user.caps
        cached = self._cache.get((mask, whole))
        if cached is None:
            event = self._event
            args = (self._source, self._command, self._target, self._lines)
            if whole:
                cached = multiline_form.batch_form(*args, event.tags(mask))
            else:
                cached = multiline_form.fallback_form(
                    *args, event.tags(mask), event.tags(mask, msgid=False)
                )
            self._cache[(mask, whole)] = cached
        return list(cached)


def _fan_out(
    ctx: Context,
    command: str,
    channel: Channel | None,
    form: Forms,
    label: str | None,
    recipients: list[User],
    to_self: bool = False,
) -> None:
    """The message to ``channel``'s members here (or to ``recipients``), the
    user's other devices, and its echo (labeled, with ``label``)."""
    user = ctx.user
    conn = ctx.conn
    if channel is not None:
        recipients = [m for m in channel.members if m is not user]
    # the user's other devices see what was said from this one
    for recipient in [*expand(recipients), *siblings(user, conn)]:
        for line in form.lines_for(recipient):
            recipient.sink.write(line)
    if "echo-message" in conn.caps or to_self:
        echo = form.lines_for(conn)
        if label is not None:
            echo[0] = add_tag(echo[0], "label=" + escape_tag_value(label))
        for line in echo:
            conn.send(line)
    ctx.server.metrics.channel_message(command, len(recipients))


def _ack(ctx: Context, label: str) -> None:
    ack = (serialize_body(ctx.server.name, "ACK", []) + "\r\n").encode()
    ctx.conn.send(add_tag(ack, "label=" + escape_tag_value(label)))
