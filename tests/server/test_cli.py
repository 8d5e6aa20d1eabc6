"""`hubbub serve` and `hubbub passwd` as a person runs them: real processes."""

from __future__ import annotations

import gc
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness import ServeProcess, free_port

HUBBUB = [sys.executable, "-m", "hubbub"]


def run(
    *args: str, input: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HUBBUB, *args], input=input, capture_output=True, text=True, timeout=30, cwd=cwd
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert "hubbub" in result.stdout and "0.1.0" in result.stdout


def test_serve_help_documents_options() -> None:
    result = run("serve", "--help")
    assert result.returncode == 0
    for option in ("--config", "--data-dir", "--listen", "--tls-listen", "--ws-listen", "--name"):
        assert option in result.stdout


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[server\nname=1", "TOML syntax error"),
        ("[[listen]]\nport = 70000\n", "listen.0.port"),
        ("[[listen]]\nport = 6667\ntls = 'maybe'\n", "listen.0.tls"),
        ("[tls]\ncert = 'missing.pem'\nkey = 'missing.pem'\n", "tls.cert"),
        ("[limits]\nnicklen = 0\n", "limits.nicklen"),
    ],
)
def test_bad_config_exits_2_with_one_line(tmp_path: Path, toml: str, key: str) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text(toml)
    result = run("serve", "--config", str(config))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(config) in lines[0] and key in lines[0]
    assert "Traceback" not in result.stderr


async def test_unknown_key_warns(tmp_path: Path) -> None:
    config = tmp_path / "hubbub.toml"
    port = free_port()
    config.write_text(f'[server]\ncolour = "blue"\ndata_dir = "d"\n[[listen]]\nport = {port}\n')
    serve = ServeProcess(["--config", str(config)], port, tmp_path / "serve.log")
    await serve.start()
    assert await serve.stop() == 0, serve.output
    assert "unknown key 'server.colour'" in serve.output


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_signal_stops_cleanly_and_clients_get_error(tmp_path: Path, sig: int) -> None:
    async with ServeProcess.on_free_ports(tmp_path) as serve:
        client = await serve.client("sig")
        assert serve.proc is not None
        serve.proc.send_signal(sig)
        assert await serve.exit_after_error(client, "Server shutting down") == 0, serve.output
    assert f"127.0.0.1:{serve.port}" in serve.output
    assert (tmp_path / "data" / "tls-cert.pem").is_file()


def test_defaults_from_a_fresh_directory(tmp_path: Path) -> None:
    """`hubbub serve` with no options uses ./hubbub-data and the three default ports.
    It runs in a private network namespace, so the fixed ports are always free."""
    assert shutil.which("unshare") and shutil.which("ip"), (
        "needs unshare and ip (util-linux, iproute2)"
    )
    probe = Path(__file__).with_name("default_ports_probe.py")
    result = subprocess.run(
        ["unshare", "-rn", sys.executable, str(probe)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    assert "probe: listening=True exit=0" in result.stdout, result.stdout + result.stderr
    out = result.stdout
    assert "127.0.0.1:6667" in out and "0.0.0.0:6697" in out and "127.0.0.1:8097" in out
    assert (tmp_path / "hubbub-data" / "tls-cert.pem").is_file()
    assert (tmp_path / "hubbub-data" / "tls-key.pem").stat().st_mode & 0o077 == 0


def test_passwd_hashes_with_argon2() -> None:
    from argon2 import PasswordHasher

    result = run("passwd", input="hunter2\n")
    assert result.returncode == 0
    digest = result.stdout.strip()
    assert digest.startswith("$argon2id$")
    assert PasswordHasher().verify(digest, "hunter2")
    assert run("passwd", input="\n").returncode == 2


def test_serve_collects_garbage_less_often() -> None:
    """`hubbub serve` raises the collector's first threshold and keeps the
    others (docs/performance.md, "Full collections")."""
    from hubbub.server import cli

    before = gc.get_threshold()
    try:
        cli._collect_garbage_less_often()
        assert gc.get_threshold() == (cli.GC_FIRST_THRESHOLD, before[1], before[2])
        assert before[0] < cli.GC_FIRST_THRESHOLD
    finally:
        gc.set_threshold(*before)
