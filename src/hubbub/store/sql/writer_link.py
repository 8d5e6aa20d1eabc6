"""The server's end of the history writer process (``writer_process``).

The loop's share of storing a message is one string join per message and
one pipe write per batch; SQLite runs in the child. A batch is held until the
child acknowledges its commit: if the child dies (killed, crashed), a new one
is started and the batch sent again, and the unique msgid makes the second
insert of anything already committed a no-op. So nothing delivered is lost
with the child, and SQLite's transactions keep the file consistent."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from array import array
from pathlib import Path

import hubbub
from hubbub.store import writer_process
from hubbub.store.records import HistoryRecord
from hubbub.store.writer_process import (
    DERIVED_MESSAGE,
    FIELD_SEPARATOR,
    FORGET,
    HEADER,
    MESSAGE,
    REDACT,
    REPLY,
    RESET_PARTIES,
    ROW_ID,
)

log = logging.getLogger(__name__)

# Starts of a writer for one batch before the batch is given up as lost: a
# child that dies at every batch has a cause a restart will not cure.
MAX_STARTS_PER_BATCH = 3


class BatchRefused(Exception):
    """SQLite refused a batch; the text is its reason."""


def encode_records(records: list[HistoryRecord], out: list[str], ids: list[int]) -> None:
    """Append ``records`` to ``out`` as writer fields (``writer_process``),
    and the row ids the server gave them to ``ids`` (their msgid field is
    left empty: the writer does not need it)."""
    add_id = ids.append
    for record in records:
        parties = record.parties
        tags = record.tags
        row_id = record.row_id
        if row_id is None:
            kind, msgid = MESSAGE, record.msgid
        else:
            kind, msgid = DERIVED_MESSAGE, ""
            add_id(row_id)
        out += (
            kind,
            msgid,
            str(record.time_ms),
            record.sender,
            record.account or "",
            record.target,
            record.command,
            record.text,
            json.dumps(dict(tags), separators=(",", ":")) if tags else "",
            parties[0] if parties else "",
            parties[1] if parties else "",
        )


def encode_forget(key: str, out: list[str]) -> None:
    out += (FORGET, key)


def encode_redact(msgid: str, out: list[str]) -> None:
    out += (REDACT, msgid)


def encode_reset_parties(out: list[str]) -> None:
    out.append(RESET_PARTIES)


class WriterLink:
    """Starts the writer process on first use and sends it batches, one at a
    time (the caller serialises them)."""

    def __init__(self, database: str) -> None:
        self._database = database
        self._process: asyncio.subprocess.Process | None = None
        self._number = 0
        self.starts = 0  # writer processes started so far (tests kill them)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def write(self, fields: list[str], ids: list[int]) -> int:
        """Store one batch; returns the duplicates skipped. Raises
        BatchRefused if SQLite refused it."""
        self._number += 1
        text = FIELD_SEPARATOR.join(fields).encode()
        binary = array(ROW_ID, ids).tobytes()
        frame = HEADER.pack(self._number, len(text), len(ids)) + text + binary
        for _ in range(MAX_STARTS_PER_BATCH):
            process = await self._running()
            try:
                assert process.stdin is not None and process.stdout is not None
                process.stdin.write(frame)
                await process.stdin.drain()
                number, skipped, error_size = REPLY.unpack(
                    await process.stdout.readexactly(REPLY.size)
                )
                error = await process.stdout.readexactly(error_size) if error_size else b""
            except (ConnectionError, asyncio.IncompleteReadError):
                log.warning("history writer process %d died; starting another", process.pid)
                await self._reap()
                continue
            if number != self._number:
                raise RuntimeError(f"history writer answered batch {number}, not {self._number}")
            if error:
                raise BatchRefused(error.decode(errors="replace"))
            return int(skipped)
        raise BatchRefused(f"the history writer died {MAX_STARTS_PER_BATCH} times on one batch")

    async def _running(self) -> asyncio.subprocess.Process:
        if self._process is None or self._process.returncode is not None:
            source_root = str(Path(hubbub.__file__).resolve().parent.parent)
            path = os.environ.get("PYTHONPATH")
            env = {**os.environ, "PYTHONPATH": source_root + (os.pathsep + path if path else "")}
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-P",  # not the store directory first on sys.path
                writer_process.__file__,
                self._database,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=env,
                start_new_session=True,  # Ctrl-C stops the server, which then closes this
            )
            self.starts += 1
        return self._process

    async def _reap(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.returncode is None:
                process.kill()
            await process.wait()

    async def close(self) -> None:
        """End the writer: it sees the end of its input and exits."""
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
