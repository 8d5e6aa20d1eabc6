"""Which transport a connection came over, as metrics name it."""

from __future__ import annotations

from hubbub.server.net.connection import Connection
from hubbub.server.net.websocket import WebSocketConnection


def transport_of(conn: Connection) -> str:
    """``plain``, ``tls``, ``websocket``; a Connection class may name its own
    kind with a ``METRICS_TRANSPORT`` class attribute (the plain-chat adapter
    says ``plain-chat``)."""
    own = getattr(type(conn), "METRICS_TRANSPORT", None)
    if isinstance(own, str):
        return own
    if isinstance(conn, WebSocketConnection):
        return "websocket"
    return "tls" if conn.user.tls else "plain"
