"""Building the client library's events by hand, for the chat-model tests that
need no network: one short call per message instead of a keyword block."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hubbub.client import events as ev

NOW = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def said(source: str, target: str, text: str, **fields: Any) -> ev.MessageEvent:
    """A PRIVMSG from ``source`` to ``target``, shown in the conversation it
    belongs to (the channel, or the sender for a private message)."""
    conversation = target if target.startswith("#") else source
    values: dict[str, Any] = {"conversation": conversation, "time": NOW, **fields}
    return ev.MessageEvent(kind="privmsg", source=source, target=target, text=text, **values)
