"""Message history: what is stored, how a stored message is replayed, and the
jobs around it.

* every channel and private PRIVMSG/NOTICE (and TAGMSG carrying client tags
  other than typing notifications) is appended to the store's history as it
  is delivered, a multiline batch as one message; channel events (JOIN,
  PART, KICK, QUIT, NICK, TOPIC, MODE) too, replayed only to clients with
  ``draft/event-playback``. ``append`` only
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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from hubbub.protocol.msgid import msgid as msgid_of
from hubbub.server.api import ChannelEvent, Context, Delivered
from hubbub.server.commands.chanserv_channels import registration
from hubbub.server.delivery import boundary_ms
from hubbub.server.history_lines import event_text, replay
from hubbub.server.logtext import for_log
from hubbub.server.state import Channel, User
from hubbub.store import HistoryCommand, HistoryRecord, run_retention
from hubbub.store.timeutil import from_ms

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

log = logging.getLogger(__name__)

# Client tags that only matter live (typing notifications): a TAGMSG
# carrying nothing else is relayed but not stored.
TRANSIENT_TAGS = frozenset(("+typing", "+draft/typing"))

_new_record = tuple.__new__


def record_delivery(delivered: Delivered) -> None:
    """The ``delivered`` hook: append one delivered message to the history.
    Runs for every message relayed, so it builds the record and nothing more
    (docs/performance.md, "History on vs off")."""
    server = delivered.server
    if not server.config.history.enabled:
        return
    if delivered.status:  # to ops (or voiced) only: not the channel's history
        return
    event = delivered.event
    command = delivered.command
    if command == "TAGMSG" and TRANSIENT_TAGS.issuperset(event.client_tags):
        return
    sender = delivered.sender
    recipient = delivered.recipient
    parties = None
    if recipient is not None:
        # A guest is filed by nick. Two guests' messages, which nobody could
        # read back, never come here (api.private_listeners).
        parties = (
            sender.history_party or sender.folded,
            recipient.history_party or recipient.folded,
        )
    # tuple.__new__ rather than HistoryRecord(...): the named tuple's own
    # constructor is a Python function, a sixth of this hook's time under
    # a stored private-message load (py-spy). The fields in their order:
    record: HistoryRecord = _new_record(
        HistoryRecord,
        (
            event.msgid,
            int(event.at * 1000),
            sender.source,
            sender.account,
            delivered.target,
            command,
            delivered.text,
            delivered.stored_tags or event.client_tags,
            parties,
            event.id,
        ),
    )
    try:
        server.store.history.append(record)
    except RuntimeError:  # the store is closing: the server is going down
        log.debug("history: message %s not stored, store closed", event.msgid)


def record_event(happened: ChannelEvent) -> None:
    """The ``channel_event`` hook: store a JOIN, PART, KICK, QUIT, NICK,
    TOPIC or MODE for draft/event-playback. One record per channel; msgids
    are unique in the store, so a QUIT or NICK seen in several channels is
    filed under the event's msgid in the first and under a new id of this
    server's in each of the others (an id drawn now, so that it sorts after
    what the channel stored before it)."""
    server = happened.server
    if not server.config.history.enabled:
        return
    event = happened.event
    time_ms = int(event.at * 1000)
    text = event_text(happened.params)
    command = cast(HistoryCommand, happened.command)
    try:
        for index, channel in enumerate(happened.channels):
            if index == 0:
                msgid, row_id = event.msgid, event.id
            else:
                row_id = next(server.event_ids)
                msgid = msgid_of(row_id)
            server.store.history.append(
                HistoryRecord(
                    msgid,
                    time_ms,
                    happened.source,
                    event.account,
                    channel.name,
                    command,
                    text,
                    row_id=row_id,
                )
            )
    except RuntimeError:  # the store is closing: the server is going down
        log.debug("history: event %s not stored, store closed", event.msgid)


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
    if lines <= 0 or not settings.enabled or "draft/chathistory" in ctx.conn.caps:
        return
    # up to and including this ms: what was said before the JOIN, exactly
    joined_at = from_ms(boundary_ms() + 1)
    ctx.server.spawn(_replay(ctx.server, ctx.user, ctx.conn, channel, lines, joined_at))


async def _replay(
    server: ServerApi, user: User, conn: User, channel: Channel, lines: int, at: datetime
) -> None:
    """The last ``lines`` of ``channel`` to the connection that joined it
    (``conn``: one device of a user several share), as that connection
    asked for them; nothing if ``user`` left the channel meanwhile."""
    try:
        records = await server.store.history.before(channel.name, at, lines, messages_only=True)
    except Exception:
        log.exception("history: autoreplay of %s failed", for_log(channel.name))
        return
    if user not in channel.members:
        return
    for line in replay(records, conn, None):
        conn.send(line)


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
    # In a cluster the channels live on other nodes too: none is forgotten at start.
    if server.config.cluster.node is None:
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


def _follow_rename(server: ServerApi, channel: Channel, old: str) -> None:
    """A renamed channel keeps its history (RENAME)."""
    server.spawn(server.store.history.rename_target(old, channel.name))


def install(server: ServerApi) -> None:
    """History: record every delivery, replay on JOIN, keep it scoped and pruned."""
    hooks = server.hooks
    hooks.delivered.append(record_delivery)
    hooks.channel_event.append(record_event)
    hooks.startup.append(_scope_channel_history)
    hooks.joined.append(_autoreplay)
    hooks.channel_renamed.append(_follow_rename)
    hooks.startup.append(_start_retention)
