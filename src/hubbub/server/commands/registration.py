"""Connection registration: PASS, NICK, USER, CAP, PING, PONG, QUIT."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import fold, valid_nick
from hubbub.protocol.integers import ascii_int
from hubbub.protocol.message import Message
from hubbub.server import actions, missed_replay, multiclient
from hubbub.server.api import Context
from hubbub.server.capabilities import all_capabilities, get_capability
from hubbub.server.cloak import cloak_host, load_or_create_secret
from hubbub.server.commands import pass_login
from hubbub.server.commands.info import send_lusers, send_motd
from hubbub.server.commands.registry import command
from hubbub.server.config import Config
from hubbub.server.delivery import compute_tag_mask
from hubbub.server.device_names import split_device
from hubbub.server.isupport import isupport_lines
from hubbub.server.log_events import log_event
from hubbub.server.services import find_service
from hubbub.server.state import (
    FLAG_MODES,
    LIST_MODES,
    NOTHING,
    PREFIX_MODES,
    USER_MODES,
    User,
    set_with,
)

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

log = logging.getLogger(__name__)

RPL_VISIBLEHOST = "396"


@command("PASS", min_params=1, pre_registration=True)
def pass_(ctx: Context, msg: Message) -> Awaitable[None] | None:
    """PASS <password>: the connection password, sent before NICK/USER; on a
    server without one, ``PASS account[@device]:password`` logs in."""
    if ctx.user.registered:
        ctx.reply(rpl.ERR_ALREADYREGISTERED, "You may not reregister")
        return None
    if ctx.server.config.server.password is None and ":" in msg.params[0]:
        return pass_login.login(ctx, msg.params[0])
    ctx.user.password = msg.params[0]
    return None


@command("NICK", pre_registration=True)
def nick(ctx: Context, msg: Message) -> Awaitable[None] | None:
    """NICK <nickname>: choose or change your nickname."""
    user = ctx.user
    world = ctx.server.world
    if not msg.params or not msg.params[0]:
        ctx.reply(rpl.ERR_NONICKNAMEGIVEN, "No nickname given")
        return None
    new = msg.params[0]
    if not valid_nick(new, ctx.server.config.limits.nicklen):
        ctx.reply(rpl.ERR_ERRONEUSNICKNAME, new, "Erroneous nickname")
        return None
    holder = world.find_user(new)
    taken = holder is not None and holder is not user
    if (
        holder is not None
        and taken
        and not user.registered
        and multiclient.shareable(ctx.server, holder)
    ):
        # Held by a user several devices may share: whether this connection
        # is one of them is known once it has logged in (try_register).
        world.forget_nick(user)
        user.nick, user.folded = new, fold(new)
        try_register(ctx)
        return None
    if taken or find_service(ctx.server, new) is not None:
        ctx.reply(rpl.ERR_NICKNAMEINUSE, new, "Nickname is already in use")
        return None
    if new == user.nick:
        return None
    if ctx.server.hooks.nick_claims:
        return _claim_and_take(ctx, new)
    _take(ctx, new)
    return None


async def _claim_and_take(ctx: Context, new: str) -> None:
    """A cluster first claims the nick network-wide (cluster/claims.py)."""
    for claim in ctx.server.hooks.nick_claims:
        allowed = await claim(ctx, new)
        if allowed is None:
            return
        if not allowed:
            ctx.reply(rpl.ERR_NICKNAMEINUSE, new, "Nickname is already in use")
            return
    if ctx.server.world.nick_taken(new, ctx.user):  # taken here while we waited
        ctx.reply(rpl.ERR_NICKNAMEINUSE, new, "Nickname is already in use")
        return
    if new != ctx.user.nick:
        _take(ctx, new)


def _take(ctx: Context, new: str) -> None:
    if not ctx.user.registered:
        ctx.server.world.set_nick(ctx.user, new)
        try_register(ctx)
        return
    actions.rename(ctx, new)


# The username of a client whose USER names none we can show (its ident
# is only characters outside [A-Za-z0-9._-]), as "~user".
FALLBACK_USERNAME = "user"


@command("USER", min_params=4, pre_registration=True)
def user_(ctx: Context, msg: Message) -> None:
    """USER <username> 0 * :<realname>."""
    user = ctx.user
    if user.registered or user.user:
        ctx.reply(rpl.ERR_ALREADYREGISTERED, "You may not reregister")
        return
    ident, device = split_device(msg.params[0])  # alice@phone names the device
    if device is not None and user.device_id is None:
        user.device_id = device
    username = "".join(ch for ch in ident if ch.isascii() and (ch.isalnum() or ch in "-_."))
    if ident and not username:  # nothing usable in it (emoji, say): a plain one
        username = FALLBACK_USERNAME
    realname = msg.params[3]
    if not username or not realname:
        ctx.reply(rpl.ERR_NEEDMOREPARAMS, "USER", "Not enough parameters")
        return
    user.user = "~" + username[: ctx.server.config.limits.userlen - 1]
    user.realname = realname[:200]
    try_register(ctx)


def try_register(ctx: Context) -> None:
    """Finish registration once NICK and USER are in and CAP is not pending."""
    user = ctx.user
    if user.registered or not user.user or not user.folded or user.cap_negotiating:
        return
    _apply_cloak(ctx)
    if admission_refused(ctx):
        return
    world = ctx.server.world
    holder = world.users.get(user.folded)
    if holder is None or holder is user:
        # Asking for the account's name: its user, under whatever nick.
        holder = multiclient.account_user(ctx) or holder
    if holder is None:  # a nick taken tentatively whose holder has gone since
        world.set_nick(user, user.nick)
    elif holder is not user and _joined_as_device(ctx, holder):
        return
    user.password = None
    ctx.server.world.register(user)
    ctx.server.metrics.registrations += 1
    log_event(user, "register")
    welcome(ctx)
    for hook in ctx.server.hooks.registered:
        hook(ctx)
    ctx.server.notify_monitors_online(user)


def _joined_as_device(ctx: Context, held_by: User) -> bool:
    """The nick asked for is held: join its user as one more device (same
    account, multiclient on), or refuse the nick (433) and wait for another.
    True either way: registration does not go on as a user of its own."""
    holder = multiclient.share_target(ctx, held_by)
    user = ctx.user
    if holder is None:
        ctx.reply(rpl.ERR_NICKNAMEINUSE, user.nick, "Nickname is already in use")
        user.nick, user.folded = "*", ""
        return True
    multiclient.attach(ctx, holder)
    ctx.server.metrics.registrations += 1
    log_event(ctx.conn, "register")
    welcome(ctx)
    multiclient.burst(ctx)
    missed_replay.device_connected(ctx)
    return True


def admission_refused(ctx: Context) -> bool:
    """Check what admits a connection: the connection password (464) and the
    registration checks (K-lines, 465). A refusal replies and disconnects,
    and returns True. Run at registration, and earlier by commands that must
    not work for a refused connection (SASL, REGISTER before connect)."""
    user = ctx.user
    expected = ctx.server.config.server.password
    if expected is not None and not hmac.compare_digest(
        (user.password or "").encode(), expected.encode()
    ):
        ctx.reply(rpl.ERR_PASSWDMISMATCH, "Password incorrect")
        ctx.server.disconnect(user, "Bad password")
        return True
    return any(check(ctx) for check in ctx.server.hooks.registration_checks)


def welcome(ctx: Context) -> None:
    server = ctx.server
    user = ctx.user
    network = server.config.server.network
    created = time.strftime("%a %b %d %Y at %H:%M:%S UTC", time.gmtime(server.started))
    ctx.reply(rpl.RPL_WELCOME, f"Welcome to the {network} IRC Network, {user.source}")
    ctx.reply(rpl.RPL_YOURHOST, f"Your host is {server.name}, running version {server.version}")
    ctx.reply(rpl.RPL_CREATED, f"This server was created {created}")
    chan_modes = "".join(sorted(FLAG_MODES + LIST_MODES + "kl" + PREFIX_MODES))
    ctx.reply(rpl.RPL_MYINFO, server.name, server.version, USER_MODES, chan_modes, "beIklov")
    for group in isupport_lines(server.config):
        ctx.reply(rpl.RPL_ISUPPORT, *group, "are supported by this server")
    if user.cloak is not None:
        ctx.reply(RPL_VISIBLEHOST, user.host, "is now your displayed host")
    send_lusers(ctx)
    for hook in server.hooks.welcome_burst:
        hook(ctx)
    send_motd(ctx)


# --- host cloaking -------------------------------------------------------------


# Each server's cloak key, read (or made) at start even with cloaking off, so
# that a REHASH turning it on needs no file access on the event loop.
class CloakKey:
    """One server's cloak key (None until the server started)."""

    __slots__ = ("key",)

    def __init__(self) -> None:
        self.key: bytes | None = None


