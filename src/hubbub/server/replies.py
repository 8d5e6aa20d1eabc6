"""The reply buffer of one labeled command (Ergo's ``ResponseBuffer``).

Made by the session before its own checks, so every reply to a labeled
command carries the label (https://ircv3.net/specs/extensions/labeled-response):
none is answered by an ``ACK``, one reply gets the ``label`` tag itself,
several are wrapped in a ``labeled-response`` batch.
"""

from __future__ import annotations

import itertools

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
