"""cluster/order.py without sockets: what a node holds is delivered when
the event published after it comes back from the bus, never before, and
always in the order it was held."""

from __future__ import annotations

from functools import partial

from hubbub.server.cluster.order import BusOrder


def test_a_delivery_waits_for_the_event_published_after_it() -> None:
    delivered: list[str] = []
    order = BusOrder(lambda: True, stale_after=60)
    order.hold(partial(delivered.append, "message"))
    first = order.bind()
    order.hold(partial(delivered.append, "part"))
    order.hold(partial(delivered.append, "part's away"))
    second = order.bind()
    assert first is not None and second is not None and first < second
    assert delivered == []
    order.came_back(first)
    assert delivered == ["message"]  # the PART still waits for its own event
    order.came_back(second)
    assert delivered == ["message", "part", "part's away"]


def test_an_event_with_nothing_new_before_it_gets_no_number() -> None:
    order = BusOrder(lambda: True, stale_after=60)
    assert order.bind() is None
    order.hold(lambda: None)
    assert order.bind() is not None
    assert order.bind() is None  # what was held rides on the event before


def test_a_lost_event_is_made_up_for_by_the_next_one() -> None:
    delivered: list[str] = []
    order = BusOrder(lambda: True, stale_after=60)
    order.hold(partial(delivered.append, "a"))
    order.bind()  # this event is dropped from the bus's full queue
    order.hold(partial(delivered.append, "b"))
    later = order.bind()
    assert later is not None
    order.came_back(later)
    assert delivered == ["a", "b"]


def test_an_event_back_after_its_deliveries_were_released_releases_nothing_more() -> None:
    delivered: list[str] = []
    order = BusOrder(lambda: True, stale_after=60)
    order.hold(partial(delivered.append, "a"))
    early = order.bind()
    assert early is not None
    order.release_all()  # the bus went away
    order.hold(partial(delivered.append, "b"))  # on the bus again
    order.bind()
    order.came_back(early)  # the old event reaches Redis at last
    assert delivered == ["a"]


def test_stale_deliveries_go_in_their_order_and_the_fresh_ones_wait() -> None:
    delivered: list[str] = []
    order = BusOrder(lambda: True, stale_after=0)
    order.hold(partial(delivered.append, "a"))
    order.hold(partial(delivered.append, "b"))
    order.release_stale()
    assert delivered == ["a", "b"]
    order.stale_after = 60
    order.hold(partial(delivered.append, "c"))
    order.release_stale()
    assert delivered == ["a", "b"]
