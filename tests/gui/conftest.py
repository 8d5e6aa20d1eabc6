"""Fixtures for the desktop client tests: library peers on a real server.
The X display comes from the shared ``display`` fixture (tests/conftest.py)."""

from __future__ import annotations

import contextlib
import gc
import sys
import tkinter as tk
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "client"))
from libpeers import PeerFactory, peers


@pytest.fixture
async def peer(irc: object, tmp_path: Path) -> AsyncIterator[PeerFactory]:
    async with peers(irc, tmp_path / "config") as make:
        yield make


@pytest.fixture
def root(display: str) -> Iterator[tk.Tk]:
    # Tk objects of earlier tests must be freed on this (their) thread: collected
    # later on a client's network thread, they would call into Tcl from there.
    gc.collect()
    root = tk.Tk()
    yield root
    with contextlib.suppress(tk.TclError):
        root.destroy()
    del root
    gc.collect()
