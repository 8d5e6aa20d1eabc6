"""A stored history record as the lines one client gets back.

Used by CHATHISTORY and the JOIN autoreplay. A record is a message
(PRIVMSG, NOTICE, TAGMSG), possibly a multiline one (its line composition
stored under ``multiline_form.COMPOSITION_KEY``), or a channel event for
draft/event-playback, whose parameters are stored as a JSON list.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from hubbub.protocol.message import escape_tag_value, serialize_body
from hubbub.server import multiline_form
from hubbub.server.delivery import TAG_ACCOUNT, TAG_MESSAGE_TAGS, TAG_TIME
from hubbub.server.state import User
from hubbub.store import MESSAGE_COMMANDS, HistoryRecord

EVENT_PLAYBACK_CAP = "draft/event-playback"


def format_server_time(when: datetime) -> str:
    """The server-time form of ``when`` (UTC, milliseconds)."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def event_text(params: list[str]) -> str:
    """How a channel event's parameters are stored (``HistoryRecord.text``)."""
    return json.dumps(params, separators=(",", ":"))


def _tags(record: HistoryRecord, mask: int, *, msgid: bool = True) -> list[str]:
    tags: list[str] = []
    if mask & TAG_MESSAGE_TAGS:
        if msgid:
            tags.append("msgid=" + record.msgid)
        for key, value in record.tags.items():
            if key.startswith("+"):
                tags.append(f"{key}={escape_tag_value(value)}" if value else key)
    if mask & TAG_TIME:
        tags.append("time=" + format_server_time(record.time))
    if mask & TAG_ACCOUNT and record.account:
        tags.append("account=" + escape_tag_value(record.account))
    return tags


def _params(record: HistoryRecord, user: User) -> list[str]:
    command = record.command
    if command == "TAGMSG":
        return [record.target]
    if command in MESSAGE_COMMANDS:
        return [record.target, record.text]
    try:
        params = [str(param) for param in json.loads(record.text)]
    except (ValueError, TypeError):
        params = [record.target]
    if command == "JOIN" and "extended-join" not in user.caps:
        params = params[:1]
    return params


def history_lines(record: HistoryRecord, user: User, batch: str | None = None) -> list[bytes]:
    """``record`` as ``user`` gets it, inside ``batch`` if given."""
    mask = user.tag_mask
    layout = record.tags.get(multiline_form.COMPOSITION_KEY)
    if layout is not None and record.command in MESSAGE_COMMANDS:
        lines = multiline_form.split(record.text, layout)
        if lines is not None:
            return _multiline(record, user, lines, batch)
    tags = _tags(record, mask)
    if batch is not None:
        tags.insert(0, "batch=" + batch)
    body = serialize_body(record.sender, record.command, _params(record, user))
    prefix = "@" + ";".join(tags) + " " if tags else ""
    return [(prefix + body + "\r\n").encode()]


def _multiline(
    record: HistoryRecord, user: User, lines: list[multiline_form.Line], batch: str | None
) -> list[bytes]:
    mask = user.tag_mask
    args = (record.sender, record.command, record.target, lines)
    if multiline_form.CAP in user.caps and "batch" in user.caps:
        return multiline_form.batch_form(*args, _tags(record, mask), outer=batch)
    return multiline_form.fallback_form(
        *args, _tags(record, mask), _tags(record, mask, msgid=False), outer=batch
    )


def replay(records: Iterable[HistoryRecord], user: User, batch: str | None) -> Iterator[bytes]:
    """Every line of ``records`` as ``user`` gets them."""
    for record in records:
        yield from history_lines(record, user, batch)
