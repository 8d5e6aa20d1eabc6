"""The capability registry: every IRCv3 capability the server offers.

Later features (SASL, accounts, chathistory) add themselves with
:func:`register_capability` so CAP LS and cap-notify stay in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hubbub.server.config import Config


@dataclass(slots=True)
class Capability:
    name: str
    # value for CAP LS 302 (None: no value); called so it can reflect config
    value: Callable[[], str | None] | None = None
    # the same, for values that depend on the server's config
    config_value: Callable[[Config], str | None] | None = None

    def value_for(self, config: Config) -> str | None:
        if self.config_value is not None:
            return self.config_value(config)
        return self.value() if self.value is not None else None


_REGISTRY: dict[str, Capability] = {}


def register_capability(
    name: str,
    value: Callable[[], str | None] | None = None,
    *,
    config_value: Callable[[Config], str | None] | None = None,
) -> None:
    _REGISTRY[name] = Capability(name, value, config_value)


def unregister_capability(name: str) -> None:
    _REGISTRY.pop(name, None)


def all_capabilities() -> list[Capability]:
    return list(_REGISTRY.values())


def get_capability(name: str) -> Capability | None:
    return _REGISTRY.get(name)


for _name in (
    "account-notify",
    "account-tag",
    "away-notify",
    "batch",
    "cap-notify",
    "chghost",
    "draft/event-playback",
    "echo-message",
    "extended-join",
    "extended-monitor",
    "invite-notify",
    "labeled-response",
    "message-tags",
    "multi-prefix",
    "server-time",
    "setname",
    "userhost-in-names",
    "draft/no-implicit-names",
    "draft/channel-rename",
):
    register_capability(_name)


def _metadata_value(config: Config) -> str:
    """IRCv3 metadata: METADATA works before registration, and its limits."""
    limits = config.metadata
    return (
        f"before-connect,max-subs={limits.max_subs},max-keys={limits.max_keys},"
        f"max-value-bytes={limits.max_value_bytes}"
    )


register_capability("draft/metadata-3", config_value=_metadata_value)
