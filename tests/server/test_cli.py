"""`hubbub serve` and `hubbub passwd` as a person runs them: real processes."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HUBBUB = [sys.executable, "-m", "hubbub"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def test_unknown_key_warns(tmp_path: Path) -> None:
    config = tmp_path / "hubbub.toml"
    port = free_port()
    config.write_text(f'[server]\ncolour = "blue"\ndata_dir = "d"\n[[listen]]\nport = {port}\n')
    proc = subprocess.Popen(
        [*HUBBUB, "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "unknown key 'server.colour'" in err


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {port}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_and_clients_get_error(tmp_path: Path, sig: int) -> None:
    port, tls_port, ws_port = free_port(), free_port(), free_port()
    proc = subprocess.Popen(
        [
            *HUBBUB,
            "serve",
            "--data-dir",
            str(tmp_path / "data"),
            "--listen",
            f"127.0.0.1:{port}",
            "--tls-listen",
            f"127.0.0.1:{tls_port}",
            "--ws-listen",
            f"127.0.0.1:{ws_port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(b"NICK sig\r\nUSER sig 0 * :sig\r\n")
            buffer = b""
            while b" 376 " not in buffer:
                buffer += client.recv(4096)
            proc.send_signal(sig)
            received = b""
            while chunk := client.recv(4096):
                received += chunk
        assert b"ERROR :Closing Link" in received
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert f"127.0.0.1:{port}" in out
    assert (tmp_path / "data" / "tls-cert.pem").is_file()


def test_defaults_from_a_fresh_directory(tmp_path: Path) -> None:
    """`hubbub serve` with no options uses ./hubbub-data and the three default ports."""
    probe = [6667, 6697, 8097]
    for port in probe:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                pytest.skip(f"port {port} is busy on this machine")
    proc = subprocess.Popen(
        [*HUBBUB, "serve"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        for port in probe:
            wait_for_port(port)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
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
