"""Without sockets: what a node keeps of the bans and accounts it hears of
while it reloads them from PostgreSQL (cluster/catch_up.py), the ban
events' fields, and the in-memory ban list the events change."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from hubbub.server.cluster import catch_up
from hubbub.server.cluster.bans_sync import describe, from_event
from hubbub.server.cluster.catch_up import CatchUp
from hubbub.server.commands.serverbans import BanList
from hubbub.store import ServerBan


class Names:
    """A key -> present table reloaded from a 'database' the test controls:
    what ``load_names`` or the ban list do, without the database. Each read
    takes its snapshot when it starts and waits for the test to answer it."""

    def __init__(self) -> None:
        self.memory: dict[str, bool] = {}
        self.database: dict[str, bool] = {}
        self.reads: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()
        self.catch_up = CatchUp("names", self.reload, self.apply)

    async def reload(self) -> None:
        snapshot = dict(self.database)  # the query runs now...
        answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self.reads.put(answered)
        await answered  # ...and its rows arrive when the test says
        self.memory = snapshot

    async def answer(self, error: BaseException | None = None) -> None:
        """Let the read under way return (or fail with ``error``)."""
        answered = await self.reads.get()
        if error is None:
            answered.set_result(None)
        else:
            answered.set_exception(error)

    def apply(self, event: dict[str, Any]) -> None:
        self.memory[event["name"]] = not event.get("gone")

    async def start(self) -> asyncio.Task[None]:
        assert self.catch_up.wanted()
        task = asyncio.create_task(self.catch_up.run())
        while self.reads.empty():  # the read has taken its snapshot
            await asyncio.sleep(0)
        return task


async def test_an_event_heard_during_a_read_is_applied_again_on_top_of_it() -> None:
    names = Names()
    names.database = {"old": True}
    task = await names.start()
    # written after the query ran: the read will not have it
    names.database["alice"] = True
    names.catch_up.heard({"name": "alice"})
    names.catch_up.noted({"name": "bob"})  # made on this node meanwhile
    names.memory["bob"] = True
    names.catch_up.heard({"name": "old", "gone": 1})
    assert names.memory == {"alice": True, "bob": True, "old": False}
    await names.answer()
    await task
    assert names.memory == {"old": False, "alice": True, "bob": True}
    assert not names.catch_up.running
    names.catch_up.heard({"name": "carol"})  # no read under way: applied once, not kept
    assert names.memory["carol"]


async def test_subscribing_again_during_a_read_reads_again() -> None:
    names = Names()
    task = await names.start()
    assert not names.catch_up.wanted()  # one read at a time
    names.database["late"] = True  # written while the first read was under way
    await names.answer()
    await names.answer()  # the second read
    await task
    assert names.catch_up.reloads == 2
    assert names.memory == {"late": True}


async def test_too_many_events_during_a_read_make_it_read_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(catch_up, "SEEN_MAX", 2)
    names = Names()
    task = await names.start()
    for name in ("a", "b", "c"):  # the third is past the bound: kept no more
        names.database[name] = True
        names.catch_up.heard({"name": name})
    await names.answer()
    while names.reads.empty():  # read again: the rows are in the database now
        await asyncio.sleep(0)
    names.catch_up.heard({"name": "d"})
    await names.answer()
    await task
    assert names.catch_up.reloads == 2
    assert names.memory == {"a": True, "b": True, "c": True, "d": True}


async def test_a_read_that_fails_is_logged_and_ends(caplog: pytest.LogCaptureFixture) -> None:
    names = Names()
    names.memory = {"kept": True}
    task = await names.start()
    names.catch_up.heard({"name": "heard"})
    with caplog.at_level(logging.WARNING):
        await names.answer(OperationalError("SELECT", {}, OSError("connection refused")))
        await task
    assert "could not reload names" in caplog.text
    assert names.memory == {"kept": True, "heard": True}  # what it knew stays
    assert not names.catch_up.running and names.catch_up.wanted()


def test_a_ban_crosses_as_it_was_stored() -> None:
    set_at = datetime(2026, 11, 30, 12, 0, 0, 123000, tzinfo=UTC)
    ban = ServerBan(
        "K", "~spam@*.example", "spamming", "admin", set_at, set_at + timedelta(hours=1)
    )
    assert from_event({"t": "ban", **describe(ban)}) == ban
    forever = ServerBan("D", "192.0.2.0/24", "docs", "admin", set_at, None)
    assert from_event({"t": "ban", **describe(forever)}) == forever
    with pytest.raises(ValueError):
        from_event({**describe(ban), "k": "X"})


def test_the_ban_list_forgets_a_mask_as_an_operator_typed_it() -> None:
    now = datetime.now(UTC)
    bans = BanList()
    assert [b.mask for b in bans.load([ServerBan("K", "~A@host", "r", "op", now, None)])] == [
        "~A@host"
    ]
    bans.add(ServerBan("D", "10.0.0.0/8", "r", "op", now, None))
    assert [
        b.mask
        for b in bans.load(
            [
                ServerBan("K", "~A@host", "r", "op", now, None),
                ServerBan("D", "10.0.0.0/8", "r", "op", now, None),
                ServerBan("D", "192.0.2.1/32", "r", "op", now, None),
            ]
        )
    ] == ["192.0.2.1/32"]  # only what it did not hold
    assert bans.remove("K", "~a@HOST")
    assert bans.remove("D", "10.1.2.3/8")  # the same range, written another way
    assert bans.remove("D", "192.0.2.1")
    assert not bans.remove("D", "not an address")
    assert bans.bans == {}
