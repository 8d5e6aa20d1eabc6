"""The periodic retention job the server runs next to the store, so history
does not grow without bound."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from hubbub.store.interface import HistoryStore

log = logging.getLogger(__name__)


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
                log.info("history retention: %d messages older than %s deleted", aged, max_age)
            if max_per_target is not None:
                trimmed = await history.trim_per_target(max_per_target)
                log.info(
                    "history retention: %d messages over %d per target deleted",
                    trimmed,
                    max_per_target,
                )
        except Exception:
            log.exception("history retention pass failed")
        await asyncio.sleep(interval)
