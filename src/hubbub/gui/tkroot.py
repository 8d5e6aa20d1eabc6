"""Opening the Tk root window for ``hubbub gui`` and ``hubbub panel``, with the
two ways it fails on real machines (no Tk installed, no display) as one
readable line and exit status 2 instead of a traceback."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    import tkinter as tk


def _fail(prog: str, message: str) -> NoReturn:
    click.echo(f"{prog}: error: {message}", err=True)
    sys.exit(2)


def require_tk(prog: str) -> None:
    """Exit 2 with one line unless tkinter can be imported; call it before
    asking anything of the person."""
    try:
        import tkinter  # noqa: F401
    except ImportError:
        _fail(prog, "Tk is not installed (try: apt install python3-tk)")


def open_root(prog: str) -> tk.Tk:
    """The Tk root window, or exit 2 with one line saying why there is none."""
    require_tk(prog)
    import tkinter as tk

    try:
        return tk.Tk()
    except tk.TclError as exc:
        display = os.environ.get("DISPLAY", "not set")
        _fail(prog, f"cannot open a window (DISPLAY={display}): {exc}")
