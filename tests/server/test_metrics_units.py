"""The pieces of metrics and logging that need no socket."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from hubbub.server.commands.registry import CommandSpec
from hubbub.server.config import is_loopback, parse_host_port
from hubbub.server.log_events import quit_reason
from hubbub.server.logging_setup import JsonFormatter, TextFormatter
from hubbub.server.metrics import COMMAND_TIMING_SAMPLE, ServerMetrics
from hubbub.stats import Histogram
from sessionkit import MemoryClient, memory_server


def test_histogram_buckets_are_cumulative_and_inclusive() -> None:
    histogram = Histogram((1, 5))
    for value in (0.5, 1, 3, 5, 7):
        histogram.observe(value)
    histogram.observe(2, times=3)
    assert histogram.cumulative() == [("1.0", 2), ("5.0", 7), ("+Inf", 8)]
    assert histogram.count == 8 and histogram.total == 22.5


async def test_command_timing_is_sampled_per_read(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        alice = MemoryClient(server)
        alice.register("alice")
        metrics = server.metrics
        before = metrics.command_seconds.count
        pings = metrics.received("PING")
        for _ in range(COMMAND_TIMING_SAMPLE * 3):
            alice.receive(*["PING x"] * 4)  # one read of 4 lines
        assert metrics.received("PING") == pings + COMMAND_TIMING_SAMPLE * 3 * 4
        # one read in COMMAND_TIMING_SAMPLE timed; its mean counted once per line
        assert metrics.command_seconds.count - before == 3 * 4


async def test_each_server_counts_its_own_commands_and_later_ones(tmp_path: Path) -> None:
    async with memory_server(tmp_path / "a") as one, memory_server(tmp_path / "b") as two:
        alice = MemoryClient(one)
        alice.register("alice")
        before = one.metrics.received("PING")
        alice.receive("PING x", "PING y")
        assert one.metrics.received("PING") == before + 2
        assert two.metrics.received("PING") == 0
        spec = CommandSpec("LATECOMER", lambda _ctx, _msg: None, 0, False, False, 1, "")
        one.commands["LATECOMER"] = spec
        alice.receive("LATECOMER")
        assert one.metrics.received("LATECOMER") == 1 and spec.calls == 1
        assert "LATECOMER" not in two.commands


def test_sasl_mechanisms_fold_into_a_fixed_set() -> None:
    metrics = ServerMetrics()
    keys = set(metrics.sasl)
    metrics.sasl_attempt("PLAIN", "success")
    metrics.sasl_attempt("anything-a-client-types", "failure")
    metrics.sasl_attempt(None, "aborted")
    assert set(metrics.sasl) == keys  # no new label values
    assert metrics.sasl[("PLAIN", "success")] == 1
    assert metrics.sasl[("other", "failure")] == 1
    assert metrics.sasl[("other", "aborted")] == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:9667", ("127.0.0.1", 9667)),
        ("[::1]:9667", ("::1", 9667)),
        (":9667", ("127.0.0.1", 9667)),
    ],
)
def test_host_port(text: str, expected: tuple[str, int]) -> None:
    assert parse_host_port(text) == expected


@pytest.mark.parametrize("text", ["9667", "host:", "host:99999", "host:-1", "host:٣"])
def test_bad_host_port(text: str) -> None:
    with pytest.raises(ValueError, match="expected HOST:PORT"):
        parse_host_port(text)


def test_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("::")
    assert not is_loopback("metrics.example.org")  # a name may resolve anywhere


def test_a_quit_text_never_reaches_the_log() -> None:
    assert quit_reason("Quit: meet me at 5, password is hunter2") == "Quit"
    assert quit_reason("Quit") == "Quit"
    assert quit_reason("Ping timeout: 120 seconds") == "Ping timeout: 120 seconds"
    assert quit_reason("Excess\nFlood") == "Excess\\nFlood"


def record(message: str, exc: bool = False, **extra: object) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            exc_info = sys.exc_info()
    made = logging.LogRecord("hubbub.test", logging.WARNING, __file__, 1, message, (), exc_info)
    made.__dict__.update(extra)
    return made


def test_json_record_is_one_line_whatever_it_holds() -> None:
    line = JsonFormatter().format(
        record("two\nlines \x1b[31m", exc=True, event="quit", conn=7, nick="n", reason="r\r\n")
    )
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    entry = json.loads(line)
    assert entry["event"] == "quit" and entry["conn"] == 7 and entry["reason"] == "r\r\n"
    assert entry["level"] == "warning" and entry["logger"] == "hubbub.test"
    assert entry["message"] == "two\nlines \x1b[31m"
    assert "ValueError: boom" in entry["exc"]


def test_json_record_without_an_event_is_a_plain_log() -> None:
    entry = json.loads(JsonFormatter().format(record("hello", unrelated="not a field")))
    assert entry["event"] == "log" and "unrelated" not in entry


def test_text_record_appends_fields() -> None:
    line = TextFormatter().format(record("quit", event="quit", conn=3, reason="Ping timeout: 9"))
    assert line.endswith('hubbub.test: quit [conn=3 reason="Ping timeout: 9"]')
    plain = TextFormatter().format(record("hello"))
    assert plain.endswith("hubbub.test: hello")
