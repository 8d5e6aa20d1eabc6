"""The scenario set of bench/compare, in full and --quick sizes. The
arguments are shared by ``hubbub bench`` and ircload (same option names)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Record = dict[str, Any]  # one RESULT line, plus label/server/generator


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    args: tuple[str, ...]
    clients: int
    metric: str  # the RESULT field the comparison is about
    label: str
    higher_is_better: bool = True


def cases(quick: bool) -> list[Case]:
    """The standard set; the latency case is added once hubbub's peak is known."""
    if quick:
        f1, f2, d, c, i = (100, 1, 5), (200, 4, 4), 100, 500, (1000, 10)
    else:
        f1, f2, d, c, i = (500, 1, 10), (2000, 20, 20), 1000, 5000, (10000, 100)
    return [
        Case(
            f"fanout-{f1[0]}x{f1[1]}",
            f"fanout: {f1[0]} clients, {f1[1]} channel, {f1[2]} senders, window 16",
            (
                "--scenario",
                "fanout",
                "--clients",
                str(f1[0]),
                "--channels",
                str(f1[1]),
                "--senders",
                str(f1[2]),
                "--window",
                "16",
            ),
            f1[0],
            "deliveries_per_s",
            "deliveries/s",
        ),
        Case(
            f"fanout-{f2[0]}x{f2[1]}",
            f"fanout: {f2[0]} clients, {f2[1]} channels, {f2[2]} senders, window 16",
            (
                "--scenario",
                "fanout",
                "--clients",
                str(f2[0]),
                "--channels",
                str(f2[1]),
                "--senders",
                str(f2[2]),
                "--window",
                "16",
            ),
            f2[0],
            "deliveries_per_s",
            "deliveries/s",
        ),
        Case(
            f"direct-{d}",
            f"direct: {d} clients in {d // 2} pairs, window 16",
            ("--scenario", "direct", "--clients", str(d), "--window", "16"),
            d,
            "deliveries_per_s",
            "messages/s",
        ),
        Case(
            f"connect-{c}",
            f"connect: register {c} clients",
            ("--scenario", "connect", "--clients", str(c)),
            c,
            "reg_per_s",
            "registrations/s",
        ),
        Case(
            f"idle-{i[0]}",
            f"idle: {i[0]} clients in {i[1]} channels, server memory",
            ("--scenario", "idle", "--clients", str(i[0]), "--channels", str(i[1])),
            i[0],
            "rss_kb_per_client",
            "kB/client",
            higher_is_better=False,
        ),
    ]


def latency_case(base: Case, rate: float) -> Case:
    """``base`` (the first fanout case) at a fixed open-loop rate."""
    args = list(base.args)
    if "--window" in args:
        del args[args.index("--window") : args.index("--window") + 2]
    return Case(
        "latency-50pct",
        f"{base.title.split(', window')[0]}, open loop {rate:,.0f} msg/s (50% of hubbub's peak)",
        (*args, "--rate", f"{rate:.0f}"),
        base.clients,
        "p99_ms",
        "p99 latency ms",
        higher_is_better=False,
    )
