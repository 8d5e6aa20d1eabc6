"""Event time stamps around a device's coming and going (delivery.stamp_after):
a message created after the boundary is stamped after it, even within the
same millisecond, so a device's missed-message replay is exact."""

from __future__ import annotations

import itertools
import time

from hubbub.protocol.msgid import FIRST_ID
from hubbub.server.delivery import Event, stamp_after

IDS = itertools.count(FIRST_ID)


def test_events_after_a_boundary_are_stamped_after_it() -> None:
    boundary = int(time.time() * 1000) + 5  # a millisecond the clock has not reached yet
    stamp_after(boundary)
    stamped = int(Event(IDS).at * 1000)
    assert stamped == boundary + 1


def test_a_boundary_in_the_past_leaves_the_clock_alone() -> None:
    stamp_after(int(time.time() * 1000) - 60_000)
    before = time.time()
    at = Event(IDS).at
    assert before <= at <= time.time() + 0.01


def test_an_explicit_time_is_kept() -> None:
    stamp_after(int(time.time() * 1000) + 5)
    assert Event(IDS, at=12.5).at == 12.5
