"""The periodic retention job the server runs next to the store, so history
does not grow without bound."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from hubbub.store.interface import HistoryStore

log = logging.getLogger(__name__)

# Largest unit first; a duration is named in the largest unit that divides it.
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def human_duration(duration: timedelta) -> str:
    """``timedelta(days=14)`` -> ``"14 days"``, for log lines a person reads
    (``str(timedelta)`` gives ``"14 days, 0:00:00"``)."""
    seconds = round(duration.total_seconds())
    for name, size in _UNITS:
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {name}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


async def run_retention(
    history: HistoryStore,
    *,
    max_age: timedelta | None,
    max_per_target: int | None,
    interval: float = 3600.0,
) -> None:
    """Apply the limits now and then every ``interval`` seconds until
    cancelled. A failed pass is logged and retried at the next interval."""
    while True:
        try:
            if max_age is not None:
                aged = await history.delete_older_than(max_age)
                log.info(
                    "history retention: older than %s: %d deleted", human_duration(max_age), aged
                )
            if max_per_target is not None:
                trimmed = await history.trim_per_target(max_per_target)
                log.info(
                    "history retention: over %d per target: %d deleted", max_per_target, trimmed
                )
        except Exception:
            log.exception("history retention pass failed")
        await asyncio.sleep(interval)
