"""ChanServ's registrations, the same on every node.

Each node keeps the registered channels in memory (founder, access, topic
lock, the modes and lists an empty channel is restored with); PostgreSQL
has them all. When ChanServ on a node has written a change to a channel's
registration, that node publishes a ``creg`` event with the channel's name,
and every other node reads that registration again (or finds it gone), so a
channel registered, dropped or given an access entry on one node has the
founder protection, the auto-op and the ChanServ answers of it on every
node. A node (re)joining the bus reads every registration again: it may
have missed events meanwhile. Reads are made one at a time by one task, so
an older read never overwrites a newer one; what waits is a set of channel
names (an event for a name already waiting adds nothing, so it holds at
most one entry per channel, however many events arrive), or one read of
them all. A registration with a write of this node still to be made keeps
this node's copy."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from hubbub.protocol.casemap import fold
from hubbub.server.commands.chanserv_channels import Registration, state_of

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi
    from hubbub.server.cluster.backplane import Backplane

log = logging.getLogger(__name__)


class RegistrationsSync:
    """Publishes this node's registration changes; reads the others' again."""

    def __init__(self, server: ServerApi, backplane: Backplane) -> None:
        self.server = server
        self.backplane = backplane
        self._wanted: dict[str, str] = {}  # folded -> name, to read again, oldest first
        self._read_everything = False
        self._reader: asyncio.Future[None] | None = None

    def written(self, _server: ServerApi, name: str) -> None:
        self.backplane.publish("creg", ch=name)

    def heard(self, event: dict[str, Any]) -> None:
        name = str(event["ch"])
        self._wanted[fold(name)] = name
        self._wake()

    def subscribed(self) -> None:
        self._read_everything = True
        self._wanted.clear()  # the read of them all covers these
        self._wake()

    def _wake(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = self.server.spawn(self._read_wanted())

    async def _read_wanted(self) -> None:
        while self._read_everything or self._wanted:
            if self._read_everything:
                self._read_everything = False
                await self._read_all()
            else:
                key = next(iter(self._wanted))
                await self._read_one(self._wanted.pop(key))

    async def _read_one(self, name: str) -> None:
        try:
            stored = await self.server.store.channels.get(name)
        except SQLAlchemyError as exc:
            log.warning("cluster: could not read the registration of %s: %s", name, exc)
            return
        state = state_of(self.server)
        if fold(name) in state.pending:
            return  # changed here since: this copy is the newer
        if stored is None:
            state.channels.pop(fold(name), None)
        else:
            state.channels[fold(stored.name)] = Registration.from_store(stored)

    async def _read_all(self) -> None:
        try:
            stored = await self.server.store.channels.list()
        except SQLAlchemyError as exc:
            log.warning("cluster: could not read the channel registrations: %s", exc)
            return
        state = state_of(self.server)
        # a channel with a write of this node still to be made: this
        # node's copy (or its absence) is the newer
        kept = {key: reg for key, reg in state.channels.items() if key in state.pending}
        state.channels.clear()
        for registration in stored:
            key = fold(registration.name)
            if key not in state.pending:
                state.channels[key] = Registration.from_store(registration)
        state.channels.update(kept)


def install(server: ServerApi, backplane: Backplane) -> None:
    """Registrations cross the bus (only with ``[cluster] node``)."""
    sync = RegistrationsSync(server, backplane)
    server.hooks.registration_written.append(sync.written)
    backplane.handlers["creg"] = sync.heard
    backplane.catching_up.append(sync.subscribed)
