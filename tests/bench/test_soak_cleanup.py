"""bench/soak.py leaves no temporary directory behind, whether the soak
finishes, its server fails to start, or it is interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


def soak(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, str(SOAK), "--start-server", "--clients", "3", "--channels", "1", *args],
        env={**os.environ, "TMPDIR": str(scratch), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "tmp").iterdir())


def test_a_finished_soak_removes_its_directory(tmp_path: Path) -> None:
    proc = soak(tmp_path, "--duration", "1", "--report", "1")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "server exited with status 0" in out
    assert leftovers(tmp_path) == []


def test_a_server_that_fails_to_start_is_reported_and_cleaned_up(tmp_path: Path) -> None:
    fake = tmp_path / "fake-hubbub"
    fake.write_text("#!/bin/sh\necho 'fake server: cannot start' >&2\nexit 3\n")
    fake.chmod(0o755)
    proc = soak(tmp_path, "--duration", "5", env={"HUBBUB_BIN": str(fake)})
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "server exited with 3" in out and "fake server: cannot start" in out
    assert "Traceback" not in out
    assert leftovers(tmp_path) == []


def test_an_interrupted_soak_stops_its_server_and_cleans_up(tmp_path: Path) -> None:
    proc = soak(tmp_path, "--duration", "60", "--report", "1")
    assert proc.stdout is not None
    for line in proc.stdout:  # the first report: clients are connected
        if line.startswith("t="):
            break
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert "server exited with status 0" in out
    assert leftovers(tmp_path) == []
