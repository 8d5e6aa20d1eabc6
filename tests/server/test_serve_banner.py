"""What `hubbub serve` prints once it listens: one URL and one connect
command per listener, and a loud warning for a listener open to the network
(the default TLS one), with the option that restricts it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubbub import __version__
from hubbub.server.banner import (
    banner_lines,
    connect_command,
    exposure_warning,
    hubbub_command,
    url,
)

HUBBUB = [sys.executable, "-m", "hubbub"]


@dataclass
class Spec:
    host: str
    port: int
    tls: bool = False
    websocket: bool = False


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (Spec("127.0.0.1", 6667), "irc://127.0.0.1:6667"),
        (Spec("0.0.0.0", 6697, tls=True), "ircs://0.0.0.0:6697"),
        (Spec("127.0.0.1", 8097, websocket=True), "ws://127.0.0.1:8097"),
        (Spec("::1", 8443, tls=True, websocket=True), "wss://[::1]:8443"),
    ],
)
def test_url(spec: Spec, expected: str) -> None:
    assert url(spec) == expected


def test_connect_commands_reach_a_wildcard_listener_on_loopback() -> None:
    assert connect_command("hubbub", Spec("0.0.0.0", 6697, tls=True)) == (
        "hubbub chat 127.0.0.1:6697 --tls"
    )
    assert connect_command("h", Spec("::", 7000)) == "h chat [::1]:7000"
    assert connect_command("h", Spec("127.0.0.1", 8097, websocket=True)) == (
        "h chat 127.0.0.1:8097 --websocket"
    )


def test_only_listeners_on_every_interface_get_a_warning() -> None:
    assert exposure_warning(Spec("127.0.0.1", 6697, tls=True), True) is None
    assert exposure_warning(Spec("192.0.2.7", 6697, tls=True), True) is None
    tls = exposure_warning(Spec("0.0.0.0", 6697, tls=True), True)
    assert tls is not None and tls.startswith("WARNING: ircs://0.0.0.0:6697 ")
    assert "register an account" in tls and "--tls-host 127.0.0.1" in tls
    plain = exposure_warning(Spec("::", 6667), False)
    assert plain is not None and "--listen 127.0.0.1:6667" in plain
    assert "register" not in plain


def test_banner_lists_every_listener_then_warnings() -> None:
    lines = banner_lines(
        name="irc.example.org",
        network="Example",
        data_dir=Path("hubbub-data"),
        listeners=[Spec("127.0.0.1", 6667), Spec("0.0.0.0", 6697, tls=True)],
        registration_open=True,
        hubbub=".venv/bin/hubbub",
    )
    assert (
        lines[0]
        == f"hubbub {__version__} is up as irc.example.org (network Example), data in hubbub-data"
    )
    assert lines[1].split() == [
        "irc://127.0.0.1:6667", "connect:", ".venv/bin/hubbub", "chat", "127.0.0.1:6667"
    ]  # fmt: skip
    assert lines[2].split()[0] == "ircs://0.0.0.0:6697"
    assert lines[2].endswith(".venv/bin/hubbub chat 127.0.0.1:6697 --tls")
    assert lines[3].startswith("WARNING: ircs://0.0.0.0:6697")
    assert lines[-1] == "Stop with Ctrl-C."


def test_hubbub_command_as_the_person_ran_it(tmp_path: Path) -> None:
    script = tmp_path / ".venv" / "bin" / "hubbub"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    assert hubbub_command(".venv/bin/hubbub", str(tmp_path)) == ".venv/bin/hubbub"
    assert hubbub_command(str(script), str(tmp_path / "elsewhere")) == str(script)
    assert hubbub_command("/x/hubbub/__main__.py", str(tmp_path)).endswith(" -m hubbub")


def test_hubbub_on_path_is_shown_bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "bin" / "hubbub"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    assert hubbub_command(str(script), "/") == "hubbub"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def non_loopback_address() -> str | None:
    """An address of this machine other than 127.0.0.1, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
        except OSError:
            return None
        address = str(sock.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def serve(tmp_path: Path, *args: str) -> tuple[str, bool | None]:
    """Run `hubbub serve` with a plaintext and a TLS listener until both
    accept; returns what it printed and whether the TLS port answered on a
    non-loopback address (None when the machine has none)."""
    port, tls_port = free_port(), free_port()
    proc = subprocess.Popen(
        [*HUBBUB, "serve", "--data-dir", str(tmp_path / "data"),
         "--listen", f"127.0.0.1:{port}", "--tls-listen", f"0.0.0.0:{tls_port}", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        lines = []
        for line in proc.stdout:  # the banner is printed once every listener is up
            lines.append(line)
            if line.startswith("Stop with Ctrl-C."):
                break
        outside = non_loopback_address()
        reachable = None
        if outside is not None:
            with socket.socket() as sock:
                reachable = sock.connect_ex((outside, tls_port)) == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert proc.returncode == 0
    return "".join(lines), reachable


def test_tls_on_every_interface_is_announced_loudly(tmp_path: Path) -> None:
    out, reachable = serve(tmp_path)
    assert "\nWARNING: ircs://0.0.0.0:" in out
    assert "--tls-host 127.0.0.1" in out
    assert reachable in (True, None)  # None: this machine has no other address


def test_tls_host_keeps_tls_to_this_machine(tmp_path: Path) -> None:
    out, reachable = serve(tmp_path, "--tls-host", "127.0.0.1")
    assert "WARNING" not in out
    assert "  ircs://127.0.0.1:" in out
    assert reachable in (False, None)
