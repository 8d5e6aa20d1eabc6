"""The login throttle network-wide: failed logins count on every node.

Each node keeps its own token buckets (``password_guard``); a login attempt
takes a token from its account's bucket and its IP's, and a success gives
them back. Here every take and give-back is also published as a small
``login`` event, and every other node takes (or gives back) the same
tokens of the same buckets, so attempts spread over several nodes run out
of tokens as they would on one.

Why events and not shared counters in Redis: an attempt is then decided
from memory as on a single server, with no round trip to Redis on the
login path, and a node cut off from the bus still throttles its own
attempts (it only stops hearing the others'). The price: attempts made on
two nodes within one bus latency are both allowed (each node checked its
own bucket first), so the network can see up to one bucketful more per
node in a burst; a bucket another node emptied goes below zero here (to
``-capacity`` at most) rather than forgetting those attempts. A node off
the bus does not hear the attempts made elsewhere meanwhile (pub/sub keeps
nothing, and nothing is reloaded: buckets are not stored), so for that time
its throttle counts its own attempts only; its own events wait in the bus
queue and reach the others when it is back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubbub.server.password_guard import tokens_moved_elsewhere

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi
    from hubbub.server.cluster.backplane import Backplane


class LoginsSync:
    """Publishes this node's throttle tokens taken and given back; applies the others'."""

    def __init__(self, server: ServerApi, backplane: Backplane) -> None:
        self.server = server
        self.backplane = backplane

    def tokens(self, _server: ServerApi, account_key: str | None, ip_key: str, taken: bool) -> None:
        self.backplane.publish("login", a=account_key, ip=ip_key, take=taken)

    def heard(self, event: dict[str, Any]) -> None:
        account = event.get("a")
        account_key = None if account is None else str(account)
        tokens_moved_elsewhere(self.server, account_key, str(event["ip"]), bool(event["take"]))


def install(server: ServerApi, backplane: Backplane) -> None:
    """Login throttle tokens cross the bus (only with ``[cluster] node``)."""
    sync = LoginsSync(server, backplane)
    server.hooks.login_tokens.append(sync.tokens)
    backplane.handlers["login"] = sync.heard
