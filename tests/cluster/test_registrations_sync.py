"""What waits to be read again when other nodes' ChanServ writes pour in,
without sockets: one entry per channel and one reader, however many
events arrive; a (re)subscription's read of everything replaces them."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

from hubbub.server.cluster.registrations_sync import RegistrationsSync


async def test_events_for_one_channel_wait_as_one_read() -> None:
    started: list[Any] = []
    at_work: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def spawn(coro: Any) -> asyncio.Future[None]:
        coro.close()  # not run: only what waits is looked at
        started.append(coro)
        return at_work  # never done: the one reader is still at work

    sync = RegistrationsSync(cast(Any, SimpleNamespace(spawn=spawn)), cast(Any, None))
    for number in range(10_000):
        sync.heard({"t": "creg", "ch": f"#Chan{number % 3}"})
        sync.heard({"t": "creg", "ch": f"#chan{number % 3}"})
    assert sorted(sync._wanted) == ["#chan0", "#chan1", "#chan2"]
    assert len(started) == 1
    sync.subscribed()
    assert sync._wanted == {} and sync._read_everything
    assert len(started) == 1
