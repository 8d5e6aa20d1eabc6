"""The outcome of a run, as readable text and as one JSON line whose field
names follow ircload's RESULT line, so both tools' output fits one table."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from hubbub.bench.options import Scenario

EXIT_OK = 0
EXIT_DISCONNECTED = 1  # the server closed connections or died
EXIT_SETUP_FAILED = 3  # not everyone registered/joined, or nothing delivered

# A sender that gets only a few messages a second through while each one
# waits a second or more, on a server that is not busy, is being paced by the
# server's flood control (hubbub: 4 lines/s after a burst of 10), so the
# figures measure that pacing and not the server's speed.
FLOOD_SUSPECT_PER_SENDER = 10.0  # messages/s per sender, at most
FLOOD_SUSPECT_P50_MS = 1000.0  # median latency, at least
FLOOD_SUSPECT_SERVER_CPU_PCT = 50.0  # server CPU (when known), below
FLOOD_WARNING = (
    "WARNING: each sender got {rate:.1f} messages/s through with a median latency of "
    "{p50:.1f} s: these figures measure the server's flood control, not its speed. "
    "For hubbub, start the server with --no-flood-control "
    "(or [limits] flood_control = false) to benchmark it."
)


@dataclass(slots=True)
class Result:
    scenario: str
    clients: int
    channels: int
    senders: int
    rate: float
    window: int
    msg_size: int
    duration_s: float
    sent_per_s: float
    deliveries_per_s: float
    fanout: float
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    latency_samples: int
    reg_per_s: float
    reg_time_s: float | None
    join_time_s: float | None
    rss_kb_base: int | None
    rss_kb_start: int | None
    rss_kb_end: int | None
    hwm_kb_end: int | None
    rss_kb_per_client: float | None
    server_cpu_s: float | None
    server_cpu_pct: float | None
    gen_cpu_s: float
    gen_cpu_pct: float
    other_cpu_s: float | None
    sent_total: int
    delivered_total: int
    expected_total: int
    lost: int
    window_resets: int
    skipped: int
    conn_window_max: int
    conn_window_cuts: int
    connect_retries: int
    registered: int
    failed: int
    errors: int
    disconnects: int
    server_died: bool
    exit: int

    def flood_control_suspected(self) -> bool:
        """True when the message figures look like flood-control pacing."""
        if self.scenario not in (Scenario.FANOUT, Scenario.DIRECT) or self.senders < 1:
            return False
        if self.p50_ms is None or self.p50_ms < FLOOD_SUSPECT_P50_MS:
            return False
        cpu = self.server_cpu_pct
        if cpu is not None and cpu >= FLOOD_SUSPECT_SERVER_CPU_PCT:
            return False
        return self.sent_per_s / self.senders <= FLOOD_SUSPECT_PER_SENDER

    def flood_warning(self) -> str | None:
        if not self.flood_control_suspected():
            return None
        assert self.p50_ms is not None
        return FLOOD_WARNING.format(rate=self.sent_per_s / self.senders, p50=self.p50_ms / 1000)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    def to_text(self) -> str:
        lines = [
            f"---- {self.scenario}: {self.clients} clients, {self.channels} channel(s), "
            f"{self.senders} sender(s)",
            f"registration: {self.registered} ok, {self.failed} failed, "
            f"{_num(self.reg_time_s, '.3f')} s, {self.reg_per_s:,.0f} reg/s",
        ]
        if self.join_time_s is not None:
            lines.append(f"join: {_num(self.join_time_s, '.3f')} s")
        if self.scenario in (Scenario.FANOUT, Scenario.DIRECT):
            mode = f"open loop {self.rate:g}/s" if self.rate > 0 else f"window {self.window}"
            lines += [
                f"measured {self.duration_s:.2f} s ({mode}): {self.sent_per_s:,.0f} messages/s, "
                f"{self.deliveries_per_s:,.0f} deliveries/s (fanout {self.fanout:.1f})",
                f"latency ms: p50 {_num(self.p50_ms)} p90 {_num(self.p90_ms)} "
                f"p99 {_num(self.p99_ms)} max {_num(self.max_ms)}",
                f"totals: sent {self.sent_total:,}, delivered {self.delivered_total:,} of "
                f"{self.expected_total:,} expected, lost {self.lost:,}, "
                f"window resets {self.window_resets}, skipped {self.skipped}",
            ]
        elif self.scenario == Scenario.CONNECT:
            lines.append(
                f"connect->001 ms: p50 {_num(self.p50_ms)} p99 {_num(self.p99_ms)} "
                f"max {_num(self.max_ms)}"
            )
        if self.rss_kb_end is not None:
            lines.append(
                f"server: rss {self.rss_kb_base} -> {self.rss_kb_end} kB "
                f"({_num(self.rss_kb_per_client, '.2f')} kB/client), "
                f"cpu {_num(self.server_cpu_s, '.2f')} s ({_num(self.server_cpu_pct, '.0f')}%)"
            )
        warn = "  <-- the generator may be the bottleneck" if self.gen_cpu_pct > 90 else ""
        lines.append(f"generator cpu {self.gen_cpu_s:.2f} s ({self.gen_cpu_pct:.0f}%){warn}")
        if self.other_cpu_s is not None and self.other_cpu_s > 0.1 * self.duration_s:
            lines.append(
                f"WARNING: other processes used {self.other_cpu_s:.2f} s of CPU while measuring"
            )
        lines.append(
            f"errors {self.errors}, disconnects {self.disconnects}, "
            f"connect retries {self.connect_retries}, exit {self.exit}"
        )
        flood = self.flood_warning()
        if flood is not None:
            lines.append(flood)
        return "\n".join(lines)


def _num(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)
