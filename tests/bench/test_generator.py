"""The load generator's scenarios against the in-test relay: counts must
add up and the JSON line must carry the documented fields. Durations are
tiny: these check behaviour, never speed."""

from __future__ import annotations

import json
import os
from typing import Any

from click.testing import CliRunner

from hubbub.bench.cli import bench, run
from hubbub.bench.options import BenchOptions, Scenario

QUICK: dict[str, Any] = {"duration": 0.3, "warmup": 0.1, "drain_timeout": 2.0}


def test_fanout_closed_loop_delivers_everything(relay_port: int) -> None:
    opts = BenchOptions(
        scenario=Scenario.FANOUT, port=relay_port, clients=20, channels=2, senders=4, **QUICK
    )
    result = run(opts)
    assert result.exit == 0
    assert result.registered == 20
    assert result.fanout == 9
    assert result.sent_total > 0
    assert result.expected_total == result.sent_total * 9
    assert result.delivered_total == result.expected_total
    assert result.lost == 0 and result.window_resets == 0
    assert result.deliveries_per_s > 0
    assert result.p50_ms is not None and result.max_ms is not None
    assert 0 <= result.p50_ms <= result.max_ms


def test_fanout_where_every_member_sends(relay_port: int) -> None:
    """The highest member's messages are observed by the second highest."""
    opts = BenchOptions(port=relay_port, clients=3, senders=3, window=4, **QUICK)
    result = run(opts)
    assert result.exit == 0
    assert result.window_resets == 0
    assert result.delivered_total == result.expected_total == result.sent_total * 2


def test_direct_open_loop_sends_at_the_rate(relay_port: int) -> None:
    opts = BenchOptions(
        scenario=Scenario.DIRECT, port=relay_port, clients=10, rate=500, msg_size=100, **QUICK
    )
    result = run(opts)
    assert result.exit == 0
    assert result.senders == 10 and result.fanout == 1
    assert 0.6 * 500 * 0.4 < result.sent_total < 1.4 * 500 * 0.4
    assert result.delivered_total == result.sent_total


def test_connect_reports_registration_latency(relay_port: int) -> None:
    result = run(BenchOptions(scenario=Scenario.CONNECT, port=relay_port, clients=50))
    assert result.exit == 0
    assert result.registered == 50 and result.failed == 0
    assert result.reg_per_s > 0
    assert result.latency_samples == 50


def test_idle_measures_server_memory(relay_port: int) -> None:
    opts = BenchOptions(
        scenario=Scenario.IDLE,
        port=relay_port,
        clients=10,
        channels=2,
        server_pid=os.getpid(),
        duration=0.2,
    )
    result = run(opts)
    assert result.exit == 0
    base, end, hwm = result.rss_kb_base, result.rss_kb_end, result.hwm_kb_end
    assert base is not None and end is not None and hwm is not None
    # readings of this very process: positive and under its peak
    assert 0 < base <= hwm and 0 < end <= hwm
    assert result.rss_kb_per_client == round((end - base) / 10, 2)
    assert result.sent_total == 0


def test_json_line(relay_port: int) -> None:
    args = ["--port", str(relay_port), "--clients", "4", "--duration", "0.2", "--warmup", "0"]
    out = CliRunner().invoke(bench, [*args, "--json"])
    assert out.exit_code == 0, out.output
    (line,) = out.stdout.splitlines()
    record = json.loads(line)
    for key in (
        "scenario",
        "deliveries_per_s",
        "sent_per_s",
        "p50_ms",
        "p99_ms",
        "max_ms",
        "reg_per_s",
        "lost",
        "errors",
        "exit",
    ):
        assert key in record
    assert record["scenario"] == "fanout" and record["clients"] == 4


def test_repeated_port_spreads_clients_round_robin(
    two_port_relay: tuple[list[int], dict[str, int]],
) -> None:
    (first, second), arrived = two_port_relay
    args = ["--scenario", "direct", "--clients", "6", "--port", str(first), "--port", str(second)]
    args += ["--server-pid", str(os.getpid()), "--server-pid", str(os.getpid())]
    out = CliRunner().invoke(bench, [*args, "--duration", "0.3", "--warmup", "0", "--json"])
    assert out.exit_code == 0, out.output
    assert arrived == {
        "b0": first,
        "b1": second,
        "b2": first,
        "b3": second,
        "b4": first,
        "b5": second,
    }
    record = json.loads(out.stdout)
    # every pair is split over the two ports, and every message crossed over
    assert record["registered"] == 6 and record["sent_total"] > 0
    assert record["delivered_total"] == record["expected_total"] == record["sent_total"]
    assert record["rss_kb_end"] is not None and record["server_cpu_s"] is not None


def test_unreachable_server_fails_setup() -> None:
    out = CliRunner().invoke(
        bench, ["--port", "1", "--clients", "1", "--setup-timeout", "0.5", "--json"]
    )
    assert out.exit_code == 3
    assert json.loads(out.stdout)["registered"] == 0
