"""Client-provided text made safe for a log line.

Nicks, reasons and masks come from clients. Written raw, an ESC sequence
drives the terminal of whoever reads the log, and a CR or LF forges a line
that looks like the server's. Every log call that includes client text
passes it through :func:`for_log`.
"""

from __future__ import annotations


def for_log(text: str) -> str:
    """``text`` with every non-printable character (ESC, CR, LF, NUL, other
    controls) written as a Python escape such as ``\\x1b``; a backslash is
    doubled so an escape in the output always means an escaped character."""
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(
        ch if ch.isprintable() and ch != "\\" else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )
