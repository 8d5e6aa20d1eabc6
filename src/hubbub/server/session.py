"""One client's protocol state, without I/O (docs/architecture.md, "Session").

A ``Session`` takes the bytes a client sent (``receive_data`` for a stream,
``receive_line`` for a WebSocket message), splits them into lines under hard
limits, applies flood control, and dispatches each line through the command
table. What it sends back is queued in the session and handed to its
``Link`` (the transport adapter in ``hubbub.server.net``) by ``flush``. It
never touches a socket or an event loop: timers, tasks and the flush queue
are the host's (``SessionHost``), so tests drive a session with plain bytes.

Modelled on the ``websockets`` protocol object and ``h11``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

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
    parse_line,
    serialize_body,
)
from hubbub.server import devices
from hubbub.server.api import Context, ServerApi
from hubbub.server.replies import Replies, StepsCaptured
from hubbub.server.state import User

if TYPE_CHECKING:
    from hubbub.server.commands.registry import CommandSpec

# A complete line may be this long; a partial line longer than this is abuse.
MAX_LINE_BYTES = MAX_CLIENT_TAG_BYTES + MAX_BODY_BYTES
MAX_PARTIAL_BYTES = 2 * MAX_LINE_BYTES
# A closed connection whose peer does not take the last bytes (the ERROR line,
# or a full send queue) is aborted after this many seconds.
CLOSE_GRACE = 5.0


class Link(Protocol):
    """What a session needs of its transport adapter."""

    def write(self, data: bytes) -> None:
        """Hand bytes to the transport (the session has already queued them)."""

    def buffered(self) -> int:
        """Bytes handed over but not yet on the wire."""

    def close(self) -> None:
        """Close once the bytes handed over are sent."""

    def abort(self) -> None:
        """Drop the link at once."""

    def set_reading(self, on: bool) -> None:
        """Start or stop reading from the client."""


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Completion(Protocol):
    """A running async handler, as the host's ``spawn`` returns it."""

    def add_done_callback(self, fn: Callable[[Any], object], /) -> None: ...


class OutputQueue(Protocol):
    def add(self, session: Session) -> None:
        """Flush ``session`` at the end of this event-loop pass."""


class SessionHost(ServerApi, Protocol):
    """What sessions and their adapters need of the server, beyond what
    handlers get: the command table, timers, the flush queue, admission."""

    @property
    def commands(self) -> Mapping[str, CommandSpec]: ...

    @property
    def raw_commands(self) -> Mapping[bytes, CommandSpec]:
        """The commands with a raw handler (``registry.raw_table``)."""

    @property
    def flushes(self) -> OutputQueue: ...

    def call_soon(self, callback: Callable[..., object], *args: object) -> None: ...

    def call_later(self, delay: float, callback: Callable[[], object]) -> Cancellable: ...

    def log_failure(self, what: str, exc: BaseException | None = None) -> None: ...

    def connection_opened(self, session: Session) -> None:
        """Admit (or refuse and shut) a new connection's session."""

    def file_request_served(self, ip: str) -> None:
        """A connection from ``ip`` was a web page's file request, not a
        client: it is not counted against the connection-rate throttle."""


