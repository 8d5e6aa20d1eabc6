"""The asyncio IRC client: connects, negotiates capabilities, logs in, keeps
the connection alive (PING, reconnect with backoff, re-join) and turns lines
into events. State tracking lives in :mod:`hubbub.client.state`, transports in
:mod:`hubbub.client.transport`; this module is the part that does I/O."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import socket
import ssl
from datetime import UTC, datetime
from types import TracebackType

from websockets.exceptions import InvalidHandshake, InvalidURI

from hubbub import __version__
from hubbub.client import events as ev
from hubbub.client.config import ClientConfig
from hubbub.client.flood import TokenBucket
from hubbub.client.scram import MECHANISM as SCRAM
from hubbub.client.scram import ScramClient
from hubbub.client.state import ClientState, nick_of
from hubbub.client.stream import EventStream
from hubbub.client.tofu import PinStore, TrustError
from hubbub.client.transport import Transport, open_transport
from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import fold
from hubbub.protocol.message import Message, ProtocolError, parse, parse_line, serialize

log = logging.getLogger(__name__)

WANTED_CAPS = (
    "server-time",
    "message-tags",
    "echo-message",
    "batch",
    "labeled-response",
    "away-notify",
    "account-tag",
    "multi-prefix",
    "cap-notify",
    "chathistory",
    "draft/chathistory",
)
# Room left in a 512-byte line for the text after "PRIVMSG target :" and our prefix.
MAX_TEXT_BYTES = 400
FATAL_NUMERICS = {rpl.ERR_PASSWDMISMATCH, rpl.ERR_YOUREBANNEDCREEP}
SASL_CHUNK = 400
# Longest server challenge we collect (SCRAM's are under 200 bytes).
MAX_SASL_CHALLENGE = 4096


class NotConnected(ConnectionError):
    pass


def describe_connect_error(exc: BaseException, address: str) -> str:
    """One readable sentence for a failed connection attempt."""
    if isinstance(exc, TrustError):
        return str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return f"Cannot connect to {address}: connection refused (is the server running?)"
    if isinstance(exc, socket.gaierror):
        return f"Cannot connect to {address}: unknown host"
    if isinstance(exc, TimeoutError):
        return f"Cannot connect to {address}: timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate of {address} not trusted: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or str(exc)
        return f"TLS handshake with {address} failed ({reason}); is this a TLS port?"
    if isinstance(exc, InvalidHandshake | InvalidURI):
        return f"WebSocket connection to {address} failed: {exc}"
    if isinstance(exc, OSError):
        return f"Cannot connect to {address}: {exc.strerror or exc}"
    return f"Cannot connect to {address}: {exc}"


def ctcp_reply(text: str) -> str | None:
    """The answer to a CTCP query other clients send on their own (irssi's /ping,
    /ctcp nick version), or None when ``text`` is not one we answer."""
    if not text.startswith("\x01") or text.startswith("\x01ACTION"):
        return None
    query, _, argument = text.strip("\x01").partition(" ")
    query = query.upper()
    if query == "VERSION":
        return f"\x01VERSION hubbub {__version__}\x01"
    if query == "PING":
        return f"\x01PING {argument[:64]}\x01" if argument else "\x01PING\x01"
    if query == "CLIENTINFO":
        return "\x01CLIENTINFO ACTION CLIENTINFO PING VERSION\x01"
    return None


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Split a message into lines that fit in one IRC line each, on UTF-8
    character boundaries (and at newlines)."""
    chunks: list[str] = []
    for line in text.splitlines() or [""]:
        while len(line.encode()) > limit:
            cut = limit
            encoded = line.encode()
            while cut > 0 and (encoded[cut] & 0xC0) == 0x80:
                cut -= 1
            space = encoded.rfind(b" ", 0, cut)
            if space > limit // 2:
                cut = space + 1
            chunks.append(encoded[:cut].decode().rstrip(" "))
            line = encoded[cut:].decode()
        if line:
            chunks.append(line)
    return chunks


