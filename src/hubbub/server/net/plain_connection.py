"""The plain-chat adapter: moves bytes between an asyncio TCP transport and a
``PlainChat`` (server/plainchat/protocol.py), which does everything else."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast

from hubbub.server.net.connection import host_for, peer_address
from hubbub.server.plainchat.protocol import PlainChat

if TYPE_CHECKING:
    from hubbub.server.session import SessionHost


class PlainStreamConnection(asyncio.Protocol):
    """A plain-chat client over TCP: the transport below its ``PlainChat``."""

    __slots__ = ("chat", "server", "transport")

    def __init__(self, server: SessionHost) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.chat: PlainChat | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        raw = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport = raw
        raw.set_write_buffer_limits(high=self.server.config.limits.sendq)
        ip, port = peer_address(raw)
        self.chat = PlainChat(self.server, self, ip, host_for(ip), port)
        self.chat.start()

    def pause_writing(self) -> None:
        if self.chat is not None and not self.chat.session.closed:
            self.chat.session.sendq_exceeded()

    def data_received(self, data: bytes) -> None:
        if self.chat is not None:
            self.chat.receive_data(data)

    def eof_received(self) -> bool | None:
        if self.chat is not None:
            self.chat.end_of_input()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.chat is not None:
            self.chat.connection_lost()

    # --- what PlainChat needs of its transport ------------------------------------------
    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def buffered(self) -> int:
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def set_reading(self, on: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if on:
            self.transport.resume_reading()
        else:
            self.transport.pause_reading()
