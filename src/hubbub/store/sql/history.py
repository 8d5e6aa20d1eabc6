"""Message history: batched appends and the IRCv3 chathistory queries.

Messages are ordered by (time, row id): the id breaks ties between messages
of the same millisecond in the order they were appended. Private messages are
filed under ``conversation_key(sender, recipient)`` and carry both party keys,
so either party, and nobody else, can ask for them.

``forget`` deletes a target's history through the same buffer the messages
go through, so it removes exactly what was appended before it: a channel
re-created a moment later keeps its first messages. ``redact`` deletes one
message the same way, so a message still in the buffer is deleted too.

Queries with ``messages_only`` return PRIVMSG and NOTICE only: what a client
without draft/event-playback may be replayed (the limit counts only those)."""

from __future__ import annotations

import asyncio
import builtins
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hubbub.protocol.msgid import LAST_BOOT
from hubbub.store.batching import BatchWriter
from hubbub.store.errors import StoreError
from hubbub.store.keys import (
    history_key,
    name_key,
    other_party,
    party_account_id,
)
from hubbub.store.records import MESSAGE_COMMANDS, HistoryRecord, HistoryTarget, Selector
from hubbub.store.schema import accounts, boots, history, history_parties
from hubbub.store.sql import history_postgresql
from hubbub.store.sql import history_rows as hr
from hubbub.store.sql.uncancellable import uncancellable
from hubbub.store.sql.writer_link import (
    WriterLink,
    encode_forget,
    encode_record,
    encode_redact,
)
from hubbub.store.timeutil import from_ms, to_ms, utcnow
from hubbub.store.writer_process import RESET_PARTIES

log = logging.getLogger(__name__)

_ID_MAX = 2**62
# Batches sent to the writer process before the first is acknowledged. The
# server reads a reply only between two turns of its loop, and under load
# a turn lasts up to a few hundred milliseconds (a thousand clients' reads):
# with one batch the writer waited out each turn, with 2 or 8 it was still
# idle more than half the time. 20 full batches are the default bound
# (buffer_max) anyway, so the bound, not this, is what limits them.
WRITER_DEPTH = 20
# What makes a target's "latest message" for TARGETS: messages, not events.
_TARGET_KINDS = (*MESSAGE_COMMANDS, "TAGMSG")


@dataclass(frozen=True, slots=True)
class _Bounds:
    """Where a selector sits: messages strictly before it are < ``low``,
    strictly after it are > ``high``. Equal for a msgid; for a timestamp they
    bracket every message of that millisecond."""

    low: hr.Position
    high: hr.Position


@dataclass(frozen=True, slots=True)
class _Forget:
    """A request in the write buffer: delete the history of ``key``."""

    key: str


@dataclass(frozen=True, slots=True)
class _Redact:
    """A request in the write buffer: delete the message ``msgid``."""

    msgid: str


@dataclass(frozen=True, slots=True)
class _ResetParties:
    """A request in the write buffer: retention may have deleted parties, so
    the writer must write every pair again when it next sees it."""


_RESET_PARTIES = _ResetParties()
# In the write buffer: these for PostgreSQL; for the SQLite writer process,
# each already encoded for it (a str: writer_link.encode_record, ...).
_Item = HistoryRecord | _Forget | _Redact | _ResetParties | str


