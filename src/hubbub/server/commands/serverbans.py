"""Server bans: KLINE/UNKLINE (user@host), DLINE/UNDLINE (IP or CIDR), STATS.

Bans live in the store (``store.bans``) so they survive a restart; the server
keeps an in-memory copy, loaded at start, so checks on the hot paths are
synchronous. D-lines are checked when a connection is accepted, before a
byte is read; K-lines when registration completes. Setting a ban also
disconnects the connected users it matches (operators excepted).

Durations: ``KLINE 30m *@10.0.0.1 :reason``; units s, m, h, d, w; a bare
number is minutes (the ircd convention); ``0``, ``perm`` or no duration is
permanent.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from hubbub.protocol import masks
from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import fold
from hubbub.protocol.message import Message
from hubbub.server.api import Context
from hubbub.server.commands.registry import command
from hubbub.server.log_events import user_fields
from hubbub.server.logtext import for_log
from hubbub.store import BanKind, ServerBan

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi
    from hubbub.server.state import User

log = logging.getLogger(__name__)

RPL_STATSKLINE = "216"
RPL_STATSDLINE = "225"
RPL_STATSUPTIME = "242"
RPL_ENDOFSTATS = "219"

_DURATION_RE = re.compile(r"(?i)([0-9]{1,9})([smhdw]?)|perm(anent)?")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "": 60}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(slots=True)
class ActiveBan:
    kind: BanKind
    mask: str
    reason: str
    setter: str
    set_at: float
    expires_at: float | None  # time.time() seconds; None: permanent
    network: Network | None = None  # D-lines

    @classmethod
    def from_record(cls, ban: ServerBan) -> ActiveBan:
        network = ipaddress.ip_network(ban.mask, strict=False) if ban.kind == "D" else None
        return cls(
            ban.kind,
            ban.mask,
            ban.reason,
            ban.setter,
            ban.set_at.timestamp(),
            None if ban.expires_at is None else ban.expires_at.timestamp(),
            network,
        )

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def matches(self, user: User) -> bool:
        if self.network is not None:
            return _ip_in(user.ip, self.network)
        user_part = user.user or "*"
        return any(
            masks.match(self.mask, f"{ident}@{where}")
            for ident in {user_part, user_part.lstrip("~")}
            for where in (user.host, user.ip)
        )

    def describe(self) -> str:
        """The reason as shown to operators, with who set it and when it ends."""
        until = (
            "permanent"
            if self.expires_at is None
            else f"expires in {_span(self.expires_at - time.time())}"
        )
        return f"{self.reason} (set by {self.setter}, {until})"


def _ip_in(ip: str, network: Network) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.version == network.version and address in network


def _span(seconds: float) -> str:
    """``5400`` → ``1h30m``."""
    rest = max(0, int(seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size or (unit == "s" and not parts):
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts[:2])


class BanList:
    """The server's in-memory copy of the bans in the store."""

    def __init__(self) -> None:
        self.bans: dict[tuple[BanKind, str], ActiveBan] = {}

    def load(self, records: list[ServerBan]) -> list[ActiveBan]:
        """Replace the copy with ``records``; returns the bans it did not hold."""
        old = self.bans
        self.bans = {(b.kind, b.mask): ActiveBan.from_record(b) for b in records}
        return [ban for key, ban in self.bans.items() if key not in old]

    def add(self, record: ServerBan) -> ActiveBan:
        ban = ActiveBan.from_record(record)
        self.bans[(ban.kind, ban.mask)] = ban
        return ban

    def remove(self, kind: BanKind, mask: str) -> bool:
        """Forget the ban on ``mask`` as an operator typed it (any case; a
        D-line in any notation of its range); False if none was held."""
        keys = [k for k in self.bans if k[0] == kind and fold(k[1]) == fold(mask)]
        if kind == "D":
            with contextlib.suppress(ValueError):  # not an address: matched as typed above
                keys.append(("D", str(ipaddress.ip_network(mask.strip(), strict=False))))
        popped = [self.bans.pop(key, None) for key in keys]  # every key, not the first only
        return any(ban is not None for ban in popped)

    def active(self, kind: BanKind | None = None) -> list[ActiveBan]:
        now = time.time()
        for key in [k for k, b in self.bans.items() if b.expired(now)]:
            del self.bans[key]
        return [b for b in self.bans.values() if kind is None or b.kind == kind]

    def find(self, kind: BanKind, user: User) -> ActiveBan | None:
        now = time.time()
        for ban in self.bans.values():
            if ban.kind == kind and not ban.expired(now) and ban.matches(user):
                return ban
        return None


