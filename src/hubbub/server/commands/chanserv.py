"""ChanServ: channel registration and roles.

A channel operator who is logged in registers a channel; their account is
its founder. The founder grants ``op`` or ``voice`` to accounts; people with
access get ``@``/``+`` when they join (or ask ChanServ). A registered channel
keeps its topic, modes (key and limit too), bans, exceptions, invite
exceptions and access list across restarts: every change is written to the
store as it happens (in order, by one writer per server), and when the first
person joins a registered channel that is empty, its state is restored.

Commands (``/msg ChanServ HELP``): REGISTER, INFO, DROP, OP, DEOP, VOICE,
DEVOICE, ACCESS ADD|DEL|LIST, TOPIC <text> | TOPIC LOCK ON|OFF.

The founder, while logged in to the founding account, is protected: nobody
else (not even op-access users) may kick, deop or ban them, and they join
their channel past +i, +k, +l and +b. Op access is delegated power, never
power over the person who delegated it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import fold, valid_channel
from hubbub.protocol.integers import ascii_int
from hubbub.server.api import Context, ModeChange
from hubbub.server.commands.channels import set_topic
from hubbub.server.commands.modes import apply_channel_modes, normalize_list_mask
from hubbub.server.delivery import deliver
from hubbub.server.services import find_service, register_service, service_notice
from hubbub.server.state import (
    FLAG_MODES,
    LIST_MODES,
    Channel,
    ListEntry,
    User,
    mask_matches_user,
)
from hubbub.store import (
    AccessLevel,
    AlreadyExists,
    ChannelRegistration,
    ChannelStore,
    ListKind,
    Topic,
)
from hubbub.store import ListEntry as StoredEntry

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

log = logging.getLogger(__name__)

NAME = "ChanServ"
FOUNDER = "founder"
# What each role may do, highest first.
RANKS = {FOUNDER: 3, "op": 2, "voice": 1}

HELP = """\
ChanServ keeps registered channels and who has which role in them.
  REGISTER <#channel>              register a channel you are an operator of
  INFO <#channel>                  founder, registration date, topic lock
  DROP <#channel>                  unregister (founder only)
  OP|DEOP|VOICE|DEVOICE <#channel> [nick]
                                   give or take @ or + (yourself by default)
  ACCESS <#channel> ADD <account> op|voice
  ACCESS <#channel> DEL <account>
  ACCESS <#channel> LIST           who has a role (founder adds and removes)
  TOPIC <#channel> <text>          set the topic (op access)
  TOPIC <#channel> LOCK ON|OFF     only ChanServ and the founder may change it
Founders and op-access accounts get @ when they join, voice-access ones +.
Nobody else may kick, deop or ban a logged-in founder, who always gets in.
You must be logged in (SASL or NickServ) for ChanServ to know your account."""


@dataclass(slots=True)
class Registration:
    """The server's copy of a channel registration; the store is written
    through on every change, and this copy restores an empty channel."""

    name: str
    founder: str
    registered_at: datetime
    topic: Topic | None = None
    topic_lock: bool = False
    modes: str = "+nt"
    lists: dict[str, list[StoredEntry]] = field(default_factory=dict)
    access: dict[str, tuple[str, AccessLevel]] = field(
        default_factory=dict
    )  # folded -> (name, level)

    @classmethod
    def from_store(cls, stored: ChannelRegistration) -> Registration:
        return cls(
            name=stored.name,
            founder=stored.founder,
            registered_at=stored.registered_at,
            topic=stored.topic,
            topic_lock=stored.topic_lock,
            modes=stored.modes,
            lists={
                "b": list(stored.bans),
                "e": list(stored.excepts),
                "I": list(stored.invexes),
            },
            access={fold(name): (name, level) for name, level in stored.access.items()},
        )

    def role(self, account: str | None) -> str | None:
        """``founder``, ``op``, ``voice`` or None for ``account``."""
        if account is None:
            return None
        folded = fold(account)
        if folded == fold(self.founder):
            return FOUNDER
        entry = self.access.get(folded)
        return entry[1] if entry is not None else None

    def allows(self, account: str | None, needed: str) -> bool:
        role = self.role(account)
        return role is not None and RANKS[role] >= RANKS[needed]


class ChanServState:
    """One server's registrations and its ordered store writer."""

    def __init__(self, server: ServerApi) -> None:
        self.server = server
        self.channels: dict[str, Registration] = {}
        self._last: asyncio.Future[Any] | None = None

    def write(self, op: Callable[[], Awaitable[Any]]) -> asyncio.Future[Any]:
        """Run a store write after every earlier one; the returned future
        gives its result (or exception). Nothing on the caller's path waits."""
        previous = self._last

        async def run() -> Any:
            if previous is not None:
                await asyncio.wait([previous])
            return await op()

        task = asyncio.ensure_future(run())
        task.add_done_callback(_log_failure)
        self._last = task
        return task

    async def drain(self) -> None:
        if self._last is not None:
            await asyncio.wait([self._last])


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        exc = task.exception()
        if not isinstance(exc, AlreadyExists):
            log.error("ChanServ: a store write failed", exc_info=exc)


