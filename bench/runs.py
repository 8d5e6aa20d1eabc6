"""One measured run: start a server, drive one case against it with a load
generator, stop it. Shared by bench/compare and bench/history_cost."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

from cases import Case, Record
from peers import HUBBUB, PEERS, REPO, RunningServer, log


def wait_quiet(limit: float) -> None:
    """Wait (up to ``limit`` s) until under 10% of one core is busy."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = _busy()
        time.sleep(1)
        if _busy() - before < 0.1:
            return
    if limit > 0:
        log("the machine is still busy; running anyway (see other_cpu_s)")


def _busy() -> float:
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return sum(int(fields[i]) for i in (1, 2, 3, 6)) / os.sysconf("SC_CLK_TCK")


def run_once(peer: str, case: Case, args: argparse.Namespace, ircload: Path | None) -> Record:
    """Start ``peer``, drive ``case`` against it, stop it; one RESULT record."""
    wait_quiet(args.idle_wait)
    base = {"label": case.name, "server": peer, "generator": "ircload" if ircload else "hubbub"}
    with tempfile.TemporaryDirectory(prefix=f"hubbub-bench-{peer}-") as tmp:
        server = RunningServer(PEERS[peer], Path(tmp), args.server_cpu)
        try:
            if not server.wait_ready():
                log(f"{peer} did not start:\n{server.log_tail()}")
                return {**base, "scenario": case.args[1], "exit": -1, "note": "did not start"}
            timing = ["--duration", str(args.duration), "--warmup", str(args.warmup)]
            if ircload is not None:
                argv = [str(ircload), "--no-progress"]
            else:
                argv = [str(HUBBUB), "bench", "--json", "--no-progress"]
            argv = [
                "taskset",
                "-c",
                str(args.load_cpu),
                *argv,
                "--port",
                str(server.port),
                "--server-pid",
                str(server.pid),
                *case.args,
                *timing,
            ]
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=900)
            record = _result_line(proc.stdout)
            if record is None:
                log(
                    f"{peer} {case.name}: no result (exit {proc.returncode})\n"
                    f"{proc.stderr[-2000:]}{server.log_tail()}"
                )
                return {**base, "scenario": case.args[1], "exit": proc.returncode}
            if server.process.poll() is not None:
                record["note"] = "server died"
            return {**base, **record}
        finally:
            server.stop()


def _result_line(stdout: str) -> Record | None:
    for line in reversed(stdout.splitlines()):
        line = line.removeprefix("RESULT ")
        if line.startswith("{"):
            record: Record = json.loads(line)
            return record
    return None


def machine() -> dict[str, str]:
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    loop = subprocess.run(
        [
            str(REPO / ".venv/bin/python"),
            "-c",
            "import uvloop; print('uvloop', uvloop.__version__)",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": f"{model}, {os.cpu_count()} cores",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loop": loop or "asyncio",
        "commit": commit,
    }
