"""Building history records for the tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubbub.store import HistoryRecord
from hubbub.store.timeutil import to_ms

BASE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(second: float) -> datetime:
    return BASE + timedelta(seconds=second)


def channel_message(
    msgid: str, second: float, target: str = "#chan", text: str | None = None
) -> HistoryRecord:
    return HistoryRecord(
        msgid=msgid,
        time_ms=to_ms(at(second)),
        sender="alice!a@host.example",
        account="Alice",
        target=target,
        command="PRIVMSG",
        text=text or f"message {msgid}",
        tags={"+draft/reply": "abc"},
    )


def private_message(
    msgid: str, second: float, sender: str, recipient: str, when: datetime | None = None
) -> HistoryRecord:
    return HistoryRecord(
        msgid=msgid,
        time_ms=to_ms(when or at(second)),
        sender=f"{sender}!u@host",
        account=None,
        target=recipient,
        command="PRIVMSG",
        text=f"{sender} to {recipient}",
        parties=(sender.lower(), recipient.lower()),
    )
