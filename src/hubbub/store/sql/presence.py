"""What one account keeps across its devices and across restarts: read
markers, its MULTICLIENT/ALWAYS-ON settings, its named devices' last-seen
times and, for an always-on account, the user itself (nick, modes,
channels). Read whole at start (``load``); every write is an upsert, so
writes spawned in any order leave the newest state (a read marker keeps
the greater time)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.store.keys import name_key
from hubbub.store.records import AccountSettings, AlwaysOnUser, PresenceSnapshot
from hubbub.store.schema import (
    account_devices,
    account_settings,
    accounts,
    always_on_users,
    read_markers,
)
from hubbub.store.sql.uncancellable import uncancellable


def _account_id(account: str) -> Any:
    return select(accounts.c.id).where(accounts.c.name_key == name_key(account)).scalar_subquery()


@uncancellable
class SqlPresence:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def load(self) -> PresenceSnapshot:
        snapshot = PresenceSnapshot({}, {}, {}, [])
        async with self._engine.connect() as conn:
            key = accounts.c.name_key
            rows = await conn.execute(
                select(
                    key, read_markers.c.target_key, read_markers.c.target, read_markers.c.time_ms
                ).join(accounts, accounts.c.id == read_markers.c.account_id)
            )
            for account, target_key, target, time_ms in rows:
                snapshot.read_markers.setdefault(account, {})[target_key] = (target, int(time_ms))
            settings = await conn.execute(
                select(key, account_settings.c.multiclient, account_settings.c.always_on).join(
                    accounts, accounts.c.id == account_settings.c.account_id
                )
            )
            for account, multiclient, always_on in settings:
                snapshot.settings[account] = AccountSettings(multiclient, always_on)
            devices = await conn.execute(
                select(key, account_devices.c.device, account_devices.c.last_seen_ms).join(
                    accounts, accounts.c.id == account_devices.c.account_id
                )
            )
            for account, device, last_seen in devices:
                snapshot.devices.setdefault(account, {})[device] = int(last_seen)
            users = await conn.execute(
                select(accounts.c.name, always_on_users).join(
                    accounts, accounts.c.id == always_on_users.c.account_id
                )
            )
            for row in users:
                channels = tuple((str(c), str(p)) for c, p in json.loads(row.channels))
                snapshot.always_on.append(
                    AlwaysOnUser(
                        row.name,
                        row.nick,
                        row.username,
                        row.host,
                        row.realname,
                        row.modes,
                        channels,
                    )
                )
        return snapshot

    async def set_read_marker(self, account: str, target_key: str, target: str, ms: int) -> None:
        """Store the marker unless a later one is stored already."""
        statement = insert(read_markers).values(
            account_id=_account_id(account), target_key=target_key, target=target, time_ms=ms
        )
        statement = statement.on_conflict_do_update(
            index_elements=[read_markers.c.account_id, read_markers.c.target_key],
            set_={"time_ms": func.max(read_markers.c.time_ms, statement.excluded.time_ms)},
        )
        async with self._engine.begin() as conn:
            await conn.execute(statement)

    async def set_settings(self, account: str, settings: AccountSettings) -> None:
        values = {"multiclient": settings.multiclient, "always_on": settings.always_on}
        statement = insert(account_settings).values(account_id=_account_id(account), **values)
        statement = statement.on_conflict_do_update(
            index_elements=[account_settings.c.account_id], set_=values
        )
        async with self._engine.begin() as conn:
            await conn.execute(statement)

    async def device_seen(self, account: str, device: str, ms: int) -> None:
        statement = insert(account_devices).values(
            account_id=_account_id(account), device=device, last_seen_ms=ms
        )
        statement = statement.on_conflict_do_update(
            index_elements=[account_devices.c.account_id, account_devices.c.device],
            set_={"last_seen_ms": func.max(account_devices.c.last_seen_ms, ms)},
        )
        async with self._engine.begin() as conn:
            await conn.execute(statement)

    async def save_always_on(self, user: AlwaysOnUser) -> None:
        values = {
            "nick": user.nick,
            "username": user.username,
            "host": user.host,
            "realname": user.realname,
            "modes": user.modes,
            "channels": json.dumps([list(pair) for pair in user.channels]),
        }
        statement = insert(always_on_users).values(account_id=_account_id(user.account), **values)
        statement = statement.on_conflict_do_update(
            index_elements=[always_on_users.c.account_id], set_=values
        )
        async with self._engine.begin() as conn:
            await conn.execute(statement)

    async def forget_always_on(self, account: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(always_on_users).where(always_on_users.c.account_id == _account_id(account))
            )
