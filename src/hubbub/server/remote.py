"""Users of other nodes, mirrored in this node's world.

A remote user is a plain ``User`` whose sink is a ``RemoteSink``: it sits in
the nick index and in channel member lists, so WHO, WHOIS, NAMES, MONITOR
and the permission checks see it as they see anyone, but bytes written to
it go nowhere. Its own node delivers to it: every node delivers only to its
own connections (docs/cluster.md, "How a message crosses nodes")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hubbub.server.state import User


class RemoteSink:
    """The sink of a user connected to another node."""

    __slots__ = ("node", "on_close", "server_name", "uid")

    def __init__(
        self,
        node: str,
        uid: str,
        server_name: str,
        on_close: Callable[[str, str, str | None], None],
    ) -> None:
        self.node = node
        self.uid = uid
        self.server_name = server_name  # the node's [server] name (WHOIS, WHO)
        self.on_close = on_close

    def write(self, data: bytes) -> None:
        """Its own node delivers to it."""

    def write_unlabeled(self, data: bytes) -> None:
        """Its own node delivers to it."""

    def close(self, reason: str) -> None:
        """Disconnected here (GHOST): ask the user's node to disconnect it."""
        self.on_close(self.uid, reason, None)

    def kill(self, source: str, text: str) -> None:
        """An operator's KILL here: the user's node sends it the KILL line
        from ``source``, then disconnects it, as a single server would."""
        self.on_close(self.uid, text, source)

    def take_label(self) -> str | None:
        """Its commands run on its own node."""
        return None


def is_remote(user: User) -> bool:
    return type(user.sink) is RemoteSink


def describe(user: User, uid: str, server_name: str) -> dict[str, Any]:
    """What other nodes need to mirror a local user (a ``user`` event)."""
    return {
        "u": uid,
        "srv": server_name,
        "nick": user.nick,
        "user": user.user,
        "host": user.host,
        "real": user.realname,
        "acct": user.account,
        "party": user.history_party,  # the key its private history is filed under
        "away": user.away,
        "modes": "".join(sorted(user.modes)),
        "tls": user.tls,
        "signon": user.signon,
        "md": dict(user.metadata),
    }


def make_remote(fields: dict[str, Any], sink: RemoteSink) -> User:
    """A mirrored user from a ``user`` event. Its address is its (cloaked)
    host: the real IP stays on its own node."""
    host = str(fields["host"])
    user = User(sink, ip=host, host=host, port=0, tls=bool(fields.get("tls")))
    user.cloak = host
    update(user, fields)
    user.signon = float(fields.get("signon") or user.signon)
    user.registered = True  # not counted in this node's LUSERS: not a connection here
    return user


def update(user: User, fields: dict[str, Any]) -> None:
    """Refresh what a later ``user`` event (a burst) says of a mirrored user."""
    user.user = str(fields["user"])
    user.host = str(fields["host"])
    user.realname = str(fields["real"])
    user.account = fields.get("acct")
    user.history_party = fields.get("party")
    user.away = fields.get("away")
    user.modes = set(str(fields.get("modes", "")))
    user.metadata = {str(k): str(v) for k, v in (fields.get("md") or {}).items()}
