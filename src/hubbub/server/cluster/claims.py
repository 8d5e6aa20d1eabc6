"""Network-wide nick uniqueness: a nick is a row of ``cluster_nicks`` in
PostgreSQL, inserted in a transaction before a user gets it. The primary
key decides races: of two nodes inserting the same nick at once, one
commits, the other sees the row and its client gets 433.

Claims of a node are released when its users leave, when the node restarts
(a new run claims afresh), and when other nodes find it dead."""

from __future__ import annotations

import time

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.protocol.casemap import fold
from hubbub.store.engine import postgresql_engine
from hubbub.store.schema import cluster_nicks

POOL_SIZE = 2  # claims are short; the store has its own pool


class NickClaims:
    def __init__(self, url: str, node: str) -> None:
        self._engine: AsyncEngine = postgresql_engine(url, pool_size=POOL_SIZE)
        self.node = node

    async def claim(self, nick: str, uid: str) -> bool:
        """True if ``nick`` is now (or already was) held by ``uid``."""
        key = fold(nick)
        row = {"nick_key": key, "node": self.node, "uid": uid, "claimed_at": int(time.time())}
        async with self._engine.begin() as conn:
            inserted = await conn.execute(
                insert(cluster_nicks).on_conflict_do_nothing().returning(cluster_nicks.c.uid), row
            )
            if inserted.first() is not None:
                return True
            holder = await conn.execute(
                select(cluster_nicks.c.uid).where(cluster_nicks.c.nick_key == key)
            )
            return holder.scalar_one_or_none() == uid

    async def release(self, nick: str, uid: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(cluster_nicks).where(
                    cluster_nicks.c.nick_key == fold(nick), cluster_nicks.c.uid == uid
                )
            )

    async def release_node(self, node: str) -> int:
        """Free every nick ``node`` held (it died, or this is its new run)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(cluster_nicks).where(cluster_nicks.c.node == node))
        return int(result.rowcount)

    async def nodes(self) -> set[str]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(cluster_nicks.c.node).distinct())
            return {node for (node,) in rows}

    async def close(self) -> None:
        await self._engine.dispose()