def state_of(server: ServerApi) -> ChanServState:
    return server.feature(ChanServState)


def registration(server: ServerApi, name: str) -> Registration | None:
    return state_of(server).channels.get(fold(name))


# --- snapshots of live state -------------------------------------------------------
def _mode_snapshot(channel: Channel) -> str:
    flags, params = channel.mode_string(reveal_key=True)
    return " ".join([flags, *params])


def _topic_snapshot(channel: Channel) -> Topic | None:
    if not channel.topic:
        return None
    return Topic(channel.topic, channel.topic_by, datetime.fromtimestamp(channel.topic_at, UTC))


def _stored_entry(entry: ListEntry) -> StoredEntry:
    return StoredEntry(entry.mask, entry.setter, datetime.fromtimestamp(entry.set_at, UTC))


def _restore(channel: Channel, reg: Registration) -> None:
    """Put a registered channel's saved state on a freshly created channel."""
    channel.name = reg.name
    if reg.topic is not None:
        channel.topic = reg.topic.text
        channel.topic_by = reg.topic.setter
        channel.topic_at = int(reg.topic.set_at.timestamp())
    words = reg.modes.split(" ")
    params = words[1:]
    channel.modes = set()
    for letter in words[0].lstrip("+"):
        if letter == "k" and params:
            channel.key = params.pop(0)
        elif letter == "l" and params:
            value = params.pop(0)
            channel.limit = ascii_int(value)
        elif letter in FLAG_MODES:
            channel.modes.add(letter)
    for mode in LIST_MODES:
        channel.lists[mode] = [
            ListEntry(e.mask, e.setter, int(e.set_at.timestamp())) for e in reg.lists.get(mode, [])
        ]


# --- hooks ---------------------------------------------------------------------------
def _on_create(ctx: Context, channel: Channel) -> bool:
    reg = registration(ctx.server, channel.name)
    if reg is None:
        return True
    _restore(channel, reg)
    return reg.allows(ctx.user.account, "op")


def _on_join(ctx: Context, channel: Channel, created: bool) -> None:
    reg = registration(ctx.server, channel.name)
    if reg is None:
        return
    role = reg.role(ctx.user.account)
    if role is None:
        return
    mode = "v" if role == "voice" else "o"
    if mode in channel.members.get(ctx.user, ""):
        return
    _set_prefix(ctx, channel, mode, True, ctx.user.nick)


# --- founder protection --------------------------------------------------------------
FOUNDER_PROTECTED = "Cannot do that to the channel founder"


def _is_founder(server: ServerApi, channel: Channel, user: User) -> bool:
    reg = registration(server, channel.name)
    return reg is not None and reg.role(user.account) == FOUNDER


def _founder_may_join(ctx: Context, channel: Channel) -> bool:
    return _is_founder(ctx.server, channel, ctx.user)


def _kick_guard(ctx: Context, channel: Channel, target: User) -> str | None:
    if _is_founder(ctx.server, channel, target) and not _is_founder(ctx.server, channel, ctx.user):
        return FOUNDER_PROTECTED
    return None


def _protect_founder_modes(
    ctx: Context, channel: Channel, changes: list[ModeChange]
) -> list[ModeChange]:
    """Drop a non-founder's -o on the founder and bans that match the founder."""
    if registration(ctx.server, channel.name) is None or _is_founder(ctx.server, channel, ctx.user):
        return changes
    founders = [m for m in channel.members if _is_founder(ctx.server, channel, m)]
    kept: list[ModeChange] = []
    for change in changes:
        if change.param is not None and _hits_founder(ctx, change, founders):
            ctx.reply(rpl.ERR_CHANOPRIVSNEEDED, channel.name, FOUNDER_PROTECTED)
        else:
            kept.append(change)
    return kept


def _hits_founder(ctx: Context, change: ModeChange, founders: list[User]) -> bool:
    assert change.param is not None
    if change.mode == "o" and not change.adding:
        target = ctx.server.world.find_user(change.param)
        return target is not None and target in founders
    if change.mode == "b" and change.adding:
        mask = normalize_list_mask(change.param)
        return mask is not None and any(mask_matches_user(mask, f) for f in founders)
    return False


