"""Structured fields for the log events operators act on (connect, register,
quit, oper actions, bans, store problems).

They ride on stdlib logging's ``extra``: the text format shows the message
as before, the JSON format (logging_setup.py) adds these fields. What a
client typed never goes in: no message text, no passwords, and a QUIT's
own words are reduced to "Quit".
"""

from __future__ import annotations

import logging

from hubbub.server.logtext import for_log
from hubbub.server.state import User

# Keys a record may carry; logging_setup.JsonFormatter emits exactly these.
FIELDS = ("event", "conn", "addr", "nick", "reason", "account", "oper", "target", "kind", "mask")


def user_fields(
    user: User, event: str, reason: str | None = None, **more: str
) -> dict[str, object]:
    """``extra=`` for an event about ``user`` (the actor, or the one it happened to)."""
    fields: dict[str, object] = {
        "event": event,
        "conn": user.connection_id,
        "addr": user.ip,
        "nick": user.nick,
    }
    if reason is not None:
        fields["reason"] = for_log(reason)
    fields.update(more)
    return fields


_events = logging.getLogger("hubbub.events")


def log_event(user: User, event: str, reason: str | None = None, **more: str) -> None:
    """An INFO record named ``event`` about ``user`` (for modules without a logger)."""
    _events.info(event, extra=user_fields(user, event, reason, **more))


def quit_reason(reason: str) -> str:
    """The disconnect reason fit for a log: a client's QUIT text is its own
    words (possibly a message to others), so only "Quit" is kept."""
    return "Quit" if reason == "Quit" or reason.startswith("Quit: ") else for_log(reason)
