"""METADATA <target> GET|LIST|SET|CLEAR|SUB|UNSUB|SUBS|SYNC (IRCv3 metadata,
``draft/metadata-3``; the rules shared with other moments are in
``server/metadata.py``).

Before registration (``before-connect``) a client may only name itself, as
``*``. Changes a logged-in user makes to its own metadata are stored with its
account, so the handler returns the store write for the session to await:
the client's next command waits for it, keeping the writes in order.
"""

from __future__ import annotations

from collections.abc import Awaitable

from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import is_channel_name
from hubbub.protocol.message import Message
from hubbub.server import metadata as md
from hubbub.server.api import Context
from hubbub.server.commands.queries import LIST_BUDGET, packed
from hubbub.server.commands.registry import command
from hubbub.server.state import Channel, User, set_with, set_without


def _fail(ctx: Context, code: str, *params: str, text: str) -> None:
    ctx.fail("METADATA", code, *params, description=text)


def _resolve(ctx: Context, name: str) -> md.Target | None:
    """The user or channel ``name`` names (``*``: oneself), or None after
    FAIL INVALID_TARGET. A secret channel is invalid to non-members."""
    user = ctx.user
    if name == "*":
        return user
    if not user.registered:
        _fail(ctx, "KEY_NO_PERMISSION", name, "*", text="Only * before registration")
        return None
    world = ctx.server.world
    found: md.Target | None
    if is_channel_name(name):
        found = world.find_channel(name)
        if (
            found is not None
            and "s" in found.modes
            and user not in found.members
            and not user.is_oper
        ):
            found = None
    else:
        found = world.find_user(name)
        if found is not None and not found.registered:
            found = None
    if found is None:
        _fail(ctx, "INVALID_TARGET", name, text="Invalid metadata target")
    return found


def _shown_name(ctx: Context, target: md.Target) -> str:
    return "*" if target is ctx.user and not ctx.user.registered else md.target_name(target)


def _persist(
    ctx: Context, target: md.Target, key: str | None, value: str | None
) -> Awaitable[None] | None:
    """The store write for a logged-in user's own metadata (None otherwise);
    ``key`` None clears them all."""
    if not isinstance(target, User) or target.account is None:
        return None
    account = target.account
    store = ctx.server.store.metadata
    if key is None:
        return store.clear(account)
    return store.set(account, key, value)


@command("METADATA", min_params=2, pre_registration=True)
def metadata(ctx: Context, msg: Message) -> Awaitable[None] | None:
    """METADATA <target> <subcommand> [...]: avatars, display names and the like."""
    sub = msg.params[1].upper()
    keys = msg.params[2:]
    if sub in ("GET", "SET", "SUB", "UNSUB") and not keys:
        ctx.reply(rpl.ERR_NEEDMOREPARAMS, "METADATA", "Not enough parameters")
        return None
    if sub == "SUB":
        _sub(ctx, keys)
        return None
    if sub == "UNSUB":
        _unsub(ctx, keys)
        return None
    if sub == "SUBS":
        _subs(ctx)
        return None
    if sub not in ("GET", "LIST", "SET", "CLEAR", "SYNC"):
        _fail(ctx, "SUBCOMMAND_INVALID", msg.params[1], text="Invalid subcommand")
        return None
    target = _resolve(ctx, msg.params[0])
    if target is None:
        return None
    if sub == "SET":
        value = msg.params[3] if len(msg.params) > 3 else None
        return _set(ctx, target, keys[0], value)
    if sub == "CLEAR":
        return _clear(ctx, target)
    if not md.can_see(ctx.user, target):
        _fail(ctx, "KEY_NO_PERMISSION", md.target_name(target), "*", text="Permission denied")
        return None
    if sub == "GET":
        _get(ctx, target, keys)
    elif sub == "LIST":
        batch = ctx.start_batch("metadata", _shown_name(ctx, target))
        md.send_values(ctx, batch, [target], None)
        ctx.end_batch(batch)
    elif ctx.user.registered:  # SYNC
        md.sync(ctx, target)
    else:
        md.sync_later(ctx, target)
    return None


def _get(ctx: Context, target: md.Target, keys: list[str]) -> None:
    name = _shown_name(ctx, target)
    batch = ctx.start_batch("metadata", name)
    for key in keys:
        if not md.valid_key(key):
            ctx.send("FAIL", "METADATA", "KEY_INVALID", key, "Invalid key", batch=batch)
        elif key in target.metadata:
            ctx.send(md.RPL_KEYVALUE, ctx.nick, name, key, "*", target.metadata[key], batch=batch)
        else:
            ctx.send(md.RPL_KEYNOTSET, ctx.nick, name, key, "Key not set", batch=batch)
    ctx.end_batch(batch)


