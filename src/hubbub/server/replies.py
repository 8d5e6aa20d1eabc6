"""The reply buffer of one labeled command (Ergo's ``ResponseBuffer``).

Made by the session before its own checks, so every reply to a labeled
command carries the label (https://ircv3.net/specs/extensions/labeled-response):
none is answered by an ``ACK``, one reply gets the ``label`` tag itself,
several are wrapped in a ``labeled-response`` batch.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Coroutine, Generator
from typing import Any, Protocol

from hubbub.protocol.message import escape_tag_value
from hubbub.server.delivery import add_tag
from hubbub.server.state import User

_batch_refs = itertools.count(1)


class Replies:
    """What one command sent its own user, held until the command ends."""

    __slots__ = ("deferred", "label", "lines")

    def __init__(self, label: str) -> None:
        self.label = label
        self.lines: list[bytes] = []
        # The command handed its label on (``Session.take_label``): what it
        # wrote goes out unlabeled and there is no ACK.
        self.deferred = False

    def render(self, server_name: str, user: User) -> list[bytes]:
        """The lines to send, labeled per the spec.

        The label goes back escaped: unescaped, a ``\\n`` in it would end the
        line and let the rest be read as a new one.
        """
        label = "label=" + escape_tag_value(self.label)
        lines = self.lines
        if self.deferred:
            return list(lines)
        if not lines:
            return [add_tag(f":{server_name} ACK\r\n".encode(), label)]
        if len(lines) == 1:
            return [add_tag(lines[0], label)]
        if "batch" not in user.caps:
            return list(lines)
        ref = f"L{user.connection_id}x{next(_batch_refs)}"
        batch = f"batch={ref}"
        return [
            add_tag(f":{server_name} BATCH +{ref} labeled-response\r\n".encode(), label),
            *(line if _has_batch_tag(line) else add_tag(line, batch) for line in lines),
            f":{server_name} BATCH -{ref}\r\n".encode(),
        ]


def _has_batch_tag(line: bytes) -> bool:
    if not line.startswith(b"@"):
        return False
    tags = line[1 : line.find(b" ")]
    return any(t.startswith(b"batch=") for t in tags.split(b";"))


class Capturing(Protocol):
    """A session: between ``enter`` and ``leave`` a command's own code runs
    (its writes to its user go to its reply buffer, if any; a device of a
    shared user speaks as that device)."""

    def enter(self, replies: Replies | None) -> None: ...

    def leave(self) -> None: ...


class StepsCaptured(Coroutine[Any, Any, None]):
    """An async handler whose writes to its own user go to its reply buffer
    only while its own code runs: between its steps, what other users send
    this one goes out as it comes (not into the labeled response). The same
    for a device's command: it speaks as that device during its steps only."""

    __slots__ = ("_coro", "_replies", "_session")

    def __init__(
        self, session: Capturing, replies: Replies | None, awaitable: Awaitable[None]
    ) -> None:
        self._session = session
        self._replies = replies
        self._coro = awaitable if isinstance(awaitable, Coroutine) else _wait(awaitable)

    def send(self, value: Any) -> Any:
        session = self._session
        session.enter(self._replies)
        try:
            return self._coro.send(value)
        finally:
            session.leave()

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        session = self._session
        session.enter(self._replies)
        try:
            if val is None and tb is None:
                return self._coro.throw(typ)
            return self._coro.throw(typ, val, tb)
        finally:
            session.leave()

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, None]:
        return self._coro.__await__()


async def _wait(awaitable: Awaitable[None]) -> None:
    await awaitable
