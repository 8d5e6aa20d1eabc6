"""Service users (NickServ, ChanServ): nicks that are answered by the server.

A service is a name and a handler for the text people PRIVMSG it. Its nick is
reserved, it answers with NOTICEs, and its handler may be a coroutine (the
sender's next command waits for it, so replies keep their order).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hubbub.protocol.casemap import fold

if TYPE_CHECKING:
    from hubbub.server.commands.context import Context

ServiceHandler = Callable[["Context", str], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class Service:
    nick: str
    handler: ServiceHandler
    description: str

    def source(self, server_name: str) -> str:
        return f"{self.nick}!{self.nick}@services.{server_name}"


SERVICES: dict[str, Service] = {}


def register_service(nick: str, handler: ServiceHandler, description: str = "") -> None:
    SERVICES[fold(nick)] = Service(nick, handler, description)


def find_service(nick: str) -> Service | None:
    return SERVICES.get(fold(nick))


def service_notice(ctx: Context, service: str, text: str) -> None:
    """Answer the user from ``service`` (one NOTICE per line of ``text``)."""
    found = find_service(service)
    source = found.source(ctx.server.name) if found else f"{service}!{service}@services"
    for line in text.splitlines() or [""]:
        ctx.send("NOTICE", ctx.user.nick, line or " ", source=source)
