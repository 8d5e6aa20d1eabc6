"""The command table: every command is declared once, with its rules.

In the spirit of Ergo's command table: the dispatcher checks registration,
parameter count and operator status before a handler runs, so handlers only
hold the command's own logic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from hubbub.protocol.message import Message

if TYPE_CHECKING:
    from hubbub.server.api import Context

Handler = Callable[["Context", Message], Awaitable[None] | None]
# Runs the command's commonest form straight from the raw line (no tags, no
# source), or returns False and the line takes the general path: parse,
# the dispatcher's checks, the handler.
RawHandler = Callable[["Context", bytes], bool]


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
    raw: RawHandler | None = None


COMMANDS: dict[str, CommandSpec] = {}


def command(
    name: str,
    *,
    min_params: int = 0,
    pre_registration: bool = False,
    oper: bool = False,
    cost: int = 1,
    help: str = "",
    raw: RawHandler | None = None,
) -> Callable[[Handler], Handler]:
    """Declare a command handler. ``cost`` is charged against flood control.
    ``raw``, for the few commands that carry most of the traffic (PRIVMSG),
    skips the parse and the dispatcher for the lines it takes; it must
    behave exactly as the handler would on them."""

    def decorate(handler: Handler) -> Handler:
        if name in COMMANDS:
            raise RuntimeError(f"command {name} declared twice")
        doc = help or (handler.__doc__ or "").strip().split("\n")[0]
        COMMANDS[name] = CommandSpec(
            name, handler, min_params, pre_registration, oper, cost, doc, raw=raw
        )
        return handler

    return decorate


def server_table() -> dict[str, CommandSpec]:
    """A server's own command table: copies of the declared commands, so
    its counts are its own and a test may add a command to one server."""
    return {name: replace(spec) for name, spec in COMMANDS.items()}


def raw_table(commands: Mapping[str, CommandSpec]) -> dict[bytes, CommandSpec]:
    """The commands of ``commands`` with a raw handler, keyed by the command
    word as a client sends it most often (upper case): what the session
    looks up before parsing a line."""
    return {name.encode(): spec for name, spec in commands.items() if spec.raw is not None}
