"""One server per database (store/lock.py): a second one is refused with the
holder's pid, the lock goes with the process, and `hubbub serve` says it in
one line with exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import ServeProcess
from hubbub.store.lock import DatabaseInUse, lock_database


def test_second_lock_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    database = tmp_path / "data" / "hubbub.db"
    held = lock_database(database)
    with pytest.raises(
        DatabaseInUse, match=rf"is in use by another hubbub server \(pid {os.getpid()}\)"
    ):
        lock_database(database)
    held.release()
    lock_database(database).release()  # free again once released
    assert (database.parent / "hubbub.db.lock").stat().st_mode & 0o777 == 0o600


def test_a_dead_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    database = tmp_path / "hubbub.db"
    script = (
        "import sys; from pathlib import Path; from hubbub.store.lock import lock_database; "
        f"lock_database(Path({str(database)!r})); sys.exit(0)"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    lock_database(database).release()


async def test_second_server_on_one_data_directory_exits_2(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"  # where on_free_ports puts it
    async with ServeProcess.on_free_ports(tmp_path) as first:
        assert first.proc is not None
        second = subprocess.run(
            [sys.executable, "-m", "hubbub", "serve", "--data-dir", str(data_dir),
             "--listen", "127.0.0.1:0", "--no-uvloop"],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert second.returncode == 2
        assert second.stderr.strip() == (
            f"hubbub: {data_dir / 'hubbub.db'} is in use by another hubbub server "
            f"(pid {first.proc.pid}); stop it, or give this one another --data-dir"
        )
