"""A server's event ids (server/event_ids.py): an event's msgid is the text
of its id, ids come from the boot, the next boot is due after half of them,
and there are none before start."""

from __future__ import annotations

import pytest

from harness import RunningServer, join_all, until
from hubbub.protocol.msgid import BOOT_SHIFT, first_id, msgid, row_id
from hubbub.server.delivery import Event
from hubbub.server.event_ids import RENEW_AFTER, EventIds, NotStarted

CAPS = ["message-tags", "batch", "server-time", "draft/chathistory"]


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


async def test_a_server_takes_the_next_boot_when_its_ids_run_low(irc: RunningServer) -> None:
    """The bound of a boot's ids: past it the server draws from a new boot
    (housekeeping, once a second), and the messages of both are stored."""
    server = irc.server
    alice = await irc.client("alice", CAPS)
    bob = await irc.client("bob", CAPS)
    await join_all("#ids", alice, bob)
    await alice.send("PRIVMSG #ids :old boot")
    before = row_id((await bob.expect("PRIVMSG")).tags["msgid"])
    assert before is not None
    boot = before >> BOOT_SHIFT
    server._ids = EventIds(boot, renew_after=0)  # white-box: this boot is used up
    server.event_ids = server._ids.counter
    await until(lambda: next(server.event_ids) >= first_id(boot + 1))
    await alice.send("PRIVMSG #ids :new boot")
    after = row_id((await bob.expect("PRIVMSG")).tags["msgid"])
    assert after is not None and after >> BOOT_SHIFT > boot
    replies = await bob.ask("CHATHISTORY LATEST #ids * 10")
    assert [m.params[1] for m in replies if m.command == "PRIVMSG"] == ["old boot", "new boot"]
