"""Option validation (one readable line, exit status 2) and the pure parts:
who observes whom, and the latency histogram."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hubbub.bench.cli import bench
from hubbub.bench.histogram import Histogram
from hubbub.bench.options import BenchOptions, Scenario
from hubbub.bench.plan import plan_senders


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--clients", "0"], "--clients"),
        (["--clients", "5", "--senders", "6"], "--senders (6) cannot exceed --clients (5)"),
        (["--clients", "2", "--channels", "3"], "--channels"),
        (["--window", "0"], "--window"),
        (["--msg-size", "9999"], "--msg-size"),
        (["--duration", "0"], "--duration"),
        (["--rate", "-1"], "--rate"),
        (["--port", "70000"], "--port"),
        (["--scenario", "storm"], "storm"),
        (["--clients", "many"], "many"),
        (["--host", "no-such-host.invalid"], "no-such-host.invalid"),
    ],
)
def test_bad_options_exit_2_with_one_line(args: list[str], needle: str) -> None:
    out = CliRunner().invoke(bench, args)
    assert out.exit_code == 2
    assert needle in out.output
    assert "Traceback" not in out.output


def test_fanout_observer_is_highest_member() -> None:
    plans = plan_senders(BenchOptions(clients=10, channels=2, senders=4))
    assert [(p.index, p.target, p.observer, p.recipients) for p in plans] == [
        (0, "#bench0", 8, 4),
        (1, "#bench1", 9, 4),
        (2, "#bench0", 8, 4),
        (3, "#bench1", 9, 4),
    ]


def test_fanout_highest_sender_is_observed_by_second_highest() -> None:
    plans = plan_senders(BenchOptions(clients=3, senders=3))
    assert [p.observer for p in plans] == [2, 2, 1]


def test_fanout_observer_is_on_the_next_port_after_the_sender() -> None:
    # client i connects to port i % 2: the even senders are watched from the
    # second port, the odd ones from the first
    plans = plan_senders(BenchOptions(clients=10, senders=4, extra_ports=(6668,)))
    assert [(p.index, p.observer) for p in plans] == [(0, 9), (1, 8), (2, 9), (3, 8)]


def test_fanout_observer_falls_back_when_a_channel_is_on_one_port() -> None:
    # 2 channels over 2 ports: every member of #bench0 is on the first port
    plans = plan_senders(BenchOptions(clients=10, channels=2, senders=2, extra_ports=(6668,)))
    assert [(p.index, p.observer) for p in plans] == [(0, 8), (1, 9)]


def test_direct_pairs_and_lonely_client() -> None:
    plans = plan_senders(BenchOptions(scenario=Scenario.DIRECT, clients=3))
    assert [(p.index, p.target, p.observer) for p in plans] == [(0, "b1", 1), (1, "b0", 0)]


def test_no_senders_when_idle() -> None:
    assert plan_senders(BenchOptions(scenario=Scenario.IDLE, clients=5)) == []


def test_histogram_percentiles_are_within_two_percent() -> None:
    hist = Histogram()
    for value in range(1, 100_001):
        hist.add(value * 1000)
    p50, p99 = hist.percentile(0.5), hist.percentile(0.99)
    assert p50 is not None and p99 is not None
    assert abs(p50 - 50_000_000) / 50_000_000 < 0.02
    assert abs(p99 - 99_000_000) / 99_000_000 < 0.02
    assert hist.max == 100_000_000


def test_histogram_weights() -> None:
    hist = Histogram()
    hist.add(10, weight=99)
    hist.add(1_000_000)
    assert hist.percentile(0.5) == 10
    assert hist.percentile(1.0) == hist.max == 1_000_000
    assert hist.count == 100 and hist.samples == 2
    assert Histogram().percentile(0.5) is None
