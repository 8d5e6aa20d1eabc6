"""What the offline CLI reads from the server's config file besides the
database location: the password rules of ``[accounts]``, so ``hubbub
accounts create|passwd`` applies the same rule as the running server.
The store may not import the server's config model, hence this reader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hubbub.store.location import LocationError, read_toml
from hubbub.store.passwords import (
    DEFAULT_SCRAM_ITERATIONS,
    MAX_PASSWORD_BYTES,
    MIN_PASSWORD_LENGTH,
    MIN_SCRAM_ITERATIONS,
)


@dataclass(frozen=True, slots=True)
class AccountRules:
    min_password_length: int = MIN_PASSWORD_LENGTH
    scram_iterations: int = DEFAULT_SCRAM_ITERATIONS


def account_rules(config: Path | None) -> AccountRules:
    """``[accounts] min_password_length`` and ``scram_iterations`` of the
    config file (the defaults without one); LocationError names a bad key."""
    if config is None:
        return AccountRules()
    table = read_toml(config).get("accounts", {})
    if not isinstance(table, dict):
        raise LocationError(f"{config}: [accounts] must be a table")
    defaults = AccountRules()
    return AccountRules(
        min_password_length=_integer(
            config,
            table,
            "min_password_length",
            defaults.min_password_length,
            1,
            MAX_PASSWORD_BYTES,
        ),
        scram_iterations=_integer(
            config, table, "scram_iterations", defaults.scram_iterations, MIN_SCRAM_ITERATIONS
        ),
    )


def _integer(
    config: Path,
    table: dict[str, object],
    key: str,
    default: int,
    low: int,
    high: int | None = None,
) -> int:
    value = table.get(key, default)
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise LocationError(f"{config}: [accounts] {key} must be an integer {bound}")
    return value
