"""IRCv3 metadata (https://github.com/ircv3/ircv3-specifications/pull/501, the
"Metadata 2" draft, capability ``draft/metadata-3``): the rules shared by the
METADATA command (``commands/metadata.py``) and the moments metadata is sent
without being asked (registration burst, JOIN, WHOIS, a change someone
subscribed to, a login that brings back an account's stored metadata).

Notifications and syncs use RPL_KEYVALUE / RPL_KEYNOTSET, as Ergo and the
irctest suite do; a notification's first parameter is ``*`` so the same bytes
go to every subscriber (the fan-out rule).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet

from hubbub.protocol.message import MAX_BODY_TEXT
from hubbub.server.api import Context, ServerApi
from hubbub.server.delivery import deliver
from hubbub.server.devices import connections_with
from hubbub.server.state import Channel, User

CAP = "draft/metadata-3"

RPL_WHOISKEYVALUE = "760"
RPL_KEYVALUE = "761"
RPL_KEYNOTSET = "766"
RPL_METADATASUBOK = "770"
RPL_METADATAUNSUBOK = "771"
RPL_METADATASUBS = "772"
RPL_METADATASYNCLATER = "774"

MAX_KEY_LENGTH = 64
_KEY = re.compile(r"[a-z0-9_./-]+")

Target = User | Channel


def valid_key(key: str) -> bool:
    return len(key) <= MAX_KEY_LENGTH and _KEY.fullmatch(key) is not None


def target_name(target: Target) -> str:
    return target.name if isinstance(target, Channel) else target.nick


def can_see(viewer: User, target: Target) -> bool:
    """User metadata is public; a channel's is for its members, operators,
    and anyone when the channel is neither secret nor invite-only."""
    if isinstance(target, User):
        return True
    return viewer in target.members or viewer.is_oper or not ({"s", "i"} & target.modes)


def can_edit(editor: User, target: Target) -> bool:
    """Users edit their own metadata, channel operators their channel's;
    IRC operators any."""
    if editor.is_oper:
        return True
    if isinstance(target, User):
        return editor is target
    return target.is_op(editor)


def value_fits(value: str, max_bytes: int) -> bool:
    return len(value.encode()) <= max_bytes


def line_room(server: ServerApi, target: Target, key: str) -> int:
    """Bytes left for a value of ``key`` in the longest line that carries it,
    ``:<server> 760 <viewer> <target> <key> * :<value>``, with the longest
    nick the viewer (and a user target) may take. A longer value would be cut
    on the way out, and a cut avatar URL names another address."""
    limits = server.config.limits
    if isinstance(target, Channel):
        name = max(len(target.name.encode()), limits.channellen)
    else:
        name = limits.nicklen
    prefix = len(f":{server.name} {RPL_WHOISKEYVALUE} ")
    return MAX_BODY_TEXT - (prefix + limits.nicklen + 1 + name + 1 + len(key) + len(" * :"))


# --- telling others ------------------------------------------------------------------


def audience(server: ServerApi, target: Target) -> Iterable[User]:
    """Who receives updates about ``target``: a channel's members; a user's
    channel neighbours, MONITOR watchers and the user itself."""
    if isinstance(target, Channel):
        return target.members
    people = server.world.neighbours(target)
    people.update(server.world.watchers_of(target.nick))
    people.add(target)
    return people


def notify(
    server: ServerApi, actor: User | None, target: Target, key: str, value: str | None
) -> None:
    """Tell the subscribers of ``key`` who can see ``target`` that it changed
    (not ``actor``, who has its own reply), and the ``metadata_changed``
    hooks (a cluster tells the other nodes)."""
    for hook in server.hooks.metadata_changed:
        hook(server, target, key, value)
    subscribers = (
        u
        for u in audience(server, target)
        if u is not actor and key in u.metadata_subs and u.registered
    )
    recipients = connections_with(subscribers, CAP)
    if not recipients:
        return
    name = target_name(target)
    if value is None:
        deliver(recipients, server.name, RPL_KEYNOTSET, ["*", name, key, "key not set"])
    else:
        deliver(recipients, server.name, RPL_KEYVALUE, ["*", name, key, "*", value])


def send_values(
    ctx: Context, batch: str | None, targets: Iterable[Target], keys: AbstractSet[str] | None
) -> None:
    """RPL_KEYVALUE for each key of each target (only ``keys`` if given)."""
    for target in targets:
        name = target_name(target)
        for key, value in list(target.metadata.items()):
            if keys is None or key in keys:
                ctx.send(RPL_KEYVALUE, ctx.nick, name, key, "*", value, batch=batch)


def sync(ctx: Context, target: Target) -> None:
    """A ``metadata`` batch with the subscribed keys of ``target`` and, for a
    channel, of its members."""
    subs = ctx.user.metadata_subs
    batch = ctx.start_batch("metadata", target_name(target))
    targets: list[Target] = [target]
    if isinstance(target, Channel):
        targets.extend(target.members)
    send_values(ctx, batch, targets, subs)
    ctx.end_batch(batch)


def sync_later(ctx: Context, target: Target, retry_after: int | None = None) -> None:
    params = [target_name(target)]
    if retry_after is not None:
        params.append(str(retry_after))
    ctx.reply(RPL_METADATASYNCLATER, *params)


# --- the moments metadata is sent unasked --------------------------------------------


def _welcome_burst(ctx: Context) -> None:
    """The user's own metadata, in a batch, during the registration burst."""
    if CAP not in ctx.user.caps:
        return
    batch = ctx.start_batch("metadata", ctx.user.nick)
    send_values(ctx, batch, [ctx.user], None)
    ctx.end_batch(batch)


