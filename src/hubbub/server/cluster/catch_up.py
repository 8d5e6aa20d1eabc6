"""Reading again from PostgreSQL what a node keeps in memory (K/D-lines,
account names) when it (re)joins the bus, without losing the events that
cross the read.

Pub/sub keeps nothing for a node that was off the bus, so the node reloads
from PostgreSQL, the source of truth, each time it subscribes. An event
heard while the read is under way may be newer than what the read returns
(its row was written after the query ran) or older (already in it), so
every event is applied when heard and kept until the read ends, then
applied again, in order, on top of what was read. That is right because
each event sets one key to a value (a ban is there or not, an account
exists or not) and its origin wrote PostgreSQL before publishing it.

At most ``SEEN_MAX`` events are kept; past that the read is made again
(what it missed is then in PostgreSQL), rather than growing without bound."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

SEEN_MAX = 10_000  # events kept while one read is under way

Event = dict[str, Any]


class CatchUp:
    """One kind of state a node keeps in memory and reloads on (re)subscribing."""

    def __init__(
        self,
        what: str,
        reload: Callable[[], Awaitable[None]],
        apply: Callable[[Event], None],
    ) -> None:
        self.what = what  # for the log
        self._reload = reload
        self._apply = apply
        self._seen: list[Event] | None = None  # a list while a read is under way
        self._again = False  # the read under way must be made again
        self.running = False
        self.reloads = 0  # reads made (each attempt counts)

    def heard(self, event: Event) -> None:
        """Apply an event of another node now, and again after a read under way."""
        self._apply(event)
        self.noted(event)

    def noted(self, event: Event) -> None:
        """A change made on this node (already applied here): applied again
        after a read under way, which may have missed it."""
        if self._seen is None:
            return
        if len(self._seen) >= SEEN_MAX:
            self._seen = None
            self._again = True
        else:
            self._seen.append(event)

    def wanted(self) -> bool:
        """(Re)subscribed: True if a read must start (none is under way);
        otherwise the one under way is made again once it ends."""
        if self.running:
            self._again = True
            return False
        self.running = True
        return True

    async def run(self) -> None:
        """Read until one read ends with nothing in the way, then replay."""
        try:
            while True:
                self._again = False
                self._seen = []
                self.reloads += 1
                try:
                    await self._reload()
                except (SQLAlchemyError, OSError) as exc:
                    log.warning(
                        "cluster: could not reload %s from the database: %s", self.what, exc
                    )
                    return
                seen, self._seen = self._seen, None
                if self._again or seen is None:
                    continue
                for event in seen:
                    self._apply(event)
                return
        finally:
            self._seen = None
            self.running = False
