"""One order per channel across nodes: this node's users' channel messages
are delivered here when the bus hands them back, in the one order Redis
gives every node (docs/cluster.md, "Ordering").

The message handler checks, stores and publishes at once and hands its
local delivery here (``hooks.message_order``); the backplane calls
``came_back`` when the message's own event arrives from the bus. Without the
bus nothing waits: messages are delivered at once, and what was waiting is
delivered when the link is lost (nothing is lost, only the order across
nodes while split). A message that never comes back (its event dropped from
the bus's full queue) is delivered after ``stale_after`` seconds."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

HELD_MAX = 100_000  # messages waiting for their turn (the bus's own queue bound)


class BusOrder:
    """The messages of this node's users waiting for their turn on the bus."""

    def __init__(self, connected: Callable[[], bool], stale_after: float) -> None:
        self._connected = connected
        self.stale_after = stale_after
        # msgid -> (when held, its delivery); in the order they were held
        self._held: dict[str, tuple[float, Callable[[], None]]] = {}

    def holding(self) -> bool:
        return self._connected()

    def hold(self, msgid: str, deliver: Callable[[], None]) -> None:
        if len(self._held) >= HELD_MAX:  # its event was surely dropped: give it its turn
            oldest = next(iter(self._held))
            self._held.pop(oldest)[1]()
        self._held[msgid] = (time.monotonic(), deliver)

    def came_back(self, msgid: str) -> None:
        """The message's event came back from the bus: its turn here."""
        held = self._held.pop(msgid, None)
        if held is not None:
            held[1]()

    def release_all(self) -> None:
        """The bus is lost: what waits for it is delivered now, in order."""
        held, self._held = self._held, {}
        for _, deliver in held.values():
            deliver()

    def release_stale(self) -> None:
        """Deliver what has waited longer than ``stale_after`` (lost on the way)."""
        deadline = time.monotonic() - self.stale_after
        stale = [msgid for msgid, (since, _) in self._held.items() if since < deadline]
        if stale:
            log.warning("cluster: %d message(s) never came back from the bus", len(stale))
        for msgid in stale:
            self._held.pop(msgid)[1]()
