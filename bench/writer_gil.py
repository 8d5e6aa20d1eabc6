#!/usr/bin/env python3
"""A writer thread or a writer process for history: what each costs the
event loop (docs/performance.md, "History writes off the loop").

A stand-in for the loop (Python string work like a relay, and a socket send
and receive per ten messages, so it releases the GIL as the loop does) runs
on CPU 0 for a few seconds, alone, then next to a SQLite writer inserting
``--rows`` rows a second on CPU 1 as a thread of the same process, then as a
process of its own. Reported: its messages per second of wall time and per
second of its own CPU time.

  .venv/bin/python bench/writer_gil.py --rounds 3 --rows 40000
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SCHEMA = (
    "CREATE TABLE h (id INTEGER PRIMARY KEY, msgid TEXT UNIQUE, k TEXT, t INTEGER, s TEXT, x TEXT)",
    "CREATE INDEX ik ON h (k, t, id)",
)
INSERT = "INSERT INTO h (msgid, k, t, s, x) VALUES (?, ?, ?, ?, ?)"


def write_rows(path: str, rows_per_s: int, stop: threading.Event | None) -> None:
    """Insert ``rows_per_s`` rows a second in ten batches, until ``stop``."""
    conn = sqlite3.connect(path, isolation_level=None)
    n = 0
    while stop is None or not stop.is_set():
        started = time.monotonic()
        batch = [
            (f"m{n + j}", f"k{(n + j) % 500}", n + j, "nick!u@h", "hello world " * 5)
            for j in range(rows_per_s // 10)
        ]
        n += len(batch)
        conn.execute("BEGIN")
        conn.executemany(INSERT, batch)
        conn.execute("COMMIT")
        time.sleep(max(0.0, 0.1 - (time.monotonic() - started)))


def loop_stand_in(seconds: float) -> tuple[float, float]:
    """Messages per wall second and per CPU second of this thread."""
    a, b = socket.socketpair()
    b.setblocking(False)
    count = 0
    wall, cpu = time.perf_counter(), time.thread_time()
    while time.perf_counter() - wall < seconds:
        seen = {}
        for i in range(10):
            parts = f":nick{i}!u@h PRIVMSG bob{i} :hello {i}".split(" ", 3)
            seen[parts[2]] = parts[3].encode()
        a.send(b"x" * 100)
        b.recv(4096)
        count += 10
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    a.close()
    b.close()
    return count / wall, count / cpu


def measure(mode: str, args: argparse.Namespace, path: str) -> str:
    stop = threading.Event()
    helper: threading.Thread | subprocess.Popen[bytes] | None = None
    if mode == "thread":

        def pinned() -> None:
            os.sched_setaffinity(0, {args.writer_cpu})  # this thread only
            write_rows(path, args.rows, stop)

        helper = threading.Thread(target=pinned)
        helper.start()
    elif mode == "process":
        helper = subprocess.Popen(
            [
                *("taskset", "-c", str(args.writer_cpu), sys.executable, __file__),
                *("--child", path, "--rows", str(args.rows)),
            ]
        )
    time.sleep(0.5)
    per_wall, per_cpu = loop_stand_in(args.seconds)
    stop.set()
    if isinstance(helper, threading.Thread):
        helper.join()
    elif helper is not None:
        helper.kill()
        helper.wait()
    return f"{mode:8} {per_wall:>12,.0f} msg/s wall {per_cpu:>12,.0f} msg per CPU-second"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=40_000, help="rows written per second")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--loop-cpu", type=int, default=0)
    parser.add_argument("--writer-cpu", type=int, default=1)
    parser.add_argument("--child", metavar="DATABASE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        write_rows(args.child, args.rows, None)
        return
    os.sched_setaffinity(0, {args.loop_cpu})
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for mode in ("alone", "thread", "process"):
                path = str(Path(tmp) / f"{mode}.db")
                conn = sqlite3.connect(path)
                conn.execute("PRAGMA journal_mode=WAL")
                for statement in SCHEMA:
                    conn.execute(statement)
                conn.close()
                print(measure(mode, args, path), flush=True)
                for suffix in ("", "-wal", "-shm"):
                    Path(path + suffix).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
