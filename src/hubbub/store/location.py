"""Where the database is, for the offline CLI: the same rules as the server,
so ``hubbub accounts`` finds the database ``hubbub serve`` uses. The command
line wins over the config file; relative paths in the file are relative to it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path("hubbub-data")
DATABASE_NAME = "hubbub.db"


class LocationError(Exception):
    """The config file cannot tell where the database is; the message names it."""


def is_database_url(value: str) -> bool:
    """A PostgreSQL URL (the only server database hubbub speaks to)."""
    return value.startswith(("postgresql://", "postgres://"))


@dataclass(frozen=True, slots=True)
class Location:
    database: Path
    # The data directory holding the database; None when the database path
    # was given directly (its directory may be shared, e.g. /tmp).
    data_dir: Path | None
    # A PostgreSQL URL: then ``database`` is not used.
    url: str | None = None

    @property
    def target(self) -> str | Path:
        """What ``open_store`` takes."""
        return self.url or self.database


def locate(
    data_dir: Path | None = None,
    database: Path | None = None,
    config: Path | None = None,
    url: str | None = None,
) -> Location:
    """``--database-url``, else ``--database``, else ``--data-dir``/hubbub.db,
    else the config's ``[database] url``, its ``[database] path``, its
    ``[server] data_dir``/hubbub.db, else ./hubbub-data/hubbub.db."""
    if url is not None:
        if not is_database_url(url):
            raise LocationError(f"--database-url: not a postgresql:// URL: {url}")
        return Location(DEFAULT_DATA_DIR / DATABASE_NAME, None, url)
    if database is not None:
        return Location(database, None)
    if data_dir is not None:
        return Location(data_dir / DATABASE_NAME, data_dir)
    if config is not None:
        settings = read_toml(config)
        configured_url = _url_setting(config, settings)
        if configured_url is not None:
            return Location(DEFAULT_DATA_DIR / DATABASE_NAME, None, configured_url)
        configured = _path_setting(config, settings, "database", "path")
        if configured is not None:
            return Location(configured, None)
        configured_dir = _path_setting(config, settings, "server", "data_dir")
        if configured_dir is not None:
            return Location(configured_dir / DATABASE_NAME, configured_dir)
    return Location(DEFAULT_DATA_DIR / DATABASE_NAME, DEFAULT_DATA_DIR)


def read_toml(config: Path) -> dict[str, Any]:
    try:
        with config.open("rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise LocationError(f"{config}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise LocationError(f"{config}: TOML syntax error: {exc}") from None


def _path_setting(config: Path, settings: dict[str, Any], section: str, key: str) -> Path | None:
    table = settings.get(section, {})
    if not isinstance(table, dict):
        raise LocationError(f"{config}: [{section}] must be a table")
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise LocationError(f"{config}: [{section}] {key} must be a non-empty string")
    return config.resolve().parent / value


def _url_setting(config: Path, settings: dict[str, Any]) -> str | None:
    table = settings.get("database", {})
    if not isinstance(table, dict):
        raise LocationError(f"{config}: [database] must be a table")
    value = table.get("url")
    if value is None:
        return None
    if not isinstance(value, str) or not is_database_url(value):
        raise LocationError(f"{config}: [database] url must be a postgresql:// URL")
    return value
