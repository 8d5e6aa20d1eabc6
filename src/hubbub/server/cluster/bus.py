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
node sends it a fresh picture of its users (docs/cluster.md, "Failures").

A send that fails is made again with the same messages; Redis may have
published some of them already (a pipeline cut half way, an answer lost
with the connection), so each message carries its sender and a number per
channel, and a receiver drops a number it has seen (``Dedup``): every event
is applied once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

QUEUE_MAX = 100_000  # events waiting for Redis
BATCH_MAX = 500  # events per round trip to Redis
# The bus message format: a JSON array of this number, the sender (this run
# of the node), the message's number on its channel, then the events (one
# JSON object each). Nodes of one network must speak the same format.
FORMAT = 3
RETRY_DELAY = 0.5  # seconds between attempts to reach Redis
SENDERS_MAX = 1_000  # (channel, sender) pairs whose last number is kept


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


def pack(sender: str, number: int, encoded: list[str]) -> str:
    """Message ``number`` of ``sender`` on its channel, carrying ``encoded``
    events in their order."""
    return f"[{FORMAT},{_encoder.encode(sender)},{number},{','.join(encoded)}]"


def unpack(data: str) -> tuple[str, int, list[dict[str, Any]]] | None:
    """The sender, number and events of one bus message; None if it is not
    in ``FORMAT``."""
    try:
        message = json.loads(data)
    except (ValueError, TypeError):
        return None
    if not isinstance(message, list) or len(message) < 3 or message[0] != FORMAT:
        return None
    sender, number = message[1], message[2]
    if not isinstance(sender, str) or not isinstance(number, int):
        return None
    return sender, number, [event for event in message[3:] if isinstance(event, dict)]


class Dedup:
    """The last message number seen per (channel, sender): a number not
    above it is a message sent again after a failed send, already applied.
    Kept for the ``SENDERS_MAX`` pairs heard from last (a sender is one run
    of a node, so the pairs grow with restarts, not with traffic)."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], int] = {}

    def fresh(self, channel: str, sender: str, number: int) -> bool:
        key = (channel, sender)
        last = self._last.pop(key, 0)
        self._last[key] = max(last, number)  # re-inserted: the most recent last
        if len(self._last) > SENDERS_MAX:
            del self._last[next(iter(self._last))]
        return number > last


class Bus:
    """One node's connection to the bus."""

    def __init__(self, url: str, network: str, node: str) -> None:
        self.url = url
        self.network = network
        self.node = node
        self.channel = events_channel(network)
        self.own_channel = node_channel(network, node)
        self.redis: Redis = Redis.from_url(url, decode_responses=True)
        self.sender = f"{node}.{os.urandom(6).hex()}"  # this run, in every message
        self._queue: deque[tuple[str, str]] = deque()  # (channel, encoded event)
        self._numbers: dict[str, int] = {}  # channel -> the last message number used
        self._dedup = Dedup()
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
        [(channel, message)] = self._messages([(self.channel, encode(event))])
        await self.redis.publish(channel, message)

    async def run_publisher(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                count = min(BATCH_MAX, len(self._queue))
                batch = [self._queue.popleft() for _ in range(count)]
                messages = self._messages(batch)
                while True:  # the same messages until Redis takes them
                    try:
                        await self._send(messages)
                        break
                    except (RedisError, OSError) as exc:
                        log.warning("cluster: cannot publish to the bus: %s", exc)
                        await asyncio.sleep(RETRY_DELAY)

    def _messages(self, batch: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """One numbered message per run of events for one channel."""
        runs: list[tuple[str, list[str]]] = []
        for channel, data in batch:
            if runs and runs[-1][0] == channel:
                runs[-1][1].append(data)
            else:
                runs.append((channel, [data]))
        messages = []
        for channel, events in runs:
            number = self._numbers.get(channel, 0) + 1
            self._numbers[channel] = number
            messages.append((channel, pack(self.sender, number, events)))
        return messages

    async def _send(self, messages: list[tuple[str, str]]) -> None:
        """All of ``messages`` in one round trip."""
        if len(messages) == 1:
            await self.redis.publish(*messages[0])
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for channel, message in messages:
                pipe.publish(channel, message)
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
                    unpacked = unpack(message["data"])
                    if unpacked is None:
                        log.warning(
                            "cluster: a message on the bus not in format %d was ignored "
                            "(is a node of another hubbub version on this network?)",
                            FORMAT,
                        )
                        continue
                    sender, number, events = unpacked
                    if not self._dedup.fresh(message["channel"], sender, number):
                        continue  # sent again after a failed send: applied already
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
