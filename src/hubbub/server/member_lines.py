"""The lines that show a channel's members a change (JOIN, PART, KICK, QUIT,
NICK, TOPIC, MODE), in the channel's one order.

The user who made the change sees its own line at once, as on one server
(its JOIN before its topic and names, its PART echo). On a cluster node on
the bus (``hooks.message_order`` holding) the other members' lines wait in
the same queue as this node's channel messages, until the bus hands back
the event that told the other nodes: a message sent just before its sender
PARTs reaches every member on every node before the PART
(docs/cluster.md, "Ordering"). The change itself is made at once.

A held line goes, at its turn, only to those it was for who still share
one of its channels: one who left meanwhile saw itself leave first, and a
line after that would speak of a channel it is no longer in. ``keep`` (a
kicked member, who must learn it was kicked) gets it anyway."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING

from hubbub.server.state import Channel, User

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

Send = Callable[[list[User]], None]


def tell_members(
    server: ServerApi,
    recipients: Iterable[User],
    send: Send,
    *,
    actor: User | None,
    channels: list[Channel],
    keep: User | None = None,
) -> None:
    """``send`` the line to ``recipients`` (members of ``channels``, or their
    connections): to ``actor`` at once, to the others at their turn."""
    order = server.hooks.message_order
    if not order or not order[0].holding():
        send(list(recipients))
        return
    now: list[User] = []
    later: list[User] = []
    for user in recipients:
        (now if (user.owner or user) is actor else later).append(user)
    if now:
        send(now)
    if later:
        order[0].hold(partial(_to_those_still_in, send, later, channels, keep))


def _to_those_still_in(
    send: Send, recipients: list[User], channels: list[Channel], keep: User | None
) -> None:
    still = [
        user
        for user in recipients
        if (user.owner or user) is keep
        or any((user.owner or user) in channel.members for channel in channels)
    ]
    if still:
        send(still)
