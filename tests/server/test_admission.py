"""Connection limits: global cap, per-IP cap and throttling, loopback exemption."""

from __future__ import annotations

from harness import ServerFactory
from hubbub.server.config import LimitsSection
from hubbub.server.net.admission import Admission


async def test_global_limit_refuses_extra_connection(start_server: ServerFactory) -> None:
    irc = await start_server(limits={"max_clients": 2, "flood_control": False})
    await irc.client("one")
    await irc.client("two")
    third = await irc.client()
    error = await third.expect("ERROR")
    assert "Server is full" in error.params[0]
    assert await third.closed()


async def test_per_ip_limit_when_loopback_not_exempt(start_server: ServerFactory) -> None:
    irc = await start_server(limits={"max_per_ip": 2, "exempt": [], "throttle": True})
    await irc.client("one")
    await irc.client("two")
    third = await irc.client()
    assert "Too many connections from your IP" in (await third.expect("ERROR")).params[0]


async def test_loopback_exempt_by_default(start_server: ServerFactory) -> None:
    irc = await start_server(limits={"max_per_ip": 1, "throttle": True})
    await irc.client("one")
    await irc.client("two")


async def test_slot_freed_when_client_leaves(start_server: ServerFactory) -> None:
    irc = await start_server(limits={"max_clients": 1})
    first = await irc.client("first")
    await first.send("QUIT")
    assert await first.closed()
    await irc.client("second")


def test_throttle_window() -> None:
    limits = LimitsSection(throttle_connections=3, throttle_window=60, max_per_ip=100, exempt=[])
    admission = Admission(limits)
    for _ in range(3):
        assert admission.admit("192.0.2.1") is None
        admission.release("192.0.2.1")
    assert "throttled" in (admission.admit("192.0.2.1") or "")
    assert admission.admit("192.0.2.2") is None
    assert admission.is_exempt("127.0.0.5") is False
    assert Admission(LimitsSection()).is_exempt("127.0.0.5")
