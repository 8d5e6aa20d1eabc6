"""RENAME <#old> <#new> [:reason] (IRCv3 ``draft/channel-rename``,
https://ircv3.net/specs/extensions/channel-rename): the channel keeps its
members, modes, lists, topic and metadata; ChanServ's registration and the
history follow it through the ``channel_renamed`` hooks.

Clients without the capability see the spec's fallback: PART of the old name,
then JOIN of the new one with its topic and names.
"""

from __future__ import annotations

from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import fold, valid_channel
from hubbub.protocol.message import Message
from hubbub.server import actions
from hubbub.server.api import Context, ServerApi
from hubbub.server.commands.channels import find_visible_channel, send_names, send_topic
from hubbub.server.commands.registry import command
from hubbub.server.state import Channel, User

CAP = "draft/channel-rename"


def _cannot(ctx: Context, code: str, old: str, new: str, text: str) -> None:
    ctx.fail("RENAME", code, old, new, description=text)


@command("RENAME", min_params=2, cost=5)
def rename(ctx: Context, msg: Message) -> None:
    """RENAME <#old> <#new> [:reason]: rename a channel you are an operator of
    (IRC operators may rename any channel they are in)."""
    user = ctx.user
    server = ctx.server
    old_name, new = msg.params[0], msg.params[1]
    reason = msg.params[2] if len(msg.params) > 2 else ""
    channel = find_visible_channel(ctx, old_name)
    if channel is None:
        return
    if user not in channel.members:
        ctx.reply(rpl.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
        return
    if not channel.is_op(user) and not user.is_oper:
        ctx.reply(rpl.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
        return
    if not valid_channel(new, server.config.limits.channellen):
        _cannot(ctx, "CANNOT_RENAME", channel.name, new, "Invalid channel name")
        return
    if new[0] != channel.name[0]:
        _cannot(ctx, "CANNOT_RENAME", channel.name, new, "You cannot change a channel prefix type")
        return
    if fold(new) != channel.folded and server.world.find_channel(new) is not None:
        _cannot(ctx, "CHANNEL_NAME_IN_USE", channel.name, new, "The channel name is already taken")
        return
    for guard in server.hooks.rename_guards:
        refusal = guard(ctx, channel, new)
        if refusal is not None:
            _cannot(ctx, "CANNOT_RENAME", channel.name, new, refusal)
            return
    reason = reason[: server.config.limits.kicklen]
    fallback = actions.rename_channel(server, channel, new, reason, source=user.source, actor=user)
    send_join_replies(server, channel, fallback)


def send_join_replies(server: ServerApi, channel: Channel, fallback: list[User]) -> None:
    """The topic and names a JOIN brings, to the connections that saw the
    fallback PART and JOIN (also for a rename made on another cluster node)."""
    for conn in fallback:
        member_ctx = Context(server, conn.owner or conn, conn)
        if channel.topic:
            send_topic(member_ctx, channel)
        send_names(member_ctx, channel)
