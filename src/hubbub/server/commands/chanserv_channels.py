"""Registered channels: ChanServ's state, kept in step with the store.

Every change to a registered channel (topic, modes, key and limit, list
entries, access) is written to the store as it happens, in order, by one
writer per server; when the first person joins a registered channel that is
empty, its state is restored. The founder, while logged in to the founding
account, is protected: nobody else may kick, deop or ban them, and they
join their channel past +i, +k, +l and +b. The service verbs that people
send ChanServ are in ``chanserv.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import fold
from hubbub.protocol.integers import ascii_int
from hubbub.server import actions
from hubbub.server.api import Context, ModeChange
from hubbub.server.mode_changes import normalize_list_mask
from hubbub.server.services import find_service, service_notice
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
        # folded names with writes not yet made: their copy here is newer
        # than the store's (a cluster node reading the store again keeps it)
        self.pending: Counter[str] = Counter()

    def write(self, names: Iterable[str], op: Callable[[], Awaitable[Any]]) -> asyncio.Future[Any]:
        """Run a store write (to the registrations of the channels ``names``)
        after every earlier one; the returned future gives its result (or
        exception). Nothing on the caller's path waits. Once it is written,
        the ``registration_written`` hooks hear of each channel (a cluster's
        other nodes read it again)."""
        previous = self._last
        server = self.server
        written = list(names)
        folded = [fold(name) for name in written]
        pending = self.pending
        pending.update(folded)

        async def run() -> Any:
            try:
                if previous is not None:
                    await asyncio.wait([previous])
                result = await op()
            finally:
                pending.subtract(folded)
                for key in folded:
                    if pending[key] <= 0:
                        del pending[key]
            for name in written:
                for hook in server.hooks.registration_written:
                    hook(server, name)
            return result

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
def mode_snapshot(channel: Channel) -> str:
    flags, params = channel.mode_string(reveal_key=True)
    return " ".join([flags, *params])


def topic_snapshot(channel: Channel) -> Topic | None:
    if not channel.topic:
        return None
    return Topic(channel.topic, channel.topic_by, datetime.fromtimestamp(channel.topic_at, UTC))


def stored_entry(entry: ListEntry) -> StoredEntry:
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
    set_prefix(ctx, channel, mode, True, ctx.user.nick)


# --- founder protection --------------------------------------------------------------
FOUNDER_PROTECTED = "Cannot do that to the channel founder"


def _is_founder(server: ServerApi, channel: Channel, user: User) -> bool:
    reg = registration(server, channel.name)
    return reg is not None and reg.role(user.account) == FOUNDER


def _founder_may_join(ctx: Context, channel: Channel) -> bool:
    return _is_founder(ctx.server, channel, ctx.user)


def kick_guard(ctx: Context, channel: Channel, target: User) -> str | None:
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
    reg.topic = topic_snapshot(channel)
    store = ctx.server.store.channels
    name, topic = reg.name, reg.topic
    state.write([name], lambda: store.set_topic(name, topic))


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
            state.write(
                [name], _list_write(store, name, kind, mask, entry if change.adding else None)
            )
        elif change.mode in FLAG_MODES or change.mode in "kl":
            modes_changed = True
    if modes_changed:
        reg.modes = snapshot = mode_snapshot(channel)
        state.write([name], lambda: store.set_modes(name, snapshot))


def _list_write(
    store: ChannelStore, name: str, kind: ListKind, mask: str, entry: StoredEntry | None
) -> Callable[[], Awaitable[bool]]:
    """The store write adding ``entry`` to (or, None, removing ``mask`` from) a list."""
    if entry is None:
        return lambda: store.remove_list_entry(name, kind, mask)
    return lambda: store.add_list_entry(name, kind, mask, entry.setter, entry.set_at)


def _rename_guard(ctx: Context, channel: Channel, new: str) -> str | None:
    """A registered channel is renamed by its founder or an IRC operator,
    and never onto another registration's name."""
    state = state_of(ctx.server)
    taken = state.channels.get(fold(new))
    if taken is not None and fold(new) != channel.folded:
        return f"{new} is registered with {NAME}"
    reg = state.channels.get(channel.folded)
    if reg is None or ctx.user.is_oper or reg.role(ctx.user.account) == FOUNDER:
        return None
    return f"Only the founder may rename a channel registered with {NAME}"


def _on_rename(server: ServerApi, channel: Channel, old: str) -> None:
    state = state_of(server)
    reg = state.channels.pop(fold(old), None)
    if reg is None:
        return
    reg.name = channel.name
    state.channels[channel.folded] = reg
    store = server.store.channels
    new = channel.name
    state.write([old, new], lambda: store.rename(old, new))


async def _load(server: ServerApi) -> None:
    state = state_of(server)
    for stored in await server.store.channels.list():
        state.channels[fold(stored.name)] = Registration.from_store(stored)


async def _drain(server: ServerApi) -> None:
    await state_of(server).drain()


# --- speaking as ChanServ -------------------------------------------------------------
def say(ctx: Context, text: str) -> None:
    service_notice(ctx, NAME, text)


def source_of(ctx: Context) -> str:
    return service_source(ctx.server)


def service_source(server: ServerApi) -> str:
    service = find_service(server, NAME)
    assert service is not None
    return service.source(server.name)


def set_prefix(ctx: Context, channel: Channel, mode: str, on: bool, nick: str) -> bool:
    change = ModeChange(on, mode, nick)
    applied = actions.set_modes(ctx.server, channel, source_of(ctx), [change])
    return bool(applied)


def install_sync(server: ServerApi, add: Callable[[object], None]) -> None:
    """The registered channels' state and the hooks that keep it and the store in step."""
    add(ChanServState(server))
    hooks = server.hooks
    hooks.channel_create.append(_on_create)
    hooks.joined.append(_on_join)
    hooks.topic_guards.append(_topic_guard)
    hooks.kick_guards.append(kick_guard)
    hooks.mode_filters.append(_protect_founder_modes)
    hooks.join_exemptions.append(_founder_may_join)
    hooks.topic_changed.append(_on_topic)
    hooks.rename_guards.append(_rename_guard)
    hooks.channel_renamed.append(_on_rename)
    hooks.modes_changed.append(_on_modes)
    hooks.startup.append(_load)
    hooks.shutdown.append(_drain)
