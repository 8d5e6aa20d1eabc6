"""Who is told of a change to a user (AWAY, ACCOUNT, CHGHOST, SETNAME):
the people sharing a channel with them who asked for that notification,
and, with ``extended-monitor`` (https://ircv3.net/specs/extensions/extended-monitor),
the people MONITORing them who asked for it too."""

from __future__ import annotations

from hubbub.server.state import User
from hubbub.server.world import World

EXTENDED_MONITOR = "extended-monitor"


def told_of(world: World, user: User, cap: str) -> set[User]:
    """Everyone but ``user`` who should see ``user``'s change announced by ``cap``."""
    people = {u for u in world.neighbours(user) if cap in u.caps}
    people.update(
        u
        for u in world.watchers_of(user.nick)
        if cap in u.caps and EXTENDED_MONITOR in u.caps and u is not user
    )
    return people
