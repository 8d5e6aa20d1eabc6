"""K-lines and D-lines network-wide: one set on any node is enforced on
every node at once, and lifted everywhere when lifted.

The node where the operator typed KLINE/DLINE stores the ban in PostgreSQL
(the source of truth), enforces it on its own users and publishes a ``ban``
event carrying the whole ban; every other node adds it to its in-memory
copy and disconnects its own users it matches, with the same 465 and
ERROR a local ban gives. UNKLINE/UNDLINE publishes the mask as typed, and
every node forgets it as the origin did. A ban's expiry is a time (epoch
milliseconds), so it runs out at the same moment on every node whose clock
is in step. A node that was off the bus reloads every ban from PostgreSQL
when it is back (``catch_up``) and enforces the ones it did not know."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from hubbub.server.cluster.catch_up import CatchUp
from hubbub.server.commands.serverbans import ban_list, enforce
from hubbub.store import BanKind, ServerBan
from hubbub.store.timeutil import from_ms, to_ms

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi
    from hubbub.server.cluster.backplane import Backplane

log = logging.getLogger(__name__)


def describe(ban: ServerBan) -> dict[str, Any]:
    """The fields of a ``ban`` event."""
    expires = None if ban.expires_at is None else to_ms(ban.expires_at)
    return {
        "k": ban.kind,
        "mask": ban.mask,
        "r": ban.reason,
        "by": ban.setter,
        "at": to_ms(ban.set_at),
        "until": expires,
    }


def from_event(event: dict[str, Any]) -> ServerBan:
    kind = str(event["k"])
    if kind not in ("K", "D"):
        raise ValueError(f"unknown ban kind {kind!r}")
    until = event.get("until")
    return ServerBan(
        kind=cast(BanKind, kind),
        mask=str(event["mask"]),
        reason=str(event["r"]),
        setter=str(event["by"]),
        set_at=from_ms(int(event["at"])),
        expires_at=None if until is None else from_ms(int(until)),
    )


class BansSync:
    """Publishes this node's K/D-line changes; applies the other nodes'."""

    def __init__(self, server: ServerApi, backplane: Backplane) -> None:
        self.server = server
        self.backplane = backplane
        self.catch_up = CatchUp("server bans", self._reload, self._apply)

    # --- out --------------------------------------------------------------
    def added(self, _server: ServerApi, ban: ServerBan) -> None:
        self._tell("ban", describe(ban))

    def removed(self, _server: ServerApi, kind: BanKind, mask: str) -> None:
        self._tell("unban", {"k": kind, "mask": mask})

    def _tell(self, kind: str, fields: dict[str, Any]) -> None:
        self.backplane.publish(kind, **fields)
        self.catch_up.noted({"t": kind, **fields})

    # --- in ---------------------------------------------------------------
    def _apply(self, event: dict[str, Any]) -> None:
        bans = ban_list(self.server)
        if event["t"] == "unban":
            kind = str(event["k"])
            if kind in ("K", "D"):
                bans.remove(cast(BanKind, kind), str(event["mask"]))
            return
        ban = bans.add(from_event(event))
        hit = enforce(self.server, ban)
        if hit:
            log.info(
                "cluster: %s-line %s from node %s: %d user(s) disconnected",
                ban.kind,
                ban.mask,
                event.get("n"),
                hit,
            )

    def subscribed(self) -> None:
        if self.catch_up.wanted():
            self.server.spawn(self.catch_up.run())

    async def _reload(self) -> None:
        known = ban_list(self.server).load(await self.server.store.bans.list_active())
        for ban in known:  # set while this node was off the bus
            enforce(self.server, ban)


def install(server: ServerApi, backplane: Backplane) -> None:
    """K/D-lines cross the bus (only with ``[cluster] node``)."""
    sync = BansSync(server, backplane)
    server.hooks.ban_added.append(sync.added)
    server.hooks.ban_removed.append(sync.removed)
    backplane.handlers["ban"] = backplane.handlers["unban"] = sync.catch_up.heard
    backplane.catching_up.append(sync.subscribed)
