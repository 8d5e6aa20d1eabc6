"""History batches on PostgreSQL: one transaction per batch, in this process.

SQLite's inserts run in a writer process (``writer_process``) so they use
the second core; PostgreSQL already does its work in its own server
processes, and asyncpg only encodes the rows here, so the batch is sent on
the event loop as one multi-row ``INSERT ... ON CONFLICT DO NOTHING``: a
batch resent after an error, or a msgid another node stored first, is a
no-op rather than a failed batch (a derived msgid conflicts on the row id,
any other on the partial unique msgid index).

A row whose msgid is not derived takes its id from the table's sequence,
which only these rows advance: it stays below every boot's ids
(protocol/msgid.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.store.schema import history, history_parties


async def write_rows(engine: AsyncEngine, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (``history`` columns) and their conversations' parties."""
    pairs = {
        (row[column], row["target_key"])
        for row in rows
        if row["party_a"] is not None
        for column in ("party_a", "party_b")
    }
    # Sorted: two nodes inserting the same pairs take their locks in one order.
    parties = [{"party_key": p, "conversation_key": k} for p, k in sorted(pairs)]
    derived = [row for row in rows if row["id"] is not None]
    others = [{k: v for k, v in row.items() if k != "id"} for row in rows if row["id"] is None]
    async with engine.begin() as conn:
        for batch in (derived, others):
            if batch:
                await conn.execute(insert(history).on_conflict_do_nothing(), batch)
        if parties:
            await conn.execute(insert(history_parties).on_conflict_do_nothing(), parties)
