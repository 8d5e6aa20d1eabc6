"""The connector's scheduling: how many attempts run at once, and what
happens to an attempt that fails. The attempt itself is scripted here (its
sockets are covered by the generator tests against the relay)."""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from typing import cast

from hubbub.bench.client import BenchClient
from hubbub.bench.connector import _MAX_TRIES, Connector, _connected
from hubbub.bench.options import BenchOptions, Scenario
from hubbub.bench.session import Session


class ScriptedConnector(Connector):
    """Each client's first ``failures[index]`` attempts fail (as a connect
    that timed out would), the next one registers."""

    def __init__(self, opts: BenchOptions, failures: dict[int, int]) -> None:
        super().__init__(opts, Session(), [("127.0.0.1", 6667)])
        self.failures = failures
        self.running = 0
        self.started: list[int] = []  # attempts running (this one included) at each start

    async def _attempt(self, index: int) -> BenchClient | None:
        self.running += 1
        self.started.append(self.running)
        try:
            await asyncio.sleep(0.01)
        finally:
            self.running -= 1
        if self.failures.get(index, 0) > 0:
            self.failures[index] -= 1
            return None
        return cast(BenchClient, object())


def options(clients: int, window: int) -> BenchOptions:
    return BenchOptions(
        scenario=Scenario.IDLE, clients=clients, conn_start=window, conn_window=window
    )


async def test_retries_wait_for_a_slot_in_a_window_that_was_cut() -> None:
    """Four attempts run, all fail, and the window is cut to one meanwhile:
    from then on one attempt runs at a time, retries included."""
    connector = ScriptedConnector(options(8, 4), failures=dict.fromkeys(range(8), 1))
    run = asyncio.create_task(connector.run())
    while len(connector.started) < 4:
        await asyncio.sleep(0)
    connector.window.limit = connector.window.size = 1
    await asyncio.wait_for(run, 10)
    assert connector.started[:4] == [1, 2, 3, 4]
    assert max(connector.started[4:]) == 1
    assert connector.session.registered == 8
    assert connector.session.connect_retries == 8
    assert connector.session.failed == 0


async def test_a_client_that_never_gets_in_fails_after_its_tries_and_the_rest_register() -> None:
    connector = ScriptedConnector(options(5, 2), failures={3: 10 * _MAX_TRIES})
    await asyncio.wait_for(connector.run(), 10)
    assert connector.session.failed == 1
    assert connector.session.registered == 4
    assert connector.session.connect_retries == _MAX_TRIES - 1
    assert connector.clients[3] is None
    assert all(connector.clients[i] is not None for i in (0, 1, 2, 4))
    assert max(connector.started) <= 2


def test_connected_tells_a_completed_connect_from_an_unanswered_syn() -> None:
    """What the connector asks when a connect's SYN timeout fires: a socket
    the kernel connected meanwhile is used, not abandoned (abandoning them
    made the server register clients for nothing: InspIRCd lost 2,434 of
    10,000 clients to retries so)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)  # room for one connection not yet accepted
        address = listener.getsockname()
        with socket.create_connection(address, timeout=5) as first, socket.socket() as second:
            assert _connected(first)
            # The accept queue is full: the kernel drops this SYN.
            second.setblocking(False)
            assert second.connect_ex(address) == errno.EINPROGRESS
            time.sleep(0.05)
            assert not _connected(second)
    with socket.socket() as never:
        assert not _connected(never)
