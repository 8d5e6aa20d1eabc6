"""Can the server still write its database? Asked by the health check.

A separate short-lived connection asks SQLite for the write lock and gives
it back at once: it fails when the file or its directory became read-only,
the disk is gone, or another process holds the database locked, and it
never waits on (or disturbs) the server's own pooled connection.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def probe_writable(path: Path, timeout: float) -> str | None:
    """None if a write transaction can start within ``timeout`` seconds,
    else what SQLite said. Blocking: run it in a thread."""
    try:
        # mode=rw: a missing database is an error, not a new empty file.
        conn = sqlite3.connect(
            path.resolve().as_uri() + "?mode=rw", uri=True, timeout=timeout, isolation_level=None
        )
    except sqlite3.Error as exc:
        return str(exc)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        conn.close()
    return None
