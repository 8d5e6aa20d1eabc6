"""A once-a-second status line on stderr, so a long run shows it is alive
without mixing into the report on stdout."""

from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    """Rewrites one line in place on a terminal; prints plain lines elsewhere."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._width = 0

    def show(self, text: str) -> None:
        if self._tty:
            self._stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    def done(self) -> None:
        if self._tty and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
