"""NS/NICKSERV and CS/CHANSERV: the short ways most networks offer to talk to
their services (``NS REGISTER <password>`` is ``PRIVMSG NickServ :REGISTER
<password>``). The service answers with NOTICEs as usual. ``NS IDENTIFY``
also works before registration completes, so a client without SASL can log
in (and join its account's user as one more device) before it is welcomed."""

from __future__ import annotations

from collections.abc import Awaitable

from hubbub.protocol import numerics as rpl
from hubbub.protocol.message import Message
from hubbub.server.api import Context
from hubbub.server.commands import nickserv as nickserv_service
from hubbub.server.commands.registry import command
from hubbub.server.services import find_service

_BEFORE_REGISTRATION = frozenset(("IDENTIFY", "LOGIN"))


def _to_service(ctx: Context, nick: str, msg: Message) -> Awaitable[None] | None:
    service = find_service(ctx.server, nick)
    if service is None:
        ctx.reply(rpl.ERR_NOSUCHNICK, nick, "No such nick/channel")
        return None
    return service.handler(ctx, " ".join(msg.params))


def _to_nickserv(ctx: Context, msg: Message) -> Awaitable[None] | None:
    text = " ".join(msg.params)
    words = text.split()
    if not ctx.user.registered and (not words or words[0].upper() not in _BEFORE_REGISTRATION):
        ctx.reply(rpl.ERR_NOTREGISTERED, "You have not registered")
        return None
    return nickserv_service.handle(ctx, text)


@command("NS", min_params=1, pre_registration=True, cost=2)
def ns(ctx: Context, msg: Message) -> Awaitable[None] | None:
    """NS <command> [args]: talk to NickServ (NS HELP; IDENTIFY before registering too)."""
    return _to_nickserv(ctx, msg)


@command("NICKSERV", min_params=1, pre_registration=True, cost=2)
def nickserv(ctx: Context, msg: Message) -> Awaitable[None] | None:
    """NICKSERV <command> [args]: talk to NickServ (IDENTIFY before registering too)."""
    return _to_nickserv(ctx, msg)


@command("CS", min_params=1)
def cs(ctx: Context, msg: Message) -> Awaitable[None] | None:
    """CS <command> [args]: talk to ChanServ (CS HELP)."""
    return _to_service(ctx, "ChanServ", msg)


@command("CHANSERV", min_params=1)
def chanserv(ctx: Context, msg: Message) -> Awaitable[None] | None:
    """CHANSERV <command> [args]: talk to ChanServ (CHANSERV HELP)."""
    return _to_service(ctx, "ChanServ", msg)
