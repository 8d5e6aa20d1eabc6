"""Channel membership: JOIN, PART, TOPIC, NAMES, LIST, INVITE, KICK."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from hubbub.protocol import masks
from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import CHANTYPES, fold, valid_channel
from hubbub.protocol.integers import ascii_int
from hubbub.protocol.message import Message
from hubbub.server import actions
from hubbub.server.api import Context
from hubbub.server.commands.registry import command
from hubbub.server.state import Channel

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

ERR_BADCHANNAME = "479"


def find_visible_channel(ctx: Context, name: str) -> Channel | None:
    """The channel ``name``, or None (after 403) when it does not exist or is
    secret (+s) to a non-member: as in LIST and WHOIS, its existence is not
    revealed. Operators see every channel."""
    channel = ctx.server.world.find_channel(name)
    user = ctx.user
    if channel is None or (
        "s" in channel.modes and user not in channel.members and not user.is_oper
    ):
        ctx.reply(rpl.ERR_NOSUCHCHANNEL, name, "No such channel")
        return None
    return channel


def send_names(ctx: Context, channel: Channel, *, end: bool = True) -> None:
    """RPL_NAMREPLY lines, then RPL_ENDOFNAMES unless ``end`` is False (a
    NAMES of several channels ends once, naming them all)."""
    user = ctx.user
    multi = "multi-prefix" in ctx.conn.caps
    full = "userhost-in-names" in ctx.conn.caps
    is_member = user in channel.members
    symbol = "@" if "s" in channel.modes else "="
    entries: list[str] = []
    for member in channel.members:
        if not is_member and "i" in member.modes:
            continue
        name = member.source if full else member.nick
        entries.append(channel.prefix_of(member, multi) + name)
    line: list[str] = []
    length = 0
    budget = 400 - len(ctx.server.name) - len(user.nick) - len(channel.name)
    for entry in entries:
        if line and length + len(entry) + 1 > budget:
            ctx.reply(rpl.RPL_NAMREPLY, symbol, channel.name, " ".join(line))
            line, length = [], 0
        line.append(entry)
        length += len(entry) + 1
    if line:
        ctx.reply(rpl.RPL_NAMREPLY, symbol, channel.name, " ".join(line))
    if end:
        ctx.reply(rpl.RPL_ENDOFNAMES, channel.name, "End of /NAMES list")


def send_topic(ctx: Context, channel: Channel) -> None:
    if channel.topic:
        ctx.reply(rpl.RPL_TOPIC, channel.name, channel.topic)
        ctx.reply(rpl.RPL_TOPICWHOTIME, channel.name, channel.topic_by, str(channel.topic_at))
    else:
        ctx.reply(rpl.RPL_NOTOPIC, channel.name, "No topic is set")


def _join_refusal(ctx: Context, channel: Channel, key: str | None) -> tuple[str, str] | None:
    """The numeric and text refusing ``user``'s JOIN, or None to let it in.

    Only channel operators' invites are recorded, and such an invite lets its
    holder (that User, not whoever has the nick later) past +i, +k, +l, +b.
    """
    user = ctx.user
    if channel.has_invite(user, time.monotonic()):
        return None
    if any(exempt(ctx, channel) for exempt in ctx.server.hooks.join_exemptions):
        return None
    if channel.key is not None and key != channel.key:
        return rpl.ERR_BADCHANNELKEY, "Cannot join channel (+k)"
    if channel.limit is not None and len(channel.members) >= channel.limit:
        return rpl.ERR_CHANNELISFULL, "Cannot join channel (+l)"
    if "i" in channel.modes and not channel.matches_list("I", user):
        return rpl.ERR_INVITEONLYCHAN, "Cannot join channel (+i)"
    if channel.is_banned(user):
        return rpl.ERR_BANNEDFROMCHAN, "Cannot join channel (+b)"
    return None


def part_all(ctx: Context, reason: str = "") -> None:
    for channel in list(ctx.user.channels.values()):
        actions.part(ctx, channel, reason)


def join_channel(ctx: Context, name: str, key: str | None) -> None:
    """Join one channel, checking every rule; used by JOIN and by services."""
    user = ctx.user
    server = ctx.server
    world = server.world
    limits = server.config.limits
    if not valid_channel(name, limits.channellen):
        if name[:1] in CHANTYPES and len(name) <= limits.channellen:
            # The right prefix and length, but a character no channel may hold.
            ctx.reply(ERR_BADCHANNAME, name, "Illegal channel name")
        else:
            ctx.reply(rpl.ERR_NOSUCHCHANNEL, name, "No such channel")
        return
    existing = world.find_channel(name)
    if existing is not None and user in existing.members:
        return
    if len(user.channels) >= limits.max_channels_per_user:
        ctx.reply(rpl.ERR_TOOMANYCHANNELS, name, "You have joined too many channels")
        return
    if existing is not None:
        refusal = _join_refusal(ctx, existing, key)
        if refusal is not None:
            ctx.reply(refusal[0], existing.name, refusal[1])
            return
        actions.join(ctx, existing, "")
        return
    channel, prefix = actions.create_channel(ctx, name)
    # A hook may have restored a registered channel's key, limit and lists.
    refusal = _join_refusal(ctx, channel, key)
    if refusal is not None:
        actions.discard_channel(server, channel)
        ctx.reply(refusal[0], channel.name, refusal[1])
        return
    actions.join(ctx, channel, prefix, created=True)


def send_join_replies(ctx: Context, channel: Channel, _created: bool) -> None:
    """The joiner's topic and NAMES, the first ``joined`` hook."""
    if channel.topic:
        send_topic(ctx, channel)
    if "draft/no-implicit-names" not in ctx.conn.caps:
        send_names(ctx, channel)


