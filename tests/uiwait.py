"""Waiting on our user interfaces in tests: run the Tk or Textual event loop
until a condition holds, and read what a window shows. One copy for the
desktop-client, panel and terminal-client tests."""

from __future__ import annotations

import asyncio
import time
import tkinter as tk
from collections.abc import Callable

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import RichLog


async def pump_tk(root: tk.Tk, check: Callable[[], object], timeout: float = 5.0) -> None:
    """Run Tk and the test's event loop (where the server lives) together
    until ``check()`` holds."""
    for _ in range(int(timeout / 0.01)):
        if check():
            return
        root.update()
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def pump_tk_alone(root: tk.Tk, check: Callable[[], object], timeout: float = 8.0) -> None:
    """Run only Tk (the server is on another thread) until ``check()`` holds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        root.update()
        time.sleep(0.02)


def tk_text(widget: tk.Text) -> str:
    return widget.get("1.0", "end")


async def until(pilot: Pilot[None], check: Callable[[], object], timeout: float = 5.0) -> None:
    """Let the Textual app run until ``check()`` holds."""
    for _ in range(int(timeout / 0.02)):
        if check():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition not met in time")


def log_text(app: App[None]) -> str:
    """What the terminal client's message log shows, line by line."""
    log = app.query_one("#messages", RichLog)
    return "\n".join(strip.text for strip in log.lines)
