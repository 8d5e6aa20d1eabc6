"""The Redis side of a node: one pub/sub channel carrying every node's
events in the order Redis received them, one channel per node for the
private messages meant for its users, and one key per node refreshed by its
heartbeat (its expiry is how the others learn it died).

Publishing never waits on the message path: events go to a bounded queue
that one task sends, in order. What is queued when it runs goes out as one
pub/sub message per run of events for the same channel (``FORMAT``), so a
busy node pays Redis's and redis-py's cost per message once for many events,
on both sides. Each send is answered before the next is made, and one
connection subscribes to both channels, so every node receives a node's
events in the order it published them. If
Redis is away the queue holds up to ``QUEUE_MAX`` events, then the oldest are
dropped (and counted); reconnecting, the node announces itself again so every
node sends it a fresh picture of its users (docs/cluster.md, "Failures")."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

QUEUE_MAX = 100_000  # events waiting for Redis
BATCH_MAX = 500  # events per round trip to Redis
# The bus message format: a JSON array, this number and then the events (one
# JSON object each). Nodes of one network must speak the same format.
FORMAT = 2
RETRY_DELAY = 0.5  # seconds between attempts to reach Redis


def node_key(network: str, node: str) -> str:
    return f"hubbub:{network}:node:{node}"


def events_channel(network: str) -> str:
    return f"hubbub:{network}:events"


def node_channel(network: str, node: str) -> str:
    """Where the private messages to ``node``'s users go."""
    return f"hubbub:{network}:to:{node}"


# Compact JSON. One encoder for every event: json.dumps with separators
# builds a new encoder per call, a third of the cost of a small event.
_encoder = json.JSONEncoder(separators=(",", ":"))


def encode(event: dict[str, Any]) -> str:
    return _encoder.encode(event)


def pack(encoded: list[str]) -> str:
    """One bus message carrying ``encoded`` events, in their order."""
    return f"[{FORMAT},{','.join(encoded)}]"


def unpack(data: str) -> list[dict[str, Any]] | None:
    """The events of one bus message; None if it is not in ``FORMAT``."""
    try:
        message = json.loads(data)
    except (ValueError, TypeError):
        return None
    if not isinstance(message, list) or not message or message[0] != FORMAT:
        return None
    return [event for event in message[1:] if isinstance(event, dict)]


class Bus:
    """One node's connection to the bus."""

    def __init__(self, url: str, network: str, node: str) -> None:
        self.url = url
        self.network = network
        self.node = node
        self.channel = events_channel(network)
        self.own_channel = node_channel(network, node)
        self.redis: Redis = Redis.from_url(url, decode_responses=True)
        self._queue: deque[tuple[str, str]] = deque()  # (channel, encoded event)
        self._wake = asyncio.Event()
        self.dropped = 0  # events lost because the queue overflowed
        self.connected = False
        self.subscribed = asyncio.Event()  # set once the first subscription is made

    @property
    def queued(self) -> int:
        """Events waiting for Redis (at most ``QUEUE_MAX``)."""
        return len(self._queue)

    # --- publishing -------------------------------------------------------
    def publish(self, event: dict[str, Any], node: str | None = None) -> None:
        """Queue ``event`` for every node, or only for ``node``; never blocks."""
        if len(self._queue) >= QUEUE_MAX:
            self._queue.popleft()
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.warning("cluster: the bus is unreachable; %d events dropped", self.dropped)
        channel = self.channel if node is None else node_channel(self.network, node)
        self._queue.append((channel, encode(event)))
        self._wake.set()

    async def publish_now(self, event: dict[str, Any]) -> None:
        """Send ``event`` to every node at once, past the queue (stopping)."""
        await self.redis.publish(self.channel, pack([encode(event)]))

    async def run_publisher(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                count = min(BATCH_MAX, len(self._queue))
                try:
                    await self._send([self._queue[i] for i in range(count)])
                except (RedisError, OSError) as exc:
                    log.warning("cluster: cannot publish to the bus: %s", exc)
                    await asyncio.sleep(RETRY_DELAY)
                    continue
                for _ in range(count):
                    self._queue.popleft()

    async def _send(self, batch: list[tuple[str, str]]) -> None:
        """One message per run of events for one channel, in one round trip."""
        runs: list[tuple[str, list[str]]] = []
        for channel, data in batch:
            if runs and runs[-1][0] == channel:
                runs[-1][1].append(data)
            else:
                runs.append((channel, [data]))
        if len(runs) == 1:
            await self.redis.publish(runs[0][0], pack(runs[0][1]))
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for channel, events in runs:
                pipe.publish(channel, pack(events))
            await pipe.execute()

    # --- receiving --------------------------------------------------------
    async def run_subscriber(
        self,
        receive: Callable[[dict[str, Any]], None],
        subscribed: Callable[[], None],
        lost: Callable[[], None],
    ) -> None:
        """Call ``receive`` for every event, ``subscribed`` after each
        (re)connection, ``lost`` when the connection breaks; reconnects for ever."""
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel, self.own_channel)
                self.connected = True
                self.subscribed.set()
                subscribed()
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    events = unpack(message["data"])
                    if events is None:
                        log.warning(
                            "cluster: a message on the bus not in format %d was ignored "
                            "(is a node of another hubbub version on this network?)",
                            FORMAT,
                        )
                        continue
                    for event in events:
                        receive(event)
            except (RedisError, OSError) as exc:
                if self.connected:
                    log.warning("cluster: lost the bus: %s", exc)
                    self.connected = False
                    lost()
                await asyncio.sleep(RETRY_DELAY)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    # --- heartbeats -------------------------------------------------------
    async def beat(self, status: dict[str, Any], ttl: float) -> None:
        status = {**status, "heartbeat": time.time()}
        await self.redis.set(node_key(self.network, self.node), encode(status), px=int(ttl * 1000))

    async def alive(self, nodes: list[str]) -> dict[str, bool]:
        """Which of ``nodes`` still have their heartbeat key."""
        if not nodes:
            return {}
        values = await self.redis.mget([node_key(self.network, n) for n in nodes])
        return {node: value is not None for node, value in zip(nodes, values, strict=True)}

    async def forget_self(self) -> None:
        await self.redis.delete(node_key(self.network, self.node))

    async def close(self) -> None:
        await self.redis.aclose()


async def node_statuses(redis: Redis, network: str) -> list[dict[str, Any]]:
    """Every live node's last heartbeat (``hubbub cluster status``)."""
    statuses: list[dict[str, Any]] = []
    async for key in redis.scan_iter(match=node_key(network, "*"), count=100):
        value = await redis.get(key)
        if value is not None:
            statuses.append(json.loads(value))
    return sorted(statuses, key=lambda status: str(status.get("node")))
