"""Operator commands: OPER, KILL, WALLOPS, REHASH, DIE, SETHOST.

OPER checks ``config.opers``: each block has a name, a password (an argon2
hash made by ``hubbub passwd``, or plain text) and a ``user@host`` mask.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hubbub.protocol import masks
from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import fold
from hubbub.protocol.message import Message
from hubbub.server import actions, password_guard
from hubbub.server.api import Context
from hubbub.server.commands.registry import command
from hubbub.server.config import ConfigError, OperSection
from hubbub.server.delivery import Event, deliver
from hubbub.server.hash_gate import HashRefused
from hubbub.server.log_events import user_fields
from hubbub.server.logtext import for_log

log = logging.getLogger(__name__)

_hasher = PasswordHasher()
# Keeps the shutdown task referenced until it is done.
_background: set[asyncio.Future[None]] = set()

_HOST_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_:/]{0,63}")
_USER_RE = re.compile(r"[A-Za-z0-9~][A-Za-z0-9\-_.]*")


def password_matches(stored: str, given: str) -> bool:
    """Check ``given`` against an argon2 hash or a plain-text password."""
    if stored.startswith("$argon2"):
        try:
            return _hasher.verify(stored, given)
        except (VerificationError, InvalidHashError):
            return False
    return hmac.compare_digest(stored.encode(), given.encode())


def _host_allowed(block: OperSection, user: str, host: str, ip: str) -> bool:
    return any(
        masks.match(pattern, f"{user}@{where}")
        for pattern in block.host.split()
        for where in (host, ip)
    )


@command("OPER", min_params=2, cost=3)
async def oper(ctx: Context, msg: Message) -> None:
    """OPER <name> <password>: become an IRC operator."""
    user = ctx.user
    name, password = msg.params[0], msg.params[1]
    block = next((b for b in ctx.server.config.opers if b.name == name), None)
    if block is None or not _host_allowed(block, user.user, user.host, user.ip):
        ctx.reply(rpl.ERR_NOOPERHOST, "No O-lines for your host")
        # not the name: with the arguments swapped it is the password
        log.info(
            "failed OPER by %s (no block of that name for this host)",
            user.source,
            extra=user_fields(user, "oper_failed", "no block for this host"),
        )
        return
    # Throttled per IP and hashed through the server's gate, like every
    # other password check (docs/security.md); argon2 runs off the event loop.
    attempt = password_guard.begin_login(ctx, None)
    if isinstance(attempt, str):
        ctx.reply(rpl.ERR_PASSWDMISMATCH, f"Password not checked: {attempt}")
        return
    try:
        async with password_guard.hashing(ctx):
            ok = await asyncio.to_thread(password_matches, block.password, password)
    except HashRefused as exc:
        attempt.give_back()
        ctx.reply(rpl.ERR_PASSWDMISMATCH, f"Password not checked: {exc}")
        return
    if user not in ctx.server.world.connections:
        return
    if not ok:
        ctx.reply(rpl.ERR_PASSWDMISMATCH, "Password incorrect")
        log.info(
            "failed OPER %s by %s (wrong password)",
            block.name,
            user.source,
            extra=user_fields(user, "oper_failed", "wrong password", oper=block.name),
        )
        return
    attempt.give_back()
    actions.oper_up(ctx.server, user, block.name)
    ctx.reply(rpl.RPL_YOUREOPER, "You are now an IRC operator")
    log.info(
        "%s is now an operator (%s)",
        user.source,
        block.name,
        extra=user_fields(user, "oper_up", oper=block.name),
    )


@command("KILL", min_params=1, oper=True)
def kill(ctx: Context, msg: Message) -> None:
    """KILL <nick> [:<reason>]: disconnect someone from the server."""
    server = ctx.server
    nick = msg.params[0]
    if fold(nick) == fold(server.name):
        ctx.reply(rpl.ERR_CANTKILLSERVER, "You cannot kill a server")
        return
    target = server.world.find_user(nick)
    if target is None or not target.registered:
        ctx.reply(rpl.ERR_NOSUCHNICK, nick, "No such nick/channel")
        return
    reason = msg.param(1) or "No reason given"
    log.info(
        "%s killed %s (%s)",
        ctx.user.nick,
        target.source,
        for_log(reason),
        extra=user_fields(ctx.user, "kill", reason, target=target.nick),
    )
    actions.kill(server, target, reason, by=ctx.user.nick, source=ctx.user.source)


@command("WALLOPS", min_params=1, oper=True)
def wallops(ctx: Context, msg: Message) -> None:
    """WALLOPS :<text>: a message to every user with user mode +w."""
    user = ctx.user
    text = msg.params[0]
    recipients = [u for u in ctx.server.world.users.values() if u.registered and "w" in u.modes]
    if user not in recipients:
        recipients.append(user)
    deliver(recipients, user.source, "WALLOPS", [text], Event(ctx.server.event_ids, user))


@command("REHASH", oper=True)
def rehash(ctx: Context, msg: Message) -> None:
    """REHASH: reload the configuration file (opers, MOTD, limits)."""
    server = ctx.server
    try:
        server.rehash()
    except ConfigError as exc:
        log.warning(
            "REHASH by %s failed: %s",
            ctx.user.nick,
            exc,
            extra=user_fields(ctx.user, "rehash_failed", str(exc)),
        )
        ctx.fail("REHASH", "CONFIG_ERROR", description=f"Rehash failed, config kept: {exc}")
        return
    log.info("configuration reloaded by %s", ctx.user.nick, extra=user_fields(ctx.user, "rehash"))
    ctx.reply(rpl.RPL_REHASHING, str(server.config.source), "Rehashing")


@command("DIE", oper=True)
def die(ctx: Context, msg: Message) -> None:
    """DIE [:<reason>]: shut the server down."""
    reason = msg.param(0)
    text = f"Server shutting down: {reason}" if reason else "Server shutting down"
    log.warning(
        "DIE by %s: %s",
        ctx.user.source,
        for_log(reason or "no reason"),
        extra=user_fields(ctx.user, "die", reason or "no reason"),
    )
    task = asyncio.ensure_future(ctx.server.stop(text))
    _background.add(task)
    task.add_done_callback(_background.discard)


@command("SETHOST", min_params=2, oper=True)
def sethost(ctx: Context, msg: Message) -> None:
    """SETHOST <nick> [<user>@]<host>: give someone a new visible user@host."""
    server = ctx.server
    target = server.world.find_user(msg.params[0])
    if target is None or not target.registered:
        ctx.reply(rpl.ERR_NOSUCHNICK, msg.params[0], "No such nick/channel")
        return
    new_user, at, new_host = msg.params[1].rpartition("@")
    if not at:
        new_user = target.user
    if (
        not _HOST_RE.fullmatch(new_host)
        or not _USER_RE.fullmatch(new_user)
        or len(new_user) > server.config.limits.userlen
    ):
        ctx.fail("SETHOST", "INVALID_HOST", msg.params[1], description="Invalid user@host")
        return
    actions.change_host(server, target, new_user, new_host)
    ctx.send("NOTICE", ctx.user.nick, f"{target.nick} is now {target.source}")
