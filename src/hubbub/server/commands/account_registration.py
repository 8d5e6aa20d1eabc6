"""draft/account-registration (https://ircv3.net/specs/extensions/account-registration):
REGISTER and VERIFY.

The account name is the user's nick (``custom-account-name`` is not offered,
so a registered nick and its account are the same thing for nick
protection). No verification step is needed, so a successful REGISTER logs
the user in at once. NickServ REGISTER uses the same rules
(:func:`create_account`): no password over a plaintext connection from
another host (as SASL PLAIN), a bounded number of accounts per IP, and the
hash through the server's hash gate.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from dataclasses import dataclass

from hubbub.protocol.casemap import fold
from hubbub.protocol.message import Message
from hubbub.server import actions, password_guard
from hubbub.server.api import Context
from hubbub.server.capabilities import register_capability
from hubbub.server.commands.registration import admission_refused
from hubbub.server.commands.registry import command
from hubbub.server.config import Config
from hubbub.server.hash_gate import HashRefused
from hubbub.server.log_events import log_event
from hubbub.store import Account, AlreadyExists
from hubbub.store.passwords import password_problem

_EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[^@\s,.]+")


def before_connect(config: Config) -> bool:
    """REGISTER before connection registration: allowed when configured,
    and never when a connection password (PASS) must be checked first."""
    return config.accounts.registration_before_connect and config.server.password is None


def _capability_value(config: Config) -> str | None:
    keys = []
    if before_connect(config):
        keys.append("before-connect")
    if config.accounts.require_email:
        keys.append("email-required")
    return ",".join(keys) or None


register_capability("draft/account-registration", config_value=_capability_value)


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str  # the standard-replies code
    text: str


def check_password(config: Config, password: str) -> Refusal | None:
    """The password rule (store.passwords), with the configured minimum length."""
    problem = password_problem(password, config.accounts.min_password_length)
    return None if problem is None else Refusal(*problem)


def check_email(config: Config, email: str | None) -> Refusal | None:
    if email is None:
        if config.accounts.require_email:
            return Refusal("INVALID_EMAIL", "An email address is required to register")
        return None
    if not _EMAIL.fullmatch(email) or len(email) > 254:
        return Refusal("INVALID_EMAIL", f"{email} is not a valid email address")
    return None


async def create_account(
    ctx: Context, account: str, email: str | None, password: str
) -> Refusal | None:
    """Register ``account`` for the user and log it in; a Refusal if not."""
    server = ctx.server
    if not server.config.accounts.registration:
        return Refusal("TEMPORARILY_UNAVAILABLE", "Account registration is disabled here")
    if ctx.user.account is not None:
        return Refusal("ALREADY_AUTHENTICATED", f"You are already logged in as {ctx.user.account}")
    if not password_guard.password_allowed(ctx):
        return Refusal("UNACCEPTABLE_PASSWORD", _sentence(password_guard.PLAINTEXT_REFUSAL))
    refusal = check_password(server.config, password) or check_email(server.config, email)
    if refusal is not None:
        return refusal
    if fold(account).startswith("guest"):
        return Refusal("BAD_ACCOUNT_NAME", "Guest nicks cannot be registered")
    if server.store.accounts.exists(account):  # known without hashing anything
        return _exists(account)
    limited = password_guard.begin_registration(ctx)
    if limited is not None:
        return Refusal("TEMPORARILY_UNAVAILABLE", _sentence(limited))
    created = await _create(ctx, account, email, password)
    if isinstance(created, Refusal):
        password_guard.registration_failed(ctx)
        return created
    ctx.server.metrics.account_registrations += 1
    for hook in server.hooks.account_registered:
        hook(server, created.name)
    log_event(ctx.user, "account_registered", account=created.name)
    if ctx.user.account is not None:  # logged in some other way meanwhile
        return None
    actions.login(ctx, created.name)
    return None


async def _create(
    ctx: Context, account: str, email: str | None, password: str
) -> Account | Refusal:
    try:
        async with password_guard.hashing(ctx):
            return await ctx.server.store.accounts.create(account, password, email)
    except HashRefused as exc:
        return Refusal("TEMPORARILY_UNAVAILABLE", _sentence(str(exc)))
    except AlreadyExists:
        return _exists(account)
    except ValueError as exc:
        return Refusal("BAD_ACCOUNT_NAME", str(exc))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _exists(account: str) -> Refusal:
    return Refusal("ACCOUNT_EXISTS", f"The account {account} is already registered")


@command("REGISTER", min_params=3, pre_registration=True, cost=3)
def register(ctx: Context, msg: Message) -> Awaitable[None] | None:
    """REGISTER <account|*> <email|*> <password>: create an account named after your nick."""
    user = ctx.user
    requested, email, password = msg.params[0], msg.params[1], msg.params[2]
    server = ctx.server
    if not server.config.accounts.registration:
        ctx.fail(
            "REGISTER",
            "TEMPORARILY_UNAVAILABLE",
            requested,
            description="Account registration is disabled on this server",
        )
        return None
    if user.account is not None:
        ctx.fail(
            "REGISTER",
            "ALREADY_AUTHENTICATED",
            user.account,
            description="You are already logged in",
        )
        return None
    if not user.registered:
        if not before_connect(server.config):
            ctx.fail(
                "REGISTER",
                "COMPLETE_CONNECTION_REQUIRED",
                requested,
                description="Finish connecting before you register an account",
            )
            return None
        if admission_refused(ctx):  # a K-lined host registers nothing
            return None
        if requested != "*" and server.store.accounts.exists(requested):
            # Taken whatever nick comes: say so before asking for one.
            exists = _exists(requested)
            ctx.fail("REGISTER", exists.code, requested, description=exists.text)
            return None
        if not user.folded:
            ctx.fail("REGISTER", "NEED_NICK", "*", description="Send NICK before REGISTER")
            return None
    account = user.nick if requested == "*" else requested
    if fold(account) != user.folded:
        ctx.fail(
            "REGISTER",
            "ACCOUNT_NAME_MUST_BE_NICK",
            account,
            description="The account name must be your current nick",
        )
        return None
    return _register(ctx, account, None if email == "*" else email, password)


async def _register(ctx: Context, account: str, email: str | None, password: str) -> None:
    refusal = await create_account(ctx, account, email, password)
    if refusal is not None:
        ctx.fail("REGISTER", refusal.code, account, description=refusal.text)
        return
    ctx.send("REGISTER", "SUCCESS", account, "Account created")


@command("VERIFY", min_params=2, pre_registration=True, cost=3)
def verify(ctx: Context, msg: Message) -> None:
    """VERIFY <account> <code>: complete a registration (none needs it here)."""
    account = msg.params[0]
    if not ctx.server.config.accounts.registration:
        ctx.fail(
            "VERIFY",
            "TEMPORARILY_UNAVAILABLE",
            account,
            description="Account registration is disabled on this server",
        )
    elif ctx.user.account is not None:
        ctx.fail(
            "VERIFY",
            "ALREADY_AUTHENTICATED",
            ctx.user.account,
            description="You are already logged in",
        )
    else:
        ctx.fail(
            "VERIFY",
            "INVALID_CODE",
            account,
            description="No verification is pending: registrations here need none",
        )
