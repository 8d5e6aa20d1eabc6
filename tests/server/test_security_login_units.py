"""Unit tests of the logic behind login security: token buckets, the hash
gate, escaping for logs. No sockets; time is a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from hubbub.server.hash_gate import HashGate, HashRefused
from hubbub.server.login_throttle import TokenBuckets, ip_key
from hubbub.server.logtext import for_log


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def buckets(
    capacity: int = 3, refill: float = 10.0, entries: int = 100
) -> tuple[TokenBuckets, Clock]:
    clock = Clock()
    return TokenBuckets(capacity, refill, entries, clock), clock


def test_bucket_allows_capacity_then_refuses_until_a_token_returns() -> None:
    table, clock = buckets(capacity=3, refill=10.0)
    for _ in range(3):
        assert table.try_take(["k"]) == 0.0
    assert table.try_take(["k"]) == pytest.approx(10.0)
    clock.now += 4.0
    assert table.wait(["k"]) == pytest.approx(6.0)
    assert table.try_take(["k"]) == pytest.approx(6.0)  # a refusal takes nothing
    clock.now += 6.0
    assert table.try_take(["k"]) == 0.0
    assert table.try_take(["k"]) > 0


def test_all_keys_or_none() -> None:
    table, _ = buckets(capacity=1)
    assert table.try_take(["ip"]) == 0.0
    # the account still has its token, the IP has none: nothing is taken
    assert table.try_take(["account", "ip"]) > 0
    assert table.tokens("account") == 1.0


def test_give_back_undoes_an_attempt_and_full_buckets_are_forgotten() -> None:
    table, clock = buckets(capacity=2, refill=10.0)
    table.try_take(["k"])
    assert "k" in table
    table.give_back(["k"])
    assert "k" not in table and len(table) == 0
    # giving back never raises a bucket above its capacity
    table.give_back(["k"])
    assert table.tokens("k") == 2.0
    table.try_take(["k"])
    clock.now += 100.0
    assert table.tokens("k") == 2.0


def test_table_bound_forgets_the_least_recently_used() -> None:
    table, _ = buckets(capacity=1, entries=3)
    for key in ("a", "b", "c"):
        table.try_take([key])
    table.give_back(["a"])  # a is full again: forgotten, not kept
    table.try_take(["a"])  # a is now the most recently used
    table.try_take(["d"])  # the table is full: b, least recently used, goes
    assert len(table) == 3
    assert "b" not in table
    assert all(key in table for key in ("a", "c", "d"))
    assert table.try_take(["b"]) == 0.0  # b starts again with a full bucket


def test_charge_takes_an_attempt_made_elsewhere_down_to_minus_capacity() -> None:
    table, clock = buckets(capacity=2, refill=10.0)
    table.charge("k")
    assert table.tokens("k") == 1.0
    for _ in range(5):  # attempts another node allowed while this one was empty
        table.charge("k")
    assert table.tokens("k") == -2.0  # bounded: never more than two buckets' wait
    assert table.wait(["k"]) == pytest.approx(30.0)
    table.give_back(["k"])  # the other node's attempt succeeded after all
    assert table.tokens("k") == -1.0
    clock.now += 20.0
    assert table.try_take(["k"]) == 0.0


def test_ip_key_groups_ipv6_by_64() -> None:
    assert ip_key("192.0.2.7") == "ip:192.0.2.7"
    assert ip_key("2001:db8::1") == ip_key("2001:db8::ffff:1") == "ip:2001:db8::/64"
    assert ip_key("2001:db8:0:1::1") != ip_key("2001:db8::1")
    assert ip_key("not an address") == "ip:not an address"


async def test_gate_bounds_running_and_waiting_and_refuses_beyond() -> None:
    gate = HashGate(concurrent=1, waiting=1)
    release = asyncio.Event()
    order: list[str] = []

    async def hash_as(owner: str) -> None:
        async with gate.slot(owner):
            order.append(f"start {owner}")
            await release.wait()
            order.append(f"end {owner}")

    first = asyncio.create_task(hash_as("a"))
    await asyncio.sleep(0)
    second = asyncio.create_task(hash_as("b"))
    await asyncio.sleep(0)
    assert (gate.running, gate.waiting) == (1, 1)
    with pytest.raises(HashRefused, match="busy"):
        async with gate.slot("c"):
            pass
    release.set()
    await asyncio.gather(first, second)
    assert order == ["start a", "end a", "start b", "end b"]
    assert (gate.running, gate.waiting) == (0, 0)


async def test_gate_one_place_per_owner() -> None:
    gate = HashGate(concurrent=4, waiting=4)
    async with gate.slot("conn"):
        with pytest.raises(HashRefused, match="still running"):
            async with gate.slot("conn"):
                pass
    async with gate.slot("conn"):  # free again afterwards
        assert gate.running == 1


async def test_gate_cancelled_waiter_gives_its_place_back() -> None:
    gate = HashGate(concurrent=1, waiting=1)
    release = asyncio.Event()

    async def hold() -> None:
        async with gate.slot("a"):
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(_wait_slot(gate, "b"))
    await asyncio.sleep(0)
    assert gate.waiting == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert gate.waiting == 0
    release.set()
    await holder
    async with gate.slot("b"):
        assert gate.running == 1


async def _wait_slot(gate: HashGate, owner: str) -> None:
    async with gate.slot(owner):
        pass


def test_for_log_escapes_control_characters() -> None:
    assert for_log("plain text, é ü") == "plain text, é ü"
    assert for_log("red\x1b[31m") == "red\\x1b[31m"
    assert for_log("forged\r\nINFO root: line") == "forged\\r\\nINFO root: line"
    assert for_log("nul\x00 bell\x07") == "nul\\x00 bell\\x07"
    assert for_log("back\\slash") == "back\\\\slash"
    assert "\x1b" not in for_log("\x1b\x9b")  # C1 controls too