def install(server: ServerApi) -> None:
    """What a JOIN answers its user, before any other ``joined`` hook."""
    server.hooks.joined.append(send_join_replies)


@command("JOIN", min_params=1)
def join(ctx: Context, msg: Message) -> None:
    """JOIN <channel>[,<channel>] [<key>[,<key>]], or JOIN 0 to leave all."""
    if msg.params[0] == "0":
        part_all(ctx)
        return
    names = msg.params[0].split(",")
    keys = msg.params[1].split(",") if len(msg.params) > 1 else []
    for i, name in enumerate(names):
        if name:
            join_channel(ctx, name, keys[i] if i < len(keys) else None)


@command("PART", min_params=1)
def part(ctx: Context, msg: Message) -> None:
    """PART <channel>[,<channel>] [:reason]: leave channels."""
    reason = msg.params[1] if len(msg.params) > 1 else ""
    for name in msg.params[0].split(","):
        if not name:
            continue
        channel = find_visible_channel(ctx, name)
        if channel is None:
            continue
        if ctx.user not in channel.members:
            ctx.reply(rpl.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
        else:
            actions.part(ctx, channel, reason)


@command("TOPIC", min_params=1)
def topic(ctx: Context, msg: Message) -> None:
    """TOPIC <channel> [:<topic>]: see or change a channel's topic."""
    user = ctx.user
    channel = find_visible_channel(ctx, msg.params[0])
    if channel is None:
        return
    member = user in channel.members
    if len(msg.params) < 2:
        send_topic(ctx, channel)
        return
    if not member:
        ctx.reply(rpl.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
        return
    if "t" in channel.modes and not channel.is_op(user):
        ctx.reply(rpl.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
        return
    for guard in ctx.server.hooks.topic_guards:
        reason = guard(ctx, channel)
        if reason is not None:
            ctx.reply(rpl.ERR_CHANOPRIVSNEEDED, channel.name, reason)
            return
    actions.set_topic(ctx, channel, msg.params[1], user.source)


@command("NAMES")
def names(ctx: Context, msg: Message) -> None:
    """NAMES [<channel>[,<channel>]]: who is in a channel."""
    if not msg.params:
        ctx.reply(rpl.RPL_ENDOFNAMES, "*", "End of /NAMES list")
        return
    names = [n for n in msg.params[0].split(",") if n]
    single = len(names) == 1
    for name in names:
        channel = ctx.server.world.find_channel(name)
        if channel is None or ("s" in channel.modes and ctx.user not in channel.members):
            if single:
                ctx.reply(rpl.RPL_ENDOFNAMES, name, "End of /NAMES list")
        else:
            send_names(ctx, channel, end=single)
    if not single:
        ctx.reply(rpl.RPL_ENDOFNAMES, msg.params[0], "End of /NAMES list")


def _list_filter(spec: str) -> Callable[[Channel], bool]:
    """One ELIST condition (C, M, N, T, U) as a predicate."""
    now = time.time()
    if spec[:2] in ("C<", "C>", "T<", "T>"):
        minutes = ascii_int(spec[2:]) or 0
        cutoff = now - minutes * 60
        if spec[0] == "C":
            return (
                (lambda c: c.created > cutoff) if spec[1] == "<" else (lambda c: c.created < cutoff)
            )
        return (
            (lambda c: c.topic_at > cutoff)
            if spec[1] == "<"
            else (lambda c: 0 < c.topic_at < cutoff)
        )
    count = ascii_int(spec[1:])
    if spec[:1] in ("<", ">") and count is not None:
        if spec[0] == "<":
            return lambda c: len(c.members) < count
        return lambda c: len(c.members) > count
    if spec.startswith("!"):
        return lambda c: not masks.match(spec[1:], c.name)
    if "*" in spec or "?" in spec:
        return lambda c: masks.match(spec, c.name)
    folded = fold(spec)
    return lambda c: c.folded == folded


@command("LIST", cost=2)
def list_(ctx: Context, msg: Message) -> None:
    """LIST [<filter>[,<filter>]]: channels, with ELIST filters C M N T U."""
    filters = [_list_filter(s) for s in msg.params[0].split(",") if s] if msg.params else []
    ctx.reply(rpl.RPL_LISTSTART, "Channel", "Users  Name")
    for channel in ctx.server.world.visible_channels(ctx.user):
        if filters and not all(f(channel) for f in filters):
            continue
        ctx.reply(rpl.RPL_LIST, channel.name, str(len(channel.members)), channel.topic)
    ctx.reply(rpl.RPL_LISTEND, "End of /LIST")


@command("INVITE")
def invite(ctx: Context, msg: Message) -> None:
    """INVITE <nick> <channel>: let someone into an invite-only channel."""
    user = ctx.user
    world = ctx.server.world
    if not msg.params:
        now = time.monotonic()
        for channel in sorted(user.invites, key=lambda c: c.folded):
            if channel.has_invite(user, now):
                ctx.reply(rpl.RPL_INVITELIST, channel.name)
        ctx.reply(rpl.RPL_ENDOFINVITELIST, "End of /INVITE list")
        return
    if len(msg.params) < 2:
        ctx.reply(rpl.ERR_NEEDMOREPARAMS, "INVITE", "Not enough parameters")
        return
    target_nick, name = msg.params[0], msg.params[1]
    target = world.find_user(target_nick)
    if target is None or not target.registered:
        ctx.reply(rpl.ERR_NOSUCHNICK, target_nick, "No such nick/channel")
        return
    found = find_visible_channel(ctx, name)
    if found is None:
        return
    channel = found
    if user not in channel.members:
        ctx.reply(rpl.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
        return
    if "i" in channel.modes and not channel.is_op(user):
        ctx.reply(rpl.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
        return
    if target in channel.members:
        ctx.reply(rpl.ERR_USERONCHANNEL, target.nick, channel.name, "is already on channel")
        return
    ctx.reply(rpl.RPL_INVITING, target.nick, channel.name)
    if target.away is not None:
        ctx.reply(rpl.RPL_AWAY, target.nick, target.away)
    # A member's invite to a channel without +i is only a notice: it must
    # not open +k, +l or +b, nor a +i set later.
    actions.invite(ctx, channel, target, record=channel.is_op(user))


@command("KICK", min_params=2)
def kick(ctx: Context, msg: Message) -> None:
    """KICK <channel>[,<channel>] <nick>[,<nick>] [:reason]: remove people from a
    channel (one channel for every nick, or one channel per nick, RFC 2812)."""
    user = ctx.user
    channels = msg.params[0].split(",")
    nicks = [n for n in msg.params[1].split(",") if n]
    if not nicks or (len(channels) != 1 and len(channels) != len(nicks)):
        ctx.reply(rpl.ERR_NEEDMOREPARAMS, "KICK", "Not enough parameters")
        return
    limit = ctx.server.config.limits.targmax
    if len(nicks) > limit:
        ctx.reply(rpl.ERR_TOOMANYTARGETS, msg.params[1], f"Too many targets (max {limit})")
        return
    reason = msg.params[2] if len(msg.params) > 2 and msg.params[2] else user.nick
    reason = reason[: ctx.server.config.limits.kicklen]
    by_channel: dict[str, list[str]] = {}
    for i, nick in enumerate(nicks):
        by_channel.setdefault(channels[0] if len(channels) == 1 else channels[i], []).append(nick)
    for name, targets in by_channel.items():
        _kick_from(ctx, name, targets, reason)


def _kick_from(ctx: Context, name: str, nicks: list[str], reason: str) -> None:
    user = ctx.user
    world = ctx.server.world
    channel = find_visible_channel(ctx, name)
    if channel is None:
        return
    if user not in channel.members:
        ctx.reply(rpl.ERR_NOTONCHANNEL, channel.name, "You're not on that channel")
        return
    if not channel.is_op(user):
        ctx.reply(rpl.ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator")
        return
    for nick in nicks:
        target = world.find_user(nick)
        if target is None or target not in channel.members:
            ctx.reply(rpl.ERR_USERNOTINCHANNEL, nick, channel.name, "They aren't on that channel")
            continue
        refusal = next(
            (r for guard in ctx.server.hooks.kick_guards if (r := guard(ctx, channel, target))),
            None,
        )
        if refusal is not None:
            ctx.reply(rpl.ERR_CHANOPRIVSNEEDED, channel.name, refusal)
            continue
        actions.kick(ctx.server, channel, target, reason, source=user.source, actor=user)
