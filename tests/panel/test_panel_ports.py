"""The panel as a person meets it after ``make serve``: the port is taken, the
log should show who comes and goes, Tk may be missing. Real Tk on Xvfb,
real server, real sockets."""

from __future__ import annotations

import errno
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hubbub.panel.presence import PresenceLog
from hubbub.panel.runner import ClientRow
from hubbub.panel.window import PanelWindow, start_failure
from lineclient import LineClient
from uiwait import pump_tk_alone


def pump(window: PanelWindow, until: Callable[[], bool], timeout: float = 8.0) -> None:
    pump_tk_alone(window.root, until, timeout)


def log_text(window: PanelWindow) -> str:
    return window.log_view.get("1.0", "end")


# ------------------------------------------------------------------ units


def row(cid: int, nick: str, registered: bool = True, tls: bool = False) -> ClientRow:
    return ClientRow(cid, nick, f"10.0.0.{cid}:5000", "", "12:00:00", tls, registered)


def test_presence_log_announces_registered_arrivals_and_departures() -> None:
    log = PresenceLog()
    assert log.update([row(1, "(*)", registered=False)]) == []
    assert log.update([row(1, "alice"), row(2, "bob", tls=True)]) == [
        "alice connected from 10.0.0.1:5000",
        "bob connected from 10.0.0.2:5000 (TLS)",
    ]
    assert log.update([row(1, "alicia"), row(2, "bob", tls=True)]) == []
    assert log.update([row(2, "bob", tls=True)]) == ["alicia disconnected (10.0.0.1:5000)"]
    log.clear()
    assert log.update([row(2, "bob")]) == ["bob connected from 10.0.0.2:5000"]


def test_start_failure_says_what_to_do() -> None:
    busy = start_failure(OSError(errno.EADDRINUSE, "in use"), "127.0.0.1", 6667)
    assert "Port 6667 on 127.0.0.1 is already in use" in busy and "another port" in busy
    assert "above 1023" in start_failure(OSError(errno.EACCES, "denied"), "0.0.0.0", 80)
    assert "not an address" in start_failure(OSError(errno.EADDRNOTAVAIL, "x"), "10.9.9.9", 1)


# ------------------------------------------------------------- the window


def test_port_taken_is_said_in_the_window_and_another_can_be_chosen(
    window: PanelWindow,
) -> None:
    with socket.socket() as squatter:  # what `make serve` does to 6667
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        window.port_var.set(str(taken))
        window.start_button.invoke()
        assert not window.runner.running
        status = window.status_var.get()
        assert f"Port {taken} on 127.0.0.1 is already in use" in status
        assert "already in use" in log_text(window)
        assert str(window.port_entry["state"]) == "normal"
        assert str(window.start_button["state"]) == "normal"

        window.port_var.set("0")
        window.start_button.invoke()
        assert window.runner.running
        assert "Running on 127.0.0.1:" in window.status_var.get()


def test_log_records_connects_and_disconnects(window: PanelWindow) -> None:
    window.start_button.invoke()
    server = window.runner.server
    assert server is not None
    port = server.listeners[0].port

    alice = LineClient(port, "alice")
    pump(window, lambda: "alice connected from" in log_text(window))
    assert f"alice connected from {alice.address}" in log_text(window)

    alice.sock.sendall(b"NICK alicia\r\n")
    alice.wait_for(b"NICK")
    pump(window, lambda: "alicia" in str(window.table.item(window.table.get_children()[0])))
    alice.quit()
    pump(window, lambda: "alicia disconnected" in log_text(window))
    assert f"alicia disconnected ({alice.address})" in log_text(window)


@pytest.mark.parametrize("command", ["panel", "gui"])
def test_without_tk_one_line_and_status_2(command: str) -> None:
    script = (
        "import sys; sys.modules['tkinter'] = None; "
        f"sys.argv = ['hubbub', '{command}']; "
        "from hubbub.cli import main; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"hubbub {command}: error: Tk is not installed (try: apt install python3-tk)"
    )


def test_panel_beside_make_serve_says_the_data_directory_is_taken(
    window: PanelWindow, tmp_path: Path
) -> None:
    """Two servers on one database would purge each other's channel history
    (store/lock.py): beside a running `hubbub serve` on the same data
    directory the panel says so in the window instead of starting; with a
    data directory of its own it starts (on a free port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    serve = subprocess.Popen(
        [
            sys.executable, "-m", "hubbub", "serve", "--data-dir", str(tmp_path / "data"),
            "--listen", f"127.0.0.1:{port}", "--no-uvloop",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        assert serve.stdout is not None
        for line in serve.stdout:
            if f"irc://127.0.0.1:{port}" in line:  # the banner: it is listening
                break
        window.port_var.set("0")
        window.start_button.invoke()
        status = window.status_var.get()
        assert status.startswith(f"Could not start: {tmp_path / 'data' / 'hubbub.db'} is in use")
        assert f"(pid {serve.pid})" in status
        assert not window.runner.running
        window.data_dir = tmp_path / "panel-data"
        window.start_button.invoke()
        assert window.runner.running
    finally:
        serve.terminate()
        serve.wait(10)
