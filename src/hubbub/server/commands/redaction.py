"""IRCv3 message redaction (https://ircv3.net/specs/extensions/message-redaction).

``REDACT <target> <msgid> [:reason]`` deletes a stored PRIVMSG, NOTICE or
TAGMSG. Who may:

* its sender, within ``[history] redaction_window``; a sender is known by its
  account (a guest's nick may be anyone's later), so guests cannot redact
  their own messages;
* a channel operator, any message of that channel;
* an IRC operator, any message of a channel (member or not).

The message leaves the history (CHATHISTORY no longer returns it), and the
REDACT is relayed to the channel's members (or the two parties of a private
message) that have the capability, never to the others. Messages the
history did not keep (history off, a guest's private message) are unknown:
``UNKNOWN_MSGID``, as the spec allows.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable

from hubbub.protocol.casemap import fold, is_channel_name, valid_nick
from hubbub.protocol.message import Message
from hubbub.server.api import Context
from hubbub.server.capabilities import register_capability
from hubbub.server.commands.registry import command
from hubbub.server.delivery import Event, deliver
from hubbub.server.devices import connections_with
from hubbub.server.state import Channel, User
from hubbub.store import MESSAGE_COMMANDS, HistoryRecord, conversation_key, name_key

CAP = "draft/message-redaction"
_REDACTABLE = frozenset((*MESSAGE_COMMANDS, "TAGMSG"))

register_capability(CAP)


@command("REDACT", min_params=2, cost=2)
def redact(ctx: Context, msg: Message) -> Awaitable[None] | None:
    """REDACT <target> <msgid> [:<reason>]: delete a message."""
    target, msgid = msg.params[0], msg.params[1]
    reason = msg.params[2] if len(msg.params) > 2 and msg.params[2] else None
    user = ctx.user
    if is_channel_name(target):
        channel = ctx.server.world.find_channel(target)
        if channel is None or (user not in channel.members and not user.is_oper):
            _invalid_target(ctx, target)
            return None
        return _redact(ctx, channel.name, msgid, reason, channel, None)
    other = ctx.server.world.find_user(target)
    if user.history_party is None or not valid_nick(target, 64):
        _invalid_target(ctx, target)
        return None
    if other is None or not other.registered:
        return _redact_offline(ctx, user.history_party, target, msgid, reason)
    conversation = conversation_key(user.history_party, other.history_party or other.folded)
    return _redact(ctx, other.nick, msgid, reason, None, (conversation, other))


async def _redact_offline(
    ctx: Context, party: str, target: str, msgid: str, reason: str | None
) -> None:
    """A message of a conversation with someone offline: its account, if
    there is one of that name (made on this node or another), else its nick."""
    other_party = await ctx.server.store.accounts.find_party(target) or fold(target)
    conversation = conversation_key(party, other_party)
    await _redact(ctx, target, msgid, reason, None, (conversation, None))


def _invalid_target(ctx: Context, target: str) -> None:
    ctx.fail(
        "REDACT", "INVALID_TARGET", target, description=f"You cannot delete messages from {target}"
    )


async def _redact(
    ctx: Context,
    target: str,
    msgid: str,
    reason: str | None,
    channel: Channel | None,
    private: tuple[str, User | None] | None,
) -> None:
    user = ctx.user
    record = await ctx.server.store.history.find(msgid)
    if record is None or not _belongs(record, channel, private):
        ctx.fail(
            "REDACT",
            "UNKNOWN_MSGID",
            target,
            msgid,
            description="This message does not exist or is too old",
        )
        return
    moderator = user.is_oper or (channel is not None and channel.is_op(user))
    if not moderator:
        if not _own(user, record):
            ctx.fail(
                "REDACT",
                "REDACT_FORBIDDEN",
                target,
                msgid,
                description="You are not authorised to delete this message",
            )
            return
        window = ctx.server.config.history.redaction_window_seconds
        if window is not None and time.time() - record.time_ms / 1000 > window:
            ctx.fail(
                "REDACT",
                "REDACT_WINDOW_EXPIRED",
                target,
                msgid,
                str(int(window)),
                description="You can no longer delete this message",
            )
            return
    ctx.server.store.history.redact(msgid)
    if channel is not None:
        audience: list[User] = list(channel.members)
    else:
        assert private is not None
        audience = [other for other in (private[1],) if other is not None]
    if user not in audience:
        audience.append(user)
    params = [target, msgid] if reason is None else [target, msgid, reason]
    deliver(
        connections_with(audience, CAP),
        user.source,
        "REDACT",
        params,
        Event(ctx.server.event_ids, user),
    )
    other = private[1] if private is not None else None
    for hook in ctx.server.hooks.redacted:
        hook(ctx, channel, other, params)


def _belongs(
    record: HistoryRecord, channel: Channel | None, private: tuple[str, User | None] | None
) -> bool:
    """Whether ``record`` is a redactable message of the conversation asked
    about (a msgid from elsewhere must not be redacted through this one)."""
    if record.command not in _REDACTABLE:
        return False
    if channel is not None:
        return record.parties is None and name_key(record.target) == name_key(channel.name)
    assert private is not None
    parties = record.parties
    return parties is not None and conversation_key(*parties) == private[0]


def _own(user: User, record: HistoryRecord) -> bool:
    return (
        user.account is not None
        and record.account is not None
        and fold(user.account) == fold(record.account)
    )
