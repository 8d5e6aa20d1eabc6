"""Extension points the server calls at fixed moments of its lifecycle.

They live here, not in ``app``, so that command modules (imported by
``app``) can register into them at import time without an import cycle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hubbub.server.app import Server
    from hubbub.server.session import Session

# Coroutines run at start once the store is open, e.g. ChanServ loading
# registered channels or the history retention job: hook(server).
STARTUP_HOOKS: list[Callable[[Server], Awaitable[None]]] = []

# Coroutines awaited by Server.stop() once every client is gone and before the
# store closes (ChanServ finishing its pending writes): hook(server).
SHUTDOWN_HOOKS: list[Callable[[Server], Awaitable[None]]] = []

# Checks run on every accepted connection before anything is read from it
# (D-lines): check(server, conn) returns a refusal reason or None.
CONNECT_CHECKS: list[Callable[[Server, Session], str | None]] = []
