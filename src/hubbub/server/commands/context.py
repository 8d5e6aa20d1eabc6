"""What a handler gets: the server, the user, and ways to reply.

Replies go through the connection's output queue, which is what makes
labeled-response and batches work for every command without the handler
knowing.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from hubbub.protocol.message import serialize_body
from hubbub.server.delivery import Event, add_tag, render
from hubbub.server.state import User

if TYPE_CHECKING:
    from hubbub.server.app import Server

_batch_ids = itertools.count(1)


class Context:
    __slots__ = ("server", "user")

    def __init__(self, server: Server, user: User) -> None:
        self.server = server
        self.user = user

    @property
    def nick(self) -> str:
        """The nick replies are addressed to: ``*`` until registration completes."""
        return self.user.nick if self.user.registered else "*"

    def reply(self, numeric: str, *params: str) -> None:
        """Send a numeric: ``:server NUMERIC <nick> params...``."""
        body = serialize_body(self.server.name, numeric, [self.nick, *params])
        self.user.send((body + "\r\n").encode())

    def send(
        self,
        command: str,
        *params: str,
        source: str | None = None,
        event: Event | None = None,
        batch: str | None = None,
    ) -> None:
        """Send one message to this user only (server is the default source)."""
        body = serialize_body(source or self.server.name, command, list(params))
        data = render(body, event, self.user.tag_mask)
        self.user.send(add_tag(data, "batch=" + batch) if batch else data)

    def fail(self, command: str, code: str, *context: str, description: str) -> None:
        """A standard-replies FAIL (https://ircv3.net/specs/extensions/standard-replies)."""
        self.send("FAIL", command, code, *context, description)

    def note(self, command: str, code: str, *context: str, description: str) -> None:
        self.send("NOTE", command, code, *context, description)

    def start_batch(self, kind: str, *params: str) -> str | None:
        """Open a batch if the client can take one; returns its reference."""
        if "batch" not in self.user.caps:
            return None
        ref = f"b{next(_batch_ids)}"
        self.send("BATCH", "+" + ref, kind, *params)
        return ref

    def end_batch(self, ref: str | None) -> None:
        if ref is not None:
            self.send("BATCH", "-" + ref)