def ban_list(server: ServerApi) -> BanList:
    return server.feature(BanList)


def parse_ban_duration(text: str) -> timedelta | None:
    """``10m`` → 10 minutes; ``45`` → 45 minutes; ``0``/``perm`` → None. ValueError if not one."""
    found = _DURATION_RE.fullmatch(text)
    if found is None:
        raise ValueError(text)
    if found.group(1) is None:
        return None
    seconds = int(found.group(1)) * _UNITS[found.group(2).lower()]
    return None if seconds == 0 else timedelta(seconds=seconds)


def _looks_like_duration(text: str) -> bool:
    return _DURATION_RE.fullmatch(text) is not None


# --- hooks: at accept, at registration, at start --------------------------------


def check_dline(server: ServerApi, user: User) -> str | None:
    ban = ban_list(server).find("D", user)
    if ban is None:
        return None
    Context(server, user).reply(
        rpl.ERR_YOUREBANNEDCREEP, f"You are banned from this server: {ban.reason}"
    )
    log.info(
        "refused %s: D-lined (%s)",
        user.ip,
        for_log(ban.mask),
        extra=user_fields(user, "banned", kind="D-line", mask=for_log(ban.mask)),
    )
    return f"D-lined: {ban.reason}"


def check_kline(ctx: Context) -> bool:
    ban = ban_list(ctx.server).find("K", ctx.user)
    if ban is None:
        return False
    ctx.reply(rpl.ERR_YOUREBANNEDCREEP, f"You are banned from this server: {ban.reason}")
    log.info(
        "refused %s: K-lined (%s)",
        ctx.user.source,
        for_log(ban.mask),
        extra=user_fields(ctx.user, "banned", kind="K-line", mask=for_log(ban.mask)),
    )
    ctx.server.disconnect(ctx.user, f"K-lined: {ban.reason}")
    return True


async def load_bans(server: ServerApi) -> None:
    ban_list(server).load(await server.store.bans.list_active())


def enforce(server: ServerApi, ban: ActiveBan) -> int:
    """Disconnect this server's users ``ban`` matches (operators excepted;
    a D-line also takes connections still registering); returns how many."""
    connections = list(server.world.connections)
    hit = [u for u in connections if u.registered and not u.is_oper and ban.matches(u)]
    if ban.kind == "D":
        hit += [u for u in connections if not u.registered and ban.matches(u)]
    for user in hit:
        Context(server, user).reply(
            rpl.ERR_YOUREBANNEDCREEP, f"You are banned from this server: {ban.reason}"
        )
        server.disconnect(user, f"{ban.kind}-lined: {ban.reason}")
    return len(hit)


def install(server: ServerApi, add: Callable[[object], None]) -> None:
    """Server bans: D-lines at accept, K-lines at registration, loaded at start."""
    add(BanList())
    server.hooks.connect_checks.append(check_dline)
    server.hooks.startup.append(load_bans)
    server.hooks.registration_checks.append(check_kline)


# --- commands ---------------------------------------------------------------------


def _split_args(msg: Message) -> tuple[timedelta | None, str, str] | None:
    params = list(msg.params)
    duration: timedelta | None = None
    if len(params) >= 2 and _looks_like_duration(params[0]):
        duration = parse_ban_duration(params.pop(0))
    if not params or not params[0]:
        return None
    reason = params[1] if len(params) > 1 and params[1] else "No reason given"
    return duration, params[0], reason[:300]


