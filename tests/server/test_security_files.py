"""M4 and the certificate symlink: the data directory, the database and the
TLS key are private to the server's user, and generation follows no symlink."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness import ServerFactory
from hubbub.server.net.tls import ensure_self_signed
from hubbub.store import open_store
from hubbub.store.cli import accounts

HUBBUB = [sys.executable, "-m", "hubbub"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The common 022: what left the old files world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


async def test_server_creates_private_data_dir_db_wal_shm_and_key(
    start_server: ServerFactory, tmp_path: Path
) -> None:
    irc = await start_server()  # a TLS listener: the certificate is generated
    data = irc.server.config.server.data_dir
    alice = await irc.client("alice")
    await alice.ask("JOIN #c")
    await alice.ask("PRIVMSG #c :a secret")  # history: the WAL is written
    db = data / "hubbub.db"
    files = [db, db.with_name("hubbub.db-wal"), db.with_name("hubbub.db-shm")]
    assert all(f.exists() for f in files)
    assert mode(data) == 0o700
    assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    assert mode(data / "tls-key.pem") == 0o600


async def test_existing_loose_files_are_narrowed_with_a_warning(
    start_server: ServerFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data0"  # the directory start_server uses first
    data.mkdir(mode=0o755)
    store = await open_store(data / "hubbub.db")
    await store.close()
    db = data / "hubbub.db"
    db.chmod(0o644)
    _, key = ensure_self_signed(data, "irc.test.local")
    key.chmod(0o644)
    data.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="hubbub"):
        irc = await start_server()
    assert irc.server.config.server.data_dir == data
    assert mode(data) == 0o700 and mode(db) == 0o600 and mode(key) == 0o600
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert f"{data} was readable by other users (mode 755)" in warned
    assert f"{db} was readable by other users (mode 644)" in warned
    assert f"{key} was readable by other users (mode 644)" in warned


def test_accounts_cli_creates_a_private_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = CliRunner().invoke(
        accounts, ["--data-dir", str(data), "create", "bob"], input="secret-pw\n"
    )
    assert result.exit_code == 0, result.output
    assert mode(data) == 0o700 and mode(data / "hubbub.db") == 0o600


def test_accounts_cli_narrows_an_existing_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    asyncio.run(_make_store(data / "hubbub.db"))
    (data / "hubbub.db").chmod(0o664)
    result = CliRunner().invoke(accounts, ["--data-dir", str(data), "list"])
    assert result.exit_code == 0, result.output
    assert mode(data) == 0o700 and mode(data / "hubbub.db") == 0o600


def test_database_given_directly_leaves_its_shared_directory_alone(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    result = CliRunner().invoke(
        accounts, ["--database", str(shared / "x.db"), "create", "bob"], input="pw-for-bob\n"
    )
    assert result.exit_code == 0, result.output
    assert mode(shared) == 0o755 and mode(shared / "x.db") == 0o600


async def _make_store(path: Path) -> None:
    await (await open_store(path)).close()


def test_symlink_planted_at_key_path_is_not_followed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (data / "tls-key.pem").symlink_to(victim)
    result = subprocess.run(
        [
            *HUBBUB,
            "serve",
            "--data-dir",
            str(data),
            "--listen",
            "127.0.0.1:0",
            "--tls-listen",
            "127.0.0.1:0",
            "--log-level",
            "error",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(data / "tls-key.pem") in lines[0] and "not a regular file" in lines[0]
    assert victim.read_text() == "precious\n"
    assert mode(victim) == 0o644
    assert not (data / "tls-cert.pem").exists()
