"""One client connection, independent of its transport.

Input: bytes are split into lines with hard limits, queued, and processed
under a fakelag token bucket (flood control). Output: writes are appended to
a buffer that is flushed once per event-loop pass (``FlushQueue``), and a
client whose unsent output passes the send-queue limit is dropped ("SendQ
exceeded").
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from typing import TYPE_CHECKING, cast

from hubbub.protocol import numerics as rpl
from hubbub.protocol.message import (
    MAX_BODY_BYTES,
    MAX_CLIENT_TAG_BYTES,
    EmptyLine,
    ForbiddenCharacter,
    InvalidUTF8,
    LineTooLong,
    Message,
    ProtocolError,
    TagsTooLong,
    TooManyParams,
    escape_tag_value,
    parse_line,
    serialize_body,
)
from hubbub.server.commands.context import Context
from hubbub.server.commands.registry import COMMANDS
from hubbub.server.delivery import add_tag
from hubbub.server.net.tls_upgrade import TlsUpgrade
from hubbub.server.state import User

if TYPE_CHECKING:
    from hubbub.server.app import Server

log = logging.getLogger(__name__)

# A complete line may be this long; a partial line longer than this is abuse.
MAX_LINE_BYTES = MAX_CLIENT_TAG_BYTES + MAX_BODY_BYTES
MAX_PARTIAL_BYTES = 2 * MAX_LINE_BYTES
# A closed connection whose peer does not take the last bytes (the ERROR line,
# or a full send queue) is aborted after this many seconds.
CLOSE_GRACE = 5.0


def peer_address(transport: asyncio.BaseTransport) -> tuple[str, int]:
    """The peer's IP (IPv4-mapped IPv6 unwrapped) and port."""
    peer = transport.get_extra_info("peername") or ("0.0.0.0", 0)
    ip = str(peer[0])
    if ip.startswith("::ffff:"):
        ip = ip[7:]
    return ip, int(peer[1])


def host_for(ip: str) -> str:
    """The host shown for ``ip``: one starting with ':' would read as a trailing parameter."""
    return "0" + ip if ip.startswith(":") else ip


