"""``NICKSERV <command>`` and ``NS <command>``: NickServ as a command, which
also works before registration completes for IDENTIFY, so a client without
SASL can log in (and join its account's user as one more device, issue 16)
before it is welcomed."""

from __future__ import annotations

from collections.abc import Awaitable

from hubbub.protocol import numerics as rpl
from hubbub.protocol.message import Message
from hubbub.server.api import Context
from hubbub.server.commands import nickserv
from hubbub.server.commands.registry import command

_BEFORE_REGISTRATION = frozenset(("IDENTIFY", "LOGIN"))


def _nickserv(ctx: Context, msg: Message) -> Awaitable[None] | None:
    text = " ".join(msg.params)
    words = text.split()
    if not ctx.user.registered and (not words or words[0].upper() not in _BEFORE_REGISTRATION):
        ctx.reply(rpl.ERR_NOTREGISTERED, "You have not registered")
        return None
    return nickserv.handle(ctx, text)


@command("NICKSERV", min_params=1, pre_registration=True, cost=2)
def nickserv_long(ctx: Context, msg: Message) -> Awaitable[None] | None:
    """NICKSERV <command> [args]: talk to NickServ (IDENTIFY before registering too)."""
    return _nickserv(ctx, msg)


@command("NS", min_params=1, pre_registration=True, cost=2)
def nickserv_short(ctx: Context, msg: Message) -> Awaitable[None] | None:
    """NS <command> [args]: NICKSERV, shorter."""
    return _nickserv(ctx, msg)
