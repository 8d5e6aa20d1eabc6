"""Fan-out of events to any number of consumers, each with its own queue, so a
UI, a logger and a test can all iterate the same client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from hubbub.client.events import AnyEvent, Raw

E = TypeVar("E")


class EventStream:
    """An async iterator of events; ends when the client is closed."""

    def __init__(self, raw: bool = False) -> None:
        self.raw = raw
        self._queue: asyncio.Queue[AnyEvent | None] = asyncio.Queue()
        self._closed = False

    def put(self, event: AnyEvent | None) -> None:
        if isinstance(event, Raw) and not self.raw:
            return
        self._queue.put_nowait(event)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> AnyEvent:
        if self._closed:
            raise StopAsyncIteration
        event = await self._queue.get()
        if event is None:
            self._closed = True
            raise StopAsyncIteration
        return event

    async def wait_for(
        self,
        kind: type[E],
        predicate: Callable[[E], bool] = lambda _: True,
        timeout: float = 5.0,
    ) -> E:
        """Skip events until one of ``kind`` matching ``predicate`` arrives."""
        async with asyncio.timeout(timeout):
            async for event in self:
                if isinstance(event, kind) and predicate(event):
                    return event
        raise EOFError(f"the client closed before a {kind.__name__} arrived")
