"""Keep the data directory and the database private to the server's user.

The database holds every private message in clear and the password
verifiers; the data directory also holds the TLS key. They are created
0700/0600, and ones an older version left readable by others are narrowed,
with a warning, each time the server or the CLI opens them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# SQLite gives its companions the database file's mode when it creates them.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def restrict(path: Path) -> None:
    """Take group and other permissions off ``path`` if it has any."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077 == 0:
        return
    try:
        path.chmod(mode & 0o700)
    except OSError as exc:
        log.warning("%s is readable by other users (mode %o), cannot fix: %s", path, mode, exc)
        return
    log.warning("%s was readable by other users (mode %o); now %o", path, mode, mode & 0o700)


def private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) 0700, or narrow it if it exists."""
    if not path.is_dir():
        path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    restrict(path)


def private_database(path: Path) -> None:
    """Create the database file 0600 before SQLite does (its -wal and -shm
    follow its mode), and narrow an existing one and its companions."""
    if not path.parent.exists():
        private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    for candidate in (path, *(path.with_name(path.name + x) for x in SQLITE_COMPANIONS)):
        restrict(candidate)
