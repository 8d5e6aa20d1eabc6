"""``hubbub bench --login``: every client logs in, so the server stores the
private messages of the direct scenario (it stores none between guests);
a refused login fails the setup instead of measuring guests. And the
per-second latency figure of the progress line."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from harness import RunningServer, ServerFactory
from hubbub.bench.cli import run
from hubbub.bench.histogram import Histogram
from hubbub.bench.options import BenchOptions, Scenario

NO_LIMITS = {"flood_control": False, "throttle": False}
PASSWORD = "bench-password-1"


async def bench_accounts(start_server: ServerFactory, count: int) -> RunningServer:
    irc = await start_server(limits=NO_LIMITS)
    for n in range(count):
        await irc.server.store.accounts.create(f"b{n}", PASSWORD)
    return irc


@pytest.mark.usefixtures("cheap_hashes")
async def test_logged_in_direct_messages_are_stored(start_server: ServerFactory) -> None:
    irc = await bench_accounts(start_server, 6)
    opts = BenchOptions(
        scenario=Scenario.DIRECT,
        port=irc.port(),
        clients=6,
        duration=0.3,
        warmup=0.1,
        login=PASSWORD,
    )
    result = await asyncio.to_thread(run, opts)
    assert result.exit == 0 and result.errors == 0, result
    assert result.delivered_total == result.expected_total > 0
    await irc.server.store.flush()
    with sqlite3.connect(irc.server.config.database_path) as conn:
        query = "SELECT count(*) FROM history WHERE party_a IS NOT NULL"
        (stored,) = conn.execute(query).fetchone()
    assert stored >= result.sent_total  # every message of the measured phase, and the warm-up's


@pytest.mark.usefixtures("cheap_hashes")
async def test_a_refused_login_fails_the_setup(start_server: ServerFactory) -> None:
    irc = await bench_accounts(start_server, 2)
    opts = BenchOptions(
        scenario=Scenario.DIRECT,
        port=irc.port(),
        clients=2,
        duration=0.3,
        warmup=0.1,
        login="not-the-password",
        setup_timeout=5,
    )
    result = await asyncio.to_thread(run, opts)
    assert result.exit == 3 and result.errors >= 2 and result.registered == 0, result


def test_the_progress_figure_counts_only_the_last_interval() -> None:
    latency = Histogram()
    for _ in range(1000):
        latency.add(1_000)  # 1 us each
    before = latency.copy()
    for _ in range(10):
        latency.add(5_000_000)  # then 5 ms each
    recent = latency.since(before)
    assert recent.count == 10
    p99 = recent.percentile(0.99)
    assert p99 is not None and 4_900_000 < p99 < 5_100_000
    overall = latency.percentile(0.99)
    assert overall is not None and overall < 2_000
