"""Account metadata (IRCv3 metadata keys of logged-in users): read once per
login, written per change. Rows go with their account (``accounts.delete``)."""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.store.keys import name_key
from hubbub.store.schema import account_metadata, accounts
from hubbub.store.sql.uncancellable import uncancellable


@uncancellable
class SqlAccountMetadata:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def load(self, account: str) -> dict[str, str]:
        query = (
            select(account_metadata.c.key, account_metadata.c.value)
            .join(accounts, accounts.c.id == account_metadata.c.account_id)
            .where(accounts.c.name_key == name_key(account))
            .order_by(account_metadata.c.key)
        )
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return {str(key): str(value) for key, value in rows}

    async def set(self, account: str, key: str, value: str | None) -> None:
        async with self._engine.begin() as conn:
            account_id = (
                await conn.execute(
                    select(accounts.c.id).where(accounts.c.name_key == name_key(account))
                )
            ).scalar_one_or_none()
            if account_id is None:
                return
            await conn.execute(
                delete(account_metadata).where(
                    account_metadata.c.account_id == account_id, account_metadata.c.key == key
                )
            )
            if value is not None:
                await conn.execute(
                    insert(account_metadata),
                    {"account_id": account_id, "key": key, "value": value},
                )

    async def clear(self, account: str) -> None:
        async with self._engine.begin() as conn:
            ids = select(accounts.c.id).where(accounts.c.name_key == name_key(account))
            await conn.execute(
                delete(account_metadata).where(account_metadata.c.account_id.in_(ids))
            )