async def _load_cloak_key(server: ServerApi) -> None:
    """The data directory's key; a cluster node's is the network's, the
    first node's (the database has it), so that every node cloaks one
    address alike and a K-line on a cloak matches it on every node."""
    key = load_or_create_secret(server.config.server.data_dir)
    if server.config.cluster.node is not None:
        network_key = await server.store.secrets.adopt("cloak", key)
        if network_key != key:
            log.info("cloaking with the network's key from the database, not this node's cloak.key")
        key = network_key
    server.feature(CloakKey).key = key


def _apply_cloak(ctx: Context) -> None:
    """Replace the shown host by the cloak before anyone can see the user
    (K-lines, checked next, match the real address as well as the cloak)."""
    settings = ctx.server.config.server
    key = ctx.server.feature(CloakKey).key
    if not settings.cloak or key is None:
        return
    user = ctx.user
    user.cloak = user.host = cloak_host(key, user.ip, settings.cloak_suffix)


def install_cloaking(server: ServerApi, add: Callable[[object], None]) -> None:
    """Host cloaking: the key is read (or made) at start."""
    add(CloakKey())
    server.hooks.startup.append(_load_cloak_key)


# --- CAP ----------------------------------------------------------------------


def _cap_ls_entries(version: int, config: Config) -> list[str]:
    entries = []
    for cap in all_capabilities():
        value = cap.value_for(config) if version >= 302 else None
        entries.append(f"{cap.name}={value}" if value else cap.name)
    return entries