class Client:
    """One connection to an IRC server, kept alive until :meth:`quit`.

    Use ``await client.connect()`` (or ``async with client``) and iterate
    ``client.events()``; send with :meth:`send` or the helpers (:meth:`say`,
    :meth:`join`...). All methods must be called on the client's event loop.
    """

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.state = ClientState(nick=config.nick)
        self._streams: list[EventStream] = []
        self._default = self.subscribe()
        self._outgoing: asyncio.Queue[Message] = asyncio.Queue()
        self._transport: Transport | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._fatal = False
        self._registered = asyncio.Event()
        self._stopped = asyncio.Event()
        self._wanted: dict[str, str] = {fold(c): c for c in config.channels}
        self._available_caps: dict[str, str] = {}
        self._nick_attempt = 0
        self._sasl_mechanism: str | None = None
        self._scram: ScramClient | None = None
        self._sasl_buffer = ""
        # Set when we end the session ourselves (a login we refuse to make):
        # the reason, and the connection is closed without waiting for the server.
        self._hang_up: str | None = None

    # ---------------------------------------------------------------- events
    def subscribe(self, raw: bool = False) -> EventStream:
        """A new independent stream of all events from now on."""
        stream = EventStream(raw)
        self._streams.append(stream)
        return stream

    def events(self) -> EventStream:
        """The default stream, which holds every event since the client was made."""
        return self._default

    def _publish(self, event: ev.AnyEvent | None) -> None:
        for stream in self._streams:
            stream.put(event)

    def _now(self) -> datetime:
        return datetime.now(UTC)

    # -------------------------------------------------------------- lifecycle
    @property
    def nick(self) -> str:
        return self.state.nick

    @property
    def connected(self) -> bool:
        return self._registered.is_set()

    @property
    def caps(self) -> set[str]:
        return self.state.caps

    def start(self) -> None:
        """Begin connecting in the background; progress arrives as events."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="irc-client")

    async def connect(self, timeout: float | None = None) -> None:
        """Start and wait until registered; raise ConnectionError with a readable
        reason if the first attempt fails (the client is then closed)."""
        watch = self.subscribe()
        self.start()
        error: ev.Error | None = None
        try:
            async with asyncio.timeout(timeout or self.config.connect_timeout * 2):
                async for event in watch:
                    if isinstance(event, ev.Connected):
                        return
                    if isinstance(event, ev.Error):
                        error = event  # a changed certificate, the server's ERROR
                    if isinstance(event, ev.Disconnected):
                        await self.close()
                        if error is None:
                            raise ConnectionError(event.reason)
                        if error.fatal:
                            raise ConnectionError(error.message)
                        raise ConnectionError(f"{event.reason}: {error.message}")
            raise ConnectionError("the client was closed")
        except TimeoutError:
            await self.close()
            raise ConnectionError(f"Cannot connect to {self.config.address}: timed out") from None
        finally:
            self._streams.remove(watch)

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.quit()

    async def quit(self, reason: str = "Leaving", wait: float = 2.0) -> None:
        """Send QUIT after the lines still queued, give the server ``wait``
        seconds (plus the time the flood limit needs) to close, then stop."""
        self._closing = True
        if self._transport is not None and self.connected:
            backlog = self._outgoing.qsize()
            self._outgoing.put_nowait(Message("QUIT", [reason]))
            if self.config.flood_control:
                wait += backlog / self.config.flood_rate
            if self._task is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self._stopped.wait()), wait)
        await self.close()

    async def close(self) -> None:
        """Stop at once without saying goodbye."""
        self._closing = True
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._transport is not None:
            await self._transport.close()
            self._transport = None
        if not self._stopped.is_set():
            self._stopped.set()
            self._publish(None)

    async def wait_closed(self) -> None:
        await self._stopped.wait()

    # ---------------------------------------------------------------- sending
    def send(self, msg: Message) -> None:
        """Queue a message (flood-limited). Without echo-message, our own
        PRIVMSG/NOTICE are reported back as events so UIs can show them."""
        if not self.connected:
            raise NotConnected(f"not connected to {self.config.address}")
        self._outgoing.put_nowait(msg)
        if msg.command in ("PRIVMSG", "NOTICE") and "echo-message" not in self.state.caps:
            event = self.state.local_echo(msg)
            if event is not None:
                self._publish(event)

    def send_raw(self, line: str) -> None:
        self.send(parse(line))

    def say(self, target: str, text: str) -> None:
        for chunk in split_text(text):
            self.send(Message("PRIVMSG", [target, chunk]))

    def notice(self, target: str, text: str) -> None:
        for chunk in split_text(text):
            self.send(Message("NOTICE", [target, chunk]))

    def action(self, target: str, text: str) -> None:
        for chunk in split_text(text, MAX_TEXT_BYTES - 9):
            self.send(Message("PRIVMSG", [target, f"\x01ACTION {chunk}\x01"]))

    def join(self, channel: str, key: str | None = None) -> None:
        self.send(Message("JOIN", [channel, key] if key else [channel]))

    def part(self, channel: str, reason: str = "") -> None:
        self.send(Message("PART", [channel, reason] if reason else [channel]))

    def set_nick(self, nick: str) -> None:
        self.send(Message("NICK", [nick]))

    # ------------------------------------------------------------ connection
    async def _run(self) -> None:
        attempt = 0
        try:
            while not self._closing:
                reason = await self._connect_once()
                if self.connected:
                    attempt = 0
                self._registered.clear()
                self._transport = None
                again = self.config.reconnect and not self._closing and not self._fatal
                delay = min(
                    self.config.reconnect_max_delay,
                    self.config.reconnect_min_delay * (2**attempt),
                )
                attempt += 1
                retry = delay if again else None
                if self._closing:
                    reason = "you quit"
                self._publish(
                    ev.Disconnected(reason, retry, requested=self._closing, time=self._now())
                )
                if not again:
                    break
                await asyncio.sleep(delay)
        finally:
            if not self._stopped.is_set():
                self._stopped.set()
                self._publish(None)

    async def _connect_once(self) -> str:
        address = self.config.address
        try:
            transport = await open_transport(self.config, self._pinned)
        except TrustError as exc:
            self._fatal = True
            self._publish(ev.Error(str(exc), fatal=True, time=self._now()))
            return "TLS connection refused: the server is not the one we trusted"
        except (OSError, TimeoutError, ssl.SSLError, InvalidHandshake, InvalidURI) as exc:
            return describe_connect_error(exc, address)
        self._transport = transport
        writer = asyncio.get_running_loop().create_task(self._write_loop(transport))
        try:
            return await self._session(transport)
        except (OSError, ssl.SSLError) as exc:
            return f"Connection to {address} lost: {exc.strerror or exc}"
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            await transport.close()
            while not self._outgoing.empty():
                self._outgoing.get_nowait()

    def _pinned(self, fp: str) -> None:
        store = str(PinStore(self.config.config_dir).path)
        self._publish(ev.CertificatePinned(self.config.address, fp, store, time=self._now()))

    async def _write_now(self, *msgs: Message) -> None:
        """Protocol replies (registration, PONG) skip the flood queue."""
        if self._transport is not None:
            for msg in msgs:
                await self._transport.write(serialize(msg))

    async def _write_loop(self, transport: Transport) -> None:
        bucket = TokenBucket(self.config.flood_burst, self.config.flood_rate)
        while True:
            msg = await self._outgoing.get()
            delay = bucket.delay() if self.config.flood_control else 0.0
            if delay:
                await asyncio.sleep(delay)
            bucket.take()
            try:
                await transport.write(serialize(msg))
            except (OSError, ConnectionError):
                return

    async def _session(self, transport: Transport) -> str:
        cfg = self.config
        self.state.reset()
        self.state.nick = cfg.nick
        self._nick_attempt = 0
        self._available_caps.clear()
        self._sasl_mechanism, self._scram, self._sasl_buffer = None, None, ""
        self._hang_up = None
        hello = [Message("CAP", ["LS", "302"])]
        if cfg.server_password:
            hello.append(Message("PASS", [cfg.server_password]))
        hello.append(Message("NICK", [cfg.nick]))
        hello.append(Message("USER", [cfg.username or cfg.nick, "0", "*", cfg.realname]))
        await self._write_now(*hello)
        idle_pinged = False
        while not self._closing or self.connected:
            try:
                async with asyncio.timeout(cfg.ping_interval):
                    line = await transport.readline()
            except TimeoutError:
                if idle_pinged:
                    return f"Connection to {cfg.address} lost: ping timeout"
                idle_pinged = True
                await self._write_now(Message("PING", ["hubbub"]))
                continue
            idle_pinged = False
            if line is None:
                return f"Connection to {cfg.address} closed by the server"
            if not line:
                continue
            msg = self._parse(line)
            if msg is not None:
                await self._handle(msg)
            if self._hang_up is not None:
                return self._hang_up
        return "Connection closed"

    @staticmethod
    def _parse(line: bytes) -> Message | None:
        try:
            return parse_line(line, client=False)
        except ProtocolError:
            try:
                return parse(line.decode("utf-8", "replace"))
            except ProtocolError:
                log.debug("unparsable line from server: %r", line)
                return None

    async def _handle(self, msg: Message) -> None:
        self._publish(ev.Raw(msg, time=self._now()))
        command = msg.command
        if command == "PING":
            await self._write_now(Message("PONG", msg.params or ["hubbub"]))
            return
        if command == "CAP":
            await self._on_cap(msg)
            return
        if command == "AUTHENTICATE":
            await self._on_authenticate(msg)
            return
        if not self.state.registered and command in (
            rpl.ERR_NICKNAMEINUSE,
            rpl.ERR_ERRONEUSNICKNAME,
            "436",
        ):
            await self._next_nick(msg)
        if command in (rpl.RPL_SASLSUCCESS, rpl.ERR_SASLFAIL, rpl.ERR_SASLTOOLONG, "906", "907"):
            await self._write_now(Message("CAP", ["END"]))
        if command in FATAL_NUMERICS:
            self._fatal = True
        reply = ctcp_reply(msg.param(1)) if command == "PRIVMSG" else None
        if reply is not None:
            self.send(Message("NOTICE", [nick_of(msg.source), reply]))
            return
        for event in self.state.apply(msg):
            if isinstance(event, ev.Error) and self._closing:
                continue  # the server's goodbye to our QUIT is no news
            self._after(event)
            self._publish(event)

    def _after(self, event: ev.AnyEvent) -> None:
        """Bookkeeping that needs to send: re-join, history backfill."""
        if isinstance(event, ev.Connected):
            self._registered.set()
            if self._wanted:
                self._outgoing.put_nowait(Message("JOIN", [",".join(self._wanted.values())]))
        elif isinstance(event, ev.Join) and event.own:
            self._wanted[fold(event.channel)] = event.channel
            history = self._history_cap()
            if history and self.config.history_on_join > 0:
                limit = str(self.config.history_on_join)
                self._outgoing.put_nowait(
                    Message("CHATHISTORY", ["LATEST", event.channel, "*", limit])
                )
        elif isinstance(event, ev.Part | ev.Kick) and event.own:
            self._wanted.pop(fold(event.channel), None)

    def _history_cap(self) -> str | None:
        for cap in ("chathistory", "draft/chathistory"):
            if cap in self.state.caps:
                return cap
        return None

    async def _next_nick(self, msg: Message) -> None:
        """Registration-time fallback: nick_, nick__, nick1, nick2..."""
        self._nick_attempt += 1
        base = self.config.nick
        if msg.command == rpl.ERR_ERRONEUSNICKNAME:
            base = "guest"
        n = self._nick_attempt
        candidate = base + "_" * n if n <= 2 else f"{base}{n - 2}"
        if n > 50:
            self._fatal = True
            await self._write_now(Message("QUIT", ["no usable nickname"]))
            return
        self.state.nick = candidate
        await self._write_now(Message("NICK", [candidate]))

    # ------------------------------------------------------------ CAP + SASL
    def _choose_sasl(self) -> str | None:
        """The mechanism to log in with: PLAIN where the connection is
        confidential (TLS, loopback), else SCRAM-SHA-256, which never sends
        the password, else PLAIN only if the user allowed it. None: no login."""
        cfg = self.config
        if not (cfg.sasl_account and cfg.sasl_password) or "sasl" not in self._available_caps:
            return None
        offered = {m for m in self._available_caps["sasl"].upper().split(",") if m}
        plain = not offered or "PLAIN" in offered
        if self._confidential and plain:
            return "PLAIN"
        if not offered or SCRAM in offered:
            return SCRAM
        if cfg.allow_plaintext_password and plain:
            return "PLAIN"
        return None

    @property
    def _confidential(self) -> bool:
        return self._transport is not None and self._transport.confidential

    def _password_at_risk(self) -> bool:
        """A login was asked for and the server has SASL, but no mechanism it
        offers keeps the password secret on this connection."""
        wanted = bool(self.config.sasl_account and self.config.sasl_password)
        return wanted and "sasl" in self._available_caps and not self._confidential

    async def _refuse_plaintext_login(self) -> None:
        """The password would cross the network readable: say so, do not log in."""
        self._fatal = True
        message = (
            f"Not sending the password of {self.config.sasl_account} to "
            f"{self.config.address}: the connection is not encrypted and the server "
            f"offers no SCRAM-SHA-256. Connect with TLS (--tls), or allow it with "
            f"--allow-plaintext-password if you accept that anyone on the way can read it."
        )
        self._publish(ev.Error(message, fatal=True, time=self._now()))
        await self._write_now(Message("QUIT", ["no safe way to log in"]))
        self._hang_up = "Disconnected: no safe way to send the password"

    async def _on_cap(self, msg: Message) -> None:
        sub = msg.param(1).upper()
        rest = msg.params[2:]
        if sub in ("LS", "NEW"):
            more = len(rest) > 1 and rest[0] == "*"
            for item in (rest[-1] if rest else "").split():
                name, _, value = item.partition("=")
                self._available_caps[name] = value
            if more:
                return
            names = rest[-1].split() if sub == "NEW" and rest else list(self._available_caps)
            wanted = [c for c in WANTED_CAPS if c in names and c not in self.state.caps]
            if sub == "LS" and "sasl" not in self.state.caps:
                self._sasl_mechanism = self._choose_sasl()
                if self._sasl_mechanism is not None:
                    wanted.append("sasl")
                elif self._password_at_risk():
                    await self._refuse_plaintext_login()
                    return
            if wanted:
                await self._write_now(Message("CAP", ["REQ", " ".join(wanted)]))
            elif sub == "LS":
                await self._write_now(Message("CAP", ["END"]))
        elif sub == "ACK":
            acked = (rest[-1] if rest else "").split()
            for cap in acked:
                if cap.startswith("-"):
                    self.state.caps.discard(cap[1:])
                else:
                    self.state.caps.add(cap)
            if self.state.registered:
                return
            if "sasl" in acked and self._sasl_mechanism is not None:
                await self._write_now(Message("AUTHENTICATE", [self._sasl_mechanism]))
            else:
                await self._write_now(Message("CAP", ["END"]))
        elif sub == "NAK":
            if not self.state.registered:
                await self._write_now(Message("CAP", ["END"]))
        elif sub == "DEL":
            for cap in (rest[-1] if rest else "").split():
                self.state.caps.discard(cap)
                self._available_caps.pop(cap, None)

    async def _on_authenticate(self, msg: Message) -> None:
        chunk = msg.param(0)
        if chunk != "+":
            self._sasl_buffer += chunk
        if len(self._sasl_buffer) > MAX_SASL_CHALLENGE:
            await self._abort_sasl("the server's SASL challenge is too long")
            return
        if len(chunk) == SASL_CHUNK:
            return  # more to come
        encoded, self._sasl_buffer = self._sasl_buffer, ""
        try:
            challenge = base64.b64decode(encoded, validate=True)
        except ValueError:
            await self._abort_sasl("the server's SASL challenge is not base64")
            return
        if self._sasl_mechanism == "PLAIN":
            account, password = self.config.sasl_account or "", self.config.sasl_password or ""
            await self._send_sasl(f"{account}\0{account}\0{password}".encode())
        elif self._sasl_mechanism == SCRAM:
            await self._scram_step(challenge)

    async def _scram_step(self, challenge: bytes) -> None:
        cfg = self.config
        try:
            if self._scram is None:
                self._scram = ScramClient(cfg.sasl_account or "", cfg.sasl_password or "")
                await self._send_sasl(self._scram.first())
            elif not challenge.startswith(b"v=") and not challenge.startswith(b"e="):
                # Key derivation takes thousands of hash rounds: off the event loop.
                await self._send_sasl(await asyncio.to_thread(self._scram.final, challenge))
            else:
                self._scram.verify(challenge)
                await self._write_now(Message("AUTHENTICATE", ["+"]))
        except ValueError as exc:  # ScramError, or a password SASLprep refuses
            await self._abort_sasl(f"SCRAM-SHA-256 login to {cfg.address} failed: {exc}")

    async def _abort_sasl(self, reason: str) -> None:
        """A server that breaks the exchange may be an impostor: stop for good."""
        self._fatal = True
        self._publish(ev.Error(reason, fatal=True, time=self._now()))
        await self._write_now(Message("AUTHENTICATE", ["*"]), Message("QUIT", ["login failed"]))
        self._hang_up = "Disconnected: the login exchange failed"

    async def _send_sasl(self, data: bytes) -> None:
        blob = base64.b64encode(data).decode()
        chunks = [blob[i : i + SASL_CHUNK] for i in range(0, len(blob), SASL_CHUNK)] or ["+"]
        if len(chunks[-1]) == SASL_CHUNK:
            chunks.append("+")
        await self._write_now(*(Message("AUTHENTICATE", [c]) for c in chunks))