def _topic_guard(ctx: Context, channel: Channel) -> str | None:
    reg = registration(ctx.server, channel.name)
    if reg is None or not reg.topic_lock or reg.role(ctx.user.account) == FOUNDER:
        return None
    return "Topic is locked (ask ChanServ)"


def _on_topic(ctx: Context, channel: Channel) -> None:
    state = state_of(ctx.server)
    reg = state.channels.get(channel.folded)
    if reg is None:
        return
    reg.topic = _topic_snapshot(channel)
    store = ctx.server.store.channels
    name, topic = reg.name, reg.topic
    state.write(lambda: store.set_topic(name, topic))


def _on_modes(server: ServerApi, channel: Channel, setter: str, applied: list[ModeChange]) -> None:
    state = state_of(server)
    reg = state.channels.get(channel.folded)
    if reg is None:
        return
    store = server.store.channels
    name = reg.name
    modes_changed = False
    for change in applied:
        if change.mode in LIST_MODES and change.param is not None:
            kind = cast(ListKind, change.mode)
            mask = change.param
            entries = reg.lists.setdefault(kind, [])
            entries[:] = [e for e in entries if fold(e.mask) != fold(mask)]
            if change.adding:
                entry = StoredEntry(mask, setter, datetime.now(UTC))
                entries.append(entry)
            state.write(_list_write(store, name, kind, mask, entry if change.adding else None))
        elif change.mode in FLAG_MODES or change.mode in "kl":
            modes_changed = True
    if modes_changed:
        reg.modes = snapshot = _mode_snapshot(channel)
        state.write(lambda: store.set_modes(name, snapshot))


def _list_write(
    store: ChannelStore, name: str, kind: ListKind, mask: str, entry: StoredEntry | None
) -> Callable[[], Awaitable[bool]]:
    """The store write adding ``entry`` to (or, None, removing ``mask`` from) a list."""
    if entry is None:
        return lambda: store.remove_list_entry(name, kind, mask)
    return lambda: store.add_list_entry(name, kind, mask, entry.setter, entry.set_at)


async def _load(server: ServerApi) -> None:
    state = state_of(server)
    for stored in await server.store.channels.list():
        state.channels[fold(stored.name)] = Registration.from_store(stored)


async def _drain(server: ServerApi) -> None:
    await state_of(server).drain()


# --- the service -------------------------------------------------------------------
def _say(ctx: Context, text: str) -> None:
    service_notice(ctx, NAME, text)


def _source(ctx: Context) -> str:
    return _service_source(ctx.server)


def _service_source(server: ServerApi) -> str:
    service = find_service(server, NAME)
    assert service is not None
    return service.source(server.name)


def _set_prefix(ctx: Context, channel: Channel, mode: str, on: bool, nick: str) -> bool:
    change = ModeChange(on, mode, nick)
    applied = apply_channel_modes(ctx.server, channel, _source(ctx), [change])
    return bool(applied)


def chanserv(ctx: Context, text: str) -> Awaitable[None] | None:
    words = text.split()
    if not words:
        _say(ctx, "Try: /msg ChanServ HELP")
        return None
    verb = words[0].upper()
    args = words[1:]
    if verb == "HELP":
        _say(ctx, HELP)
        return None
    handler = _VERBS.get(verb)
    if handler is None:
        _say(ctx, f"Unknown command {words[0]}. Try: /msg ChanServ HELP")
        return None
    if not args:
        _say(ctx, f"Syntax: {verb} <#channel> ...  (see /msg ChanServ HELP)")
        return None
    if verb == "TOPIC":
        args = text.split(None, 2)[1:]  # keep the topic's own spacing
    return handler(ctx, args)


def _registered(ctx: Context, name: str) -> Registration | None:
    reg = registration(ctx.server, name)
    if reg is None:
        _say(ctx, f"{name} is not registered.")
    return reg


def _require(ctx: Context, reg: Registration, needed: str) -> bool:
    if ctx.user.account is None:
        _say(ctx, "You are not logged in.")
        return False
    if not reg.allows(ctx.user.account, needed):
        _say(ctx, f"You do not have {needed} access to {reg.name}.")
        return False
    return True


