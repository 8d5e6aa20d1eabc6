"""A channel's modes in a burst: what a node says of them (``describe``)
and the changes that bring this node's copy in line (``reconcile``).

Mode events are lost for a node that was off the bus or not yet started,
so each node's burst carries the modes of its users' channels. A node
with no member of its own in the channel has only heard of it, so it takes
the burst as it is; a node with members of its own keeps what it knows and
adds what the burst knows more (flags, list entries; of two keys or limits,
the greater), so two nodes bursting at each other end with the same modes."""

from __future__ import annotations

from typing import Any

from hubbub.protocol.casemap import fold
from hubbub.server.api import ModeChange
from hubbub.server.state import LIST_MODES, Channel, ListEntry


def describe(channel: Channel) -> dict[str, Any]:
    """The fields of a ``chmodes`` event."""
    return {
        "ch": channel.name,
        "modes": "".join(sorted(channel.modes)),
        "key": channel.key,
        "limit": channel.limit,
        "lists": {
            mode: [[e.mask, e.setter, e.set_at] for e in entries]
            for mode, entries in channel.lists.items()
        },
    }


def reconcile(channel: Channel, fields: dict[str, Any], replace: bool) -> list[ModeChange]:
    """The mode changes that make ``channel`` agree with a ``chmodes`` event:
    exactly (``replace``) or by adding to it."""
    changes: list[ModeChange] = []
    theirs = set(str(fields.get("modes", "")))
    changes += [ModeChange(True, mode) for mode in sorted(theirs - channel.modes)]
    if replace:
        changes += [ModeChange(False, mode) for mode in sorted(channel.modes - theirs)]
    key = fields.get("key")
    if key is not None and (replace or channel.key is None or str(key) > channel.key):
        if str(key) != channel.key:
            changes.append(ModeChange(True, "k", str(key)))
    elif key is None and replace and channel.key is not None:
        changes.append(ModeChange(False, "k", "*"))
    limit = fields.get("limit")
    if limit is not None and (replace or channel.limit is None or int(limit) > channel.limit):
        if int(limit) != channel.limit:
            changes.append(ModeChange(True, "l", str(int(limit))))
    elif limit is None and replace and channel.limit is not None:
        changes.append(ModeChange(False, "l"))
    lists = fields.get("lists") or {}
    for mode in LIST_MODES:
        wanted = {fold(str(entry[0])): str(entry[0]) for entry in lists.get(mode, [])}
        have = {fold(entry.mask): entry.mask for entry in channel.lists[mode]}
        changes += [ModeChange(True, mode, mask) for f, mask in wanted.items() if f not in have]
        if replace:
            changes += [
                ModeChange(False, mode, mask) for f, mask in have.items() if f not in wanted
            ]
    return changes


def keep_setters(channel: Channel, fields: dict[str, Any], applied: list[ModeChange]) -> None:
    """List entries the burst added show who set them, and when, as on their node."""
    lists = fields.get("lists") or {}
    for mode in LIST_MODES:
        added = {fold(c.param) for c in applied if c.adding and c.mode == mode and c.param}
        if not added:
            continue
        told = {fold(str(mask)): (str(setter), int(at)) for mask, setter, at in lists.get(mode, [])}
        entries = channel.lists[mode]
        for index, entry in enumerate(entries):
            folded = fold(entry.mask)
            if folded in added and folded in told:
                entries[index] = ListEntry(entry.mask, *told[folded])
