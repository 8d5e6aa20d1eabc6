"""The CLI applies the server's password rule (issue 11): ``accounts create``
and ``accounts passwd`` refuse short passwords with one line and status 2,
honouring ``[accounts] min_password_length`` of ``--config``; deleting an
account reports the channel registrations it dropped."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hubbub.store.cli_settings import AccountRules, account_rules
from hubbub.store.location import LocationError
from hubbub.store.passwords import password_problem
from store.cli_helpers import one_error_line, open_cheap_store, run, use_cheap_store


@pytest.fixture(autouse=True)
def cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    use_cheap_store(monkeypatch)


def test_the_rule() -> None:
    assert password_problem("abc", 8) == (
        "WEAK_PASSWORD",
        "Passwords must be at least 8 characters long",
    )
    assert password_problem("abcdefgh", 8) is None
    assert password_problem("abcdefgh", 9) is not None
    assert password_problem("x" * 301, 8) is not None
    assert password_problem("tab\there!", 8) is not None


def test_short_passwords_are_refused(tmp_path: Path) -> None:
    db = ["--database", str(tmp_path / "x.db")]
    refused = run("accounts", *db, "create", "alice", stdin="abc\n")
    assert one_error_line(refused) == "Passwords must be at least 8 characters long"
    assert not (tmp_path / "x.db").exists()
    assert run("accounts", *db, "create", "alice", stdin="long-enough\n").exit_code == 0
    refused = run("accounts", *db, "passwd", "alice", stdin="x\n")
    assert one_error_line(refused) == "Passwords must be at least 8 characters long"


def test_min_password_length_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text('[server]\ndata_dir = "state"\n[accounts]\nmin_password_length = 12\n')
    refused = run("accounts", "create", "bob", "--config", str(config), stdin="password\n")
    assert one_error_line(refused) == "Passwords must be at least 12 characters long"
    accepted = run("accounts", "create", "bob", "--config", str(config), stdin="password1234\n")
    assert accepted.exit_code == 0, accepted.output


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("min_password_length = 0", "min_password_length"),
        ('min_password_length = "8"', "min_password_length"),
        ("scram_iterations = 100", "scram_iterations"),
        ("scram_iterations = true", "scram_iterations"),
    ],
)
def test_bad_account_settings_are_one_line(tmp_path: Path, line: str, key: str) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text(f"[accounts]\n{line}\n")
    error = one_error_line(run("accounts", "create", "bob", "--config", str(config), stdin="x\n"))
    assert error.startswith(f"{config}: [accounts] {key} must be an integer")


def test_account_rules_defaults_and_values(tmp_path: Path) -> None:
    assert account_rules(None) == AccountRules(8, 600_000)
    config = tmp_path / "hubbub.toml"
    config.write_text("[accounts]\nmin_password_length = 10\nscram_iterations = 5000\n")
    assert account_rules(config) == AccountRules(10, 5000)
    config.write_text("accounts = 3\n")
    with pytest.raises(LocationError, match=r"\[accounts\] must be a table"):
        account_rules(config)


def test_scram_iterations_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text('[database]\npath = "x.db"\n[accounts]\nscram_iterations = 5000\n')
    assert (
        run("accounts", "create", "carol", "--config", str(config), stdin="password\n").exit_code
        == 0
    )

    async def iterations() -> int | None:
        store = await open_cheap_store(tmp_path / "x.db")
        try:
            scram = await store.accounts.get_scram("carol")
            return None if scram is None else scram.iterations
        finally:
            await store.close()

    assert asyncio.run(iterations()) == 5000


def test_delete_drops_the_founded_channels(tmp_path: Path) -> None:
    db = ["--database", str(tmp_path / "x.db")]
    assert run("accounts", *db, "create", "alice", stdin="password\n").exit_code == 0

    async def found() -> None:
        store = await open_cheap_store(tmp_path / "x.db")
        try:
            await store.channels.register("#alices", "Alice")
            await store.channels.register("#other", "bob")
            await store.channels.set_access("#other", "alice", "op")
        finally:
            await store.close()

    asyncio.run(found())
    deleted = run("accounts", *db, "delete", "alice")
    assert deleted.stdout == "deleted account alice\ndropped channel registrations: #alices\n"
    listed = run("channels", *db, "list").stdout.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [["#other", "bob"]]
    assert run("accounts", *db, "create", "alice", stdin="password\n").exit_code == 0
    assert run("channels", *db, "list").stdout.splitlines() == listed
