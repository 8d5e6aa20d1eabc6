"""MODE: user modes and channel modes (https://modern.ircdocs.horse/#mode-message).

Three layers, so services can reuse the lower two without the rules a user
is held to:

* :func:`parse_channel_modes` turns a modestring and its arguments into
  :class:`ModeChange` objects (plus list queries and unknown letters);
* :func:`apply_channel_modes` applies changes to a channel with no permission
  checks, validates each parameter, and broadcasts what actually changed in
  as few ``MODE`` lines as fit 512 bytes and ISUPPORT ``MODES`` each;
* the ``MODE`` handler checks who may do what and wires the two together.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import fold, is_channel_name
from hubbub.protocol.integers import ascii_int
from hubbub.protocol.masks import normalize_ban_mask, within_wildcard_cap
from hubbub.protocol.message import Message
from hubbub.server.actions import announce
from hubbub.server.api import Context, ModeChange
from hubbub.server.commands.channels import find_visible_channel
from hubbub.server.commands.registry import command
from hubbub.server.delivery import Event, deliver
from hubbub.server.isupport import register_token
from hubbub.server.state import (
    FLAG_MODES,
    LIST_MODES,
    PREFIX_MODES,
    Channel,
    ListEntry,
    User,
    World,
)

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

ERR_BANLISTFULL = "478"

# The most parameterised changes one MODE command may carry (ISUPPORT MODES).
MAX_PARAM_CHANGES = 4
# An IRC line without its tags, CR LF included (RFC 1459, modern IRC).
LINE_LIMIT = 512
KEYLEN = 32
MAX_LIMIT = 1_000_000
# Extended ban types we understand (ISUPPORT EXTBAN=$,a).
EXTBAN_PREFIX = "$"
EXTBAN_TYPES = "am"  # $a:<account>, $m:<mask> (mute)

# User modes a user may give themself, and those they may only take away.
USER_SETTABLE = "iwB"
USER_REMOVABLE = "iwBo"
KNOWN_USER_MODES = "iowB"

# The numerics used to show each list mode: (entry, end, end text).
_LIST_NUMERICS = {
    "b": (rpl.RPL_BANLIST, rpl.RPL_ENDOFBANLIST, "End of channel ban list"),
    "e": (rpl.RPL_EXCEPTLIST, rpl.RPL_ENDOFEXCEPTLIST, "End of channel exception list"),
    "I": (rpl.RPL_INVEXLIST, rpl.RPL_ENDOFINVEXLIST, "End of channel invite exception list"),
}

register_token("KEYLEN", lambda _config: str(KEYLEN))
register_token("ACCOUNTEXTBAN", lambda _config: "a")

Report = Callable[..., None]


# --- parsing ---------------------------------------------------------------
def _takes_param(mode: str, adding: bool) -> bool:
    """Whether a (non-list) channel mode letter consumes an argument."""
    if mode in PREFIX_MODES or mode == "k":
        return True
    return mode == "l" and adding


def parse_channel_modes(
    modestring: str, args: Sequence[str], max_params: int = MAX_PARAM_CHANGES
) -> tuple[list[ModeChange], list[str], list[str]]:
    """Split a channel modestring into (changes, list queries, unknown letters).

    Arguments are taken in order. A type B/C/prefix mode missing its argument
    is dropped, as the spec asks; a type A mode without one is a query. No
    more than ``max_params`` parameterised changes are returned.
    """
    changes: list[ModeChange] = []
    queries: list[str] = []
    unknown: list[str] = []
    adding = True
    remaining = list(args)
    used = 0
    for ch in modestring:
        if ch in "+-":
            adding = ch == "+"
            continue
        if ch in LIST_MODES:
            if not remaining:
                if ch not in queries:
                    queries.append(ch)
                continue
            param = remaining.pop(0)
            used += 1
            if used <= max_params:
                changes.append(ModeChange(adding, ch, param))
        elif ch in PREFIX_MODES or ch in "kl":
            if not _takes_param(ch, adding):
                changes.append(ModeChange(adding, ch))
                continue
            if not remaining:
                if ch == "k" and not adding:
                    changes.append(ModeChange(False, "k"))
                continue
            param = remaining.pop(0)
            used += 1
            if used <= max_params:
                changes.append(ModeChange(adding, ch, param))
        elif ch in FLAG_MODES:
            changes.append(ModeChange(adding, ch))
        elif ch not in unknown:
            unknown.append(ch)
    return changes, queries, unknown


def format_changes(changes: Iterable[ModeChange]) -> list[str]:
    """``[modestring, *params]`` for a MODE line, e.g. ``['+ov-b', 'a', 'b', 'm']``."""
    out = ""
    params: list[str] = []
    sign = ""
    for change in changes:
        want = "+" if change.adding else "-"
        if want != sign:
            out += want
            sign = want
        out += change.mode
        if change.param is not None:
            params.append(change.param)
    return [out, *params]


def split_mode_lines(
    head: str, changes: Sequence[ModeChange], max_params: int = MAX_PARAM_CHANGES
) -> list[list[ModeChange]]:
    """Group ``changes`` into MODE lines that each carry at most ``max_params``
    parameters and fit :data:`LINE_LIMIT` bytes. ``head`` is what precedes
    the modestring, e.g. ``:nick!user@host MODE #chan``. A relayed line has
    a longer source than the command a client sent, and flag toggles
    (``+i-i+i...``) are not limited by MODES, so one line does not always fit.
    """
    groups: list[list[ModeChange]] = []
    current: list[ModeChange] = []
    for change in changes:
        trial = [*current, change]
        params = sum(c.param is not None for c in trial)
        words = format_changes(trial)
        # head, a space before each word, one spare byte for a ':' and CR LF
        size = len(head.encode()) + sum(1 + len(w.encode()) for w in words) + 1 + 2
        if current and (params > max_params or size > LINE_LIMIT):
            groups.append(current)
            current = [change]
        else:
            current = trial
    if current:
        groups.append(current)
    return groups


# --- validation helpers ----------------------------------------------------
def valid_key(key: str) -> bool:
    return (
        0 < len(key) <= KEYLEN
        and not key.startswith(":")
        and all(ch.isprintable() and ch not in " ,\x00" for ch in key)
    )


def normalize_list_mask(mask: str) -> str | None:
    """The stored form of a b/e/I mask, or None when it cannot be one."""
    if not mask or " " in mask or "," in mask or mask.startswith(":"):
        return None
    if not within_wildcard_cap(mask):
        return None
    if mask.startswith(EXTBAN_PREFIX):
        kind, _, value = mask[1:].partition(":")
        if kind not in EXTBAN_TYPES or len(kind) != 1:
            return None
        if ":" in mask and not value:
            return None
        if kind == "m":
            return f"$m:{normalize_ban_mask(value)}" if value else None
        return mask
    return normalize_ban_mask(mask)


def _list_total(channel: Channel) -> int:
    return sum(len(entries) for entries in channel.lists.values())


# --- application -----------------------------------------------------------
def _ignore(*_args: str) -> None:
    return None


def apply_channel_modes(
    server: ServerApi,
    channel: Channel,
    setter: str,
    changes: Iterable[ModeChange],
    actor: User | None = None,
    report: Report | None = None,
) -> list[ModeChange]:
    """Apply ``changes`` with no permission checks and tell the channel.

    ``setter`` is the MODE line's source (``nick!user@host`` or a service
    name); ``actor`` the user behind it, if any (for message tags).
    Parameters are validated; problems go to ``report(numeric, *params)``
    (e.g. ``ctx.reply``) when given. Returns the changes that took effect, in
    their canonical form, after broadcasting them (split by :func:`split_mode_lines`).
    """
    say = report or _ignore
    world = server.world
    max_list = server.config.limits.max_list_entries
    applied: list[ModeChange] = []
    for change in changes:
        mode, adding, param = change.mode, change.adding, change.param
        if mode in FLAG_MODES:
            if adding != (mode in channel.modes):
                (channel.modes.add if adding else channel.modes.discard)(mode)
                applied.append(ModeChange(adding, mode))
        elif mode in PREFIX_MODES:
            if param is None:
                continue
            target = world.find_user(param)
            if target is None or not target.registered:
                say(rpl.ERR_NOSUCHNICK, param, "No such nick/channel")
                continue
            if target not in channel.members:
                say(
                    rpl.ERR_USERNOTINCHANNEL,
                    target.nick,
                    channel.name,
                    "They aren't on that channel",
                )
                continue
            if channel.set_prefix(target, mode, adding):
                applied.append(ModeChange(adding, mode, target.nick))
        elif mode == "k":
            if adding:
                if param is None:
                    continue
                if not valid_key(param):
                    say(rpl.ERR_INVALIDKEY, channel.name, "Key is not well-formed")
                    continue
                if channel.key != param:
                    channel.key = param
                    applied.append(ModeChange(True, "k", param))
            elif channel.key is not None:
                channel.key = None
                applied.append(ModeChange(False, "k", param or "*"))
        elif mode == "l":
            if not adding:
                if channel.limit is not None:
                    channel.limit = None
                    applied.append(ModeChange(False, "l"))
                continue
            if param is None:
                continue
            limit = ascii_int(param, max_digits=11) or 0
            if not 0 < limit <= MAX_LIMIT:
                say(rpl.ERR_INVALIDMODEPARAM, channel.name, "l", param, "Invalid limit")
                continue
            if channel.limit != limit:
                channel.limit = limit
                applied.append(ModeChange(True, "l", str(limit)))
        elif mode in LIST_MODES:
            if param is None:
                continue
            mask = normalize_list_mask(param)
            if mask is None:
                say(rpl.ERR_INVALIDMODEPARAM, channel.name, mode, param, "Invalid mask")
                continue
            entries = channel.lists[mode]
            folded = fold(mask)
            existing = next((e for e in entries if fold(e.mask) == folded), None)
            if adding:
                if existing is not None:
                    continue
                if _list_total(channel) >= max_list:
                    say(ERR_BANLISTFULL, channel.name, mode, "Channel list is full")
                    continue
                entries.append(ListEntry(mask, setter, int(time.time())))
                if mode == "b":
                    server.metrics.bans["channel"] += 1
                applied.append(ModeChange(True, mode, mask))
            elif existing is not None:
                entries.remove(existing)
                applied.append(ModeChange(False, mode, existing.mask))
    if applied:
        for group in split_mode_lines(f":{setter} MODE {channel.name}", applied):
            params = [channel.name, *format_changes(group)]
            event = Event(actor)
            deliver(channel.members, setter, "MODE", params, event)
            announce(server, [channel], setter, "MODE", params, event)
        for listener in server.hooks.modes_changed:
            listener(server, channel, setter, applied)
    return applied


def send_list(ctx: Context, channel: Channel, mode: str) -> None:
    """RPL_BANLIST / RPL_EXCEPTLIST / RPL_INVEXLIST entries then the end."""
    entry_numeric, end_numeric, end_text = _LIST_NUMERICS[mode]
    for entry in channel.lists[mode]:
        ctx.reply(entry_numeric, channel.name, entry.mask, entry.setter, str(entry.set_at))
    ctx.reply(end_numeric, channel.name, end_text)


def send_channel_modes(ctx: Context, channel: Channel) -> None:
    """RPL_CHANNELMODEIS (key shown to members only) and RPL_CREATIONTIME."""
    flags, params = channel.mode_string(reveal_key=ctx.user in channel.members)
    ctx.reply(rpl.RPL_CHANNELMODEIS, channel.name, flags, *params)
    ctx.reply(rpl.RPL_CREATIONTIME, channel.name, str(channel.created))


def _channel_mode(ctx: Context, msg: Message) -> None:
    user = ctx.user
    channel = find_visible_channel(ctx, msg.params[0])
    if channel is None:
        return
    if len(msg.params) < 2 or not msg.params[1]:
        send_channel_modes(ctx, channel)
        return
    changes, queries, unknown = parse_channel_modes(msg.params[1], msg.params[2:])
    for ch in unknown:
        ctx.reply(rpl.ERR_UNKNOWNMODE, ch, "is unknown mode char to me")
    member = user in channel.members
    if changes:
        if not member:
            ctx.reply(rpl.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
        elif not channel.is_op(user):
            ctx.reply(rpl.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
        else:
            for keep in ctx.server.hooks.mode_filters:
                changes = keep(ctx, channel, changes)
            apply_channel_modes(ctx.server, channel, user.source, changes, user, ctx.reply)
    for mode in queries:
        if member or "s" not in channel.modes:
            send_list(ctx, channel, mode)
        else:
            ctx.reply(rpl.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")


# --- user modes --------------------------------------------------------------
def parse_user_modes(modestring: str) -> tuple[list[ModeChange], list[str]]:
    """(changes, unknown letters) for a user modestring."""
    changes: list[ModeChange] = []
    unknown: list[str] = []
    adding = True
    for ch in modestring:
        if ch in "+-":
            adding = ch == "+"
        elif ch in KNOWN_USER_MODES:
            changes.append(ModeChange(adding, ch))
        elif ch not in unknown:
            unknown.append(ch)
    return changes, unknown


def apply_user_modes(
    world: World, user: User, changes: Iterable[ModeChange], allow_oper: bool = False
) -> list[ModeChange]:
    """Apply user mode changes and echo them to the user.

    Without ``allow_oper`` only i/w/B may be set and o only removed (OPER is
    the one way to gain +o). Returns what changed.
    """
    applied: list[ModeChange] = []
    for change in changes:
        allowed = USER_REMOVABLE if not change.adding else USER_SETTABLE
        if allow_oper:
            allowed = KNOWN_USER_MODES
        if change.mode in allowed and world.set_user_mode(user, change.mode, change.adding):
            applied.append(change)
    if applied:
        deliver([user], user.nick, "MODE", [user.nick, *format_changes(applied)])
    return applied


def user_mode_string(user: User) -> str:
    return "+" + "".join(m for m in KNOWN_USER_MODES if m in user.modes)


def _user_mode(ctx: Context, msg: Message) -> None:
    user = ctx.user
    target = ctx.server.world.find_user(msg.params[0])
    if target is None or not target.registered:
        ctx.reply(rpl.ERR_NOSUCHNICK, msg.params[0], "No such nick/channel")
        return
    if target is not user:
        verb = "change" if len(msg.params) > 1 else "view"
        ctx.reply(rpl.ERR_USERSDONTMATCH, f"Can't {verb} mode for other users")
        return
    if len(msg.params) < 2 or not msg.params[1]:
        ctx.reply(rpl.RPL_UMODEIS, user_mode_string(user))
        return
    changes, unknown = parse_user_modes(msg.params[1])
    apply_user_modes(ctx.server.world, user, changes)
    if unknown:
        ctx.reply(rpl.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")


@command("MODE", min_params=1)
def mode(ctx: Context, msg: Message) -> None:
    """MODE <target> [<modestring> [<args>...]]: see or change modes."""
    if is_channel_name(msg.params[0]):
        _channel_mode(ctx, msg)
    else:
        _user_mode(ctx, msg)
