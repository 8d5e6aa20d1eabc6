"""A sending client's side of the message flow: it builds the bench lines
(``L<sender> <seq> <monotonic ns>`` padded to the message size) and keeps the
closed-loop window of un-observed messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hubbub.bench.session import Session


class Writer(Protocol):
    def write(self, data: bytes) -> None: ...

    def backlog(self) -> int: ...


class Sender:
    __slots__ = (
        "_pad",
        "_prefix",
        "_room",
        "_session",
        "index",
        "inflight",
        "last_progress",
        "recipients",
        "seq",
        "window",
        "writer",
    )

    def __init__(
        self,
        session: Session,
        index: int,
        target: str,
        recipients: int,
        msg_size: int,
        window: int,
    ) -> None:
        self._session = session
        self.index = index
        self.recipients = recipients
        self.window = window
        self.writer: Writer | None = None
        self.seq = 0
        self.inflight = 0
        self.last_progress = 0
        tag = f"L{index} ".encode()
        self._prefix = f"PRIVMSG {target} :".encode() + tag
        self._room = msg_size - len(tag)
        self._pad = b"x" * max(self._room, 0)

    def _line(self, ts: int) -> bytes:
        head = b"%d %d " % (self.seq, ts)
        self.seq += 1
        return b"%s%s%s\r\n" % (self._prefix, head, self._pad[: self._room - len(head)])

    def send(self, stamps: Sequence[int]) -> None:
        """Queue one message per timestamp, in a single write."""
        writer = self.writer
        if writer is None or not stamps:
            return
        line = self._line
        writer.write(b"".join([line(ts) for ts in stamps]))
        session = self._session
        session.sent += len(stamps)
        session.expected += len(stamps) * self.recipients

    def fill(self, now: int) -> None:
        """Closed loop: top the window up."""
        free = self.window - self.inflight
        if free > 0 and self._session.sending:
            self.inflight = self.window
            self.send([now] * free)

    def credit(self, count: int, now: int) -> None:
        """The observer saw ``count`` of our messages."""
        self.inflight = max(self.inflight - count, 0)
        self.last_progress = now
        self.fill(now)

    def reset_if_stalled(self, now: int, stall_ns: int) -> bool:
        """Reopen a window that got no credit for ``stall_ns`` (lost messages)."""
        if self.inflight and now - self.last_progress > stall_ns:
            self.inflight = 0
            self.last_progress = now
            self.fill(now)
            return True
        return False
