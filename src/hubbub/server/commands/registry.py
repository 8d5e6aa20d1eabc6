"""The command table: every command is declared once, with its rules.

In the spirit of Ergo's command table: the dispatcher checks registration,
parameter count and operator status before a handler runs, so handlers only
hold the command's own logic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from hubbub.protocol.message import Message

if TYPE_CHECKING:
    from hubbub.server.api import Context

Handler = Callable[["Context", Message], Awaitable[None] | None]


@dataclass(slots=True)
class CommandSpec:
    """One command's rules. Each server works on its own copies
    (:func:`server_table`), whose ``calls`` count the lines it handled: a
    plain integer increment per line, no lookup (the metrics' hot path)."""

    name: str
    handler: Handler
    min_params: int
    pre_registration: bool
    oper: bool
    cost: int
    help: str
    calls: int = 0


COMMANDS: dict[str, CommandSpec] = {}


def command(
    name: str,
    *,
    min_params: int = 0,
    pre_registration: bool = False,
    oper: bool = False,
    cost: int = 1,
    help: str = "",
) -> Callable[[Handler], Handler]:
    """Declare a command handler. ``cost`` is charged against flood control."""

    def decorate(handler: Handler) -> Handler:
        if name in COMMANDS:
            raise RuntimeError(f"command {name} declared twice")
        doc = help or (handler.__doc__ or "").strip().split("\n")[0]
        COMMANDS[name] = CommandSpec(name, handler, min_params, pre_registration, oper, cost, doc)
        return handler

    return decorate


def server_table() -> dict[str, CommandSpec]:
    """A server's own command table: copies of the declared commands, so
    its counts are its own and a test may add a command to one server."""
    return {name: replace(spec) for name, spec in COMMANDS.items()}
