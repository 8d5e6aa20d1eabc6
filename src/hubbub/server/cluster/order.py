"""One order per channel across nodes: what this node shows its channel
members of its own users' doings (channel messages, and the JOIN, PART,
KICK, QUIT, NICK, TOPIC and MODE lines) is shown when the bus hands back
the event that told the other nodes, in the one order Redis gives every
node (docs/cluster.md, "Ordering").

The message handlers and the domain actions check, change the world and
hand their local delivery here (``hooks.message_order``); the event they
publish next is numbered (``bind``), and when an event of this node comes
back from the bus (``came_back``), everything held up to it is delivered,
in the order it was held. A node's events come back in the order it
published them, so nothing here is ever delivered out of its order.

Without the bus nothing waits: lines are delivered at once, and what was
waiting is delivered when the link is lost (nothing is lost, only the order
across nodes while split). What waits longer than ``stale_after`` seconds
(its event was dropped from the bus's full queue) is delivered then."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)

HELD_MAX = 100_000  # deliveries waiting for their turn (the bus's own queue bound)


class BusOrder:
    """This node's deliveries waiting for their turn on the bus, oldest first."""

    def __init__(self, connected: Callable[[], bool], stale_after: float) -> None:
        self._connected = connected
        self.stale_after = stale_after
        self._held: deque[tuple[float, Callable[[], None]]] = deque()  # (since, deliver)
        self._released = 0  # deliveries ever released: the front of _held is number _released
        # (event number, deliveries held before that event was published), oldest first
        self._marks: deque[tuple[int, int]] = deque()
        self._events = 0  # the last event number given

    def holding(self) -> bool:
        return self._connected()

    def hold(self, deliver: Callable[[], None]) -> None:
        """Call ``deliver`` once the next event this node publishes is back."""
        if len(self._held) >= HELD_MAX:  # its event was surely dropped: give it its turn
            self._release(1)
        self._held.append((time.monotonic(), deliver))

    def bind(self) -> int | None:
        """The number for the event about to be published, if something held
        since the last one waits for it; None if nothing does."""
        held = self._released + len(self._held)
        bound = self._marks[-1][1] if self._marks else 0
        if held <= max(bound, self._released):
            return None
        self._events += 1
        self._marks.append((self._events, held))
        return self._events

    def came_back(self, number: int) -> None:
        """This node's event ``number`` came back from the bus: what was held
        before it has its turn here."""
        upto: int | None = None
        while self._marks and self._marks[0][0] <= number:
            upto = self._marks.popleft()[1]
        if upto is not None:
            self._release(upto - self._released)

    def release_all(self) -> None:
        """The bus is lost: what waits for it is delivered now, in order."""
        self._release(len(self._held))
        self._marks.clear()

    def release_stale(self) -> None:
        """Deliver what has waited longer than ``stale_after`` (lost on the way)
        and, to keep the order, everything held before it."""
        deadline = time.monotonic() - self.stale_after
        stale = 0
        for since, _ in self._held:
            if since >= deadline:
                break
            stale += 1
        if stale:
            log.warning("cluster: %d delivery(ies) never came back from the bus", stale)
            self._release(stale)

    def _release(self, count: int) -> None:
        for _ in range(min(count, len(self._held))):
            deliver = self._held.popleft()[1]
            self._released += 1
            deliver()
        while self._marks and self._marks[0][1] <= self._released:
            self._marks.popleft()  # nothing left waiting for that event
