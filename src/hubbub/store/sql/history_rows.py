"""The row-level pieces of the history queries: record <-> row, the
conditions on (time, id) positions, on the kind of line stored and on a
msgid (derived from the row id, or stored as text: protocol/msgid.py)."""

from __future__ import annotations

import json
from typing import Any, cast

from sqlalchemy import ColumnElement, tuple_

from hubbub.protocol.msgid import msgid as derived_msgid
from hubbub.protocol.msgid import row_id
from hubbub.store.keys import conversation_key, name_key
from hubbub.store.records import MESSAGE_COMMANDS, HistoryCommand, HistoryRecord
from hubbub.store.schema import history

Position = tuple[int, int]


def kinds(messages_only: bool) -> tuple[ColumnElement[bool], ...]:
    return (history.c.command.in_(MESSAGE_COMMANDS),) if messages_only else ()


def before(position: Position) -> ColumnElement[bool]:
    return tuple_(history.c.time_ms, history.c.id) < tuple_(*position)


def after(position: Position) -> ColumnElement[bool]:
    return tuple_(history.c.time_ms, history.c.id) > tuple_(*position)


def from_(position: Position) -> ColumnElement[bool]:
    return tuple_(history.c.time_ms, history.c.id) >= tuple_(*position)


def is_message(msgid: str) -> ColumnElement[bool]:
    """The row of ``msgid``: by its id if derived, else by the stored text."""
    derived = row_id(msgid)
    return history.c.msgid == msgid if derived is None else history.c.id == derived


def row(record: HistoryRecord) -> dict[str, Any]:
    """``id`` is None when the msgid is not derived: the database picks one."""
    parties = record.parties
    msgid = record.msgid
    derived = record.row_id
    if derived is None:
        derived = row_id(msgid)
    return {
        "id": derived,
        "msgid": msgid if derived is None else None,
        "target_key": conversation_key(*parties) if parties else name_key(record.target),
        "target": record.target,
        "time_ms": record.time_ms,
        "sender": record.sender,
        "account": record.account,
        "command": record.command,
        "text": record.text,
        "tags": json.dumps(dict(record.tags), separators=(",", ":")),
        "party_a": name_key(parties[0]) if parties else None,
        "party_b": name_key(parties[1]) if parties else None,
    }


def record(row: Any) -> HistoryRecord:
    parties = None if row.party_a is None else (row.party_a, row.party_b)
    return HistoryRecord(
        msgid=derived_msgid(row.id) if row.msgid is None else row.msgid,
        time_ms=row.time_ms,
        sender=row.sender,
        account=row.account,
        target=row.target,
        command=cast(HistoryCommand, row.command),
        text=row.text,
        tags=json.loads(row.tags),
        parties=parties,
    )
