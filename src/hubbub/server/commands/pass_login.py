"""Logging in with ``PASS account[@device]:password`` (issue 16), for
clients that can send a server password but not SASL. Only on a server
without a connection password of its own; the same rules as every
password path (TLS or loopback, throttled, bounded hashing)."""

from __future__ import annotations

import logging

from hubbub.protocol import numerics as rpl
from hubbub.server import actions, password_guard
from hubbub.server.api import Context
from hubbub.server.device_names import split_device
from hubbub.server.hash_gate import HashRefused

log = logging.getLogger(__name__)


async def login(ctx: Context, text: str) -> None:
    """Verify and log in before NICK/USER are read (the session holds the
    next lines while this runs). A wrong password closes the connection,
    as a wrong connection password does."""
    name, _, password = text.partition(":")
    account_name, device = split_device(name)
    if ctx.user.account is not None:
        return
    if not password_guard.password_allowed(ctx):
        _refuse(ctx, password_guard.PLAINTEXT_REFUSAL)
        return
    attempt = password_guard.begin_login(ctx, account_name)
    if isinstance(attempt, str):
        _refuse(ctx, attempt)
        return
    try:
        async with password_guard.hashing(ctx):
            account = await ctx.server.store.accounts.verify_password(account_name, password)
    except HashRefused as exc:
        attempt.give_back()
        _refuse(ctx, str(exc))
        return
    if account is None:
        log.info("failed PASS login from %s", ctx.user.ip)
        _refuse(ctx, "Password incorrect")
        return
    attempt.give_back()
    if device is not None:
        ctx.conn.device_id = device
    actions.login(ctx, account.name)


def _refuse(ctx: Context, reason: str) -> None:
    ctx.reply(rpl.ERR_PASSWDMISMATCH, reason)
    ctx.server.disconnect(ctx.conn, "Bad password")
