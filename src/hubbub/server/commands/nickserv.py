"""NickServ: accounts by private message, for clients without SASL or REGISTER.

    /msg NickServ REGISTER <password> [email]
    /msg NickServ IDENTIFY [account] <password>
    /msg NickServ INFO [account]
    /msg NickServ GHOST <nick>
    /msg NickServ SET PASSWORD <current password> <new password>
    /msg NickServ SET MULTICLIENT|ALWAYS-ON ON|OFF, SESSIONS (nickserv_devices)
    /msg NickServ CERT ADD [fingerprint] | CERT DEL <fingerprint> | CERT LIST
    /msg NickServ DROP <account> <password>
    /msg NickServ HELP [command]

Every answer is a NOTICE from NickServ. Commands carrying a password obey
:mod:`hubbub.server.password_guard` (TLS or loopback only, throttled,
bounded hashing); neither they nor their arguments are ever logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from hubbub.protocol.casemap import fold
from hubbub.server import actions, multiclient, nick_protection, password_guard
from hubbub.server.api import Context, ServerApi
from hubbub.server.commands import chanserv, nickserv_devices
from hubbub.server.commands.account_registration import check_password, create_account
from hubbub.server.hash_gate import HashRefused
from hubbub.server.remote import is_remote
from hubbub.server.services import register_service, service_notice
from hubbub.server.state import User
from hubbub.store import Account, AlreadyExists, NotFound

log = logging.getLogger(__name__)

NICKSERV = "NickServ"

Subcommand = Callable[[Context, list[str]], Awaitable[None] | None]

HELP: dict[str, str] = {
    "REGISTER": (
        "REGISTER <password> [email]\n"
        "Registers your current nick as an account and logs you in. The nick is then\n"
        "protected: anyone else using it without logging in is renamed. Passwords need\n"
        "a minimum length (8 characters unless the server sets another). Clients that\n"
        "support it can use the REGISTER command\n"
        "(draft/account-registration) instead."
    ),
    "IDENTIFY": (
        "IDENTIFY [account] <password>\n"
        "Logs you in to an account (by default the one named like your nick).\n"
        "Better: let your client log in with SASL when it connects (PLAIN over TLS,\n"
        "SCRAM-SHA-256, or EXTERNAL with a client certificate)."
    ),
    "INFO": (
        "INFO [account]\n"
        "Shows when an account was registered; to the account itself and to operators\n"
        "also who is logged in to it."
    ),
    "GHOST": (
        "GHOST <nick>\n"
        "Disconnects a connection using <nick> when that nick is your account's name or\n"
        "is logged in to your account, e.g. your own stale connection."
    ),
    "SET": (
        "SET PASSWORD <current password> <new password>\n"
        "Changes your account's password.\n"
        "SET MULTICLIENT ON|OFF\n"
        "Whether connections logged in to your account that use its nick share one\n"
        "user (one nick, the same channels) or are refused the nick.\n"
        "SET ALWAYS-ON ON|OFF\n"
        "Whether your user stays on the network, in its channels and receiving\n"
        "messages, when no device is connected (shown away meanwhile)."
    ),
    "SESSIONS": (
        "SESSIONS\n"
        "Lists the connections logged in to your account: device name, address,\n"
        "idle time and when each connected."
    ),
    "CERT": (
        "CERT ADD [fingerprint] | CERT DEL <fingerprint> | CERT LIST\n"
        "Manages the TLS client certificates that log you in with SASL EXTERNAL.\n"
        "CERT ADD adds the certificate you are connected with (a fingerprint given\n"
        "must be its own). Fingerprints are SHA-256, e.g. from:\n"
        "openssl x509 -noout -fingerprint -sha256 -in cert.pem"
    ),
    "DROP": (
        "DROP <account> <password>\n"
        "Deletes your account (give its name and password to confirm), with its\n"
        "private history (both sides of each conversation), its channel access, and\n"
        "the registrations of the channels it founded: those channels are dropped.\n"
        "Everyone logged in to it is logged out and the nick is no longer protected.\n"
        "Operators may give just the account name. This cannot be undone."
    ),
    "LOGOUT": "LOGOUT\nLogs you out of your account.",
    "HELP": "HELP [command]\nLists the commands, or explains one.",
}

SUMMARY = {
    "REGISTER": "Register your current nick as an account",
    "IDENTIFY": "Log in to your account",
    "LOGOUT": "Log out",
    "INFO": "Show information about an account",
    "GHOST": "Disconnect a connection that uses your nick",
    "SET": "Change your password, MULTICLIENT or ALWAYS-ON",
    "SESSIONS": "List the connections logged in to your account",
    "CERT": "Manage client certificates for SASL EXTERNAL",
    "DROP": "Delete your account",
    "HELP": "Show this help, or HELP <command>",
}


def _say(ctx: Context, text: str) -> None:
    service_notice(ctx, NICKSERV, text)


def _need_login(ctx: Context) -> str | None:
    account = ctx.user.account
    if account is None:
        _say(ctx, "You are not logged in. Use IDENTIFY first.")
    return account


def handle(ctx: Context, text: str) -> Awaitable[None] | None:
    words = text.split()
    if not words:
        _help(ctx, [])
        return None
    name = words[0].upper()
    handler = _COMMANDS.get(name)
    if handler is None:
        _say(ctx, f"Unknown command {words[0]}. Type /msg {NICKSERV} HELP for a list of commands.")
        return None
    return handler(ctx, words[1:])


# --- commands --------------------------------------------------------------------


def _help(ctx: Context, args: list[str]) -> None:
    if args:
        topic = args[0].upper()
        text = HELP.get(topic)
        if text is None:
            _say(ctx, f"No help for {args[0]}. Type /msg {NICKSERV} HELP for a list of commands.")
            return
        _say(ctx, text)
        return
    lines = [
        f"{NICKSERV} keeps accounts. A registered nick is protected: others using it",
        "without logging in are renamed. Commands:",
    ]
    lines += [f"  {name:<9} {summary}" for name, summary in SUMMARY.items()]
    lines.append(f"Type /msg {NICKSERV} HELP <command> for details.")
    _say(ctx, "\n".join(lines))


def _register(ctx: Context, args: list[str]) -> Awaitable[None] | None:
    if not args or len(args) > 2:
        _say(ctx, "Syntax: REGISTER <password> [email]")
        return None
    return _do_register(ctx, args[0], args[1] if len(args) > 1 else None)


async def _do_register(ctx: Context, password: str, email: str | None) -> None:
    nick = ctx.user.nick
    refusal = await create_account(ctx, nick, email, password)
    if refusal is not None:
        _say(ctx, f"Registration failed: {refusal.text}.")
        return
    _say(ctx, f"The account {nick} is registered and you are logged in. Keep your password safe.")


def _identify(ctx: Context, args: list[str]) -> Awaitable[None] | None:
    if len(args) == 1:
        return _do_identify(ctx, ctx.user.nick, args[0])
    if len(args) == 2:
        return _do_identify(ctx, args[0], args[1])
    _say(ctx, "Syntax: IDENTIFY [account] <password>")
    return None


async def _do_identify(ctx: Context, name: str, password: str) -> None:
    if ctx.user.account is not None:
        _say(ctx, f"You are already logged in as {ctx.user.account}.")
        return
    account = await _check_password(ctx, name, password)
    if account is None or ctx.user.account is not None:
        return
    actions.login(ctx, account.name)
    _say(ctx, f"You are now logged in as {account.name}.")


async def _check_password(ctx: Context, name: str, password: str) -> Account | None:
    """The account if ``password`` opens it; None, the user told why, if the
    connection may not carry passwords, is throttled, or the password is wrong.
    Nothing the user typed is logged: swapped arguments put the password
    where the account name belongs."""
    if not password_guard.password_allowed(ctx):
        _say(ctx, f"Refused: {password_guard.PLAINTEXT_REFUSAL}.")
        return None
    attempt = password_guard.begin_login(ctx, name)
    if isinstance(attempt, str):
        _say(ctx, f"Refused: {attempt}.")
        return None
    try:
        async with password_guard.hashing(ctx):
            account = await ctx.server.store.accounts.verify_password(name, password)
    except HashRefused as exc:
        attempt.give_back()
        _say(ctx, f"Refused: {exc}.")
        return None
    if account is None:
        log.info("failed NickServ password check from %s", ctx.user.ip)
        _say(ctx, "Invalid account name or password.")
        return None
    attempt.give_back()
    return account


def _logout(ctx: Context, args: list[str]) -> None:
    if _need_login(ctx) is None:
        return
    if ctx.conn.owner is not None:  # one device of a user several share
        multiclient.leave_as_guest(ctx, "Logged out")
        _say(
            ctx,
            f"You are now logged out; this connection goes on as {ctx.user.nick}. "
            "The account's other devices stay logged in.",
        )
        return
    actions.logout(ctx)
    _say(ctx, "You are now logged out.")
    nick_protection.check(ctx)


def _logged_in(ctx: Context, account: str) -> list[User]:
    folded = fold(account)
    return [
        u
        for u in ctx.server.world.users.values()
        if u.registered and u.account is not None and fold(u.account) == folded
    ]


def _info(ctx: Context, args: list[str]) -> Awaitable[None] | None:
    name = args[0] if args else (ctx.user.account or ctx.user.nick)
    return _do_info(ctx, name)


async def _do_info(ctx: Context, name: str) -> None:
    account = await ctx.server.store.accounts.get(name)
    if account is None:
        _say(ctx, f"{name} is not registered.")
        return
    own = ctx.user.account is not None and fold(ctx.user.account) == fold(account.name)
    lines = [
        f"Account: {account.name}",
        f"Registered: {account.registered_at.strftime('%Y-%m-%d %H:%M:%S UTC')}",
    ]
    if own or ctx.user.is_oper:  # who is online as whom is the account's own business
        online = [u.nick for u in _logged_in(ctx, account.name)]
        lines.append("Logged in now: " + (", ".join(online) if online else "nobody"))
        lines.append(f"Email: {account.email or 'none'}")
        fingerprints = await ctx.server.store.accounts.list_certfps(account.name)
        lines.append(f"Client certificates: {len(fingerprints)}")
    _say(ctx, "\n".join(lines))


def _ghost(ctx: Context, args: list[str]) -> None:
    if len(args) != 1:
        _say(ctx, "Syntax: GHOST <nick>")
        return
    account = _need_login(ctx)
    if account is None:
        return
    target = ctx.server.world.find_user(args[0])
    if target is None or not target.registered:
        _say(ctx, f"{args[0]} is not online.")
        return
    if target is ctx.user:
        _say(ctx, "You cannot ghost yourself.")
        return
    mine = fold(target.nick) == fold(account) or (
        target.account is not None and fold(target.account) == fold(account)
    )
    if not mine:
        _say(ctx, f"{target.nick} is not your nick and not logged in to your account.")
        return
    reason = f"GHOST command used by {ctx.user.nick}"
    ctx.server.disconnect(target, reason, quit_message=reason)
    _say(ctx, f"{target.nick} has been disconnected.")


def _set(ctx: Context, args: list[str]) -> Awaitable[None] | None:
    if args and args[0].upper() in nickserv_devices.OPTIONS:
        nickserv_devices.set_option(ctx, args)
        return None
    if len(args) != 3 or args[0].upper() != "PASSWORD":
        _say(ctx, "Syntax: SET PASSWORD <current password> <new password>")
        return None
    account = _need_login(ctx)
    if account is None:
        return None
    refusal = check_password(ctx.server.config, args[2])
    if refusal is not None:
        _say(ctx, f"Password not changed: {refusal.text}.")
        return None
    return _do_set_password(ctx, account, args[1], args[2])


async def _do_set_password(ctx: Context, account: str, current: str, new: str) -> None:
    """The current password is asked for, so that a session left logged in
    (or taken over) cannot lock the owner out of the account."""
    if await _check_password(ctx, account, current) is None:
        return
    try:
        async with password_guard.hashing(ctx):
            await ctx.server.store.accounts.set_password(account, new)
    except HashRefused as exc:
        _say(ctx, f"Password not changed: {exc}.")
        return
    except NotFound:
        _say(ctx, f"The account {account} no longer exists.")
        return
    _say(ctx, "Your password has been changed.")


def _cert(ctx: Context, args: list[str]) -> Awaitable[None] | None:
    sub = args[0].upper() if args else ""
    if sub not in ("ADD", "DEL", "LIST") or (sub == "DEL" and len(args) != 2):
        _say(ctx, "Syntax: CERT ADD [fingerprint] | CERT DEL <fingerprint> | CERT LIST")
        return None
    account = _need_login(ctx)
    if account is None:
        return None
    if sub == "LIST":
        return _cert_list(ctx, account)
    if sub == "DEL":
        return _cert_del(ctx, account, args[1])
    # Only the certificate this connection proves it holds: linking any other
    # fingerprint would let whoever holds that certificate into the account.
    fingerprint = ctx.user.certfp
    if fingerprint is None:
        _say(ctx, "You are not connected with a TLS client certificate; connect with it first.")
        return None
    if len(args) > 1 and not _same_fingerprint(args[1], fingerprint):
        _say(ctx, "Not added: that is not the certificate you are connected with.")
        return None
    return _cert_add(ctx, account, fingerprint)


def _same_fingerprint(given: str, held: str) -> bool:
    """``held`` is lower-case hex; ``given`` may have colons and capitals."""
    return given.replace(":", "").strip().lower() == held


async def _cert_list(ctx: Context, account: str) -> None:
    fingerprints = await ctx.server.store.accounts.list_certfps(account)
    if not fingerprints:
        _say(ctx, f"No client certificates are linked to {account}.")
        return
    _say(ctx, "\n".join([f"Client certificates of {account}:", *fingerprints]))


async def _cert_add(ctx: Context, account: str, fingerprint: str) -> None:
    try:
        await ctx.server.store.accounts.add_certfp(account, fingerprint)
    except ValueError as exc:
        _say(ctx, f"Not added: {exc}.")
        return
    except AlreadyExists:
        _say(ctx, "That certificate is already linked to an account.")
        return
    except NotFound:
        _say(ctx, f"The account {account} no longer exists.")
        return
    _say(ctx, f"Added {fingerprint.replace(':', '').lower()} to {account}.")


async def _cert_del(ctx: Context, account: str, fingerprint: str) -> None:
    try:
        removed = await ctx.server.store.accounts.remove_certfp(account, fingerprint)
    except ValueError as exc:
        _say(ctx, f"Not removed: {exc}.")
        return
    if removed:
        _say(ctx, f"Removed {fingerprint} from {account}.")
    else:
        _say(ctx, f"{fingerprint} is not linked to {account}.")


def _drop(ctx: Context, args: list[str]) -> Awaitable[None] | None:
    if ctx.user.is_oper and len(args) == 1:
        return _do_drop(ctx, args[0])
    account = _need_login(ctx)
    if account is None:
        return None
    if len(args) != 2 or fold(args[0]) != fold(account):
        _say(ctx, f"To delete your account, type: /msg {NICKSERV} DROP {account} <password>")
        return None
    return _check_and_drop(ctx, account, args[1])


async def _check_and_drop(ctx: Context, account: str, password: str) -> None:
    if await ctx.server.store.accounts.verify_password(account, password) is None:
        log.info("failed DROP for %s from %s", account, ctx.user.ip)
        _say(ctx, "Invalid password; the account was not deleted.")
        return
    await _do_drop(ctx, account)


async def _do_drop(ctx: Context, account: str) -> None:
    """Log everyone out of it first (nothing more is filed under it), then
    delete it with all that names it (store.AccountStore.delete)."""
    server = ctx.server
    found = await server.store.accounts.get(account)
    if found is None:
        _say(ctx, f"The account {account} does not exist.")
        return
    name = found.name
    founded = [reg.name for reg in chanserv.founded_by(server, name)]
    for user in _logged_in(ctx, name):
        if not is_remote(user):  # a user of another node: its node logs it out
            actions.logout(Context(server, user))
    deleting = chanserv.account_deleted(server, name, lambda: server.store.accounts.delete(name))
    if not await deleting:
        _say(ctx, f"The account {name} does not exist.")
        return
    log.info("account %s dropped by %s", name, ctx.user.nick)
    for hook in server.hooks.account_dropped:
        hook(server, name)
    dropped = f" Channel registrations dropped: {', '.join(founded)}." if founded else ""
    _say(
        ctx,
        f"The account {name} has been deleted, with its private history and channel "
        f"access.{dropped}",
    )


_COMMANDS: dict[str, Subcommand] = {
    "HELP": _help,
    "REGISTER": _register,
    "IDENTIFY": _identify,
    "LOGIN": _identify,
    "LOGOUT": _logout,
    "INFO": _info,
    "GHOST": _ghost,
    "SET": _set,
    "SESSIONS": nickserv_devices.sessions,
    "CERT": _cert,
    "DROP": _drop,
}


def install(server: ServerApi) -> None:
    """The NickServ service."""
    register_service(server, NICKSERV, handle, "Accounts: REGISTER, IDENTIFY, CERT, GHOST")
