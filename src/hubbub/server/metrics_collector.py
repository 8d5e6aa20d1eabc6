"""Turns one server's plain counters into Prometheus metrics at scrape time.

A custom Collector, so nothing on the hot path touches prometheus-client:
the figures are read (on the event loop, by the metrics listener) only when
Prometheus asks. Names follow the Prometheus conventions: ``hubbub_`` prefix,
base units, ``_total`` on counters; no label names a user or a channel.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, GCCollector, ProcessCollector
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from hubbub import __version__
from hubbub.server.metrics import TRANSPORTS
from hubbub.server.net.transport_kind import transport_of
from hubbub.server.session import Session
from hubbub.stats import Histogram

if TYPE_CHECKING:
    from hubbub.server.observed import ObservedServer


def build_registry(server: ObservedServer) -> CollectorRegistry:
    """A registry of its own per server: hubbub's figures plus the process
    collector (CPU seconds, resident memory, open file descriptors) and
    Python's garbage collector (collections by generation: a full one
    stops the loop, see docs/performance.md, "Full collections")."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HubbubCollector(server))
    ProcessCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def _histogram(name: str, doc: str, histogram: Histogram) -> HistogramMetricFamily:
    return HistogramMetricFamily(
        name, doc, buckets=histogram.cumulative(), sum_value=histogram.total
    )


class HubbubCollector(Collector):
    def __init__(self, server: ObservedServer) -> None:
        self.server = server

    def describe(self) -> list[Metric]:
        return []  # the names are fixed; no need to collect at registration

    def collect(self) -> Iterator[Metric]:
        server = self.server
        metrics = server.metrics
        world = server.world

        info = GaugeMetricFamily("hubbub_info", "Always 1; the version", labels=["version"])
        info.add_metric([__version__], 1)
        yield info

        open_by_transport = dict.fromkeys(TRANSPORTS, 0)
        for user in world.connections:
            sink = user.sink
            if isinstance(sink, Session):
                open_by_transport[transport_of(sink)] += 1
        connections = GaugeMetricFamily(
            "hubbub_connections", "Open client connections", labels=["transport"]
        )
        accepted = CounterMetricFamily(
            "hubbub_connections_accepted",
            "Client connections admitted since start",
            labels=["transport"],
        )
        for transport in TRANSPORTS:
            connections.add_metric([transport], open_by_transport[transport])
            accepted.add_metric([transport], metrics.accepted[transport])
        yield connections
        yield accepted
        yield GaugeMetricFamily(
            "hubbub_users", "Registered users online", value=world.registered_count()
        )
        yield GaugeMetricFamily("hubbub_channels", "Channels that exist", value=len(world.channels))
        yield CounterMetricFamily(
            "hubbub_client_registrations",
            "Connections that completed registration (NICK/USER)",
            value=metrics.registrations,
        )
        yield CounterMetricFamily(
            "hubbub_account_registrations",
            "Accounts created by clients (REGISTER, NickServ REGISTER)",
            value=metrics.account_registrations,
        )

        received = CounterMetricFamily(
            "hubbub_messages_received", "PRIVMSG, NOTICE and TAGMSG lines received", labels=["kind"]
        )
        delivered = CounterMetricFamily(
            "hubbub_messages_delivered",
            "Copies of messages queued to recipients (echo-message copies included)",
            labels=["kind"],
        )
        for kind, cell in metrics.delivered.items():
            received.add_metric([kind.lower()], metrics.received(kind))
            delivered.add_metric([kind.lower()], cell.n)
        yield received
        yield delivered
        commands = CounterMetricFamily(
            "hubbub_commands", "Command lines handled, by command", labels=["command"]
        )
        for name, entry in sorted(metrics.commands.items()):  # every command, even at 0
            commands.add_metric([name], entry.calls)
        commands.add_metric(["unknown"], metrics.unknown_commands)
        yield commands
        yield _histogram(
            "hubbub_command_duration_seconds",
            "Time to handle one command line on the event loop (sampled, 1 line in 16)",
            metrics.command_seconds,
        )
        yield _histogram(
            "hubbub_fanout_recipients",
            "Recipients of each channel message",
            metrics.fanout,
        )

        yield CounterMetricFamily(
            "hubbub_sendq_drops",
            "Clients disconnected because their send queue overflowed",
            value=metrics.sendq_drops,
        )
        flood = CounterMetricFamily(
            "hubbub_flood_disconnects", "Clients disconnected by flood control", labels=["reason"]
        )
        for reason, count in metrics.flood_disconnects.items():
            flood.add_metric([reason], count)
        yield flood
        sasl = CounterMetricFamily(
            "hubbub_sasl_attempts",
            "SASL exchanges ended, by mechanism and result",
            labels=["mechanism", "result"],
        )
        for (mechanism, result), count in metrics.sasl.items():
            sasl.add_metric([mechanism, result], count)
        yield sasl
        bans = CounterMetricFamily(
            "hubbub_bans_applied", "Bans set (K-line, D-line, channel +b)", labels=["kind"]
        )
        for kind, count in metrics.bans.items():
            bans.add_metric([kind], count)
        yield bans

        yield GaugeMetricFamily(
            "hubbub_event_loop_last_lag_seconds",
            "How late the last event-loop probe woke up",
            value=metrics.loop_lag_last,
        )
        yield _histogram(
            "hubbub_event_loop_lag_seconds",
            "How late the event-loop probe wakes up (a busy loop delays every client)",
            metrics.loop_lag,
        )
        yield from self._store()

    def _store(self) -> Iterator[Metric]:
        try:
            stats = self.server.store.history.writer_stats
        except RuntimeError:  # the store is not open (yet, or any more)
            return
        yield GaugeMetricFamily(
            "hubbub_history_queue_depth",
            "History messages waiting to be written",
            value=stats.depth(),
        )
        yield GaugeMetricFamily(
            "hubbub_history_queue_limit",
            "History messages that may be held; near it senders wait for the writer",
            value=stats.limit,
        )
        yield CounterMetricFamily(
            "hubbub_history_dropped",
            "History messages lost in batches that could not be written",
            value=stats.dropped,
        )
        yield CounterMetricFamily(
            "hubbub_history_congestions",
            "Times the history buffer reached its mark and senders waited for the writer",
            value=stats.congestions,
        )
        yield _histogram(
            "hubbub_history_batch_size", "Messages per history write", stats.batch_sizes
        )
        yield _histogram(
            "hubbub_history_write_duration_seconds",
            "Time to write one history batch",
            stats.write_seconds,
        )
        yield CounterMetricFamily(
            "hubbub_store_errors", "History batches that could not be written", value=stats.errors
        )
