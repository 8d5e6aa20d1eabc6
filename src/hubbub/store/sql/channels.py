"""Channel registrations: founder, topic, modes, +b/+e/+I lists, access list."""

from __future__ import annotations

import builtins
from collections import defaultdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hubbub.store.errors import AlreadyExists, NotFound
from hubbub.store.keys import name_key
from hubbub.store.records import AccessLevel, ChannelRegistration, ListEntry, ListKind, Topic
from hubbub.store.schema import channel_access, channel_lists, channels
from hubbub.store.sql.uncancellable import uncancellable
from hubbub.store.timeutil import from_ms, to_ms, utcnow

DEFAULT_MODES = "+nt"
_LEVELS = ("op", "voice")
_LIST_KINDS = ("b", "e", "I")


@uncancellable
class SqlChannels:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def register(self, channel: str, founder: str) -> ChannelRegistration:
        registered_at = utcnow()
        row = {
            "name": channel,
            "name_key": name_key(channel),
            "founder": founder,
            "registered_at": to_ms(registered_at),
            "topic_lock": False,
            "modes": DEFAULT_MODES,
        }
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(channels), row)
        except IntegrityError:
            raise AlreadyExists(f"channel {channel} is already registered") from None
        return ChannelRegistration(name=channel, founder=founder, registered_at=registered_at)

    async def get(self, channel: str) -> ChannelRegistration | None:
        found = await self._load(channels.c.name_key == name_key(channel))
        return found[0] if found else None

    async def list(self) -> builtins.list[ChannelRegistration]:
        return await self._load(None)

    async def drop(self, channel: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(channels).where(channels.c.name_key == name_key(channel))
            )
        return bool(result.rowcount)

    async def rename(self, channel: str, new: str) -> None:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(channels)
                .where(channels.c.name_key == name_key(channel))
                .values(name=new, name_key=name_key(new))
            )
        if not result.rowcount:
            raise NotFound(f"channel {channel} is not registered")

    async def set_founder(self, channel: str, account: str) -> None:
        await self._update(channel, founder=account)

    async def set_topic(self, channel: str, topic: Topic | None) -> None:
        if topic is None:
            await self._update(channel, topic_text=None, topic_setter=None, topic_set_at=None)
        else:
            await self._update(
                channel,
                topic_text=topic.text,
                topic_setter=topic.setter,
                topic_set_at=to_ms(topic.set_at),
            )

    async def set_topic_lock(self, channel: str, locked: bool) -> None:
        await self._update(channel, topic_lock=locked)

    async def set_modes(self, channel: str, modes: str) -> None:
        await self._update(channel, modes=modes)

    async def add_list_entry(
        self, channel: str, kind: ListKind, mask: str, setter: str, set_at: datetime | None = None
    ) -> bool:
        if kind not in _LIST_KINDS:
            raise ValueError(f"unknown list kind {kind!r}")
        row = {
            "kind": kind,
            "mask": mask,
            "mask_key": name_key(mask),
            "setter": setter,
            "set_at": to_ms(set_at or utcnow()),
        }
        try:
            async with self._engine.begin() as conn:
                row["channel_id"] = await _require_id(conn, channel)
                await conn.execute(insert(channel_lists), row)
        except IntegrityError:
            return False
        return True

    async def remove_list_entry(self, channel: str, kind: ListKind, mask: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(channel_lists).where(
                    channel_lists.c.channel_id == await _require_id(conn, channel),
                    channel_lists.c.kind == kind,
                    channel_lists.c.mask_key == name_key(mask),
                )
            )
        return bool(result.rowcount)

    async def set_access(self, channel: str, account: str, level: AccessLevel | None) -> None:
        if level is not None and level not in _LEVELS:
            raise ValueError(f"access level must be one of {_LEVELS}")
        key = name_key(account)
        async with self._engine.begin() as conn:
            channel_id = await _require_id(conn, channel)
            await conn.execute(
                delete(channel_access).where(
                    channel_access.c.channel_id == channel_id,
                    channel_access.c.account_key == key,
                )
            )
            if level is not None:
                await conn.execute(
                    insert(channel_access),
                    {
                        "channel_id": channel_id,
                        "account_key": key,
                        "account": account,
                        "level": level,
                    },
                )

    async def forget_account(self, conn: AsyncConnection, account_key: str) -> None:
        """Inside an account's deletion: remove its access entries and drop
        the channels it founded, so nothing passes to a later namesake."""
        await conn.execute(
            delete(channel_access).where(channel_access.c.account_key == account_key)
        )
        founded = [
            channel_id
            for channel_id, founder in await conn.execute(select(channels.c.id, channels.c.founder))
            if name_key(founder) == account_key
        ]
        if founded:
            for table in (channel_lists, channel_access):
                await conn.execute(delete(table).where(table.c.channel_id.in_(founded)))
            await conn.execute(delete(channels).where(channels.c.id.in_(founded)))

    async def _update(self, channel: str, **values: Any) -> None:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(channels).where(channels.c.name_key == name_key(channel)).values(values)
            )
        if not result.rowcount:
            raise NotFound(f"channel {channel} is not registered")

    async def _load(self, where: Any) -> builtins.list[ChannelRegistration]:
        """Registrations matching ``where`` (all if None), in three queries."""
        query = select(channels)
        ids = select(channels.c.id)
        if where is not None:
            query, ids = query.where(where), ids.where(where)
        in_scope = ids.scalar_subquery()
        entries: defaultdict[tuple[int, str], builtins.list[ListEntry]] = defaultdict(builtins.list)
        access: defaultdict[int, dict[str, AccessLevel]] = defaultdict(dict)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(channels.c.name_key))).all()
            lists = await conn.execute(
                select(channel_lists)
                .where(channel_lists.c.channel_id.in_(in_scope))
                .order_by(channel_lists.c.set_at, channel_lists.c.id)
            )
            for entry in lists:
                entries[entry.channel_id, entry.kind].append(
                    ListEntry(mask=entry.mask, setter=entry.setter, set_at=from_ms(entry.set_at))
                )
            grants = await conn.execute(
                select(channel_access).where(channel_access.c.channel_id.in_(in_scope))
            )
            for grant in grants:
                access[grant.channel_id][grant.account] = cast(AccessLevel, grant.level)
        return [_registration(row, entries, access[row.id]) for row in rows]


def _registration(
    row: Any,
    entries: defaultdict[tuple[int, str], builtins.list[ListEntry]],
    access: dict[str, AccessLevel],
) -> ChannelRegistration:
    topic = None
    if row.topic_text is not None:
        topic = Topic(
            text=row.topic_text, setter=row.topic_setter, set_at=from_ms(row.topic_set_at)
        )
    return ChannelRegistration(
        name=row.name,
        founder=row.founder,
        registered_at=from_ms(row.registered_at),
        topic=topic,
        topic_lock=bool(row.topic_lock),
        modes=row.modes,
        bans=tuple(entries[row.id, "b"]),
        excepts=tuple(entries[row.id, "e"]),
        invexes=tuple(entries[row.id, "I"]),
        access=access,
    )


async def _require_id(conn: AsyncConnection, channel: str) -> int:
    query = select(channels.c.id).where(channels.c.name_key == name_key(channel))
    channel_id = (await conn.execute(query)).scalar_one_or_none()
    if channel_id is None:
        raise NotFound(f"channel {channel} is not registered")
    return int(channel_id)
