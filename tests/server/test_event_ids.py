"""A server's event ids (server/event_ids.py): an event's msgid is the text
of its id, ids come from the boot, the next boot is due after half of them,
and there are none before start."""

from __future__ import annotations

import pytest

from hubbub.protocol.msgid import first_id, msgid, row_id
from hubbub.server.delivery import Event
from hubbub.server.event_ids import RENEW_AFTER, EventIds, NotStarted


def test_an_events_msgid_is_its_id_as_text() -> None:
    ids = EventIds(3)
    first, second = Event(ids.counter), Event(ids.counter)
    assert (first.id, second.id) == (first_id(3), first_id(3) + 1)
    assert first.msgid == msgid(first_id(3)) and row_id(second.msgid) == second.id


def test_another_nodes_msgid_is_no_id_of_ours() -> None:
    event = Event(EventIds(3).counter)
    event.msgid = "H5000000000000"  # the origin's (cluster/mirror.py)
    assert (event.msgid, event.id) == ("H5000000000000", None)


def test_the_next_boot_is_due_after_half_of_the_ids() -> None:
    assert RENEW_AFTER == 2**39
    ids = EventIds(5, renew_after=3)
    drawn = [next(ids.counter), next(ids.counter)]
    assert not ids.running_low()  # draws the third id
    assert ids.running_low()  # draws the fourth
    assert drawn == [first_id(5), first_id(5) + 1]
    assert next(ids.counter) == first_id(5) + 4  # the ids drawn to see are never reused


def test_no_event_before_the_server_has_its_boot() -> None:
    with pytest.raises(RuntimeError, match="boot number"):
        Event(NotStarted())
