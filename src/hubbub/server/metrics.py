"""The server's own figures, kept as plain integers.

The hot path (every line, every message) pays for an integer or a dict
increment with a fixed set of keys, never a prometheus-client label lookup
and lock; ``metrics_collector`` turns these numbers into Prometheus metrics
when someone scrapes. No key here comes from what a client typed: command
names are those of the command table, SASL mechanisms are folded into a
fixed set, so no client can grow the label space.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from time import perf_counter
from typing import Protocol, TypeVar

from hubbub.stats import Histogram

TRANSPORTS = ("plain", "tls", "websocket", "plain-chat")
MESSAGE_KINDS = ("PRIVMSG", "NOTICE", "TAGMSG")
FLOOD_REASONS = ("excess_flood", "input_too_long")
SASL_MECHANISMS = ("PLAIN", "EXTERNAL", "SCRAM-SHA-256")
SASL_RESULTS = ("success", "failure", "aborted")
BAN_KINDS = ("kline", "dline", "channel")

COMMAND_SECONDS_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05)
FANOUT_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000)
LOOP_LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)

# One read in this many is timed for the command duration histogram: two
# clock reads and a bisect on every read would cost more than the 2% budget.
COMMAND_TIMING_SAMPLE = 16

T = TypeVar("T")


class Count:
    """One counter. ``cells[key].n += 1`` is one dict lookup and a slot store;
    ``counts[key] += 1`` would be two lookups and a dict insert (measured
    with callgrind: about half the instructions)."""

    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


def counts(keys: Iterable[str]) -> dict[str, Count]:
    return {key: Count() for key in keys}


class Counted(Protocol):
    """A command-table entry: the session adds one to ``calls`` per line."""

    calls: int


class ServerMetrics:
    """Counters of one server since it started (one per Server, so several
    servers in one process, as in the tests, never mix their figures)."""

    __slots__ = (
        "accepted",
        "account_registrations",
        "bans",
        "command_seconds",
        "commands",
        "delivered",
        "fanout",
        "flood_disconnects",
        "loop_lag",
        "loop_lag_last",
        "registrations",
        "sasl",
        "sendq_drops",
        "unknown_commands",
        "until_sample",
    )

    def __init__(self, commands: Mapping[str, Counted] | None = None) -> None:
        self.accepted = dict.fromkeys(TRANSPORTS, 0)  # connections admitted
        self.registrations = 0  # connections that completed NICK/USER
        self.account_registrations = 0  # accounts created by clients
        # The server's own command table (a command added later is in it too).
        self.commands: Mapping[str, Counted] = commands if commands is not None else {}
        self.unknown_commands = 0
        self.delivered = counts(MESSAGE_KINDS)  # copies queued to recipients
        self.fanout = Histogram(FANOUT_BUCKETS)  # recipients per channel message
        self.command_seconds = Histogram(COMMAND_SECONDS_BUCKETS)
        self.sendq_drops = 0
        self.flood_disconnects = dict.fromkeys(FLOOD_REASONS, 0)
        self.sasl = {(m, r): 0 for m in (*SASL_MECHANISMS, "other") for r in SASL_RESULTS}
        self.bans = dict.fromkeys(BAN_KINDS, 0)
        self.loop_lag = Histogram(LOOP_LAG_BUCKETS)
        self.loop_lag_last = 0.0
        # Reads left before the next timed one: the session counts it down
        # (a small integer, so no new int object per read) and calls
        # timed_process when it reaches 0.
        self.until_sample = COMMAND_TIMING_SAMPLE

    def timed_process(self, process: Callable[[], None], lines: list[bytes]) -> None:
        """``process()`` (a connection handling its queued ``lines``), timed:
        the mean time per line handled is observed once per line. The
        session calls it for one read in ``COMMAND_TIMING_SAMPLE``."""
        self.until_sample = COMMAND_TIMING_SAMPLE
        waiting = len(lines)
        started = perf_counter()
        process()
        handled = waiting - len(lines)
        if handled > 0:
            self.command_seconds.observe((perf_counter() - started) / handled, handled)

    def channel_message(self, kind: str, recipients: int) -> None:
        self.delivered[kind].n += recipients
        self.fanout.observe(recipients)

    def sasl_attempt(self, mechanism: str | None, result: str) -> None:
        """One SASL exchange ended with ``result`` (a ``SASL_RESULTS`` value)."""
        known = mechanism if mechanism in SASL_MECHANISMS else "other"
        self.sasl[(known, result)] += 1

    def received(self, kind: str) -> int:
        """Messages of ``kind`` received: the lines of that command."""
        entry = self.commands.get(kind)
        return entry.calls if entry is not None else 0
