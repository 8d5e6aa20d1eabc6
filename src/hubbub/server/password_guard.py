"""What stands between a password on the wire and a password hash, shared by
SASL, NickServ and REGISTER so that every path obeys the same rules:

- where a password may be sent at all (TLS, loopback, or if configured);
- how many login attempts an account and an IP get (login throttling);
- how many accounts an IP may create;
- what a hash costs the connection (flood control) and the server (a
  bounded number at once, :mod:`hubbub.server.hash_gate`).

The numbers come from ``[accounts]`` when the server first needs them.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from hubbub.protocol.casemap import fold
from hubbub.server.api import Context
from hubbub.server.hash_gate import HashGate
from hubbub.server.login_throttle import TokenBuckets, ip_key

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

log = logging.getLogger(__name__)

PLAINTEXT_REFUSAL = "passwords are refused on a plaintext connection; use TLS"


@runtime_checkable
class _FloodControlled(Protocol):
    """A sink whose flood control can be charged (server.session.Session);
    named structurally because this module sits below the session."""

    def charge(self, tokens: float) -> None: ...


class Guard:
    """One server's throttles and hash gate."""

    def __init__(self, server: ServerApi) -> None:
        settings = server.config.accounts
        entries = settings.login_throttle_entries
        refill = settings.login_refill
        self.accounts = TokenBuckets(settings.login_attempts_per_account, refill, entries)
        self.ips = TokenBuckets(settings.login_attempts_per_ip, refill, entries)
        self.registrations = TokenBuckets(
            settings.registrations_per_ip, settings.registration_refill, entries
        )
        self.gate = HashGate(settings.max_concurrent_hashes, settings.max_waiting_hashes)


def guard(server: ServerApi) -> Guard:
    return server.feature(Guard)


def install(server: ServerApi, add: Callable[[object], None]) -> None:
    """The login throttles and the hash gate, one set per server."""
    add(Guard(server))


def _is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def password_allowed(ctx: Context) -> bool:
    """A password may cross only TLS or loopback, unless configured otherwise
    (``accounts.plaintext_sasl``): the rule of SASL PLAIN, for every path."""
    user = ctx.user
    return user.tls or ctx.server.config.accounts.plaintext_sasl or _is_loopback(user.ip)


def _wait_text(seconds: float) -> str:
    return f"try again in {max(1, math.ceil(seconds))} seconds"


@dataclass(slots=True)
class Attempt:
    """Tokens taken for one login attempt: a success gives them back, and so
    does an attempt the server could not check (no place to hash)."""

    server: ServerApi
    account_key: str | None
    ip_key: str

    def give_back(self) -> None:
        found = guard(self.server)
        if self.account_key is not None:
            found.accounts.give_back([self.account_key])
        found.ips.give_back([self.ip_key])
        for hook in self.server.hooks.login_tokens:
            hook(self.server, self.account_key, self.ip_key, False)


def begin_login(ctx: Context, account: str | None) -> Attempt | str:
    """Take the tokens for a login attempt on ``account`` (None: a
    certificate, throttled per IP only). Throttled: the refusal text, and
    nothing taken. Only names of existing accounts get a bucket, so made-up
    names cannot fill the table."""
    found = guard(ctx.server)
    address = ip_key(ctx.user.ip)
    account_key = None
    if account is not None and ctx.server.store.accounts.exists(account):
        account_key = "account:" + fold(account)
    ip_wait = found.ips.wait([address])
    account_wait = found.accounts.wait([account_key]) if account_key else 0.0
    if ip_wait > 0 or account_wait > 0:
        log.info("login attempt throttled from %s", ctx.user.ip)
        return "too many failed attempts; " + _wait_text(max(ip_wait, account_wait))
    found.ips.try_take([address])
    if account_key is not None:
        found.accounts.try_take([account_key])
    for hook in ctx.server.hooks.login_tokens:
        hook(ctx.server, account_key, address, True)
    return Attempt(ctx.server, account_key, address)


def tokens_moved_elsewhere(
    server: ServerApi, account_key: str | None, ip: str, taken: bool
) -> None:
    """A login attempt on another node of the network took (or gave back)
    its tokens: the same buckets here follow, so failures count network-wide."""
    found = guard(server)
    if taken:
        if account_key is not None:
            found.accounts.charge(account_key)
        found.ips.charge(ip)
        return
    if account_key is not None:
        found.accounts.give_back([account_key])
    found.ips.give_back([ip])


def begin_registration(ctx: Context) -> str | None:
    """Take a registration token of the user's IP, or the refusal text."""
    wait = guard(ctx.server).registrations.try_take([ip_key(ctx.user.ip)])
    if wait > 0:
        return "too many accounts were registered from your address; " + _wait_text(wait)
    return None


def registration_failed(ctx: Context) -> None:
    """No account was created after all: the token goes back."""
    guard(ctx.server).registrations.give_back([ip_key(ctx.user.ip)])


@asynccontextmanager
async def hashing(ctx: Context) -> AsyncIterator[None]:
    """Around every password hash: charge the connection's flood control,
    then wait for a place at the server's gate (HashRefused if none)."""
    conn = ctx.user.sink
    if isinstance(conn, _FloodControlled):
        conn.charge(ctx.server.config.accounts.hash_flood_cost)
    async with guard(ctx.server).gate.slot(ctx.user):
        yield