class Session:
    """One client connection's protocol state; also the user's ``Sink``."""

    __slots__ = (
        "_busy",
        "_clock",
        "_closed",
        "_commands",
        "_held_for_history",
        "_history_congested",
        "_inbuf",
        "_lines",
        "_out",
        "_out_size",
        "_overflowed",
        "_raw_commands",
        "_reading",
        "_resume_handle",
        "_sendq",
        "_tokens",
        "_tokens_at",
        "capturing",
        "context",
        "last_received",
        "link",
        "ping_sent",
        "server",
    )

    def __init__(
        self,
        server: SessionHost,
        link: Link,
        ip: str,
        host: str,
        port: int,
        tls: bool,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.server = server
        self.link = link
        # What every command handler gets; its ``conn`` is this connection's
        # user (or, once attached to a user several devices share, its record).
        self.context = Context(server, User(self, ip, host, port, tls))
        self._commands: Mapping[str, CommandSpec] = server.commands
        self._raw_commands: Mapping[bytes, CommandSpec] = server.raw_commands
        # Asked before every line: the store's own method, looked up once.
        self._history_congested = server.store.history.congested
        self._clock = clock
        self._inbuf = b""
        # The lines read and not yet run, and this loop pass's output: None
        # while there are none, so that an idle connection holds no list;
        # lists, not deques: short, and an empty deque costs 600 bytes
        # (docs/performance.md, idle memory).
        self._lines: list[bytes] | None = None
        self._out: list[bytes] | None = None
        self._out_size = 0
        self._sendq = server.config.limits.sendq
        self._overflowed = False
        self._reading = True
        self._resume_handle: Cancellable | None = None
        self._busy = False
        self._closed = False
        self._held_for_history = False
        # The running labeled command's reply buffer: set only while that
        # command's own code runs (see replies.StepsCaptured), so nothing another
        # user sends this one lands in it.
        self.capturing: Replies | None = None
        # The configured int itself, not a float made from it: one object
        # shared by every session until its first command spends a token.
        self._tokens: float = server.config.limits.flood_burst
        self._tokens_at = clock()
        self.last_received = self._tokens_at
        self.ping_sent: float | None = None

    @property
    def user(self) -> User:
        """This connection's user: the one that registered on it, or its
        device record once it shares a user with other devices."""
        return self.context.conn

    # --- output (the user's Sink) ---------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    def write(self, data: bytes) -> None:
        """Queue ``data``; it goes out with this loop pass's flush.

        This runs once per recipient of every message, so it does the least
        it can.
        """
        if self.capturing is not None:
            self.capturing.lines.append(data)
            return
        out = self._out
        if out is None:
            if self._closed or self._overflowed:
                return
            self.server.flushes.add(self)
            self._out = out = []
        out.append(data)
        self._out_size += len(data)
        if self._out_size > self._sendq:
            self.sendq_exceeded()

    def write_unlabeled(self, data: bytes) -> None:
        """Queue ``data`` past the running command's reply buffer: a message
        that reaches this user as it would reach anyone (one sent to
        oneself) is not a reply to the command that sent it."""
        replies, self.capturing = self.capturing, None
        try:
            self.write(data)
        finally:
            self.capturing = replies

    def take_label(self) -> str | None:
        replies = self.capturing
        if replies is None or replies.deferred:  # taken once: one labeled response
            return None
        replies.deferred = True
        return replies.label

    def flush(self) -> None:
        """Hand this pass's output to the link in one write (once per loop
        pass per connection with output: kept to one call)."""
        out = self._out
        if out is None:
            return
        self._out = None
        data = b"".join(out) if len(out) > 1 else out[0]
        self._out_size = 0
        self.link.write(data)

    def buffered(self) -> int:
        """Output queued here or in the transport, not yet sent."""
        return self._out_size + self.link.buffered()

    def sendq_exceeded(self) -> None:
        """Drop the queue and everything written after it; disconnect soon.

        Not at once: write() runs inside fan-out loops over channel members,
        and disconnecting removes the user from those very channels.
        """
        self._out = None
        self._out_size = 0
        if not self._overflowed:
            self._overflowed = True
            self.server.metrics.sendq_drops += 1
            self.server.call_soon(self.server.disconnect, self.user, "SendQ exceeded")

    def close(self, reason: str) -> None:
        """Ask the server to disconnect this user (QUIT to neighbours, ERROR)."""
        self.server.disconnect(self.user, reason)

    def shutdown(self, error_text: str) -> None:
        """Send ``ERROR`` and close; called by the server once the user is gone."""
        if self._closed:
            return
        self.capturing = None
        self.flush()
        self._closed = True
        self._lines = None
        self._inbuf = b""
        self.link.write((serialize_body(None, "ERROR", [error_text]) + "\r\n").encode())
        if self._resume_handle is not None:
            self._resume_handle.cancel()
        self.link.close()
        if self.link.buffered() > 0:
            # The peer is not reading: give it a moment, then let go.
            self.server.call_later(CLOSE_GRACE, self.link.abort)

    def mark_closed(self) -> None:
        """The transport is gone: nothing more is read or written."""
        self._closed = True

    # --- input ----------------------------------------------------------------
    def receive_data(self, data: bytes) -> None:
        """Take bytes from a stream; run the complete lines."""
        if self._closed:
            return
        self.last_received = self._clock()
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
        queued = self._lines
        if queued is None:
            queued = self._lines = []
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if line:
                queued.append(line)
        metrics = self.server.metrics
        metrics.until_sample -= 1
        if metrics.until_sample:
            self.process()
        else:
            metrics.timed_process(self.process, queued)  # one read in 16

    def receive_line(self, line: bytes) -> None:
        """Take one whole line (WebSocket messages are one line each)."""
        if self._closed:
            return
        self.last_received = self._clock()
        self.ping_sent = None
        line = line.rstrip(b"\r\n")
        if line:
            queued = self._lines
            if queued is None:
                queued = self._lines = []
            queued.append(line)
            metrics = self.server.metrics
            metrics.until_sample -= 1
            if metrics.until_sample:
                self.process()
            else:
                metrics.timed_process(self.process, queued)  # one read in 16

    def process(self) -> None:
        """Run queued lines while flood control allows.

        The queue is bounded: reading pauses while ``flood_max_queue`` lines
        wait (flood control, or an async command still running), and a
        flooder whose queue overflows is disconnected.
        """
        limits = self.server.config.limits
        flood_control = limits.flood_control
        lines = self._lines
        congested = self._history_congested
        while lines and not self._busy and not self._closed:
            if congested() and _stores_history(lines[0]):
                # Back-pressure: history is behind, and this line adds to it.
                self._wait_for_history()
                break
            if flood_control and not self.context.user.is_oper:
                now = self._clock()
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
                        self._resume_handle = self.server.call_later(delay, self._resume)
                    break
                self._tokens -= 1.0
            self.handle_line(lines.pop(0))
        if not lines and self._lines is lines:
            self._lines = None  # all run: the empty list goes
        if lines or not self._reading or self._held_for_history:
            self.update_reading()  # (else: reading, and wants_input() would say so)

    def wants_input(self) -> bool:
        """THE place that decides whether the adapter reads from this client:
        not while more than ``flood_max_queue`` lines wait (flood control, a
        slow async command), nor while a line waits for history storage to
        drain (back-pressure). Any other reason to stop reading belongs here."""
        if self._held_for_history:
            return False
        lines = self._lines
        return lines is None or len(lines) <= self.server.config.limits.flood_max_queue

    def update_reading(self) -> None:
        """Tell the link to pause or resume reading when ``wants_input`` changed."""
        if self._closed:
            return
        reading = self.wants_input()
        if reading != self._reading:
            self._reading = reading
            self.link.set_reading(reading)

    def charge(self, tokens: float) -> None:
        """Take extra flood-control tokens for costly work a command asked
        for (a password hash), beyond the command's own cost."""
        if self.server.config.limits.flood_control and not self.context.user.is_oper:
            self._tokens -= tokens

    def _resume(self) -> None:
        self._resume_handle = None
        if not self._closed:
            self.process()

    def _wait_for_history(self) -> None:
        if not self._held_for_history:
            self._held_for_history = True
            self.server.store.history.call_when_drained(self._history_drained)

    def _history_drained(self) -> None:
        self._held_for_history = False
        if not self._closed:
            self.process()

    # --- dispatch ---------------------------------------------------------------
    def handle_line(self, line: bytes) -> None:
        space = line.find(b" ")
        if space > 0:
            spec = self._raw_commands.get(line[:space])
            if spec is not None and spec.raw is not None:
                # The commonest PRIVMSG goes from here to its recipient
                # without a Message, a parse or the dispatcher (docs/
                # performance.md, "The PRIVMSG fast path"); a line the raw
                # handler does not take (False) goes on below.
                try:
                    handled = spec.raw(self.context, line)
                except Exception:
                    handled = True
                    self.server.log_failure(f"command {spec.name} from {self.user.nick} failed")
                    self._internal_error(spec.name)
                if handled:
                    spec.calls += 1
                    return
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
        """Check and run one command. A labeled command's reply buffer is made
        first, so the dispatcher's own refusals (421, 451, 461, 481) carry
        the label too."""
        ctx = self.context
        user = ctx.conn  # self.user, without the property call (per line)
        label = msg.tags.get("label") if msg.tags and "labeled-response" in user.caps else None
        replies = Replies(label) if label is not None else None
        if replies is None and ctx.user is user:
            # Nothing to capture, no device to speak as: enter() would do
            # nothing, and leave() only matters if the command made this
            # connection a device of a shared user.
            result = self._run(msg)
            if ctx.user is not user:
                self.leave()
        else:
            self.enter(replies)
            try:
                result = self._run(msg)
            finally:
                self.leave()
        if result is not None:  # an async handler's awaitable
            self._busy = True
            plain = replies is None and ctx.user is ctx.conn
            steps = result if plain else StepsCaptured(self, replies, result)
            done = self.server.spawn(steps)
            done.add_done_callback(lambda task: self._async_done(task, msg, replies))
            return
        if replies is not None:
            self._send_replies(replies)

    def enter(self, replies: Replies | None) -> None:
        """A command's own code starts running: its replies are captured, and
        a user several devices share speaks as this device (devices.activate)."""
        self.capturing = replies
        ctx = self.context
        if ctx.user is not ctx.conn:
            devices.activate(ctx.user, ctx.conn)

    def leave(self) -> None:
        """The command's code paused or ended: writes go out as they come."""
        self.capturing = None
        ctx = self.context
        if ctx.user is not ctx.conn:
            devices.settle(ctx.user)

    def _run(self, msg: Message) -> Awaitable[None] | None:
        """The dispatcher's checks, then the handler (an awaitable if async)."""
        user = self.context.conn
        ctx = self.context
        spec = self._commands.get(msg.command)
        if spec is None:
            self.server.metrics.unknown_commands += 1
            if user.registered:
                ctx.reply(rpl.ERR_UNKNOWNCOMMAND, msg.command, "Unknown command")
            else:
                ctx.reply(rpl.ERR_NOTREGISTERED, "You have not registered")
            return None
        spec.calls += 1  # the server's own table entry: its metrics count
        if not user.registered and not spec.pre_registration:
            ctx.reply(rpl.ERR_NOTREGISTERED, "You have not registered")
            return None
        if len(msg.params) < spec.min_params:
            ctx.reply(rpl.ERR_NEEDMOREPARAMS, msg.command, "Not enough parameters")
            return None
        if spec.oper and not ctx.user.is_oper:
            ctx.reply(rpl.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator")
            return None
        if spec.cost > 1:
            self._tokens -= spec.cost - 1
        try:
            return spec.handler(ctx, msg)
        except Exception:
            self.server.log_failure(f"command {msg.command} from {user.nick} failed")
            self._internal_error(msg.command)
            return None

    def _internal_error(self, command: str) -> None:
        self.context.reply(
            rpl.ERR_UNKNOWNERROR, command, "Internal error; the command was not completed"
        )

    def _async_done(self, task: Any, msg: Message, replies: Replies | None) -> None:
        self._busy = False
        failed = not task.cancelled() and task.exception() is not None
        if failed:
            self.server.log_failure(f"command {msg.command} failed", task.exception())
        if replies is not None:
            if failed:
                self.capturing = replies
                self._internal_error(msg.command)
                self.capturing = None
            self._send_replies(replies)
        elif failed:
            self._internal_error(msg.command)
        self.process()

    def _send_replies(self, replies: Replies) -> None:
        for data in replies.render(self.server.name, self.user):
            self.write(data)


def _stores_history(line: bytes) -> bool:
    """Whether ``line`` is a command history may store, read from the raw
    bytes (tags and source skipped): asked for every line while the history
    store is congested, so it must cost less than a parse."""
    if line[:1] == b"@":
        line = line.partition(b" ")[2].lstrip(b" ")
    if line[:1] == b":":
        line = line.partition(b" ")[2].lstrip(b" ")
    return line.partition(b" ")[0].upper() in _STORED_COMMANDS


_STORED_COMMANDS = frozenset((b"PRIVMSG", b"NOTICE", b"TAGMSG"))
