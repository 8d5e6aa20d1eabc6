"""Running ``hubbub accounts`` and ``hubbub channels`` in-process with cheap
password hashing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hubbub.store import Store, open_store
from hubbub.store.cli import accounts, channels
from store.conftest import CHEAP_HASHER


async def open_cheap_store(path: Path, *, scram_iterations: int = 4096) -> Store:
    """open_store with cheap argon2, keeping the SCRAM rounds the CLI asks for."""
    return await open_store(path, hasher=CHEAP_HASHER, scram_iterations=scram_iterations)


def use_cheap_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hubbub.store.cli.open_store", open_cheap_store)


def run(*args: str, stdin: str | None = None) -> Result:
    group = accounts if args[0] == "accounts" else channels
    return CliRunner().invoke(group, list(args[1:]), input=stdin)


def one_error_line(result: Result) -> str:
    """The error of a failed run, checked to be one line with status 2."""
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("hubbub: error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
    return result.stderr.removeprefix("hubbub: error: ").rstrip("\n")
