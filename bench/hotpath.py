#!/usr/bin/env python3
"""The server's per-message Python cost without sockets: real connections on
a real Server, fed through an in-memory transport, so a profiler sees only
parse, dispatch, delivery and history (docs/performance.md, profiling notes).

  .venv/bin/python bench/hotpath.py direct            # microseconds per message
  .venv/bin/python bench/hotpath.py fanout --members 500
  .venv/bin/python bench/hotpath.py direct --history  # with the SQLite store
  .venv/bin/python bench/hotpath.py direct --history --logged-in  # private messages stored
  .venv/bin/python bench/hotpath.py direct --profile  # cProfile, top functions
  .venv/bin/python bench/hotpath.py direct --metrics-cost  # what the counters cost

The metrics cost, measured end to end: export the code before the metrics
(`git archive <commit> src | tar -x -C /tmp/base`) and run

  .venv/bin/python bench/hotpath.py direct --compare-with /tmp/base/src

Two worker processes, one per tree, take turns at short rounds, so a busy
machine slows both alike; the medians of their CPU time per message are
compared, and so are the Python bytecodes each executes per message (a
count: the figure a busy machine cannot disturb).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import math
import os
import pstats
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter
from prometheus_client import Histogram as PromHistogram

from hubbub.server.app import Server
from hubbub.server.config import parse_config
from hubbub.server.net.connection import StreamConnection

PAYLOAD = "L0 0 123456789 " + "x" * 48


class MemoryTransport:
    """Counts what the server writes; never pushes back. Remembers whether
    the server paused reading (history back-pressure), so the driver does
    not feed a connection that would not be read."""

    def __init__(self) -> None:
        self.bytes_written = 0
        self.paused = False

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def write(self, data: bytes) -> None:
        self.bytes_written += len(data)

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 40000) if name == "peername" else default


def connect(server: Server, nick: str, party: str | None = None) -> StreamConnection:
    """A registered client; with ``party``, known to history as a logged-in
    user is (what a login sets), so its private messages are stored."""
    conn = StreamConnection(server, "127.0.0.1", 40000, None)
    conn.connection_made(MemoryTransport())  # type: ignore[arg-type]
    conn.data_received(f"NICK {nick}\r\nUSER {nick} 0 * :bench\r\n".encode())
    conn.session.user.history_party = party
    return conn


async def measure(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="hubbub-hotpath-"))
    config = parse_config(
        {
            "server": {"data_dir": str(data_dir)},
            "listen": [{"host": "127.0.0.1", "port": 0}],
            "limits": {"flood_control": False, "throttle": False},
            "history": {"enabled": args.history},
        }
    )
    server = Server(config)
    await server.start()
    try:
        if args.scenario == "direct":
            party = (lambda key: f"@{key}") if args.logged_in else (lambda _key: None)
            senders = [connect(server, f"a{i}", party(2 * i)) for i in range(args.pairs)]
            for i in range(args.pairs):
                connect(server, f"b{i}", party(2 * i + 1))
            chunks = [
                f"PRIVMSG b{i} :{PAYLOAD}\r\n".encode() * args.batch for i in range(args.pairs)
            ]
            deliveries_per_message = 1
        else:
            members = [connect(server, f"m{i}") for i in range(args.members)]
            for conn in members:
                conn.data_received(b"JOIN #bench\r\n")
            senders = members[:1]
            chunks = [f"PRIVMSG #bench :{PAYLOAD}\r\n".encode() * args.batch]
            deliveries_per_message = args.members - 1
        await asyncio.sleep(0.2)  # registration replies flushed
        if args.worker:
            await serve_rounds(senders, chunks, args)
            return
        if args.callgrind:
            run_for_callgrind(server, senders, chunks, args)
            return
        profile = cProfile.Profile() if args.profile else None
        messages = 0
        started = time.perf_counter()
        cpu_started = time.process_time()
        if profile:
            profile.enable()
        passes = 0
        while passes < args.passes if args.passes else time.perf_counter() - started < args.seconds:
            passes += 1
            fed = 0
            for conn, chunk in zip(senders, chunks, strict=True):
                if not conn.transport.paused:  # type: ignore[attr-defined]
                    conn.data_received(chunk)
                    fed += args.batch
            messages += fed
            # One loop pass: every connection flushes. Everyone held back by
            # history: wait for the writer instead of spinning on the CPU.
            await asyncio.sleep(0 if fed else 0.001)
        await server.store.flush()  # what was held back is processed and stored
        while any(conn.transport.paused for conn in senders):  # type: ignore[attr-defined]
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started  # this process only: not the history writer's
        if profile:
            profile.disable()
        per_message = elapsed / messages * 1e6
        cpu_per_message = cpu / messages * 1e6
        # CPU time too: on a machine shared with other work, wall time per
        # message includes the time other processes held the core.
        await server.store.flush()
        with sqlite3.connect(config.database_path) as db:
            (stored,) = db.execute("SELECT count(*) FROM history").fetchone()
        print(
            f"{args.scenario}: {messages} messages in {elapsed:.2f} s: "
            f"{per_message:.2f} us/message, "
            f"{per_message / deliveries_per_message:.3f} us/delivery; "
            f"cpu {cpu_per_message:.2f} us/message, "
            f"{cpu_per_message / deliveries_per_message:.3f} us/delivery; "
            f"{stored} stored"
        )
        if profile:
            pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
        if args.metrics_cost:
            report_metrics_cost(server, args, await best_cpu_per_message(senders, chunks, args))

    finally:
        await server.stop()


def run_for_callgrind(
    server: Server, senders: list[StreamConnection], chunks: list[bytes], args: argparse.Namespace
) -> None:
    """``--passes`` passes, each flushing every connection, all inside one
    ``math.fsum`` call: run under ``valgrind --tool=callgrind
    --collect-atstart=no --toggle-collect=math_fsum``, callgrind counts the
    machine instructions of exactly these messages (a count: other work on
    the machine cannot move it; see docs/performance.md)."""

    def passes() -> Iterator[float]:
        for _ in range(args.passes):
            for conn, chunk in zip(senders, chunks, strict=True):
                conn.data_received(chunk)
            server.flushes._flush_all()  # what the loop pass would run
        yield 0.0

    math.fsum(passes())
    messages = args.passes * len(senders) * args.batch
    print(f"{args.scenario}: {messages} messages in the math.fsum call")


async def best_cpu_per_message(
    senders: list[StreamConnection], chunks: list[bytes], args: argparse.Namespace
) -> float:
    """Microseconds of CPU per message, the best of 20 short rounds: on a
    shared machine the minimum is the figure least disturbed by others."""
    return min([await cpu_round(senders, chunks, args) for _ in range(20)])


async def cpu_round(
    senders: list[StreamConnection], chunks: list[bytes], args: argparse.Namespace
) -> float:
    """One round of about 50 ms of CPU: microseconds of CPU per message."""
    messages = 0
    started = time.process_time()
    while time.process_time() - started < 0.05:
        for conn, chunk in zip(senders, chunks, strict=True):
            conn.data_received(chunk)
        messages += len(senders) * args.batch
        await asyncio.sleep(0)  # one loop pass: every connection flushes
    return (time.process_time() - started) / messages * 1e6


async def opcode_round(
    senders: list[StreamConnection], chunks: list[bytes], args: argparse.Namespace
) -> float:
    """Python bytecodes executed per message (per delivery for fanout) over
    one read per sender and the loop pass that flushes it: a count, not a
    time, so other processes on the machine cannot move it. C code (uvloop,
    str and bytes methods, the kernel) is not in it."""
    count = 0

    def trace(frame: FrameType, event: str, _arg: object) -> object:
        nonlocal count
        if event == "call":
            frame.f_trace_opcodes = True
            frame.f_trace_lines = False
        elif event == "opcode":
            count += 1
        return trace

    sys.settrace(trace)
    try:
        for conn, chunk in zip(senders, chunks, strict=True):
            conn.data_received(chunk)
        await asyncio.sleep(0)  # one loop pass: every connection flushes
    finally:
        sys.settrace(None)
    messages = len(senders) * args.batch
    deliveries = messages * (args.members - 1 if args.scenario == "fanout" else 1)
    return count / deliveries


async def serve_rounds(
    senders: list[StreamConnection], chunks: list[bytes], args: argparse.Namespace
) -> None:
    """Worker of --compare-with: one round per line read from stdin ("go":
    CPU microseconds per message; "opcodes": bytecodes per delivery)."""
    print("ready", flush=True)
    while line := sys.stdin.readline():
        if line.strip() == "opcodes":
            await cpu_round(senders, chunks, args)  # warm: caches filled, as in a CPU round
            # The fewest of three: a timer (PING checks, the history flush)
            # firing in the traced pass adds its own bytecodes.
            counts = [await opcode_round(senders, chunks, args) for _ in range(3)]
            print(f"{min(counts):.2f}", flush=True)
        else:
            print(f"{await cpu_round(senders, chunks, args):.4f}", flush=True)


def compare_with(baseline_src: str, args: argparse.Namespace) -> None:
    """Run this tree and ``baseline_src`` as alternating workers; report the
    medians of CPU microseconds per message and their difference."""
    command = [sys.executable, __file__, args.scenario, "--worker"]
    command += ["--batch", str(args.batch), "--pairs", str(args.pairs)]
    command += ["--members", str(args.members)] + (["--history"] if args.history else [])
    command += ["--logged-in"] if args.logged_in else []
    workers = {}
    for name, src in (("this tree", None), ("baseline", baseline_src)):
        env = dict(os.environ)
        if src is not None:
            env["PYTHONPATH"] = src
        proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        assert proc.stdout is not None and proc.stdin is not None
        while proc.stdout.readline().strip() != "ready":
            pass
        workers[name] = proc
    results: dict[str, list[float]] = {name: [] for name in workers}
    rounds = args.rounds
    for _ in range(rounds):
        for name, proc in workers.items():
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
            results[name].append(float(proc.stdout.readline()))
    opcodes = {}
    for name, proc in workers.items():
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("opcodes\n")
        proc.stdin.flush()
        opcodes[name] = float(proc.stdout.readline())
    for proc in workers.values():
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait()
    ours, base = (statistics.median(results[n]) for n in ("this tree", "baseline"))
    unit = "delivery" if args.scenario == "fanout" else "message"
    print(
        f"{args.scenario}: median CPU per message over {rounds} alternating rounds: "
        f"baseline {base:.3f} us, this tree {ours:.3f} us: {(ours - base) / base:+.1%}; "
        f"Python bytecodes per {unit}: baseline {opcodes['baseline']:.1f}, "
        f"this tree {opcodes['this tree']:.1f}: "
        f"{(opcodes['this tree'] - opcodes['baseline']) / opcodes['baseline']:+.1%}"
    )


def report_metrics_cost(server: Server, args: argparse.Namespace, per_message_us: float) -> None:
    """Time, on the real server's objects, exactly the metrics statements a
    relayed message runs (the command count; the delivery count, or in a
    channel the fan-out observation; and its share of the once-per-read
    sampled-timing wrapper) against nothing; and the same figures kept with
    prometheus-client's labelled Counter and Histogram instead."""
    registry = CollectorRegistry()
    names = {
        "metrics": server.metrics,
        "lines": [b"x"] * args.batch,
        "members": len(server.world.connections) - 1,
        "commands": PromCounter("c", "c", ["command"], registry=registry),
        "delivered": PromCounter("d", "d", ["kind"], registry=registry),
        "seconds": PromHistogram("s", "s", registry=registry),
        "fanout": PromHistogram("f", "f", registry=registry),
        "process": lambda: None,
    }
    per_line = 'metrics.commands["PRIVMSG"].n += 1\n'
    labelled = 'commands.labels("PRIVMSG").inc()\n'
    if args.scenario == "direct":
        per_line += 'metrics.delivered["PRIVMSG"].n += 1'
        labelled += 'delivered.labels("PRIVMSG").inc()'
    else:
        per_line += 'metrics.channel_message("PRIVMSG", members)'
        labelled += 'delivered.labels("PRIVMSG").inc(members)\nfanout.observe(members)'
    labelled += "\nwith seconds.time():\n    process()"  # timed per line: no sampling

    def ns(statement: str) -> float:
        runs = 200_000
        return min(timeit.repeat(statement, number=runs, repeat=9, globals=names)) / runs * 1e9

    nothing = ns("pass")
    per_read = ns("metrics.timed_process(process, lines)") - ns("process()")
    cost = ns(per_line) - nothing + per_read / args.batch
    prometheus = ns(labelled) - nothing
    per_message_ns = per_message_us * 1000
    print(
        f"metrics cost: {cost:.0f} ns/message = {cost / per_message_ns:.1%} of "
        f"{per_message_us:.2f} us (CPU, best of 20 rounds); with prometheus-client "
        f"labels it would be {prometheus:.0f} ns = {prometheus / per_message_ns:.1%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=("direct", "fanout"))
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--batch", type=int, default=8, help="messages per read")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument(
        "--passes", type=int, default=0, help="exactly this many loop passes instead of --seconds"
    )
    parser.add_argument(
        "--callgrind", action="store_true", help="--passes inside math.fsum (for callgrind)"
    )
    parser.add_argument("--history", action="store_true")
    parser.add_argument(
        "--logged-in", action="store_true", help="direct: users known to history as logged in"
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--metrics-cost", action="store_true", help="what the metrics counters cost per message"
    )
    parser.add_argument("--compare-with", metavar="SRC", help="A/B against another src tree")
    parser.add_argument(
        "--rounds", type=int, default=150, help="--compare-with: alternating CPU rounds"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    if args.compare_with:
        compare_with(args.compare_with, args)
        return
    try:
        import uvloop
    except ImportError:
        asyncio.run(measure(args))
    else:
        uvloop.run(measure(args))


if __name__ == "__main__":
    main()
