"""``--config``, ``--data-dir`` and ``--database`` work before and after the
subcommand, for ``hubbub accounts`` and ``hubbub channels`` (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.cli_helpers import one_error_line, run, use_cheap_store


@pytest.fixture(autouse=True)
def cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    use_cheap_store(monkeypatch)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "hubbub.toml"
    path.write_text('[server]\ndata_dir = "state"\n')
    return path


def test_config_after_the_subcommand(tmp_path: Path, config: Path) -> None:
    created = run("accounts", "create", "dan", "--config", str(config), stdin="password\n")
    assert created.exit_code == 0, created.output
    assert (tmp_path / "state" / "hubbub.db").exists()
    listed = run("accounts", "list", "--config", str(config))
    assert listed.exit_code == 0 and listed.stdout.startswith("dan\t")
    before = run("accounts", "--config", str(config), "list")
    assert before.stdout == listed.stdout
    assert run("channels", "list", "--config", str(config)).exit_code == 0
    assert run("channels", "--config", str(config), "list").exit_code == 0


def test_given_twice_the_one_after_the_subcommand_wins(tmp_path: Path, config: Path) -> None:
    other = tmp_path / "other.db"
    created = run("accounts", "create", "eve", "--database", str(other), stdin="password\n")
    assert created.exit_code == 0
    missing = tmp_path / "missing.db"
    listed = run("accounts", "--database", str(missing), "list", "--database", str(other))
    assert listed.exit_code == 0 and listed.stdout.startswith("eve\t")
    refused = run("accounts", "--database", str(other), "list", "--database", str(missing))
    assert one_error_line(refused).startswith(f"no database at {missing}")
    # --database still beats the config file, wherever each is given
    listed = run("accounts", "--database", str(other), "list", "--config", str(config))
    assert listed.stdout.startswith("eve\t")


def test_data_dir_after_the_subcommand(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert (
        run("accounts", "create", "fay", "--data-dir", str(data), stdin="password\n").exit_code == 0
    )
    assert run("accounts", "list", "--data-dir", str(data)).stdout.startswith("fay\t")


def test_a_bad_config_after_the_subcommand_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[database\n")
    assert "TOML syntax error" in one_error_line(run("accounts", "list", "--config", str(bad)))
    assert "TOML syntax error" in one_error_line(run("channels", "list", "--config", str(bad)))
