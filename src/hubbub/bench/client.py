"""One benchmark connection: an ``asyncio.Protocol`` whose receive path
works on whole chunks with bytes operations and parses at most two
timestamps per read, so that one Python process can absorb about a million
deliveries per second."""

from __future__ import annotations

import asyncio
import base64
import os
import re
from time import monotonic_ns
from typing import cast

from hubbub.bench.sender import Sender
from hubbub.bench.session import Session

_PRIVMSG = b" PRIVMSG "
_STAMP = re.compile(rb" :L\d+ \d+ (\d+)")
_SENDER = re.compile(rb" PRIVMSG \S+ :L(\d+) ")
_MAX_PARTIAL = 32 * 1024


def registration(nick: str, password: str | None) -> bytes:
    """The lines a client opens with, all in one write: NICK/USER, and with
    a password SASL PLAIN as the account ``nick`` first (the server answers
    each line in order, so nothing needs to wait for its reply)."""
    lines = f"NICK {nick}\r\nUSER {nick} 0 * :bench\r\n"
    if password is None:
        return lines.encode()
    token = base64.b64encode(f"{nick}\0{nick}\0{password}".encode()).decode()
    return (
        f"CAP REQ :sasl\r\n{lines}AUTHENTICATE PLAIN\r\nAUTHENTICATE {token}\r\nCAP END\r\n"
    ).encode()


class BenchClient(asyncio.Protocol):
    """Registers as ``NICK <nick>``, answers PING, counts PRIVMSGs.

    ``credit`` is the one sender whose messages alone reach this client and
    who counts on it as observer (credits are then simply the message
    count); ``observed`` maps sender-index bytes to senders when this
    client receives other senders' messages too and must pick its own out.
    """

    def __init__(self, session: Session, index: int, nick: str) -> None:
        self.session = session
        self.index = index
        self.nick = nick
        self.transport: asyncio.Transport | None = None
        self.fd: int | None = None
        self.partial = b""
        self.started = 0
        self.registered: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.joined: asyncio.Future[None] | None = None
        self.credit: Sender | None = None
        self.observed: dict[bytes, Sender] | None = None

    # asyncio.Protocol -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        if transport.get_extra_info("sslcontext") is None:
            self.fd = transport.get_extra_info("socket").fileno()
        self.transport.write(registration(self.nick, self.session.login))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.fd = None
        if not self.registered.done():
            self.registered.set_result(False)
            return
        if not self.registered.result():
            return  # refused (nick taken, login failed), and closed by us
        if self.joined is not None and not self.joined.done():
            self.joined.cancel()
        if not self.session.finished:
            self.session.disconnects += 1
            self.session.note(f"client {self.index} disconnected by the server ({exc or 'EOF'})")

    def data_received(self, data: bytes) -> None:
        now = monotonic_ns()
        if self.partial:
            data = self.partial + data
        end = data.rfind(b"\n") + 1
        if end < len(data):
            self.partial = data[end:]
            if len(self.partial) > _MAX_PARTIAL:
                self.session.errors += 1
                self.session.note(f"client {self.index}: over-long line dropped")
                self.partial = b""
        else:
            self.partial = b""
        if not end:
            return
        msgs = data.count(_PRIVMSG, 0, end)
        if msgs:
            self._privmsgs(data, end, msgs, now)
        if msgs != data.count(b"\n", 0, end):
            self._control_lines(data, end, now)

    # Writer (for Sender) ----------------------------------------------

    def write(self, data: bytes) -> None:
        """Send now when nothing is queued: uvloop would hold the bytes until
        the end of the loop iteration, and in a closed loop that delay is
        round-trip time, which caps throughput below the server's."""
        transport = self.transport
        if transport is None:
            return
        if self.fd is not None and not transport.get_write_buffer_size():
            try:
                data = data[os.write(self.fd, data) :]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                return  # the transport will notice and report the loss
            if not data:
                return
        transport.write(data)

    def backlog(self) -> int:
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    # receive path -----------------------------------------------------

    def _privmsgs(self, data: bytes, end: int, msgs: int, now: int) -> None:
        session = self.session
        session.delivered += msgs
        if session.measuring:
            self._sample_latency(data, end, msgs, now)
        if self.credit is not None:
            self.credit.credit(msgs, now)
        elif self.observed is not None:
            self._credit_observed(data, end, now)

    def _sample_latency(self, data: bytes, end: int, msgs: int, now: int) -> None:
        """Latency of the oldest and newest message of this read, each
        weighted for half of the messages the read delivered."""
        hist = self.session.latency
        first = _STAMP.search(data, 0, end)
        if first is None:
            return
        if msgs == 1:
            hist.add(now - int(first[1]))
            return
        last = _STAMP.match(data, data.rfind(b" :L", 0, end), end)
        hist.add(now - int(first[1]), msgs // 2)
        if last is not None:
            hist.add(now - int(last[1]), msgs - msgs // 2)

    def _credit_observed(self, data: bytes, end: int, now: int) -> None:
        observed = cast(dict[bytes, Sender], self.observed)
        counts: dict[bytes, int] = {}
        for sid in _SENDER.findall(data, 0, end):
            if sid in observed:
                counts[sid] = counts.get(sid, 0) + 1
        for sid, n in counts.items():
            observed[sid].credit(n, now)

    def _control_lines(self, data: bytes, end: int, now: int) -> None:
        start = 0
        while start < end:
            nl = data.index(b"\n", start, end)
            line = data[start:nl].rstrip(b"\r")
            start = nl + 1
            if line and _PRIVMSG not in line:
                self._control(line, now)

    def _control(self, line: bytes, now: int) -> None:
        if line.startswith(b"@"):
            line = line.partition(b" ")[2]
        if line.startswith(b":"):
            line = line.partition(b" ")[2]
        command, _, rest = line.partition(b" ")
        if command == b"PING":
            self.write(b"PONG " + rest + b"\r\n")
        elif command == b"001":
            if not self.registered.done():
                self.session.registration.add(now - self.started)
                self.registered.set_result(True)
        elif command == b"904" and not self.registered.done():
            self.session.errors += 1
            self.session.note(f"client {self.index}: login refused: {line[:200]!r}")
            self.registered.set_result(False)
        elif command == b"366":
            if self.joined is not None and not self.joined.done():
                self.joined.set_result(None)
        elif command == b"ERROR":
            self.session.note(f"client {self.index} got: {line[:200].decode(errors='replace')}")
        elif command[:1] in (b"4", b"5") and command.isdigit() and command != b"422":
            self.session.errors += 1
            self.session.note(f"client {self.index} got: {line[:200].decode(errors='replace')}")
            if command in (b"432", b"433") and not self.registered.done():
                self.registered.set_result(False)

    # commands ---------------------------------------------------------

    def join(self, channel: str) -> asyncio.Future[None]:
        self.joined = asyncio.get_running_loop().create_future()
        self.write(f"JOIN {channel}\r\n".encode())
        return self.joined

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
