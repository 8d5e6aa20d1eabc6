"""Logging a user in and out of an account, and telling whoever should know.

SASL, NickServ IDENTIFY and account registration all end here, so 900/901
and account-notify are sent the same way whichever path was taken.
"""

from __future__ import annotations

from hubbub.protocol import numerics as rpl
from hubbub.server.api import Context
from hubbub.server.delivery import deliver


def login(ctx: Context, account: str) -> None:
    """Mark ``ctx.user`` as logged in to ``account`` (900 + account-notify).
    Its private-history key is looked up here, once, not per message."""
    user = ctx.user
    user.account = account
    user.history_party = ctx.server.store.accounts.party(account)
    ctx.reply(rpl.RPL_LOGGEDIN, user.source, account, f"You are now logged in as {account}")
    _notify(ctx, account)


def logout(ctx: Context) -> None:
    user = ctx.user
    if user.account is None:
        return
    user.account = None
    user.history_party = None
    ctx.reply(rpl.RPL_LOGGEDOUT, user.source, "You are now logged out")
    _notify(ctx, "*")


def _notify(ctx: Context, account: str) -> None:
    user = ctx.user
    if not user.registered:
        return
    watchers = [u for u in ctx.server.world.neighbours(user) if "account-notify" in u.caps]
    if "account-notify" in user.caps:
        watchers.append(user)
    deliver(watchers, user.source, "ACCOUNT", [account])