def _register(ctx: Context, args: list[str]) -> Awaitable[None] | None:
    name = args[0]
    account = ctx.user.account
    if account is None:
        _say(ctx, "You must be logged in to register a channel.")
        return None
    if not valid_channel(name, ctx.server.config.limits.channellen):
        _say(ctx, f"{name} is not a valid channel name.")
        return None
    channel = ctx.server.world.find_channel(name)
    if channel is None or not channel.is_op(ctx.user):
        _say(ctx, f"You must be a channel operator in {name} to register it.")
        return None
    state = state_of(ctx.server)
    if channel.folded in state.channels:
        _say(ctx, f"{channel.name} is already registered.")
        return None
    reg = Registration(
        name=channel.name,
        founder=account,
        registered_at=datetime.now(UTC),
        topic=_topic_snapshot(channel),
        modes=_mode_snapshot(channel),
        lists={mode: [_stored_entry(e) for e in channel.lists[mode]] for mode in LIST_MODES},
    )
    state.channels[channel.folded] = reg
    store = ctx.server.store.channels

    async def save() -> None:
        await store.register(reg.name, account)
        if reg.topic is not None:
            await store.set_topic(reg.name, reg.topic)
        await store.set_modes(reg.name, reg.modes)
        for kind in LIST_MODES:
            for entry in reg.lists[kind]:
                await store.add_list_entry(
                    reg.name,
                    cast(ListKind, kind),
                    entry.mask,
                    entry.setter,
                    entry.set_at,
                )

    done = state.write(save)

    async def answer() -> None:
        await asyncio.wait([done])
        if done.exception() is not None:
            if not isinstance(done.exception(), AlreadyExists):
                state.channels.pop(channel.folded, None)
            _say(ctx, f"{reg.name} could not be registered.")
            return
        _say(ctx, f"{reg.name} is now registered to {account}.")

    return answer()


def _info(ctx: Context, args: list[str]) -> None:
    reg = _registered(ctx, args[0])
    if reg is None:
        return
    when = reg.registered_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    _say(
        ctx,
        f"Information on {reg.name}:\n"
        f"Founder    : {reg.founder}\n"
        f"Registered : {when}\n"
        f"Topic lock : {'ON' if reg.topic_lock else 'OFF'}\n"
        f"Access     : {len(reg.access)} account(s)",
    )


def _drop(ctx: Context, args: list[str]) -> Awaitable[None] | None:
    reg = _registered(ctx, args[0])
    if reg is None or not _require(ctx, reg, FOUNDER):
        return None
    state = state_of(ctx.server)
    state.channels.pop(fold(reg.name), None)
    _forget_history_if_empty(ctx.server, reg.name)
    store = ctx.server.store.channels
    done = state.write(lambda: store.drop(reg.name))

    async def answer() -> None:
        await asyncio.wait([done])
        _say(ctx, f"{reg.name} has been dropped.")

    return answer()


def _forget_history_if_empty(server: ServerApi, name: str) -> None:
    """A channel no longer registered keeps history only while it lives:
    if it is empty now, nobody creating it next may read its past."""
    if server.world.find_channel(name) is None:
        server.store.history.forget(name)


def founded_by(server: ServerApi, account: str) -> list[Registration]:
    folded = fold(account)
    return [reg for reg in state_of(server).channels.values() if fold(reg.founder) == folded]


def account_deleted(
    server: ServerApi, account: str, delete: Callable[[], Awaitable[bool]]
) -> asyncio.Future[bool]:
    """An account is being deleted: forget its roles here, drop the
    registrations it founded (empty ones lose their history, live ones are
    told), and run the store's ``delete`` after every earlier ChanServ
    write, so no queued write re-adds what it removes."""
    state = state_of(server)
    for reg in state.channels.values():
        reg.access.pop(fold(account), None)
    for reg in founded_by(server, account):
        del state.channels[fold(reg.name)]
        channel = server.world.find_channel(reg.name)
        if channel is None:
            server.store.history.forget(reg.name)
            continue
        text = f"{reg.name} is no longer registered: its founder's account was deleted."
        deliver(channel.members, _service_source(server), "NOTICE", [reg.name, text])
    return state.write(delete)


def _prefix_verb(mode: str, on: bool) -> Callable[[Context, list[str]], None]:
    def handle(ctx: Context, args: list[str]) -> None:
        reg = _registered(ctx, args[0])
        if reg is None:
            return
        nick = args[1] if len(args) > 1 else ctx.user.nick
        self_target = fold(nick) == ctx.user.folded
        needed = "op" if not self_target or mode == "o" else "voice"
        if not (self_target and not on) and not _require(ctx, reg, needed):
            return
        channel = ctx.server.world.find_channel(reg.name)
        target = ctx.server.world.find_user(nick)
        if channel is None or target is None or target not in channel.members:
            _say(ctx, f"{nick} is not on {reg.name}.")
            return
        if mode == "o" and not on and _kick_guard(ctx, channel, target) is not None:
            _say(ctx, f"{target.nick} is the founder of {reg.name}; only they may do that.")
            return
        if not _set_prefix(ctx, channel, mode, on, target.nick):
            role = "an operator" if mode == "o" else "voiced"
            state = "already" if on else "not"
            _say(ctx, f"{target.nick} is {state} {role} on {channel.name}.")

    return handle


