"""The generator against the real hubbub server (in this test's event loop;
the generator runs its own loop in a worker thread), plaintext and TLS."""

from __future__ import annotations

import asyncio

from harness import ServerFactory
from hubbub.bench.cli import run
from hubbub.bench.options import BenchOptions, Scenario

NO_LIMITS = {"flood_control": False, "throttle": False}


async def test_fanout_against_hubbub(start_server: ServerFactory) -> None:
    irc = await start_server(limits=NO_LIMITS)
    opts = BenchOptions(
        port=irc.port(), clients=20, channels=2, senders=4, duration=0.5, warmup=0.1
    )
    result = await asyncio.to_thread(run, opts)
    assert result.exit == 0, result
    assert result.errors == 0 and result.lost == 0
    assert result.delivered_total == result.expected_total > 0


async def test_direct_over_tls_against_hubbub(start_server: ServerFactory) -> None:
    irc = await start_server(limits=NO_LIMITS)
    opts = BenchOptions(
        scenario=Scenario.DIRECT,
        port=irc.port("tls"),
        tls=True,
        clients=6,
        duration=0.3,
        warmup=0.1,
    )
    result = await asyncio.to_thread(run, opts)
    assert result.exit == 0, result
    assert result.delivered_total == result.expected_total > 0
