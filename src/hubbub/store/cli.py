"""``hubbub accounts`` and ``hubbub channels``: look after a data directory
while the server is stopped (accounts for operators, lost passwords).

``--data-dir``, ``--database`` and ``--config`` may come before or after the
subcommand (``hubbub accounts list --config x``); given in both places, the
one after the subcommand wins. Passwords follow the server's rule, with
``[accounts] min_password_length`` and ``scram_iterations`` from ``--config``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import click
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from hubbub.store.cli_settings import AccountRules, account_rules
from hubbub.store.copying import copy_sqlite_to_postgresql
from hubbub.store.errors import StoreError
from hubbub.store.interface import Store
from hubbub.store.keys import name_key
from hubbub.store.location import Location, LocationError, is_database_url, locate
from hubbub.store.lock import DatabaseInUse, lock_database
from hubbub.store.opening import open_store
from hubbub.store.passwords import password_problem
from hubbub.store.privacy import private_dir

T = TypeVar("T")
Command = TypeVar("Command", bound=Callable[..., None])

_LOCATION = "hubbub.location"  # key in the root context's meta


def _remember(ctx: click.Context, param: click.Parameter, value: Path | str | None) -> None:
    """Keep a location option's value, wherever it was given: the group's
    options are parsed first, the subcommand's later, so those win."""
    if value is not None and param.name is not None:
        ctx.find_root().meta.setdefault(_LOCATION, {})[param.name] = value


_location_options = (
    click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        expose_value=False,
        callback=_remember,
        help="Data directory (default ./hubbub-data).",
    ),
    click.option(
        "--database",
        type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False,
        callback=_remember,
        help="SQLite database file (default <data-dir>/hubbub.db).",
    ),
    click.option(
        "--database-url",
        expose_value=False,
        callback=_remember,
        help="PostgreSQL database (postgresql://user@host:port/name) instead of SQLite.",
    ),
    click.option(
        "--config",
        type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False,
        callback=_remember,
        help="Server config file; its [database] url or path, [server] data_dir and "
        "[accounts] password settings are used.",
    ),
)


def _with_location(command: Command) -> Command:
    for option in reversed(_location_options):
        command = option(command)
    return command


def _fail(message: str) -> NoReturn:
    click.echo(f"hubbub: error: {message}", err=True)
    sys.exit(2)


def _given(name: str) -> Path | None:
    value: Path | None = click.get_current_context().find_root().meta.get(_LOCATION, {}).get(name)
    return value


def _given_url() -> str | None:
    value: str | None = (
        click.get_current_context().find_root().meta.get(_LOCATION, {}).get("database_url")
    )
    return value


def _location() -> Location:
    try:
        return locate(_given("data_dir"), _given("database"), _given("config"), _given_url())
    except LocationError as exc:
        _fail(str(exc))


def _rules() -> AccountRules:
    try:
        return account_rules(_given("config"))
    except LocationError as exc:
        _fail(str(exc))


def _run(action: Callable[[Store], Awaitable[T]], *, create: bool = False) -> T:
    """Open the store, run ``action``, close; every failure is one line."""
    location = _location()
    path = location.database
    rules = _rules()
    if location.url is None and not create and not path.exists():
        _fail(f"no database at {path} (use --data-dir, --database, --database-url or --config)")

    async def session() -> T:
        if location.data_dir is not None:
            private_dir(location.data_dir)
        store = await open_store(location.target, scram_iterations=rules.scram_iterations)
        try:
            return await action(store)
        finally:
            await store.close()

    try:
        return asyncio.run(session())
    except (StoreError, ValueError) as exc:
        _fail(str(exc))
    except (SQLAlchemyError, OSError) as exc:
        _fail(f"{_shown(location)}: {exc.__class__.__name__}: {_first_line(exc)}")


def _shown(location: Location) -> str:
    """The database for a message: a URL without its password."""
    if location.url is None:
        return str(location.database)
    return make_url(location.url).render_as_string(hide_password=True)


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


