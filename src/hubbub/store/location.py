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


@dataclass(frozen=True, slots=True)
class Location:
    database: Path
    # The data directory holding the database; None when the database path
    # was given directly (its directory may be shared, e.g. /tmp).
    data_dir: Path | None


def locate(
    data_dir: Path | None = None, database: Path | None = None, config: Path | None = None
) -> Location:
    """``--database``, else ``--data-dir``/hubbub.db, else the config's
    ``[database] path``, else its ``[server] data_dir``/hubbub.db, else
    ./hubbub-data/hubbub.db."""
    if database is not None:
        return Location(database, None)
    if data_dir is not None:
        return Location(data_dir / DATABASE_NAME, data_dir)
    if config is not None:
        settings = read_toml(config)
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
