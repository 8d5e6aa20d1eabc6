"""Service users (NickServ, ChanServ): nicks that are answered by the server.

Each server keeps its own services (``server.hooks.services``), registered
by the features that provide them (features.py). Their nicks are reserved,
and they answer with NOTICEs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocol.casemap import fold
from hubbub.server.api import Context, Service, ServiceHandler

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi


def register_service(
    server: ServerApi, nick: str, handler: ServiceHandler, description: str = ""
) -> None:
    server.hooks.services[fold(nick)] = Service(nick, handler, description)


def find_service(server: ServerApi, nick: str) -> Service | None:
    return server.hooks.services.get(fold(nick))


def service_notice(ctx: Context, service: str, text: str) -> None:
    """Answer the user from ``service`` (one NOTICE per line of ``text``)."""
    found = find_service(ctx.server, service)
    source = found.source(ctx.server.name) if found else f"{service}!{service}@services"
    for line in text.splitlines() or [""]:
        ctx.send("NOTICE", ctx.user.nick, line or " ", source=source)