def _send_cap_list(ctx: Context, sub: str, entries: list[str]) -> None:
    """Send a CAP LS/LIST reply, split over several lines when needed (302)."""
    nick = ctx.nick
    lines: list[list[str]] = [[]]
    length = 0
    for entry in entries:
        if length + len(entry) + 1 > 400 and lines[-1]:
            lines.append([])
            length = 0
        lines[-1].append(entry)
        length += len(entry) + 1
    multiline = ctx.user.cap_version >= 302
    if not multiline:
        lines = [[e for line in lines for e in line]]
    for i, line in enumerate(lines):
        more = i < len(lines) - 1
        params = [nick, sub, "*", " ".join(line)] if more else [nick, sub, " ".join(line)]
        ctx.send("CAP", *params)


@command("CAP", min_params=1, pre_registration=True, cost=0)
def cap(ctx: Context, msg: Message) -> None:
    """CAP LS|LIST|REQ|END: IRCv3 capability negotiation (per connection:
    each device of a shared user has its own)."""
    user = ctx.conn
    sub = msg.params[0].upper()
    if sub == "LS":
        version = (ascii_int(msg.params[1]) if len(msg.params) > 1 else None) or 301
        user.cap_version = max(user.cap_version, version)
        if user.cap_version >= 302:
            user.caps = set_with(user.caps, "cap-notify")
        if not user.registered:
            user.cap_negotiating = True
        _send_cap_list(ctx, "LS", _cap_ls_entries(user.cap_version, ctx.server.config))
    elif sub == "LIST":
        _send_cap_list(ctx, "LIST", sorted(user.caps))
    elif sub == "REQ":
        if len(msg.params) < 2:
            ctx.reply(rpl.ERR_NEEDMOREPARAMS, "CAP", "Not enough parameters")
            return
        if not user.registered:
            user.cap_negotiating = True
        requested = msg.params[1].split()
        enable: set[str] = set()
        disable: set[str] = set()
        for item in requested:
            name = item[1:] if item.startswith("-") else item
            if get_capability(name) is None:
                ctx.send("CAP", ctx.nick, "NAK", msg.params[1])
                return
            (disable if item.startswith("-") else enable).add(name)
        # A new set, not changed in place: an untouched user's is the shared NOTHING.
        user.caps = (user.caps | enable) - disable or NOTHING
        user.tag_mask = compute_tag_mask(user.caps)
        ctx.send("CAP", ctx.nick, "ACK", msg.params[1])
    elif sub == "END":
        if not user.registered:
            user.cap_negotiating = False
            try_register(ctx)
    else:
        ctx.reply(rpl.ERR_INVALIDCAPCMD, msg.params[0], "Invalid CAP command")


# --- liveness and leaving -----------------------------------------------------


@command("PING", pre_registration=True, cost=0)
def ping(ctx: Context, msg: Message) -> None:
    """PING <token>: the server answers PONG with the same token."""
    if not msg.params or not msg.params[0]:
        ctx.reply(rpl.ERR_NEEDMOREPARAMS, "PING", "Not enough parameters")
        return
    ctx.send("PONG", ctx.server.name, msg.params[0])


@command("PONG", pre_registration=True, cost=0)
def pong(ctx: Context, msg: Message) -> None:
    """PONG <token>: answer to the server's PING (any input resets the timer)."""


@command("QUIT", pre_registration=True)
def quit_(ctx: Context, msg: Message) -> None:
    """QUIT [:reason]: leave the server."""
    reason = msg.params[0] if msg.params else ""
    text = f"Quit: {reason}" if reason else "Quit"
    ctx.server.disconnect(ctx.conn, text)  # one device of a shared user: that one
