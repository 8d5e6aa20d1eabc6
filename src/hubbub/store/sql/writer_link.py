"""The server's end of the history writer process (``writer_process``).

The loop's share of storing a message is one string per message, made when
the message is appended (``encode_record``), and one join and pipe write per
batch; SQLite runs in the child. Encoding at once, rather than keeping the
record until its batch goes, leaves one compact string per buffered message
instead of a tuple and its fields to visit again later, and no object for
the garbage collector to follow (docs/performance.md, "Encoded when
appended"). The next batch goes out
before the last is acknowledged, so the child always has work: waiting for
each reply left it idle for a turn of the loop per batch, about half the
time under load. A batch is held until the child acknowledges its commit:
if the child dies (killed, crashed), a new one is started and every batch
not acknowledged is sent again, in order, and the unique id makes the
second insert of anything already committed a no-op. So nothing delivered is lost
with the child, and SQLite's transactions keep the file consistent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections import deque
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
)

log = logging.getLogger(__name__)

# Starts of a writer for one batch before the batch is given up as lost: a
# child that dies at every batch has a cause a restart will not cure.
MAX_STARTS_PER_BATCH = 3


class BatchRefused(Exception):
    """SQLite refused a batch; the text is its reason."""


def encode_record(record: HistoryRecord) -> str:
    """``record`` as one item of a batch: its writer fields
    (``writer_process``), joined. A message the server made is stored under
    the row id it gave it, sent in place of the msgid (the writer does not
    need the msgid, which is the id's own text)."""
    msgid, time_ms, sender, account, target, command, text, tags, parties, row_id = record
    first, second = parties if parties else ("", "")
    head = f"{MESSAGE}\0{msgid}" if row_id is None else f"{DERIVED_MESSAGE}\0{row_id}"
    tags_json = json.dumps(dict(tags), separators=(",", ":")) if tags else ""
    # "\0" is FIELD_SEPARATOR, written out: one f-string is one step.
    return (
        f"{head}\0{time_ms}\0{sender}\0{account or ''}\0{target}\0{command}\0{text}"
        f"\0{tags_json}\0{first}\0{second}"
    )


def encode_forget(key: str) -> str:
    return f"{FORGET}{FIELD_SEPARATOR}{key}"


def encode_redact(msgid: str) -> str:
    return f"{REDACT}{FIELD_SEPARATOR}{msgid}"


class _Batch:
    """A batch sent and not yet acknowledged."""

    __slots__ = ("deaths", "frame", "future", "number")

    def __init__(self, number: int, frame: bytes, future: asyncio.Future[int]) -> None:
        self.number = number
        self.frame = frame
        self.future = future
        self.deaths = 0  # writer processes that died with this batch first in line


class WriterLink:
    """Starts the writer process on first use and sends it batches, in
    order, without waiting for the previous batch's reply (the caller bounds
    how many are in flight). Every batch is kept until its reply: if the
    process dies, another is started and every unacknowledged batch is sent
    again, in order."""

    def __init__(self, database: str) -> None:
        self._database = database
        self._process: asyncio.subprocess.Process | None = None
        self._number = 0
        self._unacked: deque[_Batch] = deque()
        self._sending = False  # the process runs and has every unacked batch
        self._reader: asyncio.Task[None] | None = None
        self.starts = 0  # writer processes started so far (tests kill them)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def send(self, items: list[str]) -> asyncio.Future[int]:
        """Send one batch of items (``encode_record``, ``encode_forget``,
        ...; at least one) now, behind those in flight. The future gives the
        duplicates skipped, or raises BatchRefused if SQLite refused it."""
        self._number += 1
        text = FIELD_SEPARATOR.join(items).encode()
        frame = HEADER.pack(self._number, len(text)) + text
        batch = _Batch(self._number, frame, asyncio.get_running_loop().create_future())
        self._unacked.append(batch)
        process = self._process
        if self._sending and process is not None and process.stdin is not None:
            try:
                process.stdin.write(frame)
            except (ConnectionError, RuntimeError):  # uvloop: "the handler is closed"
                # The process died while idle: _serve starts another and
                # sends it every batch not acknowledged, this one too.
                self._sending = False
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._serve(), name="hubbub-history-writer-link")
        return batch.future

    async def _serve(self) -> None:
        """While batches are unacknowledged: make sure the process runs and
        has them all, and hand each reply to its batch."""
        while self._unacked:
            process = await self._running()
            assert process.stdin is not None and process.stdout is not None
            try:
                if not self._sending:
                    for batch in self._unacked:  # no await in between: nothing overtakes
                        process.stdin.write(batch.frame)
                    self._sending = True
                await self._read_replies(process.stdout)
            except (ConnectionError, RuntimeError, asyncio.IncompleteReadError):
                log.warning("history writer process %d died; starting another", process.pid)
                await self._reap()  # (and no longer sending)
                self._count_death()

    async def _read_replies(self, stdout: asyncio.StreamReader) -> None:
        while self._unacked:
            number, skipped, error_size = REPLY.unpack(await stdout.readexactly(REPLY.size))
            error = await stdout.readexactly(error_size) if error_size else b""
            batch = self._unacked.popleft()
            if number != batch.number:
                failure: Exception = RuntimeError(
                    f"history writer answered batch {number}, not {batch.number}"
                )
            elif error:
                failure = BatchRefused(error.decode(errors="replace"))
            else:
                batch.future.set_result(int(skipped))
                continue
            batch.future.set_exception(failure)

    def _count_death(self) -> None:
        """A batch first in line when the process died MAX_STARTS_PER_BATCH
        times is given up: a restart will not cure what kills the writer."""
        head = self._unacked[0]
        head.deaths += 1
        if head.deaths >= MAX_STARTS_PER_BATCH:
            self._unacked.popleft()
            head.future.set_exception(
                BatchRefused(f"the history writer died {MAX_STARTS_PER_BATCH} times on one batch")
            )

    async def _running(self) -> asyncio.subprocess.Process:
        if self._process is not None and self._process.returncode is not None:
            # Died while idle: nothing was waiting for its reply to notice.
            log.warning(
                "history writer process %d exited (status %d); starting another",
                self._process.pid,
                self._process.returncode,
            )
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
            self._sending = False  # the new process has none of the batches yet
            self.starts += 1
        return self._process

    async def _reap(self) -> None:
        self._sending = False
        process, self._process = self._process, None
        if process is not None:
            if process.returncode is None:
                process.kill()
            await process.wait()

    async def close(self) -> None:
        """End the writer: it sees the end of its input and exits."""
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()  # the store flushed first: nothing is in flight
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._sending = False
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
