"""One server per database: an exclusive lock beside the database file.

Two servers on one database would each keep their own view of accounts and
channels in memory, and each one's start-up purge of unregistered channels'
history would delete the history of channels live on the other. The lock is
``flock`` on ``<database>.lock``: the kernel drops it when the process dies,
so a crash never leaves a stale lock behind. The offline CLI (``hubbub
accounts``) does not take it: it is meant to run next to a live server.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class DatabaseInUse(Exception):
    """Another process holds the database; the message names it and the pid."""


class DatabaseLock:
    """Held from :func:`lock_database` until :meth:`release`."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def lock_database(database: Path) -> DatabaseLock:
    """Take the lock of ``database`` or raise DatabaseInUse."""
    path = database.with_name(database.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise DatabaseInUse(
            f"{database} is in use by another hubbub server (pid {holder}); "
            "stop it, or give this one another --data-dir"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return DatabaseLock(path, fd)