def _set(ctx: Context, target: md.Target, key: str, value: str | None) -> Awaitable[None] | None:
    name = _shown_name(ctx, target)
    if not md.valid_key(key):
        _fail(ctx, "KEY_INVALID", key, text="Invalid key")
        return None
    if not md.can_edit(ctx.user, target):
        _fail(ctx, "KEY_NO_PERMISSION", name, key, text="Permission denied")
        return None
    settings = ctx.server.config.metadata
    if value is None:
        if key not in target.metadata:
            _fail(ctx, "KEY_NOT_SET", name, key, text="Key not set")
            return None
        del target.metadata[key]
        ctx.reply(md.RPL_KEYNOTSET, name, key, "Key not set")
    else:
        room = min(settings.max_value_bytes, md.line_room(ctx.server, target, key))
        if not md.value_fits(value, room):
            # The draft names this VALUE_INVALID; Ergo and irctest say INVALID_VALUE.
            _fail(ctx, "INVALID_VALUE", key, text="Value is too long")
            return None
        if key not in target.metadata and len(target.metadata) >= settings.max_keys:
            _fail(ctx, "LIMIT_REACHED", name, text="Metadata limit reached")
            return None
        unchanged = target.metadata.get(key) == value
        target.metadata[key] = value
        ctx.reply(md.RPL_KEYVALUE, name, key, "*", value)
        if unchanged:
            return None
    if ctx.user.registered:
        md.notify(ctx.server, ctx.user, target, key, value)
    return _persist(ctx, target, key, value)


def _clear(ctx: Context, target: md.Target) -> Awaitable[None] | None:
    name = _shown_name(ctx, target)
    if not md.can_edit(ctx.user, target):
        _fail(ctx, "KEY_NO_PERMISSION", name, "*", text="Permission denied")
        return None
    cleared = list(target.metadata)
    target.metadata.clear()
    batch = ctx.start_batch("metadata", name)
    for key in cleared:
        ctx.send(md.RPL_KEYNOTSET, ctx.nick, name, key, "Key not set", batch=batch)
    ctx.end_batch(batch)
    if ctx.user.registered:
        for key in cleared:
            md.notify(ctx.server, ctx.user, target, key, None)
    return _persist(ctx, target, None, None) if cleared else None


def _reply_keys(ctx: Context, numeric: str, keys: list[str]) -> None:
    budget = LIST_BUDGET - len(ctx.server.name) - len(ctx.nick)
    for line in packed(keys, budget):
        ctx.reply(numeric, *line.split(" "))


def _sub(ctx: Context, keys: list[str]) -> None:
    user = ctx.user
    limit = ctx.server.config.metadata.max_subs
    added: list[str] = []
    for key in keys:
        if not md.valid_key(key):
            _fail(ctx, "KEY_INVALID", key, text="Invalid key")
            continue
        if key not in user.metadata_subs and len(user.metadata_subs) >= limit:
            _fail(ctx, "TOO_MANY_SUBS", key, text="Too many subscriptions")
            break
        user.metadata_subs = set_with(user.metadata_subs, key)
        if key not in added:
            added.append(key)
    _reply_keys(ctx, md.RPL_METADATASUBOK, added)
    if user.registered and added:
        _offer_sync(ctx, set(added))


def _offer_sync(ctx: Context, keys: set[str]) -> None:
    """After a SUB: RPL_METADATASYNCLATER for each joined channel where a
    newly subscribed key is set, so the client can SYNC it."""
    for channel in list(ctx.user.channels.values()):
        holders: list[Channel | User] = [channel, *channel.members]
        if any(keys & holder.metadata.keys() for holder in holders):
            md.sync_later(ctx, channel)


def _unsub(ctx: Context, keys: list[str]) -> None:
    removed: list[str] = []
    for key in keys:
        if not md.valid_key(key):
            _fail(ctx, "KEY_INVALID", key, text="Invalid key")
            continue
        ctx.user.metadata_subs = set_without(ctx.user.metadata_subs, key)
        if key not in removed:
            removed.append(key)
    _reply_keys(ctx, md.RPL_METADATAUNSUBOK, removed)


def _subs(ctx: Context) -> None:
    batch = ctx.start_batch("metadata-subs")
    budget = LIST_BUDGET - len(ctx.server.name) - len(ctx.nick)
    for line in packed(sorted(ctx.user.metadata_subs), budget):
        ctx.send(md.RPL_METADATASUBS, ctx.nick, *line.split(" "), batch=batch)
    ctx.end_batch(batch)