async def _add_ban(ctx: Context, msg: Message, kind: BanKind) -> None:
    name = "KLINE" if kind == "K" else "DLINE"
    args = _split_args(msg)
    if args is None:
        ctx.reply(rpl.ERR_NEEDMOREPARAMS, name, "Not enough parameters")
        return
    duration, mask, reason = args
    server = ctx.server
    if "@" not in mask and "/" not in mask:
        # A nick: ban where that user connects from.
        target = server.world.find_user(mask)
        if target is not None and target.registered:
            mask = target.ip if kind == "D" else f"*@{target.ip}"
    if kind == "K" and "@" in mask and set(mask) <= set("*?.~@"):
        ctx.fail(name, "MASK_TOO_WIDE", mask, description="That mask would ban everyone")
        return
    if kind == "K" and not masks.within_wildcard_cap(mask):
        ctx.fail(name, "INVALID_MASK", mask, description="Too many wildcards")
        return
    if kind == "D":
        try:
            if ipaddress.ip_network(mask.strip(), strict=False).prefixlen < 8:
                ctx.fail(name, "MASK_TOO_WIDE", mask, description="That range is too wide")
                return
        except ValueError:
            pass
    try:
        record = await server.store.bans.add(
            kind, mask, reason, ctx.user.oper_name or ctx.user.nick, duration
        )
    except ValueError:
        what = "user@host mask" if kind == "K" else "IP address or CIDR range"
        ctx.fail(name, "INVALID_MASK", mask, description=f"Expected a {what}")
        return
    ban = ban_list(server).add(record)
    span = "permanently" if duration is None else f"for {_span(duration.total_seconds())}"
    log.info(
        "%s added %s-line %s %s: %s",
        ctx.user.source,
        kind,
        for_log(ban.mask),
        span,
        for_log(reason),
        extra=user_fields(
            ctx.user, "ban_added", reason, kind=f"{kind}-line", mask=for_log(ban.mask)
        ),
    )
    server.metrics.bans["kline" if kind == "K" else "dline"] += 1
    ctx.send("NOTICE", ctx.user.nick, f"Added {kind}-line for {ban.mask} {span}: {reason}")
    for hook in server.hooks.ban_added:
        hook(server, record)
    hit = enforce(server, ban)
    if hit:
        ctx.send("NOTICE", ctx.user.nick, f"{kind}-line {ban.mask} disconnected {hit} user(s)")


async def _remove_ban(ctx: Context, msg: Message, kind: BanKind) -> None:
    name = "UNKLINE" if kind == "K" else "UNDLINE"
    mask = msg.params[0]
    try:
        removed = await ctx.server.store.bans.remove(kind, mask)
    except ValueError:
        removed = False
    removed = ban_list(ctx.server).remove(kind, mask) or removed
    if not removed:
        ctx.fail(name, "NO_SUCH_BAN", mask, description=f"No {kind}-line for that mask")
        return
    for hook in ctx.server.hooks.ban_removed:
        hook(ctx.server, kind, mask)
    log.info(
        "%s removed %s-line %s",
        ctx.user.source,
        kind,
        for_log(mask),
        extra=user_fields(ctx.user, "ban_removed", kind=f"{kind}-line", mask=for_log(mask)),
    )
    ctx.send("NOTICE", ctx.user.nick, f"Removed {kind}-line for {mask}")


@command("KLINE", min_params=1, oper=True)
async def kline(ctx: Context, msg: Message) -> None:
    """KLINE [duration] <user@host|nick> [:<reason>]: ban a user@host mask."""
    await _add_ban(ctx, msg, "K")


@command("UNKLINE", min_params=1, oper=True)
async def unkline(ctx: Context, msg: Message) -> None:
    """UNKLINE <user@host>: lift a K-line."""
    await _remove_ban(ctx, msg, "K")


@command("DLINE", min_params=1, oper=True)
async def dline(ctx: Context, msg: Message) -> None:
    """DLINE [duration] <ip|cidr|nick> [:<reason>]: ban an address or range."""
    await _add_ban(ctx, msg, "D")


@command("UNDLINE", min_params=1, oper=True)
async def undline(ctx: Context, msg: Message) -> None:
    """UNDLINE <ip|cidr>: lift a D-line."""
    await _remove_ban(ctx, msg, "D")


@command("STATS", cost=2)
def stats(ctx: Context, msg: Message) -> None:
    """STATS <k|d|u>: K-lines, D-lines (operators), uptime."""
    query = msg.param(0) or ""
    letter = query[:1]
    if letter in ("k", "K", "d", "D"):
        if not ctx.user.is_oper:
            ctx.reply(rpl.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator")
        else:
            kind: BanKind = "K" if letter in "kK" else "D"
            for ban in ban_list(ctx.server).active(kind):
                if kind == "K":
                    user_part, _, host = ban.mask.partition("@")
                    ctx.reply(RPL_STATSKLINE, "K", host, "*", user_part, ban.describe())
                else:
                    ctx.reply(RPL_STATSDLINE, "D", ban.mask, ban.describe())
    elif letter == "u":
        up = int(time.time() - ctx.server.started)
        days, rest = divmod(up, 86400)
        text = f"Server Up {days} days {rest // 3600}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
        ctx.reply(RPL_STATSUPTIME, text)
    ctx.reply(RPL_ENDOFSTATS, letter or "*", "End of /STATS report")