@uncancellable
class SqlHistory:
    def __init__(
        self,
        engine: AsyncEngine,
        flush_interval: float,
        flush_max: int,
        buffer_max: int,
        *,
        writer_process: bool = True,
    ) -> None:
        """``writer_process`` False: SQLite too is written through SQLAlchemy,
        as PostgreSQL is (tests compare the two paths)."""
        self._engine = engine
        database = engine.url.database
        self._link: WriterLink | None = None
        if engine.dialect.name == "sqlite" and writer_process:
            if not database:
                raise StoreError("history on SQLite needs a database file")
            self._link = WriterLink(database)
        self._buffer: BatchWriter[_Item] = BatchWriter(
            self._write,
            flush_interval,
            flush_max,
            buffer_max,
            depth=WRITER_DEPTH if self._link is not None else 1,
        )
        self.writer_stats = self._buffer.stats  # read by metrics and /healthz
        # Asked before every line a client sends: the buffer's own method.
        self.congested: Callable[[], bool] = self._buffer.congested
        self.append: Callable[[HistoryRecord], None] = self._buffer.append
        self._forget_item: Callable[[str], _Item] = _Forget
        self._redact_item: Callable[[str], _Item] = _Redact
        self._reset_item: _Item = _RESET_PARTIES
        if self._link is not None:
            buffer_append = self._buffer.append

            def append_encoded(record: HistoryRecord) -> None:
                buffer_append(encode_record(record))

            self.append = append_encoded
            self._forget_item, self._redact_item = encode_forget, encode_redact
            self._reset_item = RESET_PARTIES

    def start(self) -> None:
        self._buffer.start()

    async def flush(self) -> None:
        await self._buffer.flush()

    def call_when_drained(self, callback: Callable[[], None]) -> None:
        self._buffer.call_when_drained(callback)

    @property
    def buffer(self) -> BatchWriter[_Item]:
        """The write buffer, for its bound and counters."""
        return self._buffer

    @property
    def writer(self) -> WriterLink | None:
        """The writer process's link (SQLite), for tests that kill it."""
        return self._link

    def forget(self, target: str) -> None:
        """Delete the history of ``target`` (a channel name) appended so far;
        queued, so it is ordered after buffered messages and before later ones."""
        self._buffer.append(self._forget_item(name_key(target)))

    def redact(self, msgid: str) -> None:
        """Delete one message; queued like ``forget``."""
        self._buffer.append(self._redact_item(msgid))

    async def start_boot(self) -> int:
        """A new boot number, never handed out before by this database."""
        async with self._engine.begin() as conn:
            query = insert(boots).values(started_at=to_ms(utcnow())).returning(boots.c.id)
            boot = int((await conn.execute(query)).scalar_one())
        if boot > LAST_BOOT:
            raise StoreError(f"boot number {boot} is past the last one, {LAST_BOOT}")
        return boot

    async def find(self, msgid: str) -> HistoryRecord | None:
        """The stored message ``msgid`` (buffered ones included), or None."""
        await self.flush()
        query = select(history).where(hr.is_message(msgid))
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else hr.record(row)

    async def rename_target(self, channel: str, new: str) -> None:
        await self.flush()
        async with self._engine.begin() as conn:
            await conn.execute(
                update(history)
                .where(history.c.target_key == name_key(channel))
                .values(target_key=name_key(new), target=new)
            )

    async def forget_channels_except(self, keep: Iterable[str]) -> int:
        """Delete the history of every channel but ``keep``; returns how
        many channels lost theirs."""
        await self.flush()
        kept = {name_key(channel) for channel in keep}
        channels = select(history.c.target_key).distinct()
        channels = channels.where(~history.c.target_key.contains(" "))
        async with self._engine.begin() as conn:
            gone = [key for (key,) in await conn.execute(channels) if key not in kept]
            for key in gone:
                await conn.execute(delete(history).where(history.c.target_key == key))
        return len(gone)

    async def delete_party(self, conn: AsyncConnection, party: str) -> None:
        """Delete every conversation ``party`` took part in, inside the
        caller's transaction (an account's deletion). Call ``flush`` first."""
        conversations = select(history_parties.c.conversation_key).where(
            history_parties.c.party_key == party
        )
        keys = [key for (key,) in await conn.execute(conversations)]
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            await conn.execute(delete(history).where(history.c.target_key.in_(chunk)))
            await conn.execute(
                delete(history_parties).where(history_parties.c.conversation_key.in_(chunk))
            )

    async def close(self) -> None:
        try:
            await self._buffer.close()
        finally:
            if self._link is not None:
                await self._link.close()

    async def latest(
        self, target: str, after: Selector | None, limit: int, *, messages_only: bool = False
    ) -> builtins.list[HistoryRecord]:
        key = history_key(target)
        kinds = hr.kinds(messages_only)
        if after is None:
            return await self._select(key, kinds, limit, newest_first=True)
        bounds = await self._bounds(key, after)
        if bounds is None:
            return []
        return await self._select(key, (hr.after(bounds.high), *kinds), limit, newest_first=True)

    async def before(
        self, target: str, selector: Selector, limit: int, *, messages_only: bool = False
    ) -> builtins.list[HistoryRecord]:
        key = history_key(target)
        bounds = await self._bounds(key, selector)
        if bounds is None:
            return []
        where = (hr.before(bounds.low), *hr.kinds(messages_only))
        return await self._select(key, where, limit, newest_first=True)

    async def after(
        self, target: str, selector: Selector, limit: int, *, messages_only: bool = False
    ) -> builtins.list[HistoryRecord]:
        key = history_key(target)
        bounds = await self._bounds(key, selector)
        if bounds is None:
            return []
        where = (hr.after(bounds.high), *hr.kinds(messages_only))
        return await self._select(key, where, limit, newest_first=False)

    async def around(
        self, target: str, selector: Selector, limit: int, *, messages_only: bool = False
    ) -> builtins.list[HistoryRecord]:
        """Up to ``limit // 2`` messages before the selector, the rest from it
        on (a msgid selector's own message included)."""
        key = history_key(target)
        bounds = await self._bounds(key, selector)
        if bounds is None:
            return []
        kinds = hr.kinds(messages_only)
        earlier = await self._select(
            key, (hr.before(bounds.low), *kinds), limit // 2, newest_first=True
        )
        later = await self._select(
            key, (hr.from_(bounds.low), *kinds), limit - len(earlier), newest_first=False
        )
        return earlier + later

    async def between(
        self,
        target: str,
        start: Selector,
        end: Selector,
        limit: int,
        *,
        messages_only: bool = False,
    ) -> builtins.list[HistoryRecord]:
        """Messages strictly between the selectors; when ``start`` is the later
        one, the ``limit`` messages nearest to it."""
        key = history_key(target)
        first, second = await self._bounds(key, start), await self._bounds(key, end)
        if first is None or second is None:
            return []
        kinds = hr.kinds(messages_only)
        if first.low <= second.low:
            where = (hr.after(first.high), hr.before(second.low), *kinds)
            return await self._select(key, where, limit, newest_first=False)
        where = (hr.before(first.low), hr.after(second.high), *kinds)
        return await self._select(key, where, limit, newest_first=True)

    async def targets(
        self,
        viewer: str,
        start: datetime,
        end: datetime,
        limit: int,
        channels: Iterable[str] = (),
    ) -> builtins.list[HistoryTarget]:
        """The window excludes its bounds, as BETWEEN does (the spec), and may
        be given in either order; when it runs backwards, the ``limit``
        targets nearest to ``start`` are kept."""
        await self.flush()
        viewer_key = name_key(viewer)
        channel_names = {name_key(channel): channel for channel in channels}
        low, high = sorted((to_ms(start), to_ms(end)))
        conversations = select(history_parties.c.conversation_key).where(
            history_parties.c.party_key == viewer_key
        )
        latest = func.max(history.c.time_ms).label("latest")
        async with self._engine.connect() as conn:
            keys = [*channel_names, *[key for (key,) in await conn.execute(conversations)]]
            # A target is matched by its latest message: one with later
            # messages than the window is not in it (the spec's TARGETS).
            query = (
                select(history.c.target_key, latest)
                .where(history.c.target_key.in_(keys), history.c.command.in_(_TARGET_KINDS))
                .group_by(history.c.target_key)
                .having(latest > low, latest < high)
                .order_by(latest.desc() if start > end else latest, history.c.target_key)
                .limit(max(limit, 0))
            )
            rows = (await conn.execute(query)).all()
            others = {
                row.target_key: other_party(row.target_key, viewer_key)
                for row in rows
                if row.target_key not in channel_names
            }
            names = await _account_names(conn, others.values())
        found = [
            HistoryTarget(
                name=channel_names.get(row.target_key) or names[others[row.target_key]],
                latest=from_ms(row.latest),
            )
            for row in rows
            if row.target_key in channel_names or others[row.target_key] in names
        ]
        return sorted(found, key=lambda target: target.latest)

    async def delete_older_than(self, age: timedelta) -> int:
        cutoff = to_ms(utcnow() - age)
        # The writer skips pairs it wrote before; while parties may be
        # deleted, it must write them again. The flush writes what came before.
        self._buffer.append(self._reset_item)
        await self.flush()
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(history).where(history.c.time_ms < cutoff))
            await _forget_silent_parties(conn)
        self._buffer.append(self._reset_item)
        return int(result.rowcount)

    async def trim_per_target(self, max_messages: int) -> int:
        await self.flush()
        rank = (
            func.row_number()
            .over(
                partition_by=history.c.target_key,
                order_by=(history.c.time_ms.desc(), history.c.id.desc()),
            )
            .label("rank")
        )
        ranked = select(history.c.id, rank).subquery()
        excess = select(ranked.c.id).where(ranked.c.rank > max_messages)
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(history).where(history.c.id.in_(excess)))
        return int(result.rowcount)

    async def _bounds(self, key: str, selector: Selector) -> _Bounds | None:
        """Locate ``selector`` in ``key``'s history; None for an unknown msgid.
        Flushes first, so buffered messages can be found and returned."""
        await self.flush()
        if isinstance(selector, datetime):
            ms = to_ms(selector)
            return _Bounds(low=(ms, 0), high=(ms, _ID_MAX))
        query = select(history.c.time_ms, history.c.id).where(
            history.c.target_key == key, hr.is_message(selector)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).one_or_none()
        if row is None:
            return None
        return _Bounds(low=(row.time_ms, row.id), high=(row.time_ms, row.id))

    async def _select(
        self,
        key: str,
        where: Sequence[ColumnElement[bool]],
        limit: int,
        newest_first: bool,
    ) -> builtins.list[HistoryRecord]:
        """Up to ``limit`` messages nearest the start (or, newest_first, the
        end) of the range, returned oldest first."""
        if limit <= 0:
            return []
        await self.flush()
        order = (
            (history.c.time_ms.desc(), history.c.id.desc())
            if newest_first
            else (history.c.time_ms, history.c.id)
        )
        query = (
            select(history).where(history.c.target_key == key, *where).order_by(*order).limit(limit)
        )
        async with self._engine.connect() as conn:
            records = [hr.record(row) for row in await conn.execute(query)]
        return records[::-1] if newest_first else records

    def _write(self, batch: builtins.list[_Item]) -> Awaitable[object]:
        """SQLite: the whole batch, in order, in one transaction of the
        writer process, sent before this returns. PostgreSQL: the records
        between forget requests in one transaction each, each request after
        the records before it."""
        if self._link is not None:
            return self._write_in_process(self._link, batch)
        return self._write_to_database(batch)

    async def _write_to_database(self, batch: builtins.list[_Item]) -> None:
        records: builtins.list[HistoryRecord] = []
        for item in batch:
            if isinstance(item, HistoryRecord):
                records.append(item)
                continue
            if records:
                await self._write_records(records)
                records = []
            if isinstance(item, _Forget):
                async with self._engine.begin() as conn:
                    await conn.execute(delete(history).where(history.c.target_key == item.key))
            elif isinstance(item, _Redact):
                async with self._engine.begin() as conn:
                    await conn.execute(delete(history).where(hr.is_message(item.msgid)))
        if records:
            await self._write_records(records)

    @staticmethod
    def _write_in_process(link: WriterLink, batch: builtins.list[_Item]) -> Awaitable[int]:
        """The items were encoded as they were appended."""
        written = link.send(cast(builtins.list[str], batch))
        written.add_done_callback(_warn_of_duplicates)
        return written

    async def _write_records(self, batch: builtins.list[HistoryRecord]) -> None:
        await history_postgresql.write_rows(self._engine, [hr.row(record) for record in batch])


def _warn_of_duplicates(written: asyncio.Future[int]) -> None:
    if not written.cancelled() and written.exception() is None and written.result():
        log.warning("history: dropped %d message(s) with a duplicate msgid", written.result())


async def _account_names(conn: AsyncConnection, parties: Iterable[str]) -> dict[str, str]:
    """Party key -> name to show: an account's current name, a guest's
    folded nick; accounts deleted meanwhile are left out."""
    names: dict[str, str] = {}
    ids: dict[int, str] = {}
    for party in parties:
        account_id = party_account_id(party)
        if account_id is None:
            names[party] = party
        else:
            ids[account_id] = party
    if ids:
        query = select(accounts.c.id, accounts.c.name).where(accounts.c.id.in_(list(ids)))
        for account_id, name in await conn.execute(query):
            names[ids[account_id]] = name
    return names


async def _forget_silent_parties(conn: AsyncConnection) -> None:
    """Drop the parties of conversations that retention emptied."""
    remaining = select(history.c.id).where(
        history.c.target_key == history_parties.c.conversation_key
    )
    await conn.execute(delete(history_parties).where(~remaining.exists()))
