"""What the members of a channel just saw, told to the ``channel_event``
hooks (history stores it for draft/event-playback). Its own module so that
both the actions and the mode rules (``mode_changes``) can call it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.server.api import ChannelEvent
from hubbub.server.delivery import Event
from hubbub.server.state import Channel

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi


def announce(
    server: ServerApi,
    channels: list[Channel],
    source: str,
    command: str,
    params: list[str],
    event: Event,
) -> None:
    """Tell the ``channel_event`` hooks what the members of ``channels`` just saw."""
    if channels:
        happened = ChannelEvent(server, channels, source, command, params, event)
        for hook in server.hooks.channel_event:
            hook(happened)
