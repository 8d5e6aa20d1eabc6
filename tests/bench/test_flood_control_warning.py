"""`hubbub bench` against a server that paces its clients (flood control)
says so, instead of reporting the pacing as the server's speed."""

from __future__ import annotations

import asyncio
import dataclasses

from harness import ServerFactory
from hubbub.bench.cli import run
from hubbub.bench.options import BenchOptions
from hubbub.bench.report import Result


def bench_options(port: int) -> BenchOptions:
    return BenchOptions(
        port=port, clients=8, channels=1, senders=4, window=8, duration=1.5, warmup=1.0
    )


async def test_bench_warns_when_flood_control_paces_it(start_server: ServerFactory) -> None:
    irc = await start_server(limits={"flood_control": True})  # the defaults: 10, then 4/s
    result = await asyncio.to_thread(run, bench_options(irc.port()))
    assert result.exit == 0, result
    assert result.sent_per_s / result.senders <= 5.0  # held to the flood rate
    warning = result.flood_warning()
    assert warning is not None and "--no-flood-control" in warning
    assert warning in result.to_text().splitlines()


async def test_no_warning_without_flood_control(start_server: ServerFactory) -> None:
    irc = await start_server(limits={"flood_control": False})
    result = await asyncio.to_thread(run, bench_options(irc.port()))
    assert result.exit == 0, result
    assert result.sent_per_s / result.senders > 10.0
    assert result.flood_warning() is None
    assert "WARNING: each sender" not in result.to_text()


def paced(**changes: object) -> Result:
    """A fanout result that looks paced: 4 messages/s per sender, p50 2 s."""
    base = Result(
        scenario="fanout", clients=8, channels=1, senders=4, rate=0.0, window=8,
        msg_size=64, duration_s=2.0, sent_per_s=16.0, deliveries_per_s=112.0, fanout=7.0,
        p50_ms=2000.0, p90_ms=2500.0, p99_ms=2600.0, max_ms=2600.0, latency_samples=32,
        reg_per_s=100.0, reg_time_s=0.1, join_time_s=0.01, rss_kb_base=None,
        rss_kb_start=None, rss_kb_end=None, hwm_kb_end=None, rss_kb_per_client=None,
        server_cpu_s=None, server_cpu_pct=None, gen_cpu_s=0.01, gen_cpu_pct=1.0,
        other_cpu_s=None, sent_total=32, delivered_total=224, expected_total=224, lost=0,
        window_resets=0, skipped=0, conn_window_max=8, conn_window_cuts=0,
        connect_retries=0, registered=8, failed=0, errors=0, disconnects=0,
        server_died=False, exit=0,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_the_rule_in_isolation() -> None:
    assert paced().flood_control_suspected()
    assert paced(server_cpu_pct=10.0).flood_control_suspected()
    # a busy server is slow, not pacing
    assert not paced(server_cpu_pct=95.0).flood_control_suspected()
    # fast enough per sender, or answered quickly: not pacing
    assert not paced(sent_per_s=400.0).flood_control_suspected()
    assert not paced(p50_ms=20.0).flood_control_suspected()
    # no messages in these scenarios
    assert not paced(scenario="connect").flood_control_suspected()
    assert not paced(scenario="idle", senders=0).flood_control_suspected()
