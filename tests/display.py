"""A real X display for the Tk tests: $DISPLAY, or a private Xvfb.

A missing Xvfb or Tk FAILS the tests with the command that installs it:
a silent skip would let `make test` pass without ever drawing a window."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

INSTALL_HINT = "run .ci/run, or: apt-get install xvfb python3-tk"


class DisplayUnavailable(RuntimeError):
    """Tk or an X server is missing: the GUI tests cannot run here."""


def require_tk() -> None:
    try:
        import tkinter  # noqa: F401
    except ImportError as error:
        raise DisplayUnavailable(f"tkinter is not importable ({error}); {INSTALL_HINT}") from None


@contextmanager
def x_display() -> Iterator[str]:
    """Yield an X display name with $DISPLAY set to it, starting Xvfb if needed."""
    require_tk()
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise DisplayUnavailable(f"Xvfb is not installed and DISPLAY is unset; {INSTALL_HINT}")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()  # Xvfb writes it once it accepts clients
    if not number:
        proc.kill()
        proc.wait()
        raise DisplayUnavailable("Xvfb exited without opening a display")
    os.environ["DISPLAY"] = f":{number}"
    try:
        yield os.environ["DISPLAY"]
    finally:
        del os.environ["DISPLAY"]
        proc.terminate()
        proc.wait(5)
