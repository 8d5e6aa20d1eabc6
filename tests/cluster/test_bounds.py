"""The cluster's two queues at their bounds, without sockets: the bus's
queue of events waiting for Redis drops its oldest, counted; the messages
waiting for their turn (cluster/order.py) are delivered, never lost."""

from __future__ import annotations

from functools import partial

from hubbub.server.cluster import bus, order
from hubbub.server.cluster.bus import Bus
from hubbub.server.cluster.order import BusOrder


def test_the_bus_queue_drops_its_oldest_events_past_its_bound() -> None:
    link = Bus("redis://127.0.0.1:1/0", "Net", "n1")  # never connected: nothing is sent
    for number in range(bus.QUEUE_MAX + 5):
        link.publish({"t": "msg", "n": number})
    assert link.queued == bus.QUEUE_MAX
    assert link.dropped == 5


def test_a_held_message_past_the_bound_gives_the_oldest_its_turn() -> None:
    delivered: list[int] = []
    held = BusOrder(lambda: True, stale_after=60)
    for number in range(order.HELD_MAX + 1):
        held.hold(f"m{number}", partial(delivered.append, number))
    assert delivered == [0]  # the oldest, delivered at once: late, not lost
    held.came_back(f"m{order.HELD_MAX}")
    assert delivered == [0, order.HELD_MAX]


def test_messages_are_released_in_their_order_when_the_bus_goes_or_they_go_stale() -> None:
    delivered: list[str] = []
    held = BusOrder(lambda: True, stale_after=0)
    for msgid in ("a", "b", "c"):
        held.hold(msgid, partial(delivered.append, msgid))
    held.came_back("b")
    held.came_back("unknown")  # another node's, or already delivered: nothing
    assert delivered == ["b"]
    held.release_stale()  # older than 0 s: the event was lost on the way
    assert delivered == ["b", "a", "c"]
    held.hold("d", partial(delivered.append, "d"))
    held.release_all()  # the bus is gone
    assert delivered == ["b", "a", "c", "d"]
