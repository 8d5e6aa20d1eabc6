"""The capability registry: every IRCv3 capability the server offers.

Later features (SASL, accounts, chathistory) add themselves with
:func:`register_capability` so CAP LS and cap-notify stay in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class Capability:
    name: str
    # value for CAP LS 302 (None: no value); called so it can reflect config
    value: Callable[[], str | None] | None = None


_REGISTRY: dict[str, Capability] = {}


def register_capability(name: str, value: Callable[[], str | None] | None = None) -> None:
    _REGISTRY[name] = Capability(name, value)


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
    "echo-message",
    "extended-join",
    "invite-notify",
    "labeled-response",
    "message-tags",
    "multi-prefix",
    "server-time",
    "setname",
    "userhost-in-names",
    "draft/no-implicit-names",
):
    register_capability(_name)
