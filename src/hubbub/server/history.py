"""Message history: what is stored, how a stored message is replayed, and the
jobs around it.

* every channel and private PRIVMSG/NOTICE (and TAGMSG carrying client tags)
  is appended to the store's history as it is delivered. ``append`` only
  buffers; the store writes batches in the background, so the message path
  never waits for the disk;
* with ``[history] autoreplay_lines`` > 0, a client that did not ask for
  ``draft/chathistory`` gets the last lines of a channel when it joins;
* a retention job applies ``max_age`` and ``max_messages_per_target``;
* an unregistered channel's history lives as long as the channel: when it
  empties, its history is deleted (ordered after its buffered messages),
  and at start the history of every unregistered channel is, so whoever
  creates the channel next reads none of it. Registered channels keep
  theirs. Private history is only for logged-in users, keyed by account id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

from hubbub.protocol.message import escape_tag_value, serialize_body
from hubbub.server.api import Context, Delivered
from hubbub.server.commands.chanserv_channels import registration
from hubbub.server.delivery import TAG_ACCOUNT, TAG_MESSAGE_TAGS, TAG_TIME
from hubbub.server.logtext import for_log
from hubbub.server.state import Channel, User
from hubbub.store import HistoryCommand, HistoryRecord, run_retention

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

log = logging.getLogger(__name__)

# Commands replayed to clients without draft/event-playback (the spec allows
# only these two in a chathistory batch).
REPLAYED = frozenset(("PRIVMSG", "NOTICE"))


def format_server_time(when: datetime) -> str:
    """The server-time form of ``when`` (UTC, milliseconds)."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def record_delivery(delivered: Delivered) -> None:
    """The ``delivered`` hook: append one delivered message to the history.
    Runs for every message relayed, so it builds the record and nothing more
    (docs/performance.md, "History on vs off")."""
    server = delivered.server
    if not server.config.history.enabled:
        return
    event = delivered.event
    command = delivered.command
    if command == "TAGMSG" and not event.client_tags:
        return
    sender = delivered.sender
    recipient = delivered.recipient
    parties = None
    if recipient is not None:
        # Guests are known by nick; two guests' messages nobody may read back.
        mine, theirs = sender.history_party, recipient.history_party
        if mine is None and theirs is None:
            return
        parties = (mine or sender.folded, theirs or recipient.folded)
    record = HistoryRecord(
        event.msgid,
        int(event.at * 1000),
        sender.source,
        sender.account,
        delivered.target,
        cast(HistoryCommand, command),
        delivered.text,
        event.client_tags,
        parties,
    )
    try:
        server.store.history.append(record)
    except RuntimeError:  # the store is closing: the server is going down
        log.debug("history: message %s not stored, store closed", event.msgid)


def history_line(record: HistoryRecord, mask: int, batch: str | None = None) -> bytes:
    """A stored message as the line a client with tag mask ``mask`` gets."""
    tags: list[str] = []
    if batch is not None:
        tags.append("batch=" + batch)
    if mask & TAG_MESSAGE_TAGS:
        tags.append("msgid=" + record.msgid)
        for key, value in record.tags.items():
            tags.append(f"{key}={escape_tag_value(value)}" if value else key)
    if mask & TAG_TIME:
        tags.append("time=" + format_server_time(record.time))
    if mask & TAG_ACCOUNT and record.account:
        tags.append("account=" + escape_tag_value(record.account))
    params = [record.target] if record.command == "TAGMSG" else [record.target, record.text]
    body = serialize_body(record.sender, record.command, params)
    prefix = "@" + ";".join(tags) + " " if tags else ""
    return (prefix + body + "\r\n").encode()


async def send_paced(user: User, lines: Iterable[bytes], budget: int) -> None:
    """Queue ``lines`` to ``user`` a ``budget`` of bytes at a time, waiting
    for the connection to pass each part on, so a long history reply never
    trips the send-queue limit."""
    sink = user.sink
    buffered = getattr(sink, "buffered", None)
    pending = 0
    for line in lines:
        user.send(line)
        pending += len(line)
        if pending < budget:
            continue
        pending = 0
        await asyncio.sleep(0)  # the connection flushes on the next loop pass
        while buffered is not None and buffered() > budget:
            if getattr(sink, "closed", False):
                return
            await asyncio.sleep(0.005)


# --- autoreplay on JOIN --------------------------------------------------------
def _autoreplay(ctx: Context, channel: Channel, created: bool) -> None:
    settings = ctx.server.config.history
    lines = settings.autoreplay_lines
    if lines <= 0 or not settings.enabled or "draft/chathistory" in ctx.user.caps:
        return
    joined_at = datetime.now(UTC)
    ctx.server.spawn(_replay(ctx.server, ctx.user, channel, lines, joined_at))


async def _replay(
    server: ServerApi, user: User, channel: Channel, lines: int, at: datetime
) -> None:
    try:
        records = await server.store.history.before(channel.name, at, lines)
    except Exception:
        log.exception("history: autoreplay of %s failed", for_log(channel.name))
        return
    if user not in channel.members:
        return
    for record in records:
        if record.command in REPLAYED:
            user.send(history_line(record, user.tag_mask))


# --- retention -----------------------------------------------------------------
async def _start_retention(server: ServerApi) -> None:
    settings = server.config.history
    max_age = settings.max_age_seconds
    max_per_target = settings.max_messages_per_target or None
    if max_age is None and max_per_target is None:
        return
    server.spawn(
        run_retention(
            server.store.history,
            max_age=timedelta(seconds=max_age) if max_age is not None else None,
            max_per_target=max_per_target,
            interval=settings.retention_interval,
        )
    )


# --- channel lifetime ------------------------------------------------------------
async def _scope_channel_history(server: ServerApi) -> None:
    """Forget the history of channels that are not registered, now and
    whenever one empties. A channel that exists at start (always-on users
    were put back in it) keeps its past."""
    registered = [reg.name for reg in await server.store.channels.list()]
    existing = [channel.name for channel in server.world.channels.values()]
    forgotten = await server.store.history.forget_channels_except(registered + existing)
    if forgotten:
        log.info("history: forgot the history of %d unregistered channel(s)", forgotten)

    def emptied(channel: Channel) -> None:
        # At stop every channel empties; the next start forgets them all in
        # one statement instead of a delete per channel on the way down.
        if server.stopping or registration(server, channel.name) is not None:
            return
        server.store.history.forget(channel.name)

    server.world.channel_removed.append(emptied)


def install(server: ServerApi) -> None:
    """History: record every delivery, replay on JOIN, keep it scoped and pruned."""
    hooks = server.hooks
    hooks.delivered.append(record_delivery)
    hooks.startup.append(_scope_channel_history)
    hooks.joined.append(_autoreplay)
    hooks.startup.append(_start_retention)