def _joined(ctx: Context, channel: Channel, created: bool) -> None:
    user = ctx.user
    if CAP not in user.caps or not user.metadata_subs:
        return
    if len(channel.members) > ctx.server.config.metadata.join_sync_members:
        sync_later(ctx, channel)
    else:
        sync(ctx, channel)


def _registered(ctx: Context) -> None:
    """A user MONITORed by others came online: its values to its watchers."""
    user = ctx.user
    watchers = ctx.server.world.watchers_of(user.nick)
    for key, value in list(user.metadata.items()):
        told = connections_with((u for u in watchers if key in u.metadata_subs), CAP)
        deliver(told, ctx.server.name, RPL_KEYVALUE, ["*", user.nick, key, "*", value])


def send_to_monitor(ctx: Context, target: User) -> None:
    """MONITOR + of an online user: its values of the keys ``ctx.user`` subscribed to."""
    if CAP in ctx.user.caps and ctx.user.metadata_subs:
        send_values(ctx, None, [target], ctx.user.metadata_subs)


def _whois(ctx: Context, target: User) -> None:
    if CAP not in ctx.user.caps:
        return
    for key, value in list(target.metadata.items()):
        ctx.reply(RPL_WHOISKEYVALUE, target.nick, key, "*", value)


def _logged_in(ctx: Context, account: str) -> None:
    ctx.server.spawn(restore(ctx, account))


async def restore(ctx: Context, account: str) -> None:
    """At login: the account's stored metadata comes back; keys the user set
    before logging in (before-connect) win and are stored."""
    server = ctx.server
    user = ctx.user
    stored = await server.store.metadata.load(account)
    if user.account != account or user not in server.world.connections:
        return
    limit = server.config.metadata.max_keys
    for key, value in stored.items():
        if key in user.metadata or len(user.metadata) >= limit:
            continue
        user.metadata[key] = value
        if user.registered:
            notify(server, None, user, key, value)
    for key, value in list(user.metadata.items()):
        if stored.get(key) != value:
            await server.store.metadata.set(account, key, value)


def install(server: ServerApi) -> None:
    hooks = server.hooks
    hooks.welcome_burst.append(_welcome_burst)
    hooks.registered.append(_registered)
    hooks.joined.append(_joined)
    hooks.whois.append(_whois)
    hooks.logged_in.append(_logged_in)
