"""``hubbub accounts`` and ``hubbub channels``, through CliRunner and as a
real subprocess."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles
from click.testing import CliRunner, Result

from hubbub.store import Store, open_store
from hubbub.store.cli import accounts, channels

HUBBUB = Path(sys.executable).with_name("hubbub")
CHEAP_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)


async def open_cheap_store(path: Path, **_options: object) -> Store:
    return await open_store(path, hasher=CHEAP_HASHER, scram_iterations=4096)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs hash cheaply; the subprocess test keeps real argon2id."""
    monkeypatch.setattr("hubbub.store.cli.open_store", open_cheap_store)


def run(*args: str, stdin: str | None = None) -> Result:
    group = accounts if args[0] == "accounts" else channels
    return CliRunner().invoke(group, list(args[1:]), input=stdin)


def password_works(db_path: Path, name: str, password: str) -> bool:
    async def check() -> bool:
        store = await open_cheap_store(db_path)
        try:
            return await store.accounts.verify_password(name, password) is not None
        finally:
            await store.close()

    return asyncio.run(check())


def test_create_list_passwd_delete(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    created = run(
        "accounts", *data, "create", "Alice", "--email", "a@example.org", stdin="password-1\n"
    )
    assert created.exit_code == 0, created.output
    assert created.stdout == "created account Alice\n"
    listed = run("accounts", *data, "list")
    assert listed.exit_code == 0
    name, registered, email = listed.stdout.rstrip("\n").split("\t")
    assert (name, email) == ("Alice", "a@example.org") and registered.endswith("+00:00")
    assert password_works(tmp_path / "data" / "hubbub.db", "alice", "password-1")

    assert run("accounts", *data, "passwd", "ALICE", stdin="password-2\n").exit_code == 0
    assert password_works(tmp_path / "data" / "hubbub.db", "alice", "password-2")

    assert run("accounts", *data, "delete", "alice").stdout == "deleted account alice\n"
    assert run("accounts", *data, "list").stdout == ""


def test_errors_are_one_line_with_status_2(tmp_path: Path) -> None:
    db = ["--database", str(tmp_path / "x.db")]
    missing = run("accounts", *db, "list")
    assert missing.exit_code == 2
    assert missing.stderr.startswith("hubbub: error: no database at ")
    assert missing.stderr.count("\n") == 1

    assert run("accounts", *db, "create", "bob", stdin="password\n").exit_code == 0
    for result in (
        run("accounts", *db, "create", "BOB", stdin="password\n"),
        run("accounts", *db, "create", "carol", stdin="\n"),
        run("accounts", *db, "create", "bad name", stdin="password\n"),
        run("accounts", *db, "passwd", "nobody", stdin="password\n"),
        run("accounts", *db, "delete", "nobody"),
    ):
        assert result.exit_code == 2
        assert result.stderr.startswith("hubbub: error: ") and result.stderr.count("\n") == 1
        assert "Traceback" not in result.output


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.db"
    bogus.write_text("hello, I am not SQLite" * 100)
    result = run("channels", "--database", str(bogus), "list")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and str(bogus) in result.stderr


def test_config_file_locates_the_database(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "hubbub.toml"
    config.parent.mkdir()
    config.write_text('[server]\ndata_dir = "state"\n')
    assert (
        run("accounts", "--config", str(config), "create", "dan", stdin="password\n").exit_code == 0
    )
    assert (tmp_path / "conf" / "state" / "hubbub.db").exists()

    config.write_text('[database]\npath = "other.db"\n[server]\ndata_dir = "state"\n')
    assert (
        run("accounts", "--config", str(config), "create", "eve", stdin="password\n").exit_code == 0
    )
    assert (tmp_path / "conf" / "other.db").exists()

    config.write_text("[database]\npath = 3\n")
    result = run("accounts", "--config", str(config), "list")
    assert result.exit_code == 2
    assert result.stderr == f"hubbub: error: {config}: [database] path must be a non-empty string\n"

    config.write_text("[database\n")
    result = run("accounts", "--config", str(config), "list")
    assert result.exit_code == 2 and "TOML syntax error" in result.stderr


def test_channels_list(tmp_path: Path) -> None:
    db_path = tmp_path / "hubbub.db"

    async def register() -> None:
        store = await open_store(db_path)
        try:
            await store.channels.register("#Chat", "Alice")
            await store.channels.set_modes("#chat", "+ntl 10")
        finally:
            await store.close()

    asyncio.run(register())
    result = run("channels", "--database", str(db_path), "list")
    assert result.exit_code == 0
    name, founder, _registered, modes, topic = result.stdout.rstrip("\n").split("\t")
    assert (name, founder, modes, topic) == ("#Chat", "Alice", "+ntl 10", "")


def test_real_subprocess(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    created = subprocess.run(
        [str(HUBBUB), "accounts", *data, "create", "zoe"],
        input="s3cret-pass\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert (created.returncode, created.stdout, created.stderr) == (0, "created account zoe\n", "")
    failed = subprocess.run(
        [str(HUBBUB), "accounts", *data, "delete", "nobody"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (failed.returncode, failed.stderr) == (2, "hubbub: error: no account nobody\n")
    assert password_works(tmp_path / "hubbub.db", "zoe", "s3cret-pass")