def _read_password() -> str:
    """Prompt without echo on a terminal; otherwise one line from stdin, so
    scripts can pipe a password in. The server's rule applies."""
    if sys.stdin.isatty():
        password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        _fail("the password is empty")
    problem = password_problem(password, _rules().min_password_length)
    if problem is not None:
        _fail(problem[1])
    return password


@click.group()
@_with_location
def accounts() -> None:
    """Manage accounts in a data directory."""


@accounts.command("list")
@_with_location
def list_accounts() -> None:
    """List accounts, one a line: name, registration time, e-mail."""
    for account in _run(lambda store: store.accounts.list()):
        registered = account.registered_at.isoformat(timespec="seconds")
        click.echo(f"{account.name}\t{registered}\t{account.email or ''}")


@accounts.command("create")
@_with_location
@click.argument("name")
@click.option("--email", help="E-mail address to keep with the account.")
def create_account(name: str, email: str | None) -> None:
    """Create account NAME; the password is prompted for or read from stdin."""
    password = _read_password()
    _run(lambda store: store.accounts.create(name, password, email), create=True)
    click.echo(f"created account {name}")


@accounts.command("passwd")
@_with_location
@click.argument("name")
def set_password(name: str) -> None:
    """Set a new password for account NAME."""
    password = _read_password()
    _run(lambda store: store.accounts.set_password(name, password))
    click.echo(f"password changed for {name}")


@accounts.command("delete")
@_with_location
@click.argument("name")
def delete_account(name: str) -> None:
    """Delete account NAME with its certificate fingerprints, channel access,
    private history, and the registrations of the channels it founded."""

    async def delete(store: Store) -> list[str] | None:
        founded = [c.name for c in await store.channels.list() if name_key(c.founder) == key]
        return founded if await store.accounts.delete(name) else None

    key = name_key(name)
    dropped = _run(delete)
    if dropped is None:
        _fail(f"no account {name}")
    click.echo(f"deleted account {name}")
    if dropped:
        click.echo(f"dropped channel registrations: {', '.join(dropped)}")


@click.group()
@_with_location
def channels() -> None:
    """List registered channels in a data directory."""


@channels.command("list")
@_with_location
def list_channels() -> None:
    """List registered channels: name, founder, registration time, modes, topic."""
    for channel in _run(lambda store: store.channels.list()):
        registered = channel.registered_at.isoformat(timespec="seconds")
        topic = channel.topic.text if channel.topic else ""
        click.echo(f"{channel.name}\t{channel.founder}\t{registered}\t{channel.modes}\t{topic}")


@click.group("store")
@_with_location
def store_group() -> None:
    """Move a data directory's database."""


@store_group.command("migrate")
@_with_location
@click.option(
    "--to",
    "url",
    required=True,
    help="The new, empty PostgreSQL database: postgresql://user@host:port/name.",
)
def migrate_store(url: str) -> None:
    """Copy the SQLite database (accounts, channels, bans, history) into
    PostgreSQL. Stop the server first; then set [database] url to the same URL."""
    if not is_database_url(url):
        _fail(f"--to: not a postgresql:// URL: {url}")
    location = _location()
    if location.url is not None:
        _fail("the database to copy from is the SQLite file (--data-dir, --database or --config)")
    source = location.database
    if not source.is_file():
        _fail(f"no database at {source} (use --data-dir, --database or --config)")
    try:
        lock = lock_database(source)
    except DatabaseInUse as exc:
        _fail(str(exc))
    target = Location(source, None, url)

    def copied(table: str, rows: int) -> None:
        click.echo(f"{table}: {rows} row(s)")

    try:
        asyncio.run(copy_sqlite_to_postgresql(source, url, copied))
    except StoreError as exc:
        _fail(str(exc))
    except (SQLAlchemyError, OSError) as exc:
        _fail(f"{_shown(target)}: {exc.__class__.__name__}: {_first_line(exc)}")
    finally:
        lock.release()
    click.echo(f"copied {source} to {_shown(target)}; set [database] url to use it")
