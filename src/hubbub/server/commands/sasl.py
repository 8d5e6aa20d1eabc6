"""SASL 3.2 (https://ircv3.net/specs/extensions/sasl-3.2): the AUTHENTICATE command.

Mechanisms: PLAIN (refused on plaintext connections except from loopback
unless ``accounts.plaintext_sasl``), EXTERNAL (the TLS client certificate's
SHA-256 fingerprint, bound with NickServ CERT ADD) and SCRAM-SHA-256
(RFC 5802 / RFC 7677, from the keys the store keeps, so the password never
crosses the wire). Every success goes through :func:`actions.login`.

Before registration, AUTHENTICATE first checks what registration would: the
connection password (464) and the K-lines (465). Every attempt is throttled
per account and per IP (:mod:`hubbub.server.password_guard`): a throttled
attempt ends in 904 with the time to wait.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import fold
from hubbub.protocol.message import Message
from hubbub.protocol.saslprep import saslprep
from hubbub.server import actions, password_guard
from hubbub.server.api import Context, ServerApi
from hubbub.server.capabilities import register_capability
from hubbub.server.commands.registration import admission_refused
from hubbub.server.commands.registry import command
from hubbub.server.device_names import split_device
from hubbub.server.hash_gate import HashRefused
from hubbub.server.state import User
from hubbub.store import ScramCredentials

MECHANISMS = ("PLAIN", "EXTERNAL", "SCRAM-SHA-256")
CHUNK = 400  # bytes of base64 per AUTHENTICATE line
MAX_RESPONSE = 8192  # decoded bytes a client response may total
# Fake SCRAM keys for unknown accounts, so the exchange looks the same.
_FAKE_KEY = secrets.token_bytes(32)

register_capability("sasl", lambda: ",".join(MECHANISMS))


@dataclass(slots=True)
class Session:
    mechanism: str
    buffer: str = ""
    step: int = 0
    # SCRAM state
    account: str | None = None
    credentials: ScramCredentials | None = None
    nonce: str = ""
    gs2_header: str = ""
    auth_prefix: str = ""  # client-first-bare "," server-first
    server_signature: bytes = b""
    known: bool = False
    attempt: password_guard.Attempt | None = None  # the throttle tokens taken


class Exchanges(dict[User, Session]):
    """One server's in-progress exchanges by user. Ended on success,
    failure, abort or registration; entries of users that vanished are
    pruned on the next start."""


def _exchanges(ctx: Context) -> Exchanges:
    return ctx.server.feature(Exchanges)


def _prune(ctx: Context) -> None:
    connections = ctx.server.world.connections
    exchanges = _exchanges(ctx)
    for user in [u for u in exchanges if u not in connections]:
        del exchanges[user]


def _send_challenge(ctx: Context, data: bytes) -> None:
    """Send a server challenge, split into 400-byte AUTHENTICATE lines."""
    encoded = base64.b64encode(data).decode() if data else ""
    for start in range(0, len(encoded), CHUNK):
        ctx.send("AUTHENTICATE", encoded[start : start + CHUNK])
    if len(encoded) % CHUNK == 0:
        ctx.send("AUTHENTICATE", "+")


def _fail(ctx: Context, reason: str = "") -> None:
    session = _exchanges(ctx).pop(ctx.user, None)
    ctx.server.metrics.sasl_attempt(session.mechanism if session else None, "failure")
    text = "SASL authentication failed"
    ctx.reply(rpl.ERR_SASLFAIL, f"{text}: {reason}" if reason else text)


def _succeed(ctx: Context, account: str) -> None:
    session = _exchanges(ctx).pop(ctx.user, None)
    ctx.server.metrics.sasl_attempt(session.mechanism if session else None, "success")
    if session is not None and session.attempt is not None:
        session.attempt.give_back()
    actions.login(ctx, account)
    ctx.reply(rpl.RPL_SASLSUCCESS, "SASL authentication successful")


def _begin_attempt(ctx: Context, session: Session, account: str | None) -> bool:
    """Take the throttle tokens for this exchange; False (after 904) if throttled."""
    attempt = password_guard.begin_login(ctx, account)
    if isinstance(attempt, str):
        _fail(ctx, attempt)
        return False
    session.attempt = attempt
    return True


@command("AUTHENTICATE", min_params=1, pre_registration=True, cost=2)
def authenticate(ctx: Context, msg: Message) -> Awaitable[None] | None:
    """AUTHENTICATE <mechanism>|<base64>|+|*: SASL authentication."""
    user = ctx.user
    arg = msg.params[0]
    session = _exchanges(ctx).get(user)
    if arg == "*":
        _exchanges(ctx).pop(user, None)
        ctx.server.metrics.sasl_attempt(session.mechanism if session else None, "aborted")
        ctx.reply(rpl.ERR_SASLABORTED, "SASL authentication aborted")
        return None
    if session is None:
        if not ctx.user.registered and admission_refused(ctx):
            return None
        _start(ctx, arg)
        return None
    if len(arg) > CHUNK:
        _exchanges(ctx).pop(user, None)
        ctx.reply(rpl.ERR_SASLTOOLONG, "SASL message too long")
        return None
    if arg != "+":
        session.buffer += arg
    if len(session.buffer) * 3 // 4 > MAX_RESPONSE:
        # Each line was a valid chunk (905 is for one line over 400): the
        # exchange as a whole fails, as irctest's testPlainInfiniteMessages asks.
        _fail(ctx, "the response is too long")
        return None
    if len(arg) == CHUNK:
        return None  # more to come
    encoded, session.buffer = session.buffer, ""
    try:
        data = base64.b64decode(encoded, validate=True) if encoded else b""
    except (binascii.Error, ValueError):
        _fail(ctx, "the response is not valid base64")
        return None
    return _step(ctx, session, data)


def _start(ctx: Context, name: str) -> None:
    user = ctx.user
    if user.account is not None:
        ctx.reply(rpl.ERR_SASLALREADY, "You have already authenticated using SASL")
        return
    mechanism = name.upper()
    if mechanism not in MECHANISMS:
        ctx.reply(rpl.RPL_SASLMECHS, ",".join(MECHANISMS), "are available SASL mechanisms")
        _fail(ctx)
        return
    if mechanism == "PLAIN" and not password_guard.password_allowed(ctx):
        _fail(ctx, "PLAIN is refused on a plaintext connection; use TLS or SCRAM-SHA-256")
        return
    _prune(ctx)
    _exchanges(ctx)[user] = Session(mechanism)
    ctx.send("AUTHENTICATE", "+")


def _step(ctx: Context, session: Session, data: bytes) -> Awaitable[None] | None:
    if session.mechanism == "PLAIN":
        return _plain(ctx, data)
    if session.mechanism == "EXTERNAL":
        return _external(ctx, data)
    if session.step == 0:
        return _scram_first(ctx, session, data)
    if session.step == 1:
        _scram_final(ctx, session, data)
        return None
    # step 2: the client acknowledged our server-final message
    if data:
        _fail(ctx, "unexpected data after the server signature")
    elif session.account is not None:
        _succeed(ctx, session.account)
    return None


# --- PLAIN ---------------------------------------------------------------------


async def _plain(ctx: Context, data: bytes) -> None:
    try:
        authzid, authcid, password = data.decode().split("\0")
    except (UnicodeDecodeError, ValueError):
        _fail(ctx, "malformed PLAIN response")
        return
    authcid, device = split_device(authcid)  # alice@phone: the device's name
    if not authcid or not password:
        _fail(ctx)
        return
    if authzid and fold(split_device(authzid)[0]) != fold(authcid):
        _fail(ctx, "authorization identity must be the account itself")
        return
    session = _exchanges(ctx).get(ctx.user)
    if session is None or not _begin_attempt(ctx, session, authcid):
        return
    try:
        async with password_guard.hashing(ctx):
            account = await ctx.server.store.accounts.verify_password(authcid, password)
    except HashRefused as exc:
        if session.attempt is not None:
            session.attempt.give_back()
        _fail(ctx, str(exc))
        return
    if _exchanges(ctx).get(ctx.user) is not session:
        return  # aborted or disconnected meanwhile
    if account is None:
        _fail(ctx, "invalid account name or password")
        return
    if device is not None:
        ctx.conn.device_id = device
    _succeed(ctx, account.name)


# --- EXTERNAL ------------------------------------------------------------------


async def _external(ctx: Context, data: bytes) -> None:
    try:
        authzid = data.decode()
    except UnicodeDecodeError:
        _fail(ctx, "malformed EXTERNAL response")
        return
    fingerprint = ctx.user.certfp
    if fingerprint is None:
        _fail(ctx, "no TLS client certificate was presented")
        return
    session = _exchanges(ctx).get(ctx.user)
    if session is None or not _begin_attempt(ctx, session, None):
        return
    account = await ctx.server.store.accounts.find_by_certfp(fingerprint)
    if _exchanges(ctx).get(ctx.user) is not session:
        return
    if account is None:
        _fail(ctx, "this client certificate is not linked to an account")
        return
    if authzid and fold(authzid) != fold(account.name):
        _fail(ctx, "authorization identity must be the certificate's account")
        return
    _succeed(ctx, account.name)


# --- SCRAM-SHA-256 -------------------------------------------------------------


def _scram_attributes(text: str) -> list[tuple[str, str]]:
    out = []
    for part in text.split(","):
        if len(part) < 2 or part[1] != "=":
            raise ValueError(part)
        out.append((part[0], part[2:]))
    return out


def _scram_name(value: str) -> str:
    if "=" in value.replace("=2C", "").replace("=3D", ""):
        raise ValueError("bad escape")
    return value.replace("=2C", ",").replace("=3D", "=")


def _fake_credentials(name: str, iterations: int) -> ScramCredentials:
    """Stable made-up keys for a name with no account: the exchange then
    fails only at the proof, like a wrong password. ``iterations`` is what
    new keys get, so the i= offered does not tell the name is unknown."""
    salt = hmac.digest(_FAKE_KEY, b"salt" + fold(name).encode(), "sha256")[:16]
    return ScramCredentials(
        salt=salt,
        iterations=iterations,
        stored_key=hmac.digest(_FAKE_KEY, b"stored" + name.encode(), "sha256"),
        server_key=hmac.digest(_FAKE_KEY, b"server" + name.encode(), "sha256"),
    )


async def _scram_first(ctx: Context, session: Session, data: bytes) -> None:
    try:
        text = data.decode()
        # gs2-header: cbind-flag "," [authzid] ","
        flag, authzid, bare = text.split(",", 2)
        if flag.startswith("p="):
            _fail(ctx, "channel binding is not supported")
            return
        if flag not in ("n", "y"):
            raise ValueError(flag)
        if authzid and not authzid.startswith("a="):
            raise ValueError(authzid)
        attributes = _scram_attributes(bare)
        if len(attributes) < 2 or attributes[0][0] != "n" or attributes[1][0] != "r":
            raise ValueError(bare)
        if any(key == "m" for key, _ in attributes):
            _fail(ctx, "unsupported SCRAM extension")
            return
        name = _scram_name(attributes[0][1])
        with contextlib.suppress(ValueError):
            name = saslprep(name)
        client_nonce = attributes[1][1]
        if not name or not client_nonce or not client_nonce.isprintable() or "," in client_nonce:
            raise ValueError("empty")
        if authzid and fold(_scram_name(authzid[2:])) != fold(name):
            _fail(ctx, "authorization identity must be the account itself")
            return
    except (UnicodeDecodeError, ValueError):
        _fail(ctx, "malformed SCRAM client-first message")
        return
    if not _begin_attempt(ctx, session, name):
        return
    credentials = await ctx.server.store.accounts.get_scram(name)
    if _exchanges(ctx).get(ctx.user) is not session:
        return
    account = await ctx.server.store.accounts.get(name) if credentials else None
    if _exchanges(ctx).get(ctx.user) is not session:
        return
    session.known = credentials is not None and account is not None
    iterations = ctx.server.config.accounts.scram_iterations
    session.credentials = credentials if session.known else _fake_credentials(name, iterations)
    session.account = account.name if account is not None else name
    session.nonce = client_nonce + secrets.token_urlsafe(18)
    session.gs2_header = f"{flag},{authzid},"
    assert session.credentials is not None
    server_first = (
        f"r={session.nonce},s={base64.b64encode(session.credentials.salt).decode()},"
        f"i={session.credentials.iterations}"
    )
    session.auth_prefix = f"{bare},{server_first}"
    session.step = 1
    _send_challenge(ctx, server_first.encode())


def _scram_final(ctx: Context, session: Session, data: bytes) -> None:
    credentials = session.credentials
    assert credentials is not None
    try:
        text = data.decode()
        without_proof, sep, proof_b64 = text.rpartition(",p=")
        if not sep:
            raise ValueError("no proof")
        attributes = dict(_scram_attributes(without_proof))
        proof = base64.b64decode(proof_b64, validate=True)
        binding = base64.b64decode(attributes.get("c", ""), validate=True)
    except (UnicodeDecodeError, ValueError, binascii.Error):
        _fail(ctx, "malformed SCRAM client-final message")
        return
    if binding != session.gs2_header.encode():
        _fail(ctx, "channel binding data does not match")
        return
    if attributes.get("r") != session.nonce:
        _fail(ctx, "nonce mismatch")
        return
    auth_message = f"{session.auth_prefix},{without_proof}".encode()
    client_signature = hmac.digest(credentials.stored_key, auth_message, "sha256")
    if len(proof) != len(client_signature):
        _fail(ctx, "invalid account name or password")
        return
    client_key = bytes(a ^ b for a, b in zip(proof, client_signature, strict=True))
    valid = hmac.compare_digest(hashlib.sha256(client_key).digest(), credentials.stored_key)
    if not (valid and session.known):
        _fail(ctx, "invalid account name or password")
        return
    signature = hmac.digest(credentials.server_key, auth_message, "sha256")
    session.step = 2
    _send_challenge(ctx, b"v=" + base64.b64encode(signature))


# --- registration ----------------------------------------------------------------


def _abort_on_registration(ctx: Context) -> None:
    """A client that ends registration mid-exchange gets 906 (SASL 3.1)."""
    if (session := _exchanges(ctx).pop(ctx.user, None)) is not None:
        ctx.server.metrics.sasl_attempt(session.mechanism, "aborted")
        ctx.reply(rpl.ERR_SASLABORTED, "SASL authentication aborted")


def install(server: ServerApi, add: Callable[[object], None]) -> None:
    """SASL: its per-server exchanges, and 906 for a registration mid-exchange."""
    add(Exchanges())
    server.hooks.registered.append(_abort_on_registration)
