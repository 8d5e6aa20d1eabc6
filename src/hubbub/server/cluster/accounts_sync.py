"""Accounts registered or dropped on another node, known here at once.

``store.accounts.exists`` answers from memory (nick protection asks it at
every registration and nick change, the login throttle at every attempt).
The node where REGISTER created an account publishes an ``acct`` event with
its name and id, and the one where NickServ DROP deleted it an ``acct``
event with ``gone``; every other node updates its memory, so nick
protection applies here to an account registered there as soon as the
event is here, and users of this node logged in to a dropped account are
logged out as on the node that dropped it (which leaves them to their own
node). A node that was off the bus reads every account name again from
PostgreSQL when it is back (``catch_up``) and logs its users out of the
accounts that are gone. Accounts created or deleted with ``hubbub store`` (no
server involved) are learnt from that read, or from their row when read."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hubbub.protocol.casemap import fold
from hubbub.server import actions
from hubbub.server.api import Context
from hubbub.server.cluster.catch_up import CatchUp
from hubbub.server.remote import is_remote
from hubbub.store.keys import party_account_id

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi
    from hubbub.server.cluster.backplane import Backplane


class AccountsSync:
    """Publishes this node's account creations and deletions; applies the others'."""

    def __init__(self, server: ServerApi, backplane: Backplane) -> None:
        self.server = server
        self.backplane = backplane
        self.catch_up = CatchUp("account names", self._reload, self._apply)

    # --- out --------------------------------------------------------------
    def registered(self, server: ServerApi, name: str) -> None:
        party = server.store.accounts.party(name)
        account_id = None if party is None else party_account_id(party)
        if account_id is not None:
            self._tell({"name": name, "id": account_id})

    def dropped(self, _server: ServerApi, name: str) -> None:
        self._tell({"name": name, "gone": 1})

    def _tell(self, fields: dict[str, Any]) -> None:
        self.backplane.publish("acct", **fields)
        self.catch_up.noted({"t": "acct", **fields})

    # --- in ---------------------------------------------------------------
    def _apply(self, event: dict[str, Any]) -> None:
        accounts = self.server.store.accounts
        name = str(event["name"])
        if not event.get("gone"):
            accounts.learn(name, int(event["id"]))
            return
        accounts.forget(name)
        # After this event is applied (publishing is off meanwhile), so the
        # other nodes are told of each logout as of any other.
        folded = fold(name)
        self.server.spawn(self._log_out(lambda account: fold(account) == folded))

    async def _log_out(self, gone: Callable[[str], bool]) -> None:
        """Log out this node's users logged in to an account that is ``gone``."""
        for user in list(self.server.world.users.values()):
            if is_remote(user) or not user.registered or user.account is None:
                continue
            if gone(user.account):
                actions.logout(Context(self.server, user))

    async def _reload(self) -> None:
        await self.server.store.accounts.load_names()

    def subscribed(self) -> None:
        if self.catch_up.wanted():
            self.server.spawn(self._catch_up())

    async def _catch_up(self) -> None:
        await self.catch_up.run()
        # Dropped while this node was off the bus. Not before run() ends:
        # an account created here during the read is known again only then.
        accounts = self.server.store.accounts
        await self._log_out(lambda account: not accounts.exists(account))


def install(server: ServerApi, backplane: Backplane) -> None:
    """Account names cross the bus (only with ``[cluster] node``)."""
    sync = AccountsSync(server, backplane)
    server.hooks.account_registered.append(sync.registered)
    server.hooks.account_dropped.append(sync.dropped)
    backplane.handlers["acct"] = sync.catch_up.heard
    backplane.catching_up.append(sync.subscribed)
