"""The chathistory queries, with msgid and timestamp selectors. Ten messages
m0..m9 in #chan, one a second; noise in #other."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from hubbub.store import HistoryRecord, Store
from store.history_helpers import at, channel_message


def ids(records: list[HistoryRecord]) -> list[str]:
    return [record.msgid for record in records]


def m(*numbers: int) -> list[str]:
    return [f"m{n}" for n in numbers]


@pytest.fixture
async def history(store: Store) -> AsyncIterator[Store]:
    for n in range(10):
        store.history.append(channel_message(f"m{n}", n))
        store.history.append(channel_message(f"x{n}", n + 0.5, target="#other"))
    await store.flush()
    yield store


async def test_records_round_trip(history: Store) -> None:
    [record] = await history.history.latest("#chan", None, 1)
    assert record == channel_message("m9", 9)
    assert record.time == at(9)  # an aware UTC datetime, from the stored milliseconds
    assert record.time.utcoffset() == timedelta(0)


async def test_latest(history: Store) -> None:
    assert ids(await history.history.latest("#CHAN", None, 3)) == m(7, 8, 9)
    assert ids(await history.history.latest("#chan", "m5", 10)) == m(6, 7, 8, 9)
    assert ids(await history.history.latest("#chan", "m5", 2)) == m(8, 9)
    assert ids(await history.history.latest("#chan", at(5), 10)) == m(6, 7, 8, 9)
    assert ids(await history.history.latest("#chan", at(4.5), 10)) == m(5, 6, 7, 8, 9)


async def test_before(history: Store) -> None:
    assert ids(await history.history.before("#chan", "m5", 2)) == m(3, 4)
    assert ids(await history.history.before("#chan", at(5), 10)) == m(0, 1, 2, 3, 4)
    assert ids(await history.history.before("#chan", "m0", 10)) == []


async def test_after(history: Store) -> None:
    assert ids(await history.history.after("#chan", "m5", 2)) == m(6, 7)
    assert ids(await history.history.after("#chan", at(5), 2)) == m(6, 7)
    assert ids(await history.history.after("#chan", at(-1), 2)) == m(0, 1)


async def test_around(history: Store) -> None:
    assert ids(await history.history.around("#chan", "m5", 4)) == m(3, 4, 5, 6)
    assert ids(await history.history.around("#chan", at(5), 4)) == m(3, 4, 5, 6)
    assert ids(await history.history.around("#chan", at(4.5), 3)) == m(4, 5, 6)
    assert ids(await history.history.around("#chan", "m0", 4)) == m(0, 1, 2, 3)
    assert ids(await history.history.around("#chan", "m9", 4)) == m(7, 8, 9)


async def test_between(history: Store) -> None:
    assert ids(await history.history.between("#chan", "m2", "m7", 10)) == m(3, 4, 5, 6)
    assert ids(await history.history.between("#chan", "m2", "m7", 2)) == m(3, 4)
    assert ids(await history.history.between("#chan", "m7", "m2", 2)) == m(5, 6)
    assert ids(await history.history.between("#chan", at(2), at(7), 10)) == m(3, 4, 5, 6)
    assert ids(await history.history.between("#chan", at(7), at(2), 1)) == m(6)
    assert ids(await history.history.between("#chan", "m2", at(4.5), 10)) == m(3, 4)


async def test_unknown_or_foreign_msgid_gives_nothing(history: Store) -> None:
    assert await history.history.before("#chan", "nope", 5) == []
    assert await history.history.after("#chan", "x3", 5) == []  # x3 is in #other
    assert await history.history.latest("#chan", "nope", 5) == []
    assert await history.history.between("#chan", "m1", "nope", 5) == []
    assert await history.history.around("#chan", "x1", 5) == []


async def test_limits_and_empty_targets(history: Store) -> None:
    assert await history.history.latest("#chan", None, 0) == []
    assert await history.history.latest("#empty", None, 10) == []
    assert len(await history.history.latest("#chan", None, 100)) == 10


async def test_same_millisecond_keeps_append_order(store: Store) -> None:
    for msgid in ("a", "b", "c"):
        store.history.append(channel_message(msgid, 1))
    assert ids(await store.history.latest("#chan", None, 10)) == ["a", "b", "c"]
    assert ids(await store.history.before("#chan", "b", 10)) == ["a"]
    assert ids(await store.history.after("#chan", "b", 10)) == ["c"]
    assert ids(await store.history.around("#chan", "b", 2)) == ["a", "b"]
    assert await store.history.before("#chan", at(1), 10) == []
    assert await store.history.after("#chan", at(1), 10) == []