class FlushQueue:
    """The connections that have output waiting in this loop pass. The first
    write of a pass arms one callback that flushes them all: one scheduled
    callback per pass, not one per recipient."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending: list[Connection] = []

    def add(self, conn: Connection) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush_all)
        self._pending.append(conn)

    def _flush_all(self) -> None:
        pending, self._pending = self._pending, []
        for conn in pending:
            try:
                conn.flush()
            except Exception:
                log.exception("flushing output to %s failed", conn.user.nick)


class Connection:
    """Transport-neutral core; subclasses supply the four transport hooks."""

    __slots__ = (
        "_busy",
        "_capture",
        "_closed",
        "_inbuf",
        "_lines",
        "_loop",
        "_out",
        "_out_size",
        "_overflowed",
        "_reading",
        "_resume_handle",
        "_sendq",
        "_tokens",
        "_tokens_at",
        "context",
        "last_received",
        "ping_sent",
        "server",
        "user",
    )

    def __init__(self, server: Server, ip: str, port: int, tls: bool) -> None:
        self.server = server
        self.user = User(self, ip, host_for(ip), port, tls)
        self.context = Context(server, self.user)  # what every command handler gets
        self._loop = asyncio.get_running_loop()
        self._inbuf = b""
        # A list, not a deque: it is short, and an empty deque costs 600
        # bytes per connection (docs/performance.md, idle memory).
        self._lines: list[bytes] = []
        self._out: list[bytes] = []
        self._out_size = 0
        self._sendq = server.config.limits.sendq
        self._overflowed = False
        self._reading = True
        self._resume_handle: asyncio.TimerHandle | None = None
        self._busy = False
        self._closed = False
        self._capture: list[bytes] | None = None
        limits = server.config.limits
        self._tokens = float(limits.flood_burst)
        self._tokens_at = time.monotonic()
        self.last_received = self._tokens_at
        self.ping_sent: float | None = None

    # --- transport hooks ----------------------------------------------------
    def transport_write(self, data: bytes) -> None:
        raise NotImplementedError

    def transport_buffered(self) -> int:
        raise NotImplementedError

    def transport_close(self) -> None:
        raise NotImplementedError

    def set_reading(self, on: bool) -> None:
        raise NotImplementedError

    def transport_abort(self) -> None:
        """Drop the link at once, discarding unsent output."""
        raise NotImplementedError

    # --- output ---------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    def write(self, data: bytes) -> None:
        """Queue ``data``; it goes out with this loop pass's flush.

        This runs once per recipient of every message, so it does the least
        it can: what the transport holds is checked by the transport hooks.
        """
        if self._capture is not None:
            self._capture.append(data)
            return
        out = self._out
        if not out:
            if self._closed or self._overflowed:
                return
            self.server.flushes.add(self)
        out.append(data)
        self._out_size += len(data)
        if self._out_size > self._sendq:
            self._sendq_exceeded()

    def flush(self) -> None:
        """Hand this pass's output to the transport in one write."""
        out = self._out
        if not out:
            return
        data = b"".join(out) if len(out) > 1 else out[0]
        out.clear()
        self._out_size = 0
        self.transport_write(data)

    def _sendq_exceeded(self) -> None:
        """Drop the queue and everything written after it; disconnect soon.

        Not at once: write() runs inside fan-out loops over channel members,
        and disconnecting removes the user from those very channels.
        """
        self._out.clear()
        self._out_size = 0
        if not self._overflowed:
            self._overflowed = True
            self.server.metrics.sendq_drops += 1
            self._loop.call_soon(self.server.disconnect, self.user, "SendQ exceeded")

    def close(self, reason: str) -> None:
        """Ask the server to disconnect this user (QUIT to neighbours, ERROR)."""
        self.server.disconnect(self.user, reason)

    def shutdown(self, error_text: str) -> None:
        """Send ``ERROR`` and close; called by the server once the user is gone."""
        if self._closed:
            return
        self._capture = None
        self.flush()
        self._closed = True
        self._lines.clear()
        self._inbuf = b""
        self.transport_write((serialize_body(None, "ERROR", [error_text]) + "\r\n").encode())
        if self._resume_handle is not None:
            self._resume_handle.cancel()
        self.transport_close()
        if self.transport_buffered() > 0:
            # The peer is not reading: give it a moment, then let go.
            self._loop.call_later(CLOSE_GRACE, self.transport_abort)

    # --- input ----------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Take bytes from the transport; queue complete lines."""
        if self._closed:
            return
        self.last_received = time.monotonic()
        self.ping_sent = None
        buffer = self._inbuf + data if self._inbuf else data
        if b"\n" not in buffer:
            self._inbuf = buffer
            if len(buffer) > MAX_PARTIAL_BYTES:
                self._inbuf = b""
                self.server.metrics.flood_disconnects["input_too_long"] += 1
                self.server.disconnect(self.user, "Input line too long")
            return
        *lines, self._inbuf = buffer.split(b"\n")
        if len(self._inbuf) > MAX_PARTIAL_BYTES:
            self._inbuf = b""
            self.server.metrics.flood_disconnects["input_too_long"] += 1
            self.server.disconnect(self.user, "Input line too long")
            return
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if line:
                self._lines.append(line)
        self.server.metrics.timed_process(self.process, self._lines)  # sampled

    def feed_line(self, line: bytes) -> None:
        """Take one whole line (WebSocket messages are one line each)."""
        if self._closed:
            return
        self.last_received = time.monotonic()
        self.ping_sent = None
        line = line.rstrip(b"\r\n")
        if line:
            self._lines.append(line)
            self.server.metrics.timed_process(self.process, self._lines)  # sampled

    def process(self) -> None:
        """Run queued lines while flood control allows.

        The queue is bounded: reading from the transport pauses while
        ``flood_max_queue`` lines wait (flood control, or an async command
        still running), and a flooder whose queue overflows is disconnected.
        """
        limits = self.server.config.limits
        flood_control = limits.flood_control
        lines = self._lines
        while lines and not self._busy and not self._closed:
            if flood_control and not self.user.is_oper:
                now = time.monotonic()
                self._tokens = min(
                    float(limits.flood_burst),
                    self._tokens + (now - self._tokens_at) * limits.flood_rate,
                )
                self._tokens_at = now
                if self._tokens < 1.0:
                    if len(lines) > limits.flood_max_queue:
                        self.server.metrics.flood_disconnects["excess_flood"] += 1
                        self.server.disconnect(self.user, "Excess Flood")
                        return
                    if self._resume_handle is None:
                        delay = (1.0 - self._tokens) / limits.flood_rate
                        self._resume_handle = self._loop.call_later(delay, self._resume)
                    break
                self._tokens -= 1.0
            self.handle_line(lines.pop(0))
        if not self._closed:
            reading = len(lines) <= limits.flood_max_queue
            if reading != self._reading:
                self._reading = reading
                self.set_reading(reading)

    def charge(self, tokens: float) -> None:
        """Take extra flood-control tokens for costly work a command asked
        for (a password hash), beyond the command's own cost."""
        if self.server.config.limits.flood_control and not self.user.is_oper:
            self._tokens -= tokens

    def _resume(self) -> None:
        self._resume_handle = None
        if not self._closed:
            self.process()

    def handle_line(self, line: bytes) -> None:
        try:
            msg = parse_line(line)
        except EmptyLine:
            return
        except ProtocolError as exc:
            self._reject(exc)
            return
        self.dispatch(msg)

    def _reject(self, exc: ProtocolError) -> None:
        ctx = self.context
        if isinstance(exc, InvalidUTF8):
            ctx.fail(
                exc.command,
                "INVALID_UTF8",
                description="Message rejected, your IRC software MUST use UTF-8 encoding",
            )
        elif isinstance(exc, LineTooLong | TagsTooLong):
            ctx.reply(rpl.ERR_INPUTTOOLONG, "Input line was too long")
        elif isinstance(exc, TooManyParams):
            ctx.reply(rpl.ERR_UNKNOWNERROR, exc.command, "Too many parameters")
        elif isinstance(exc, ForbiddenCharacter):
            ctx.reply(rpl.ERR_UNKNOWNERROR, exc.command, "Line contains forbidden characters")

    def dispatch(self, msg: Message) -> None:
        user = self.user
        ctx = self.context
        spec = COMMANDS.get(msg.command)
        if spec is None:
            self.server.metrics.unknown_commands += 1
            if user.registered:
                ctx.reply(rpl.ERR_UNKNOWNCOMMAND, msg.command, "Unknown command")
            else:
                ctx.reply(rpl.ERR_NOTREGISTERED, "You have not registered")
            return
        self.server.metrics.commands[spec.name].n += 1
        if not user.registered and not spec.pre_registration:
            ctx.reply(rpl.ERR_NOTREGISTERED, "You have not registered")
            return
        if len(msg.params) < spec.min_params:
            ctx.reply(rpl.ERR_NEEDMOREPARAMS, msg.command, "Not enough parameters")
            return
        if spec.oper and not user.is_oper:
            ctx.reply(rpl.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator")
            return
        if spec.cost > 1:
            self._tokens -= spec.cost - 1
        label = msg.tags.get("label") if msg.tags and "labeled-response" in user.caps else None
        if label is not None:
            self._capture = []
        try:
            result = spec.handler(ctx, msg)
        except Exception:
            self._handler_failed(msg)
            result = None
        if result is not None:  # an async handler's awaitable
            self._busy = True
            task = self.server.spawn(result)
            task.add_done_callback(lambda t: self._async_done(t, msg, label))
            return
        if label is not None:
            self._finish_label(label)

    def _handler_failed(self, msg: Message) -> None:
        log.exception("command %s from %s failed", msg.command, self.user.nick)
        self.context.reply(
            rpl.ERR_UNKNOWNERROR, msg.command, "Internal error; the command was not completed"
        )

    def _async_done(self, task: asyncio.Future[None], msg: Message, label: str | None) -> None:
        self._busy = False
        if not task.cancelled() and task.exception() is not None:
            log.error("command %s failed", msg.command, exc_info=task.exception())
            self.context.reply(
                rpl.ERR_UNKNOWNERROR, msg.command, "Internal error; the command was not completed"
            )
        if label is not None:
            self._finish_label(label)
        self.process()

    def _finish_label(self, label: str) -> None:
        """Wrap what the command produced per the labeled-response spec.

        The label goes back escaped: unescaped, a ``\\n`` in it would end the
        line and let the rest be read as a new one.
        """
        lines = self._capture or []
        self._capture = None
        ctx = self.context
        label = escape_tag_value(label)
        if not lines:
            self.write(add_tag(f":{self.server.name} ACK\r\n".encode(), f"label={label}"))
        elif len(lines) == 1:
            self.write(add_tag(lines[0], f"label={label}"))
        else:
            ref = f"L{self.user.connection_id}x{int(time.monotonic() * 1000)}"
            if "batch" not in self.user.caps:
                for line in lines:
                    self.write(line)
                return
            self.write(
                add_tag(
                    f":{self.server.name} BATCH +{ref} labeled-response\r\n".encode(),
                    f"label={label}",
                )
            )
            for line in lines:
                self.write(line if _has_batch_tag(line) else add_tag(line, f"batch={ref}"))
            ctx.send("BATCH", "-" + ref)


def _has_batch_tag(line: bytes) -> bool:
    if not line.startswith(b"@"):
        return False
    tags = line[1 : line.find(b" ")]
    return any(t.startswith(b"batch=") for t in tags.split(b";"))


class StreamConnection(Connection, asyncio.Protocol):
    """A TCP or TLS client.

    A TLS listener accepts plain TCP; the connection is counted and checked
    (limits, throttle, D-lines) first and upgrades after, so a peer that
    never finishes its handshake holds one counted slot, and only for
    ``handshake_timeout`` seconds.
    """

    __slots__ = ("_upgrade", "transport")

    def __init__(
        self, server: Server, ip: str, port: int, tls_context: ssl.SSLContext | None
    ) -> None:
        super().__init__(server, ip, port, tls_context is not None)
        self.transport: asyncio.Transport | None = None
        # Set until the TLS handshake is done: nothing is written before.
        self._upgrade = TlsUpgrade(tls_context) if tls_context is not None else None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        raw = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport = raw
        # The transport calls pause_writing once it holds more than the send
        # queue: no need to ask it at every flush.
        raw.set_write_buffer_limits(high=self._sendq)
        if self._upgrade is not None:
            raw.pause_reading()
        self.server.connection_opened(self)
        if self._upgrade is not None and not self._closed:
            self.server.spawn(self._start_tls(raw, self._upgrade))

    async def _start_tls(self, raw: asyncio.Transport, upgrade: TlsUpgrade) -> None:
        try:
            secure, early = await upgrade.run(
                raw, self, self.server.config.limits.handshake_timeout
            )
        except BaseException as exc:  # the slot is given back whatever happened
            raw.abort()
            self.server.disconnect(self.user, f"TLS handshake failed: {exc.__class__.__name__}")
            if not isinstance(exc, OSError):  # SSLError, reset, timeout: expected
                raise
            return
        self.transport = secure
        secure.set_write_buffer_limits(high=self._sendq)
        self._upgrade = None
        if early:
            self.feed(early)

    def pause_writing(self) -> None:
        if not self._closed:
            self._sendq_exceeded()

    def data_received(self, data: bytes) -> None:
        if self._upgrade is not None and self.transport is not None:
            self._upgrade.hold(self.transport, data)
        else:
            self.feed(data)

    def eof_received(self) -> bool | None:
        self.server.disconnect(self.user, "Connection closed")
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.disconnect(
            self.user, "Connection closed" if exc is None else "Connection reset"
        )
        self._closed = True

    def transport_write(self, data: bytes) -> None:
        if self._upgrade is not None:
            return  # plaintext into a TLS handshake would only garble it
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def transport_buffered(self) -> int:
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    def transport_close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def transport_abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def set_reading(self, on: bool) -> None:
        if self.transport is None or self.transport.is_closing() or self._upgrade is not None:
            return
        if on:
            self.transport.resume_reading()
        else:
            self.transport.pause_reading()
