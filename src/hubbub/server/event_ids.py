"""The ids a server gives its events: history row ids of its current boot.

An event's msgid is the text form of its id (``protocol.msgid``), so the
history stores it as the row id and needs no msgid index. The boot number
comes from the store at start, unique per start among the servers sharing
the database (a cluster's nodes). Each server has its own ids: several
servers in one process (tests, the panel) each draw from their own boot.

A boot has 2**40 ids; when half are gone the server takes the next boot
(``Server`` checks once a second), so the last one is never reached.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from hubbub.protocol.msgid import BOOT_SHIFT, first_id

RENEW_AFTER = 1 << (BOOT_SHIFT - 1)  # ids used before a new boot is taken


class EventIds:
    """One boot's ids. ``counter`` is what ``Event`` draws from."""

    __slots__ = ("_renew_at", "boot", "counter")

    def __init__(self, boot: int, renew_after: int = RENEW_AFTER) -> None:
        self.boot = boot
        start = first_id(boot)
        self.counter: Iterator[int] = itertools.count(start)
        self._renew_at = start + renew_after

    def running_low(self) -> bool:
        """Whether it is time for the next boot. Draws one id to see (a gap
        in the ids harms nothing)."""
        return next(self.counter) >= self._renew_at


class NotStarted(Iterator[int]):
    """The ids before the server has its boot number: none."""

    def __next__(self) -> int:
        raise RuntimeError("events get ids once Server.start() has a boot number")
