"""The bus receiver's memory of message numbers, without sockets: a
message whose number it has seen from that sender on that channel is a
retried send, applied already."""

from __future__ import annotations

from hubbub.server.cluster import bus
from hubbub.server.cluster.bus import Dedup, pack, unpack


def test_a_number_seen_before_is_not_fresh() -> None:
    seen = Dedup()
    assert [seen.fresh("events", "n1.a", n) for n in (1, 2, 2, 1, 3)] == [
        True,
        True,
        False,
        False,
        True,
    ]


def test_numbers_count_per_channel_and_per_sender() -> None:
    seen = Dedup()
    assert seen.fresh("events", "n1.a", 5)
    assert seen.fresh("to:n2", "n1.a", 1)
    assert seen.fresh("events", "n1.b", 1)  # a new run of n1 starts again at 1
    assert not seen.fresh("events", "n1.a", 5)


def test_the_table_keeps_the_senders_heard_from_last() -> None:
    seen = Dedup()
    for number in range(bus.SENDERS_MAX + 1):
        assert seen.fresh("events", f"n{number}.x", 1)
    assert seen.fresh("events", "n0.x", 1)  # the oldest was forgotten
    assert not seen.fresh("events", f"n{bus.SENDERS_MAX}.x", 1)


def test_a_message_unpacks_to_its_sender_number_and_events() -> None:
    message = pack("n1.abc", 7, ['{"t":"msg","text":"hi"}', '{"t":"away"}'])
    assert unpack(message) == ("n1.abc", 7, [{"t": "msg", "text": "hi"}, {"t": "away"}])
    assert unpack('[2,{"t":"msg"}]') is None  # the format before numbers
    assert unpack('[3,"n1.abc"]') is None
    assert unpack("not json") is None
