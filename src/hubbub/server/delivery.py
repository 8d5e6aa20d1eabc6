"""The one delivery function: serialise an event once per tag variant and
queue the same bytes to every recipient (the fan-out rule in docs/architecture.md).
Every message one user sends to others is queued by a function here.

A recipient's ``tag_mask`` says which tags it asked for (server-time,
message-tags, account-tag); recipients with the same mask share one bytes
object. Nothing here awaits.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet

from hubbub.protocol.message import escape_tag_value, serialize_body
from hubbub.server.devices import expand
from hubbub.server.state import User

TAG_TIME = 1
TAG_MESSAGE_TAGS = 2
TAG_ACCOUNT = 4

CAP_TAG_BITS = {
    "server-time": TAG_TIME,
    "message-tags": TAG_MESSAGE_TAGS,
    "account-tag": TAG_ACCOUNT,
}

_second_cache: list[object] = [-1, ""]

# Events are stamped no earlier than this (seconds): see ``stamp_after``.
_earliest = [0.0]


def stamp_after(ms: int) -> None:
    """Stamp every event created from now on later than ``ms`` (ms since
    the epoch). A device that leaves (or arrives) at ``ms`` then tells apart
    exactly the messages it saw from those it missed, even within one
    millisecond: the clock runs at most 1 ms ahead, once per departure."""
    _earliest[0] = max(_earliest[0], (ms + 1) / 1000 + 1e-6)


def boundary_ms() -> int:
    """Now (ms), as a line between what was said before and what comes
    after: every event created from here on is stamped later (stamp_after),
    so "up to and including this ms" is exactly what came before."""
    ms = int(time.time() * 1000)
    stamp_after(ms)
    return ms


def server_time(at: float | None = None) -> str:
    """ISO 8601 UTC with milliseconds; the date part is formatted once a second."""
    millis = int((time.time() if at is None else at) * 1000)
    seconds, millis = divmod(millis, 1000)
    if _second_cache[0] != seconds:
        _second_cache[0] = seconds
        _second_cache[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{_second_cache[1]}.{millis:03d}Z"


def compute_tag_mask(caps: AbstractSet[str]) -> int:
    mask = 0
    for cap, bit in CAP_TAG_BITS.items():
        if cap in caps:
            mask |= bit
    return mask


class Event:
    """The tags one event carries; rendered lazily per recipient variant.
    Nothing is formatted until a recipient asks for it: most of the cost of
    a small message was its tags.

    ``ids`` is the server's ``event_ids``: the event's id is the history row
    id of the message, and its msgid the id's text (``protocol.msgid``)."""

    __slots__ = ("_msgid", "account", "at", "bot", "client_tags", "id")

    def __init__(
        self,
        ids: Iterator[int],
        sender: User | None = None,
        client_tags: dict[str, str] | None = None,
        at: float | None = None,
    ) -> None:
        if at is None:  # the clock, or stamp_after's bound when that is ahead
            at = time.time()
            if at < _earliest[0]:
                at = _earliest[0]
        self.at = at
        self.id: int | None = next(ids)
        self._msgid: str | None = None
        self.account = sender.account if sender is not None else None
        self.bot = sender is not None and "B" in sender.modes
        self.client_tags = client_tags or {}

    @property
    def msgid(self) -> str:
        """Formatted on first use: a message between two guests without
        message-tags is neither tagged nor stored, so it never needs one."""
        msgid = self._msgid
        if msgid is None:
            msgid = self._msgid = f"H{self.id}"  # protocol.msgid.msgid, inlined
        return msgid

    @msgid.setter
    def msgid(self, value: str) -> None:
        """Another node's message keeps the msgid its origin gave it
        (cluster): it has no id of this server's."""
        self._msgid = value
        self.id = None

    def tag_prefix(self, mask: int) -> str:
        """``@tags `` for a recipient whose tag mask is ``mask`` ('' if none)."""
        parts = self.tags(mask)
        return "@" + ";".join(parts) + " " if parts else ""

    def tags(self, mask: int, msgid: bool = True) -> list[str]:
        """The tags for a recipient whose tag mask is ``mask``; ``msgid``
        False for the lines after the first of a multiline fallback."""
        parts: list[str] = []
        if mask & TAG_MESSAGE_TAGS:
            if self.bot:
                parts.append("bot")
            if msgid:
                parts.append("msgid=" + self.msgid)
            for key, value in self.client_tags.items():
                parts.append(f"{key}={escape_tag_value(value)}" if value else key)
        if mask & TAG_TIME:
            parts.append("time=" + server_time(self.at))
        if mask & TAG_ACCOUNT and self.account:
            parts.append("account=" + escape_tag_value(self.account))
        return parts


def render(body: str, event: Event | None, mask: int) -> bytes:
    if event is None or not mask:
        return (body + "\r\n").encode()
    return (event.tag_prefix(mask) + body + "\r\n").encode()


def add_tag(line: bytes, tag: str) -> bytes:
    """Put one more tag on an already serialised line."""
    if line.startswith(b"@"):
        return b"@" + tag.encode() + b";" + line[1:]
    return b"@" + tag.encode() + b" " + line


def deliver(
    recipients: Iterable[User],
    source: str | None,
    command: str,
    params: list[str],
    event: Event | None = None,
) -> None:
    """Queue one message to every recipient, serialised once per variant."""
    deliver_body(recipients, serialize_body(source, command, params), event)


def deliver_body(recipients: Iterable[User], body: str, event: Event | None = None) -> None:
    """``deliver`` for a body already serialised (without CR LF)."""
    cache: dict[int, bytes] = {}
    for user in recipients:
        if user.devices is not None:  # several devices: each as it asked
            deliver_body(user.devices, body, event)
            continue
        mask = user.tag_mask
        data = cache.get(mask)
        if data is None:
            data = cache[mask] = render(body, event, mask)
        user.sink.write(data)


def deliver_split(
    recipients: Iterable[User],
    cap: str,
    with_cap: tuple[str | None, str, list[str]],
    without_cap: tuple[str | None, str, list[str]] | None,
    event: Event | None = None,
) -> None:
    """Deliver one of two forms depending on a capability (extended-join, chghost)."""
    have: list[User] = []
    lack: list[User] = []
    for user in expand(recipients):
        (have if cap in user.caps else lack).append(user)
    if have:
        deliver(have, *with_cap, event=event)
    if lack and without_cap is not None:
        deliver(lack, *without_cap, event=event)
