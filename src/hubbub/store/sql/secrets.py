"""Secrets the nodes of one network share, kept in their one database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.store.schema import network_secrets
from hubbub.store.sql.uncancellable import uncancellable


@uncancellable
class SqlSecrets:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def adopt(self, name: str, candidate: bytes) -> bytes:
        """The network's secret ``name``: ``candidate`` if none is stored yet
        (the first node to ask stores its own), else the stored one."""
        insert = postgresql_insert if self._engine.dialect.name == "postgresql" else sqlite_insert
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(network_secrets)
                .values(name=name, value=candidate.hex())
                .on_conflict_do_nothing(index_elements=["name"])
            )
            stored = await conn.scalar(
                select(network_secrets.c.value).where(network_secrets.c.name == name)
            )
        return bytes.fromhex(str(stored))
