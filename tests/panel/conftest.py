"""The panel window on the shared X display (tests/conftest.py)."""

from __future__ import annotations

import gc
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubbub.panel.window import PanelWindow


@pytest.fixture
def window(display: str, tmp_path: Path) -> Iterator[PanelWindow]:
    # Tk objects left by earlier tests must be freed on this (their) thread:
    # collected later on the server thread, Tcl would deadlock.
    gc.collect()
    root = tk.Tk()
    panel = PanelWindow(root, host="127.0.0.1", port=0, data_dir=tmp_path / "data")
    yield panel
    if not panel.closed:
        panel.close()
    del panel, root
    gc.collect()
