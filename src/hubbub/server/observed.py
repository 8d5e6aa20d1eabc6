"""What metrics, /metrics and /healthz need of the server: the handlers'
``ServerApi`` plus its listeners. A protocol, so that the observability
modules, which ``app.Server`` starts, never import the application."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from hubbub.server.api import ServerApi


class ServingListener(Protocol):
    """One client listener: where it listens, and its asyncio server."""

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def handle(self) -> Any: ...


class ObservedServer(ServerApi, Protocol):
    @property
    def listeners(self) -> Sequence[ServingListener]: ...
