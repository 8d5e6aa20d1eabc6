"""Who is told of a change to a user (AWAY, ACCOUNT, CHGHOST, SETNAME):
the people sharing a channel with them who asked for that notification,
and, with ``extended-monitor`` (https://ircv3.net/specs/extensions/extended-monitor),
the people MONITORing them who asked for it too; a user several devices
share is told on the devices that asked."""

from __future__ import annotations

from hubbub.server.devices import connections_with, expand
from hubbub.server.state import User
from hubbub.server.world import World

EXTENDED_MONITOR = "extended-monitor"


def told_of(world: World, user: User, cap: str) -> set[User]:
    """The connections of everyone but ``user`` who should see ``user``'s
    change announced by ``cap`` (each device of a shared user as it asked)."""
    people = set(connections_with(world.neighbours(user), cap))
    watchers = (u for u in world.watchers_of(user.nick) if u is not user)
    people.update(u for u in expand(watchers) if cap in u.caps and EXTENDED_MONITOR in u.caps)
    return people
