"""CPU per stored private-message row in the history writer process.

Runs the writer's own code (``writer_process.Writer.apply`` on frames made
by ``writer_link.encode_records``, as the server sends them) on a fresh
SQLite file migrated to this tree's schema, without a process around it:
200,000 private messages over 500 conversations, in batches of 2,000, in a
random but fixed order of conversations. Prints CPU microseconds per row:
the whole batch, the parsing alone, and the difference (SQLite's insert).

    .venv/bin/python bench/history_row.py --msgids derived   # the server's msgids
    .venv/bin/python bench/history_row.py --msgids old       # boot prefix + counter
    .venv/bin/python bench/history_row.py --batch 1000 --group 5  # 5 batches, one commit

``--msgids derived`` needs a tree with ``hubbub.protocol.msgid`` (migration
0010 on); ``old`` runs on any tree, so the same script measures the tree
before the change (``PYTHONPATH=<old tree>/src``). docs/performance.md,
"The cheaper history row", has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.store.engine import sqlite_engine
from hubbub.store.migrate import upgrade
from hubbub.store.records import HistoryRecord
from hubbub.store.sql import writer_link
from hubbub.store.writer_process import FIELD_SEPARATOR, Writer

FIRST = 1 << 40  # boot 1's first id (protocol.msgid.first_id(1))
# Trees since items are encoded when appended: one string per record, ids in it.
ENCODED_ITEMS = hasattr(writer_link, "encode_record")
# Trees before that, since the derived msgid: the server's ids beside the fields.
WITH_IDS = not ENCODED_ITEMS and len(inspect.signature(Writer.apply).parameters) == 3
Frame = tuple[object, ...]


def msgids(kind: str) -> Callable[[int], str]:
    if kind == "old":
        boot = os.urandom(4).hex()
        return lambda n: f"{boot}{n:x}"
    from hubbub.protocol.msgid import msgid  # newer trees only

    return lambda n: msgid(FIRST + n)


def frames(rows: int, conversations: int, batch: int, kind: str) -> list[Frame]:
    """The batches as the writer process receives them (split fields, and
    the ids on trees that send them)."""
    make = msgids(kind)
    pick = random.Random(14)
    pairs = [(f"@{2 * c + 1}", f"@{2 * c + 2}") for c in range(conversations)]
    start_ms = 1_764_000_000_000
    out: list[Frame] = []
    for first in range(0, rows, batch):
        records = []
        for n in range(first, min(first + batch, rows)):
            sender, recipient = pairs[pick.randrange(conversations)]
            records.append(
                HistoryRecord(
                    make(n),
                    start_ms + n // 50,
                    f"u{sender[1:]}!u@host.example",
                    f"u{sender[1:]}",
                    f"u{recipient[1:]}",
                    "PRIVMSG",
                    f"message number {n} of the run, about as long as a chat line",
                    parties=(sender, recipient),
                    **({"row_id": FIRST + n} if kind == "derived" else {}),
                )
            )
        if ENCODED_ITEMS:
            text = FIELD_SEPARATOR.join(map(writer_link.encode_record, records))
            out.append((text.split(FIELD_SEPARATOR),))
            continue
        fields: list[str] = []
        ids: list[int] = []
        encode = writer_link.encode_records  # type: ignore[attr-defined]
        encode(records, fields, *((ids,) if WITH_IDS else ()))
        split = FIELD_SEPARATOR.join(fields).split(FIELD_SEPARATOR)
        out.append((split, ids) if WITH_IDS else (split,))
    return out


def run(rows: int, conversations: int, batch: int, kind: str, group: int) -> tuple[float, float]:
    """(CPU us per row for whole batches, of which parsing); ``group``
    batches at a time share one transaction, as batches waiting in the
    writer do (trees without ``Writer.apply_group``: 1 only)."""
    batches = frames(rows, conversations, batch, kind)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "hubbub.db"
        engine = sqlite_engine(path)
        asyncio.run(_migrate(engine))
        writer = Writer(str(path))
        started = time.process_time()
        for first in range(0, len(batches), group):
            if group == 1:
                writer.apply(*batches[first])  # type: ignore[arg-type]
            else:
                group_of = batches[first : first + group]
                writer.apply_group([f if WITH_IDS else f[0] for f in group_of])  # type: ignore[misc]
        whole = time.process_time() - started
        started = time.process_time()
        for frame in batches:
            Writer._parse(*frame)  # type: ignore[arg-type]
        parsing = time.process_time() - started
    return whole / rows * 1e6, parsing / rows * 1e6


async def _migrate(engine: AsyncEngine) -> None:
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--msgids", choices=("derived", "old"), default="derived")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--group", type=int, default=1, help="batches per transaction")
    args = parser.parse_args()
    for _ in range(args.runs):
        whole, parsing = run(args.rows, args.conversations, args.batch, args.msgids, args.group)
        print(
            f"msgids {args.msgids}, {args.group} batch(es) of {args.batch} per transaction:"
            f" {whole:.1f} us per row"
            f" (parsing {parsing:.1f}, insert {whole - parsing:.1f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
