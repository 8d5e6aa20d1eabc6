"""The retention job's log lines read as a person writes durations."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from hubbub.store import Store, conversation_key, run_retention
from hubbub.store.retention import human_duration
from store.history_helpers import private_message


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(days=14), "14 days"),
        (timedelta(days=1), "1 day"),
        (timedelta(hours=36), "36 hours"),
        (timedelta(minutes=15), "15 minutes"),
        (timedelta(seconds=90), "90 seconds"),
        (timedelta(seconds=1), "1 second"),
    ],
)
def test_human_duration(duration: timedelta, text: str) -> None:
    assert human_duration(duration) == text


async def test_retention_logs_the_age_and_the_count(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime.now(UTC)
    for n in range(3):
        store.history.append(private_message(f"old{n}", 0, "a", "b", when=now - timedelta(days=20)))
    store.history.append(private_message("new", 0, "a", "b", when=now))
    caplog.set_level(logging.INFO, logger="hubbub.store.retention")
    job = asyncio.create_task(
        run_retention(store.history, max_age=timedelta(days=14), max_per_target=None)
    )
    try:
        async with asyncio.timeout(5):
            while "history retention" not in caplog.text:
                await asyncio.sleep(0.01)
    finally:
        job.cancel()
    assert "history retention: older than 14 days: 3 deleted" in caplog.messages
    kept = await store.history.latest(conversation_key("a", "b"), None, 9)
    assert [r.msgid for r in kept] == ["new"]
