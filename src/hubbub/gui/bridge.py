"""The network side of the desktop client: the client library on its own
asyncio loop in a background thread. The Tk thread talks to it only through
thread-safe calls and reads from a queue, so the window never blocks."""

from __future__ import annotations

import asyncio
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from hubbub.client import events as ev
from hubbub.client.client import Client, NotConnected
from hubbub.client.config import ClientConfig
from hubbub.protocol.message import Message

_MEMBERSHIP = (
    ev.Connected,
    ev.Disconnected,
    ev.Join,
    ev.Part,
    ev.Kick,
    ev.Quit,
    ev.NickChange,
    ev.ModeChange,
    ev.Names,
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for the Tk thread, with member lists copied when they changed
    (the client's state must not be read from another thread)."""

    event: ev.AnyEvent
    members: dict[str, list[str]] | None = None


class NetworkThread:
    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.inbox: queue.Queue[Delivery | None] = queue.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Client | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="hubbub-network", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(5)

    @property
    def finished(self) -> bool:
        return self._thread.ident is not None and not self._thread.is_alive()

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        client = self._client = Client(self.config)
        self._ready.set()
        client.start()
        async for event in client.events():
            members = client.state.member_lists() if isinstance(event, _MEMBERSHIP) else None
            self.inbox.put(Delivery(event, members))
        self.inbox.put(None)

    def _call(self, func: object, *args: object) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(func, *args)  # type: ignore[arg-type]

    def send(self, messages: list[Message]) -> None:
        """Queue messages from the Tk thread."""
        self._call(self._send, messages)

    def _send(self, messages: list[Message]) -> None:
        assert self._client is not None
        try:
            for msg in messages:
                self._client.send(msg)
        except NotConnected as exc:
            error = ev.Error(f"Not sent: {exc}", time=datetime.now(UTC))
            self.inbox.put(Delivery(error))

    def quit(self, reason: str = "Leaving") -> None:
        """Say goodbye and stop; :attr:`finished` turns True when done."""
        if self._loop is not None and self._client is not None and not self._loop.is_closed():
            asyncio.run_coroutine_threadsafe(self._client.quit(reason), self._loop)
