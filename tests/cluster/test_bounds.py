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


def test_a_held_delivery_past_the_bound_gives_the_oldest_its_turn() -> None:
    delivered: list[int] = []
    held = BusOrder(lambda: True, stale_after=60)
    for number in range(order.HELD_MAX + 1):
        held.hold(partial(delivered.append, number))
    assert delivered == [0]  # the oldest, delivered at once: late, not lost
    event = held.bind()
    assert event is not None
    held.came_back(event)
    assert delivered == list(range(order.HELD_MAX + 1))


def test_deliveries_are_released_in_their_order_when_the_bus_goes_or_they_go_stale() -> None:
    delivered: list[str] = []
    held = BusOrder(lambda: True, stale_after=0)
    held.hold(partial(delivered.append, "a"))
    assert held.bind() == 1
    held.hold(partial(delivered.append, "b"))
    held.hold(partial(delivered.append, "c"))
    assert held.bind() == 2
    held.came_back(2)
    assert delivered == ["a", "b", "c"]
    held.hold(partial(delivered.append, "d"))
    held.release_stale()  # older than 0 s: its event was lost on the way
    assert delivered == ["a", "b", "c", "d"]
    held.hold(partial(delivered.append, "e"))
    held.release_all()  # the bus is gone
    assert delivered == ["a", "b", "c", "d", "e"]
    assert held.bind() is None  # nothing waits