def _access(ctx: Context, args: list[str]) -> Awaitable[None] | None:
    reg = _registered(ctx, args[0])
    if reg is None:
        return None
    action = args[1].upper() if len(args) > 1 else "LIST"
    state = state_of(ctx.server)
    store = ctx.server.store
    if action == "LIST":
        if not _require(ctx, reg, "voice"):
            return None
        lines = [f"Access list of {reg.name}:", f"  {reg.founder} founder"]
        lines += [f"  {name} {level}" for name, level in sorted(reg.access.values())]
        _say(ctx, "\n".join(lines))
        return None
    if action not in ("ADD", "DEL") or len(args) < 3:
        _say(ctx, "Syntax: ACCESS <#channel> ADD <account> op|voice | DEL <account> | LIST")
        return None
    if not _require(ctx, reg, FOUNDER):
        return None
    account_name = args[2]
    if action == "DEL":
        if reg.access.pop(fold(account_name), None) is None:
            _say(ctx, f"{account_name} is not on the access list of {reg.name}.")
            return None
        state.write(lambda: store.channels.set_access(reg.name, account_name, None))
        _say(ctx, f"{account_name} removed from the access list of {reg.name}.")
        return None
    level = args[3].lower() if len(args) > 3 else ""
    if level not in ("op", "voice"):
        _say(ctx, "The level is op or voice.")
        return None

    async def add() -> None:
        account = await store.accounts.get(account_name)
        if account is None:
            _say(ctx, f"There is no account {account_name}.")
            return
        access: AccessLevel = "op" if level == "op" else "voice"
        reg.access[fold(account.name)] = (account.name, access)
        await state.write(lambda: store.channels.set_access(reg.name, account.name, access))
        _say(ctx, f"{account.name} now has {access} access to {reg.name}.")

    return add()


def _topic(ctx: Context, args: list[str]) -> None:
    reg = _registered(ctx, args[0])
    if reg is None:
        return
    if len(args) < 2:
        _say(ctx, "Syntax: TOPIC <#channel> <text> | TOPIC <#channel> LOCK ON|OFF")
        return
    state = state_of(ctx.server)
    store = ctx.server.store.channels
    words = args[1].split()
    if len(words) == 2 and words[0].upper() == "LOCK" and words[1].upper() in ("ON", "OFF"):
        if not _require(ctx, reg, "op"):
            return
        reg.topic_lock = locked = words[1].upper() == "ON"
        state.write(lambda: store.set_topic_lock(reg.name, locked))
        _say(ctx, f"Topic lock for {reg.name} is now {'ON' if locked else 'OFF'}.")
        return
    if not _require(ctx, reg, "op"):
        return
    channel = ctx.server.world.find_channel(reg.name)
    if channel is None:
        _say(ctx, f"{reg.name} is empty; join it first.")
        return
    set_topic(ctx, channel, args[1], _source(ctx))


_VERBS: dict[str, Callable[[Context, list[str]], Awaitable[None] | None]] = {
    "REGISTER": _register,
    "INFO": _info,
    "DROP": _drop,
    "OP": _prefix_verb("o", True),
    "DEOP": _prefix_verb("o", False),
    "VOICE": _prefix_verb("v", True),
    "DEVOICE": _prefix_verb("v", False),
    "ACCESS": _access,
    "TOPIC": _topic,
}


def install(server: ServerApi, add: Callable[[object], None]) -> None:
    """The ChanServ feature: the service, its state, and its hooks."""
    add(ChanServState(server))
    hooks = server.hooks
    register_service(server, NAME, chanserv, "channel registration and roles")
    hooks.channel_create.append(_on_create)
    hooks.joined.append(_on_join)
    hooks.topic_guards.append(_topic_guard)
    hooks.kick_guards.append(_kick_guard)
    hooks.mode_filters.append(_protect_founder_modes)
    hooks.join_exemptions.append(_founder_may_join)
    hooks.topic_changed.append(_on_topic)
    hooks.modes_changed.append(_on_modes)
    hooks.startup.append(_load)
    hooks.shutdown.append(_drain)
