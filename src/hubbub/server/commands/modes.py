"""MODE: user modes and channel modes (https://modern.ircdocs.horse/#mode-message).

Three layers, so services can reuse the lower two without the rules a user
is held to:

* :func:`parse_channel_modes` turns a modestring and its arguments into
  :class:`ModeChange` objects (plus list queries and unknown letters);
* ``actions.set_modes`` (``server/mode_changes.py``) applies changes to a
  channel with no permission checks, validates each parameter, and broadcasts
  what actually changed in as few ``MODE`` lines as fit 512 bytes and
  ISUPPORT ``MODES`` each;
* the ``MODE`` handler checks who may do what and wires the two together.
"""

from __future__ import annotations

from collections.abc import Sequence

from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import is_channel_name
from hubbub.protocol.message import Message
from hubbub.server import actions
from hubbub.server.api import Context, ModeChange
from hubbub.server.commands.channels import find_visible_channel
from hubbub.server.commands.registry import command
from hubbub.server.isupport import register_token
from hubbub.server.mode_changes import KEYLEN, KNOWN_USER_MODES, MAX_PARAM_CHANGES
from hubbub.server.state import FLAG_MODES, LIST_MODES, PREFIX_MODES, Channel, User

# The numerics used to show each list mode: (entry, end, end text).
_LIST_NUMERICS = {
    "b": (rpl.RPL_BANLIST, rpl.RPL_ENDOFBANLIST, "End of channel ban list"),
    "e": (rpl.RPL_EXCEPTLIST, rpl.RPL_ENDOFEXCEPTLIST, "End of channel exception list"),
    "I": (rpl.RPL_INVEXLIST, rpl.RPL_ENDOFINVEXLIST, "End of channel invite exception list"),
}

register_token("KEYLEN", lambda _config: str(KEYLEN))
register_token("ACCOUNTEXTBAN", lambda _config: "a")


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
            actions.set_modes(ctx.server, channel, user.source, changes, user, ctx.reply)
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
    actions.set_user_modes(ctx.server, user, changes)
    if unknown:
        ctx.reply(rpl.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")


@command("MODE", min_params=1)
def mode(ctx: Context, msg: Message) -> None:
    """MODE <target> [<modestring> [<args>...]]: see or change modes."""
    if is_channel_name(msg.params[0]):
        _channel_mode(ctx, msg)
    else:
        _user_mode(ctx, msg)
