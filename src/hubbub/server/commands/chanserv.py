"""ChanServ: channel registration and roles.

A channel operator who is logged in registers a channel; their account is
its founder. The founder grants ``op`` or ``voice`` to accounts; people with
access get ``@``/``+`` when they join (or ask ChanServ). A registered channel
keeps its topic, modes (key and limit too), bans, exceptions, invite
exceptions and access list across restarts (``chanserv_channels.py`` keeps
that state in step with the store and protects founders).

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
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from hubbub.protocol.casemap import fold, valid_channel
from hubbub.server import actions
from hubbub.server.api import Context
from hubbub.server.commands.chanserv_channels import (
    FOUNDER,
    NAME,
    Registration,
    install_sync,
    kick_guard,
    mode_snapshot,
    registration,
    say,
    service_source,
    set_prefix,
    source_of,
    state_of,
    stored_entry,
    topic_snapshot,
)
from hubbub.server.delivery import deliver
from hubbub.server.services import register_service
from hubbub.server.state import (
    LIST_MODES,
)
from hubbub.store import (
    AccessLevel,
    AlreadyExists,
    ListKind,
)

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

log = logging.getLogger(__name__)


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


def chanserv(ctx: Context, text: str) -> Awaitable[None] | None:
    words = text.split()
    if not words:
        say(ctx, "Try: /msg ChanServ HELP")
        return None
    verb = words[0].upper()
    args = words[1:]
    if verb == "HELP":
        say(ctx, HELP)
        return None
    handler = _VERBS.get(verb)
    if handler is None:
        say(ctx, f"Unknown command {words[0]}. Try: /msg ChanServ HELP")
        return None
    if not args:
        say(ctx, f"Syntax: {verb} <#channel> ...  (see /msg ChanServ HELP)")
        return None
    if verb == "TOPIC":
        args = text.split(None, 2)[1:]  # keep the topic's own spacing
    return handler(ctx, args)


def _registered(ctx: Context, name: str) -> Registration | None:
    reg = registration(ctx.server, name)
    if reg is None:
        say(ctx, f"{name} is not registered.")
    return reg


def _require(ctx: Context, reg: Registration, needed: str) -> bool:
    if ctx.user.account is None:
        say(ctx, "You are not logged in.")
        return False
    if not reg.allows(ctx.user.account, needed):
        say(ctx, f"You do not have {needed} access to {reg.name}.")
        return False
    return True


def _register(ctx: Context, args: list[str]) -> Awaitable[None] | None:
    name = args[0]
    account = ctx.user.account
    if account is None:
        say(ctx, "You must be logged in to register a channel.")
        return None
    if not valid_channel(name, ctx.server.config.limits.channellen):
        say(ctx, f"{name} is not a valid channel name.")
        return None
    channel = ctx.server.world.find_channel(name)
    if channel is None or not channel.is_op(ctx.user):
        say(ctx, f"You must be a channel operator in {name} to register it.")
        return None
    state = state_of(ctx.server)
    if channel.folded in state.channels:
        say(ctx, f"{channel.name} is already registered.")
        return None
    reg = Registration(
        name=channel.name,
        founder=account,
        registered_at=datetime.now(UTC),
        topic=topic_snapshot(channel),
        modes=mode_snapshot(channel),
        lists={mode: [stored_entry(e) for e in channel.lists[mode]] for mode in LIST_MODES},
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

    done = state.write([reg.name], save)

    async def answer() -> None:
        await asyncio.wait([done])
        if done.exception() is not None:
            if not isinstance(done.exception(), AlreadyExists):
                state.channels.pop(channel.folded, None)
            say(ctx, f"{reg.name} could not be registered.")
            return
        say(ctx, f"{reg.name} is now registered to {account}.")

    return answer()


def _info(ctx: Context, args: list[str]) -> None:
    reg = _registered(ctx, args[0])
    if reg is None:
        return
    when = reg.registered_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    say(
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
    done = state.write([reg.name], lambda: store.drop(reg.name))

    async def answer() -> None:
        await asyncio.wait([done])
        say(ctx, f"{reg.name} has been dropped.")

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
    touched = []
    for reg in state.channels.values():
        if reg.access.pop(fold(account), None) is not None:
            touched.append(reg.name)
    for reg in founded_by(server, account):
        del state.channels[fold(reg.name)]
        touched.append(reg.name)
        channel = server.world.find_channel(reg.name)
        if channel is None:
            server.store.history.forget(reg.name)
            continue
        text = f"{reg.name} is no longer registered: its founder's account was deleted."
        deliver(channel.members, service_source(server), "NOTICE", [reg.name, text])
    return state.write(touched, delete)


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
            say(ctx, f"{nick} is not on {reg.name}.")
            return
        if mode == "o" and not on and kick_guard(ctx, channel, target) is not None:
            say(ctx, f"{target.nick} is the founder of {reg.name}; only they may do that.")
            return
        if not set_prefix(ctx, channel, mode, on, target.nick):
            role = "an operator" if mode == "o" else "voiced"
            state = "already" if on else "not"
            say(ctx, f"{target.nick} is {state} {role} on {channel.name}.")

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
        say(ctx, "\n".join(lines))
        return None
    if action not in ("ADD", "DEL") or len(args) < 3:
        say(ctx, "Syntax: ACCESS <#channel> ADD <account> op|voice | DEL <account> | LIST")
        return None
    if not _require(ctx, reg, FOUNDER):
        return None
    account_name = args[2]
    if action == "DEL":
        if reg.access.pop(fold(account_name), None) is None:
            say(ctx, f"{account_name} is not on the access list of {reg.name}.")
            return None
        state.write([reg.name], lambda: store.channels.set_access(reg.name, account_name, None))
        say(ctx, f"{account_name} removed from the access list of {reg.name}.")
        return None
    level = args[3].lower() if len(args) > 3 else ""
    if level not in ("op", "voice"):
        say(ctx, "The level is op or voice.")
        return None

    async def add() -> None:
        account = await store.accounts.get(account_name)
        if account is None:
            say(ctx, f"There is no account {account_name}.")
            return
        access: AccessLevel = "op" if level == "op" else "voice"
        reg.access[fold(account.name)] = (account.name, access)
        await state.write(
            [reg.name], lambda: store.channels.set_access(reg.name, account.name, access)
        )
        say(ctx, f"{account.name} now has {access} access to {reg.name}.")

    return add()


def _topic(ctx: Context, args: list[str]) -> None:
    reg = _registered(ctx, args[0])
    if reg is None:
        return
    if len(args) < 2:
        say(ctx, "Syntax: TOPIC <#channel> <text> | TOPIC <#channel> LOCK ON|OFF")
        return
    state = state_of(ctx.server)
    store = ctx.server.store.channels
    words = args[1].split()
    if len(words) == 2 and words[0].upper() == "LOCK" and words[1].upper() in ("ON", "OFF"):
        if not _require(ctx, reg, "op"):
            return
        reg.topic_lock = locked = words[1].upper() == "ON"
        state.write([reg.name], lambda: store.set_topic_lock(reg.name, locked))
        say(ctx, f"Topic lock for {reg.name} is now {'ON' if locked else 'OFF'}.")
        return
    if not _require(ctx, reg, "op"):
        return
    channel = ctx.server.world.find_channel(reg.name)
    if channel is None:
        say(ctx, f"{reg.name} is empty; join it first.")
        return
    actions.set_topic(ctx, channel, args[1], source_of(ctx))


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
    """The ChanServ feature: registered channels kept in step, and the service."""
    install_sync(server, add)
    register_service(server, NAME, chanserv, "channel registration and roles")
