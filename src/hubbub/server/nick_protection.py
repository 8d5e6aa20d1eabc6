"""Nick protection: a nick that is an account's name belongs to that account.

Someone using it without being logged in to the account is told so by
NickServ and, unless they log in first, renamed to ``Guest<digits>`` after
``accounts.nick_protection_delay`` seconds ("delay" mode) or at once
("strict"). The rename is an ordinary NICK change, seen by channel peers.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from hubbub.protocol.casemap import fold
from hubbub.server import actions
from hubbub.server.api import Context
from hubbub.server.services import service_notice
from hubbub.server.state import User

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi
    from hubbub.server.world import World

GUEST_PREFIX = "Guest"


class Pending(dict[User, asyncio.Future[None]]):
    """One server's nick checks under way, by user."""


def protection_pending(server: ServerApi, user: User) -> bool:
    """Whether nick protection is still deciding about ``user``'s nick (an
    account's name used without logging in): until it is done, the user
    must not be served anything that nick might unlock. Logging in to the
    nick's account settles it at once, though the grace's timer runs on."""
    return user in server.feature(Pending) and not owns_nick(user)


def owns_nick(user: User) -> bool:
    return user.account is not None and fold(user.account) == user.folded


def _still_protected(server: ServerApi, user: User, folded: str) -> bool:
    return (
        user in server.world.connections
        and user.registered
        and user.folded == folded
        and not owns_nick(user)
    )


def check(ctx: Context) -> None:
    """Start protecting the user's current nick if an account owns it."""
    user = ctx.user
    pending = ctx.server.feature(Pending)
    previous = pending.pop(user, None)
    if previous is not None:
        previous.cancel()
    if ctx.server.config.accounts.nick_protection == "off" or owns_nick(user):
        return
    if not ctx.server.store.accounts.exists(user.nick):
        return
    if fold(user.nick).startswith(fold(GUEST_PREFIX)):
        return
    task = ctx.server.spawn(_protect(ctx.server, user, user.folded))
    pending[user] = task

    def forget(done: asyncio.Future[None]) -> None:
        if pending.get(user) is done:
            del pending[user]

    task.add_done_callback(forget)


async def _protect(server: ServerApi, user: User, folded: str) -> None:
    account = await server.store.accounts.get(user.nick)
    if account is None or not _still_protected(server, user, folded):
        return
    ctx = Context(server, user)
    settings = server.config.accounts
    delay = settings.nick_protection_delay
    if settings.nick_protection == "strict" or delay <= 0:
        service_notice(
            ctx,
            "NickServ",
            f"The nick {user.nick} is registered to another account; log in to it "
            "(SASL, or /msg NickServ IDENTIFY <password>) before you use it.",
        )
    else:
        seconds = f"{delay:g} second" + ("" if delay == 1 else "s")
        service_notice(
            ctx,
            "NickServ",
            f"The nick {user.nick} is registered. If it is yours, log in within {seconds} "
            f"with /msg NickServ IDENTIFY <password>, or your nick will be changed.",
        )
        await asyncio.sleep(delay)
        if not _still_protected(server, user, folded):
            return
        service_notice(ctx, "NickServ", f"You did not log in to {account.name} in time.")
    server.feature(Pending).pop(user, None)
    rename_to_guest(ctx)


def rename_to_guest(ctx: Context) -> None:
    """Give the user a free ``Guest<digits>`` nick, as a normal NICK change."""
    actions.rename(ctx, guest_nick(ctx.server.world, ctx.user))


def guest_nick(world: World, user: User) -> str:
    """A ``Guest<digits>`` nick nobody but ``user`` has."""
    for _ in range(100):
        guest = f"{GUEST_PREFIX}{secrets.randbelow(90000) + 10000}"
        if not world.nick_taken(guest, user):
            break
    return guest


def _on_nick_change(ctx: Context, old_nick: str) -> None:
    check(ctx)


def install(server: ServerApi, add: Callable[[object], None]) -> None:
    """Nick protection: check every registered nick and every nick change."""
    add(Pending())
    server.hooks.registered.append(check)
    server.hooks.nick_changed.append(_on_nick_change)
