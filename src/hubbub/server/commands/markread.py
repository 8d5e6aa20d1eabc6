"""MARKREAD (IRCv3 draft/read-marker): get or set the last read message of a target."""

from __future__ import annotations

from hubbub.protocol.casemap import valid_channel, valid_nick
from hubbub.protocol.message import Message
from hubbub.server import read_markers
from hubbub.server.api import Context
from hubbub.server.capabilities import register_capability
from hubbub.server.commands.registry import command

register_capability(read_markers.CAP)


@command("MARKREAD", cost=1)
def markread(ctx: Context, msg: Message) -> None:
    """MARKREAD <target> [timestamp=<time>]: ask for, or move, your read marker."""
    if not msg.params or not msg.params[0]:
        ctx.fail("MARKREAD", "NEED_MORE_PARAMS", description="Missing parameters")
        return
    target = msg.params[0]
    limits = ctx.server.config.limits
    if not (valid_channel(target, limits.channellen) or valid_nick(target, limits.nicklen)):
        ctx.fail("MARKREAD", "INVALID_PARAMS", target, description="Invalid target")
        return
    if len(msg.params) < 2:
        markers = ctx.server.feature(read_markers.ReadMarkers)
        read_markers.send_marker(ctx, target, markers.get(ctx.user, target))
        return
    ms = read_markers.parse_timestamp(msg.params[1])
    if ms is None:
        ctx.fail("MARKREAD", "INVALID_PARAMS", msg.params[1], description="Invalid timestamp")
        return
    read_markers.mark(ctx, target, ms)
