"""The panel's live figures on a real Tk window (Xvfb) with real clients:
users, messages and their rate, and the history store's queue."""

from __future__ import annotations

import re
import sqlite3

import panel.test_panel as base
from hubbub.panel.figures import Figures, RateMeter, describe
from hubbub.panel.window import PanelWindow

pump = base.pump


def figure(panel: PanelWindow, pattern: str) -> float:
    """One number of the figures line, e.g. figure(panel, r"(\\d+) users?")."""
    found = re.search(pattern, panel.figures_var.get())
    return float(found.group(1)) if found else -1.0


def test_figures_follow_users_and_messages(window: PanelWindow) -> None:
    window.start_button.invoke()
    port = base.served_port(window)
    pump(window, lambda: window.figures_var.get().startswith("0 users"))

    alice = base.LineClient(port, "alice")
    bob = base.LineClient(port, "bob")
    for client in (alice, bob):
        client.sock.sendall(b"JOIN #figures\r\n")
        client.wait_for(b" 366 ")
    pump(window, lambda: figure(window, r"(\d+) users") == 2)

    alice.sock.sendall(b"".join(b"PRIVMSG #figures :line %d\r\n" % i for i in range(5)))
    alice.sock.sendall(b"NOTICE bob :and a notice\r\nPING :done\r\n")
    alice.wait_for(b"PONG")
    pump(window, lambda: figure(window, r"(\d+) messages") == 6)
    assert figure(window, r"\(([\d.]+)/s\)") > 0  # the six arrived within the window

    bob.sock.sendall(b"QUIT :bye\r\n")
    bob.read_all()
    pump(window, lambda: figure(window, r"(\d+) user\b") == 1)
    window.stop_button.invoke()
    assert window.figures_var.get() == ""


def test_store_queue_shows_history_waiting(window: PanelWindow) -> None:
    window.start_button.invoke()
    server = window.runner.server
    assert server is not None
    alice = base.LineClient(base.served_port(window), "alice")
    alice.sock.sendall(b"JOIN #waiting\r\n")
    alice.wait_for(b" 366 ")
    # Another process holds the write lock: history piles up in memory.
    lock = sqlite3.connect(server.config.database_path, timeout=5, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    sent = 0
    try:

        def queue_seen() -> bool:
            nonlocal sent
            sent += 1
            alice.sock.sendall(b"PRIVMSG #waiting :%d\r\n" % sent)
            return figure(window, r"store queue (\d+)") > 0

        pump(window, queue_seen)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    pump(window, lambda: figure(window, r"store queue (\d+)") == 0)


def test_rate_meter_and_line() -> None:
    meter = RateMeter(window=3)
    assert meter.add(10.0, 100) == 0.0
    assert meter.add(11.0, 110) == 10.0
    assert meter.add(12.0, 130) == 15.0
    assert meter.add(13.0, 130) == 10.0  # the oldest sample fell out: (130-110)/2
    line = describe(Figures(users=1, messages=7, store_queue=3, loop_lag=0.0123), 2.5)
    assert line == "1 user · 7 messages (2.5/s) · store queue 3 · loop lag 12 ms"
