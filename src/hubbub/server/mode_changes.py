"""Applying mode changes: the ``set_modes`` and ``set_user_modes`` domain
actions (re-exported by ``actions``) and the rules they share with the MODE
command (parameter validation, MODE line formatting and splitting).

Every change of a channel's or a user's modes passes through here, whoever
asks for it (the MODE command, ChanServ, OPER), so a cluster backplane sees
every one of them (docs/architecture.md, "Domain actions").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import fold
from hubbub.protocol.integers import ascii_int
from hubbub.protocol.masks import normalize_ban_mask, within_wildcard_cap
from hubbub.server.api import ModeChange
from hubbub.server.channel_events import announce
from hubbub.server.delivery import Event, deliver
from hubbub.server.member_lines import tell_members
from hubbub.server.state import FLAG_MODES, LIST_MODES, PREFIX_MODES, Channel, ListEntry, User

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

ERR_BANLISTFULL = "478"

# The most parameterised changes one MODE command may carry (ISUPPORT MODES).
MAX_PARAM_CHANGES = 4
# An IRC line without its tags, CR LF included (RFC 1459, modern IRC).
LINE_LIMIT = 512
KEYLEN = 32
MAX_LIMIT = 1_000_000
# Extended ban types we understand (ISUPPORT EXTBAN=$,am).
EXTBAN_PREFIX = "$"
EXTBAN_TYPES = "am"  # $a:<account>, $m:<mask> (mute)

# User modes a user may give themself, and those they may only take away.
USER_SETTABLE = "iwB"
USER_REMOVABLE = "iwBo"
KNOWN_USER_MODES = "iowB"

Report = Callable[..., None]


# --- formatting --------------------------------------------------------------
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


# --- validation ----------------------------------------------------------------
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


# --- channel modes ---------------------------------------------------------------
def _ignore(*_args: str) -> None:
    return None


def set_modes(
    server: ServerApi,
    channel: Channel,
    setter: str,
    changes: Iterable[ModeChange],
    actor: User | None = None,
    report: Report | None = None,
    *,
    mirrored: bool = False,
) -> list[ModeChange]:
    """Apply ``changes`` to ``channel`` (already allowed: no permission
    checks here) and tell the channel, then the ``modes_changed`` hooks.

    ``setter`` is the MODE line's source (``nick!user@host`` or a service
    name); ``actor`` the user behind it, if any (for message tags).
    Parameters are validated; problems go to ``report(numeric, *params)``
    (e.g. ``ctx.reply``) when given. Returns the changes that took effect, in
    their canonical form, after broadcasting them (split by :func:`split_mode_lines`).
    """
    say = report or _ignore
    applied: list[ModeChange] = []
    for change in changes:
        done = _apply_one(server, channel, setter, change, say)
        if done is not None:
            applied.append(done)
    if applied:
        for group in split_mode_lines(f":{setter} MODE {channel.name}", applied):
            params = [channel.name, *format_changes(group)]
            event = Event(server.event_ids, actor)
            line = partial(deliver, source=setter, command="MODE", params=params, event=event)
            tell_members(server, channel.members, line, actor=actor, channels=[channel])
            if not mirrored:  # another node's change: its node stored the event
                announce(server, [channel], setter, "MODE", params, event)
        for listener in server.hooks.modes_changed:
            listener(server, channel, setter, applied)
    return applied


def _apply_one(
    server: ServerApi, channel: Channel, setter: str, change: ModeChange, say: Report
) -> ModeChange | None:
    """Apply one change; the change in canonical form, or None if nothing changed."""
    mode, adding, param = change.mode, change.adding, change.param
    if mode in FLAG_MODES:
        if adding == (mode in channel.modes):
            return None
        (channel.modes.add if adding else channel.modes.discard)(mode)
        return ModeChange(adding, mode)
    if mode in PREFIX_MODES:
        return _apply_prefix(server, channel, change, say)
    if mode == "k":
        return _apply_key(channel, adding, param, say)
    if mode == "l":
        return _apply_limit(channel, adding, param, say)
    if mode in LIST_MODES:
        return _apply_list(server, channel, setter, change, say)
    return None


def _apply_prefix(
    server: ServerApi, channel: Channel, change: ModeChange, say: Report
) -> ModeChange | None:
    if change.param is None:
        return None
    target = server.world.find_user(change.param)
    if target is None or not target.registered:
        say(rpl.ERR_NOSUCHNICK, change.param, "No such nick/channel")
        return None
    if target not in channel.members:
        say(rpl.ERR_USERNOTINCHANNEL, target.nick, channel.name, "They aren't on that channel")
        return None
    if channel.set_prefix(target, change.mode, change.adding):
        return ModeChange(change.adding, change.mode, target.nick)
    return None


def _apply_key(channel: Channel, adding: bool, param: str | None, say: Report) -> ModeChange | None:
    if not adding:
        if channel.key is None:
            return None
        channel.key = None
        return ModeChange(False, "k", param or "*")
    if param is None:
        return None
    if not valid_key(param):
        say(rpl.ERR_INVALIDKEY, channel.name, "Key is not well-formed")
        return None
    if channel.key == param:
        return None
    channel.key = param
    return ModeChange(True, "k", param)


def _apply_limit(
    channel: Channel, adding: bool, param: str | None, say: Report
) -> ModeChange | None:
    if not adding:
        if channel.limit is None:
            return None
        channel.limit = None
        return ModeChange(False, "l")
    if param is None:
        return None
    limit = ascii_int(param, max_digits=11) or 0
    if not 0 < limit <= MAX_LIMIT:
        say(rpl.ERR_INVALIDMODEPARAM, channel.name, "l", param, "Invalid limit")
        return None
    if channel.limit == limit:
        return None
    channel.limit = limit
    return ModeChange(True, "l", str(limit))


def _apply_list(
    server: ServerApi, channel: Channel, setter: str, change: ModeChange, say: Report
) -> ModeChange | None:
    mode, param = change.mode, change.param
    if param is None:
        return None
    mask = normalize_list_mask(param)
    if mask is None:
        say(rpl.ERR_INVALIDMODEPARAM, channel.name, mode, param, "Invalid mask")
        return None
    entries = channel.lists[mode]
    folded = fold(mask)
    existing = next((e for e in entries if fold(e.mask) == folded), None)
    if not change.adding:
        if existing is None:
            return None
        entries.remove(existing)
        return ModeChange(False, mode, existing.mask)
    if existing is not None:
        return None
    if _list_total(channel) >= server.config.limits.max_list_entries:
        say(ERR_BANLISTFULL, channel.name, mode, "Channel list is full")
        return None
    entries.append(ListEntry(mask, setter, int(time.time())))
    if mode == "b":
        server.metrics.bans["channel"] += 1
    return ModeChange(True, mode, mask)


# --- user modes -------------------------------------------------------------------
def set_user_modes(
    server: ServerApi, user: User, changes: Iterable[ModeChange], allow_oper: bool = False
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
        if change.mode in allowed and server.world.set_user_mode(user, change.mode, change.adding):
            applied.append(change)
    if applied:
        deliver([user], user.nick, "MODE", [user.nick, *format_changes(applied)])
        if user.registered:
            for hook in server.hooks.user_changed:
                hook(server, user, "modes")
    return applied
