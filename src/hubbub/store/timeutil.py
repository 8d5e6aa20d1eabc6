"""Times are kept as integer milliseconds since the epoch (UTC) in the database:
portable across SQLite and PostgreSQL, sortable, and exactly the precision of
IRCv3 server-time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def utcnow() -> datetime:
    """Now, truncated to milliseconds so it round-trips through the database."""
    return from_ms(to_ms(datetime.now(UTC)))


def to_ms(when: datetime) -> int:
    """Milliseconds since the epoch, exact integer arithmetic; naive means UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - _EPOCH) // _MILLISECOND


def from_ms(ms: int) -> datetime:
    """An aware UTC datetime from milliseconds since the epoch."""
    return _EPOCH + timedelta(milliseconds=ms)
