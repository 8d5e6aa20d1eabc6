"""NickServ's commands for one account on many devices (issue 16):

    /msg NickServ SESSIONS
    /msg NickServ SET MULTICLIENT ON|OFF
    /msg NickServ SET ALWAYS-ON ON|OFF

The settings are kept in the store (``[accounts] multiclient`` and
``always_on`` decide what an account that never chose gets)."""

from __future__ import annotations

import time
from dataclasses import replace

from hubbub.protocol.casemap import fold
from hubbub.server import always_on, multiclient
from hubbub.server.api import Context
from hubbub.server.presence_writer import PresenceWriter
from hubbub.server.services import service_notice
from hubbub.server.state import User

NICKSERV = "NickServ"
OPTIONS = ("MULTICLIENT", "ALWAYS-ON")
_ON_OFF = {"ON": True, "OFF": False}


def _say(ctx: Context, text: str) -> None:
    service_notice(ctx, NICKSERV, text)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m"


def sessions(ctx: Context, args: list[str]) -> None:
    """SESSIONS: the account's connections (device, address, idle, since)."""
    account = ctx.user.account
    if account is None:
        _say(ctx, "You are not logged in. Use IDENTIFY first.")
        return
    conns = sorted(ctx.server.world.logged_in(account), key=lambda u: u.connection_id)
    now = time.time()
    lines = [f"Connections logged in to {account}: {len(conns)}"]
    for number, conn in enumerate(conns, 1):
        user = conn.owner or conn
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(conn.signon))
        here = " (this one)" if conn is ctx.conn else ""
        lines.append(
            f"{number}. {user.nick}  device: {conn.device_id or '-'}  address: {conn.ip}"
            f"  idle: {_duration(now - conn.last_active)}  connected since: {since}{here}"
        )
    user = ctx.user
    if user.devices is not None and not user.devices:
        lines.append("No device is connected.")
    _say(ctx, "\n".join(lines))


def set_option(ctx: Context, args: list[str]) -> None:
    """SET MULTICLIENT|ALWAYS-ON ON|OFF."""
    option = args[0].upper()
    value = _ON_OFF.get(args[1].upper()) if len(args) == 2 else None
    if value is None:
        _say(ctx, f"Syntax: SET {option} ON|OFF")
        return
    account = ctx.user.account
    if account is None:
        _say(ctx, "You are not logged in. Use IDENTIFY first.")
        return
    server = ctx.server
    policy = server.config.accounts.always_on
    if option == "ALWAYS-ON" and policy in ("disabled", "mandatory"):
        _say(ctx, f"ALWAYS-ON cannot be changed: it is {policy} on this server.")
        return
    if option == "MULTICLIENT" and not server.config.accounts.multiclient:
        _say(ctx, "MULTICLIENT cannot be changed: it is off on this server.")
        return
    options = server.feature(multiclient.AccountOptions)
    current = options.get(account)
    if option == "MULTICLIENT":
        settings = replace(current, multiclient=value)
    else:
        settings = replace(current, always_on=value)
    options.settings[fold(account)] = settings
    presence = server.store.presence
    server.feature(PresenceWriter).submit(
        ("settings", fold(account)), lambda: presence.set_settings(account, settings)
    )
    if option == "ALWAYS-ON":
        _always_on_changed(ctx, ctx.user)
    _say(ctx, f"{option} is now {'ON' if value else 'OFF'} for {account}.")


def _always_on_changed(ctx: Context, user: User) -> None:
    if multiclient.always_on(ctx.server, user.account):
        multiclient.make_shared(ctx)
        always_on.save(ctx.server, user)
    else:
        always_on.forget(ctx.server, user)
