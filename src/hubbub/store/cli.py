"""``hubbub accounts`` and ``hubbub channels``: look after a data directory
while the server is stopped (accounts for operators, lost passwords)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from hubbub.store.errors import StoreError
from hubbub.store.interface import Store
from hubbub.store.location import Location, LocationError, locate
from hubbub.store.opening import open_store
from hubbub.store.privacy import private_dir

T = TypeVar("T")

_location_options = (
    click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Data directory (default ./hubbub-data).",
    ),
    click.option(
        "--database",
        type=click.Path(dir_okay=False, path_type=Path),
        help="SQLite database file (default <data-dir>/hubbub.db).",
    ),
    click.option(
        "--config",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Server config file; its [database] path and [server] data_dir are used.",
    ),
)


def _with_location(group: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(_location_options):
        group = option(group)
    return group


def _fail(message: str) -> NoReturn:
    click.echo(f"hubbub: error: {message}", err=True)
    sys.exit(2)


def _locate(
    ctx: click.Context, data_dir: Path | None, database: Path | None, config: Path | None
) -> None:
    try:
        ctx.obj = locate(data_dir, database, config)
    except LocationError as exc:
        _fail(str(exc))


def _run(action: Callable[[Store], Awaitable[T]], *, create: bool = False) -> T:
    """Open the store, run ``action``, close; every failure is one line."""
    location: Location = click.get_current_context().obj
    path = location.database
    if not create and not path.exists():
        _fail(f"no database at {path} (use --data-dir, --database or --config)")

    async def session() -> T:
        if location.data_dir is not None:
            private_dir(location.data_dir)
        store = await open_store(path)
        try:
            return await action(store)
        finally:
            await store.close()

    try:
        return asyncio.run(session())
    except (StoreError, ValueError) as exc:
        _fail(str(exc))
    except (SQLAlchemyError, OSError) as exc:
        _fail(f"{path}: {exc.__class__.__name__}: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


def _read_password() -> str:
    """Prompt without echo on a terminal; otherwise one line from stdin, so
    scripts can pipe a password in."""
    if sys.stdin.isatty():
        password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        _fail("the password is empty")
    return password


@click.group()
@_with_location
@click.pass_context
def accounts(
    ctx: click.Context, data_dir: Path | None, database: Path | None, config: Path | None
) -> None:
    """Manage accounts in a data directory."""
    _locate(ctx, data_dir, database, config)


@accounts.command("list")
def list_accounts() -> None:
    """List accounts, one a line: name, registration time, e-mail."""
    for account in _run(lambda store: store.accounts.list()):
        registered = account.registered_at.isoformat(timespec="seconds")
        click.echo(f"{account.name}\t{registered}\t{account.email or ''}")


@accounts.command("create")
@click.argument("name")
@click.option("--email", help="E-mail address to keep with the account.")
def create_account(name: str, email: str | None) -> None:
    """Create account NAME; the password is prompted for or read from stdin."""
    password = _read_password()
    _run(lambda store: store.accounts.create(name, password, email), create=True)
    click.echo(f"created account {name}")


@accounts.command("passwd")
@click.argument("name")
def set_password(name: str) -> None:
    """Set a new password for account NAME."""
    password = _read_password()
    _run(lambda store: store.accounts.set_password(name, password))
    click.echo(f"password changed for {name}")


@accounts.command("delete")
@click.argument("name")
def delete_account(name: str) -> None:
    """Delete account NAME and its certificate fingerprints."""
    if not _run(lambda store: store.accounts.delete(name)):
        _fail(f"no account {name}")
    click.echo(f"deleted account {name}")


@click.group()
@_with_location
@click.pass_context
def channels(
    ctx: click.Context, data_dir: Path | None, database: Path | None, config: Path | None
) -> None:
    """List registered channels in a data directory."""
    _locate(ctx, data_dir, database, config)


@channels.command("list")
def list_channels() -> None:
    """List registered channels: name, founder, registration time, modes, topic."""
    for channel in _run(lambda store: store.channels.list()):
        registered = channel.registered_at.isoformat(timespec="seconds")
        topic = channel.topic.text if channel.topic else ""
        click.echo(f"{channel.name}\t{channel.founder}\t{registered}\t{channel.modes}\t{topic}")
