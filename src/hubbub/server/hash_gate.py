"""A bound on password hashing: argon2 costs tens of MiB and a core for a
good fraction of a second, so unbounded concurrent hashes let a few
connections exhaust the server (issue 12).

At most ``concurrent`` hashes run at once and ``waiting`` more wait for a
turn; an attempt beyond that is refused at once (:class:`HashRefused`)
instead of queueing without end. Each owner (a connection) holds at most one
place, running or waiting: a second attempt of the same owner is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class HashRefused(Exception):
    """No place for this hash now; the message says why, for the user."""


class HashGate:
    def __init__(self, concurrent: int, waiting: int) -> None:
        self.concurrent = concurrent
        self.max_waiting = waiting
        self._semaphore = asyncio.Semaphore(concurrent)
        self._running = 0
        self._waiting = 0
        self._owners: set[Hashable] = set()

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._waiting

    @asynccontextmanager
    async def slot(self, owner: Hashable) -> AsyncIterator[None]:
        """Hold one of the places while the body hashes."""
        if owner in self._owners:
            raise HashRefused("another password check of yours is still running")
        if self._running >= self.concurrent and self._waiting >= self.max_waiting:
            raise HashRefused("the server is busy checking passwords; try again shortly")
        self._owners.add(owner)
        try:
            self._waiting += 1
            try:
                await self._semaphore.acquire()
            finally:
                self._waiting -= 1
            self._running += 1
            try:
                yield
            finally:
                self._running -= 1
                self._semaphore.release()
        finally:
            self._owners.discard(owner)
