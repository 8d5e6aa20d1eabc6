"""Which transport a connection came over, as metrics name it."""

from __future__ import annotations

from hubbub.server.net.websocket import WebSocketConnection
from hubbub.server.session import Session


def transport_of(session: Session) -> str:
    """``plain``, ``tls``, ``websocket``, told by the session's link (its
    transport adapter); a link class may name its own kind with a
    ``METRICS_TRANSPORT`` class attribute (a plain-chat adapter would say
    ``plain-chat``)."""
    link = session.link
    own = getattr(type(link), "METRICS_TRANSPORT", None)
    if isinstance(own, str):
        return own
    if isinstance(link, WebSocketConnection):
        return "websocket"
    return "tls" if session.user.tls else "plain"
