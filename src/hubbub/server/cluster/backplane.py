"""The backplane feature: what this node's users do is published on the bus
once; what other nodes' users do is applied here (``mirror``).

Every hook below runs for a change made on this node. While an event from
another node is being applied (``_applying``), the hooks it sets off
(``set_modes`` calls ``modes_changed``) publish nothing, so no
event comes back round. Nodes check each other's heartbeat keys: a node
silent for ``node_timeout`` seconds is split off, its users QUIT with
``*.net *.split``."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from hubbub.protocol.casemap import fold
from hubbub.server.api import Context, Delivered, ModeChange, NetworkCounts
from hubbub.server.cluster import channel_modes
from hubbub.server.cluster.bus import Bus
from hubbub.server.cluster.claims import NickClaims
from hubbub.server.cluster.mirror import Mirror
from hubbub.server.cluster.order import BusOrder
from hubbub.server.multiline_form import COMPOSITION_KEY
from hubbub.server.remote import RemoteSink, describe, is_remote
from hubbub.server.state import Channel, User

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

log = logging.getLogger(__name__)

SUBSCRIBE_TIMEOUT = 5.0  # seconds start-up waits to be on the bus


class Backplane:
    """One node's membership of the cluster."""

    def __init__(self, server: ServerApi, node: str) -> None:
        self.server = server
        self.node = node
        self.incarnation = os.urandom(6).hex()  # this run of the node
        settings = server.config.cluster
        self.heartbeat_interval = settings.heartbeat_interval
        self.node_timeout = settings.node_timeout
        self.local: dict[str, User] = {}  # uid -> this node's registered users
        self.mirror = Mirror(server, self.local.get, self._kill_remote, self._merged)
        self.bus: Bus | None = None
        # what our users say and change in channels waits for its turn on
        # the bus, when on it (not while applying another node's event: that
        # is its turn)
        self.order = BusOrder(self._holding, self.node_timeout)
        url = server.config.database.url
        assert url is not None  # config.py: a cluster needs PostgreSQL
        self.claims = NickClaims(url, node)
        self._claimed: dict[str, str] = {}  # uid -> the nick it holds
        self._applying = False
        self._missing_since: dict[str, float] = {}
        self._network_max = 0  # the most users LUSERS has counted on the network
        # event kinds applied by a module of their own (bans_sync, ...), and
        # what those modules do on (re)subscribing (reload from PostgreSQL)
        self.handlers: dict[str, Callable[[dict[str, Any]], None]] = {}
        self.catching_up: list[Callable[[], None]] = []

    def uid(self, user: User) -> str:
        sink = user.sink
        if isinstance(sink, RemoteSink):
            return sink.uid
        return f"{self.node}.{self.incarnation}.{user.connection_id}"

    # --- out --------------------------------------------------------------
    def publish(self, kind: str, to_node: str | None = None, **fields: Any) -> None:
        """Tell every node, or only ``to_node``, what happened here."""
        if self._applying or self.bus is None:
            return
        event = {"t": kind, "n": self.node, "i": self.incarnation, **fields}
        if to_node is None:
            number = self.order.bind()  # what waits for this event to come back
            if number is not None:
                event["q"] = number
        self.bus.publish(event, to_node)

    def burst(self) -> None:
        """Tell every node which server this is, who is here and where they are."""
        server = self.server
        self.publish("server", srv=server.name, desc=server.config.server.description)
        channels: set[Channel] = set()
        for uid, user in self.local.items():
            self.publish("user", burst=True, **describe(user, uid, self.server.name))
            for channel in user.channels.values():
                prefix = channel.members[user]
                self.publish("join", u=uid, ch=channel.name, p=prefix, burst=True)
                channels.add(channel)
        for channel in channels:
            if channel.topic:
                self.publish(
                    "topic",
                    ch=channel.name,
                    text=channel.topic,
                    by=channel.topic_by,
                    when=channel.topic_at,
                    burst=True,
                )
            for key, value in channel.metadata.items():
                self.publish("meta", ch=channel.name, k=key, v=value)
            self.publish("chmodes", **channel_modes.describe(channel))
            self._burst_invites(channel)

    def _burst_invites(self, channel: Channel) -> None:
        """The channel's pending invites, for a node that missed them (it was
        off the bus): the target's node lets the target in, as it would have."""
        now = time.monotonic()
        for target, pending in channel.invited.items():
            left = pending.expires - now
            if left > 0:
                to = self.uid(target)
                self.publish("invite", to=to, ch=channel.name, ttl=left, burst=True)

    def _merged(self, channel: Channel, applied: list[ModeChange]) -> None:
        """A burst added modes to a channel with members here: told as a mode
        change (while applying, when nothing else is published), so a node
        without members of its own, which took an older burst as it was, follows."""
        if self.bus is not None:
            changes = [[change.adding, change.mode, change.param] for change in applied]
            event = {"ch": channel.name, "setter": self.server.name, "changes": changes}
            self.bus.publish({"t": "mode", "n": self.node, "i": self.incarnation, **event})

    def _kill_remote(self, uid: str, reason: str, source: str | None) -> None:
        if source is None:
            self.publish("kill", u=uid, r=reason)
        else:
            self.publish("kill", u=uid, r=reason, src=source)

    def _holding(self) -> bool:
        bus = self.bus
        return bus is not None and bus.connected and not self._applying

    # --- in ---------------------------------------------------------------
    def receive(self, event: dict[str, Any]) -> None:
        node, incarnation = str(event.get("n")), str(event.get("i"))
        if node == self.node:
            if incarnation != self.incarnation:
                log.error("cluster: another node is also called %s; give each a unique name", node)
            elif "q" in event:
                self.order.came_back(int(event["q"]))  # what waited for it: its turn
            return
        kind = event.get("t")
        if kind == "bye":
            self.mirror.split(node)
            return
        self.mirror.saw_node(node, incarnation)
        if kind == "hello":
            self.burst()
            return
        self._applying = True
        try:
            handler = self.handlers.get(str(kind))
            if handler is not None:
                handler(event)
            else:
                self.mirror.apply(event)
        except (KeyError, TypeError, ValueError):
            log.exception("cluster: could not apply a %r event from node %s", kind, node)
        finally:
            self._applying = False

    def subscribed(self) -> None:
        """(Re)connected to the bus: ask for everyone's users, give ours,
        and read again what may have changed while we were not listening."""
        self.publish("hello")
        self.burst()
        for catch_up in self.catching_up:
            catch_up()

    # --- lifecycle --------------------------------------------------------
    async def start(self, server: ServerApi) -> None:
        settings = server.config.cluster
        bus = Bus(settings.bus, server.config.server.network, self.node)
        self.bus = bus
        try:
            await bus.beat(self.status(), self.node_timeout)
        except (RedisError, OSError) as exc:
            log.warning("cluster: the bus at %s is not reachable yet: %s", settings.bus, exc)
        await self.claims.release_node(self.node)  # our last run's users are gone
        try:
            holders = await bus.alive(sorted(await self.claims.nodes()))
            for node, up in holders.items():
                if not up:  # died while no node was watching
                    await self.claims.release_node(node)
        except (RedisError, OSError):
            pass  # without the bus, the living cannot be told from the dead
        server.spawn(bus.run_publisher())
        server.spawn(bus.run_subscriber(self.receive, self.subscribed, self.order.release_all))
        server.spawn(self._heartbeats(bus))
        # Listeners open after this: a client then meets a node that already
        # hears the others. Without the bus the node serves its own users.
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                await bus.subscribed.wait()
        except TimeoutError:
            log.warning("cluster: not on the bus yet; serving this node's users meanwhile")

    async def stop(self, server: ServerApi) -> None:
        """Say goodbye so the others drop our users at once, not at the timeout."""
        bus = self.bus
        if bus is None:
            return
        bye = {"t": "bye", "n": self.node, "i": self.incarnation}
        try:
            async with asyncio.timeout(2):
                await bus.publish_now(bye)
                await bus.forget_self()
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("cluster: could not say goodbye on the bus: %s", exc)
        await bus.close()
        try:
            await self.claims.release_node(self.node)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("cluster: could not release this node's nicks: %s", exc)
        await self.claims.close()

    def network_counts(self) -> NetworkCounts:
        """LUSERS for the whole network: this node's users and the mirrored ones."""
        world = self.server.world
        remote = self.mirror.counts
        users = world.registered_count() + remote.users
        self._network_max = max(self._network_max, users)
        return NetworkCounts(
            servers=1 + len(self.mirror.nodes()),
            users=users,
            invisible=world.invisible_count() + remote.modes["i"],
            opers=world.oper_count() + remote.modes["o"],
            max_users=self._network_max,
        )

    def status(self) -> dict[str, Any]:
        server = self.server
        return {
            "node": self.node,
            "server": server.name,
            "incarnation": self.incarnation,
            "pid": os.getpid(),
            "users": len(self.local),
        }

    async def _heartbeats(self, bus: Bus) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            self.order.release_stale()
            try:
                await bus.beat(self.status(), self.node_timeout)
                alive = await bus.alive(self.mirror.nodes())
            except (RedisError, OSError):
                continue  # without the bus nobody can be judged dead
            now = time.monotonic()
            for node, up in alive.items():
                if up:
                    self._missing_since.pop(node, None)
                    continue
                # Missing once may be Redis restarting (its keys are gone until
                # the next beat); missing for node_timeout is a dead node.
                since = self._missing_since.setdefault(node, now)
                if now - since >= self.node_timeout - self.heartbeat_interval:
                    self._missing_since.pop(node, None)
                    gone = self.mirror.split(node)
                    log.warning("cluster: node %s stopped answering; %d user(s) split", node, gone)
                    self.server.spawn(self._release_node(node))

    async def _release_node(self, node: str) -> None:
        try:
            await self.claims.release_node(node)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("cluster: could not release the nicks of node %s: %s", node, exc)

    # --- nicks --------------------------------------------------------------
    async def claim_nick(self, ctx: Context, nick: str) -> bool | None:
        """Claim ``nick`` for ``ctx.user`` in PostgreSQL before NICK gives it."""
        uid = self.uid(ctx.user)
        try:
            if not await self.claims.claim(nick, uid):
                return False
            old = self._claimed.get(uid)
            self._claimed[uid] = nick
            if old is not None and fold(old) != fold(nick):
                await self.claims.release(old, uid)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("cluster: cannot claim a nick: %s", exc)
            ctx.fail(
                "NICK",
                "TEMPORARILY_UNAVAILABLE",
                description="The network cannot confirm nicks right now; try again",
            )
            return None
        return True

    async def _release(self, nick: str, uid: str) -> None:
        try:
            await self.claims.release(nick, uid)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("cluster: could not release a nick: %s", exc)

    # --- hooks: changes made on this node ----------------------------------
    def registered(self, ctx: Context) -> None:
        user = ctx.user
        uid = self.uid(user)
        self.local[uid] = user
        self.publish("user", **describe(user, uid, self.server.name))

    def nick_changed(self, ctx: Context, _old: str) -> None:
        if not is_remote(ctx.user):
            self.publish("nick", u=self.uid(ctx.user), new=ctx.user.nick)

    def joined(self, ctx: Context, channel: Channel, created: bool) -> None:
        user = ctx.user
        prefix = channel.members.get(user, "")
        if not created:
            self.publish("join", u=self.uid(user), ch=channel.name, p=prefix)
            return
        # Another node may be creating it at this moment: the earlier creation wins.
        channel.origin = (time.time(), self.node, user)
        since = channel.origin[0]
        self.publish("join", u=self.uid(user), ch=channel.name, p=prefix, new=1, since=since)

    def invited(self, ctx: Context, channel: Channel, target: User, recorded: bool) -> None:
        fields = {"u": self.uid(ctx.user), "to": self.uid(target), "ch": channel.name}
        self.publish("invite", rec=recorded, **fields)

    def redacted(
        self, ctx: Context, channel: Channel | None, other: User | None, params: list[str]
    ) -> None:
        if channel is not None:
            self.publish("redact", u=self.uid(ctx.user), ch=channel.name, params=params)
        elif other is not None and is_remote(other):
            self.publish("redact", u=self.uid(ctx.user), to=self.uid(other), params=params)

    def metadata_changed(
        self, _server: ServerApi, target: User | Channel, key: str, value: str | None
    ) -> None:
        if isinstance(target, Channel):
            self.publish("meta", ch=target.name, k=key, v=value)
        elif target.registered:
            self.publish("meta", u=self.uid(target), k=key, v=value)

    def marker_moved(self, _server: ServerApi, account: str, target: str, ms: int) -> None:
        self.publish("mark", acct=account, tgt=target, ms=ms)

    def rename_told(
        self, _server: ServerApi, channel: Channel, old: str, reason: str, source: str
    ) -> None:
        self.publish("rename", old=old, new=channel.name, r=reason, src=source)

    def parted(self, _server: ServerApi, channel: Channel, user: User, reason: str) -> None:
        if not is_remote(user):
            self.publish("part", u=self.uid(user), ch=channel.name, r=reason)

    def kicked(
        self, _server: ServerApi, channel: Channel, target: User, source: str, reason: str
    ) -> None:
        self.publish("kick", u=self.uid(target), ch=channel.name, src=source, r=reason)

    def quitted(self, server: ServerApi, user: User, text: str) -> None:
        if is_remote(user):
            return
        uid = self.uid(user)
        nick = self._claimed.pop(uid, None)
        if nick is not None and not server.stopping:  # at stop, stop() frees them all
            server.spawn(self._release(nick, uid))
        if user.registered:
            self.local.pop(uid, None)
            if self.bus is not None:
                # Told even while applying another node's event: its KILL or
                # K-line is what disconnected this user, and the others must see it go.
                event = {"t": "quit", "n": self.node, "i": self.incarnation, "u": uid, "r": text}
                self.bus.publish(event)

    def delivered(self, delivered: Delivered) -> None:
        event = delivered.event
        fields: dict[str, Any] = {
            "u": self.uid(delivered.sender),
            "cmd": delivered.command,
            "text": delivered.text,
            "id": event.msgid,
            "at": event.at,
        }
        if event.client_tags:
            fields["tags"] = event.client_tags
        stored = delivered.stored_tags
        if stored is not None and COMPOSITION_KEY in stored:  # a draft/multiline message
            fields["ml"] = stored[COMPOSITION_KEY]
        recipient = delivered.recipient
        if delivered.status:
            fields["st"] = delivered.status
        if recipient is None:
            self.publish("msg", to=delivered.target, ch=1, **fields)
        elif isinstance(recipient.sink, RemoteSink):  # only its node delivers it
            self.publish("msg", to_node=recipient.sink.node, to=recipient.sink.uid, **fields)

    def away_changed(self, ctx: Context) -> None:
        if ctx.user.registered:
            self.publish("away", u=self.uid(ctx.user), away=ctx.user.away)

    def user_changed(self, _server: ServerApi, user: User, what: str) -> None:
        """SETNAME, CHGHOST (SETHOST: also of another node's user) or user modes."""
        uid = self.uid(user)
        if what == "realname":
            self.publish("setname", u=uid, real=user.realname)
        elif what == "host":
            self.publish("chghost", u=uid, user=user.user, host=user.host)
        elif what == "modes" and not is_remote(user):
            self.publish("umode", u=uid, modes="".join(sorted(user.modes)))

    def account_changed(self, ctx: Context) -> None:
        user = ctx.user
        self.publish("account", u=self.uid(user), acct=user.account, party=user.history_party)

    def topic_changed(self, ctx: Context, channel: Channel) -> None:
        self.publish(
            "topic", ch=channel.name, text=channel.topic, by=channel.topic_by, when=channel.topic_at
        )

    def modes_changed(
        self, _server: ServerApi, channel: Channel, setter: str, applied: list[ModeChange]
    ) -> None:
        changes = [[change.adding, change.mode, change.param] for change in applied]
        self.publish("mode", ch=channel.name, setter=setter, changes=changes)


def install(server: ServerApi, add: Callable[[object], None]) -> Backplane:
    """Join the cluster named by ``[cluster]`` (only called when ``node`` is set)."""
    node = server.config.cluster.node
    assert node is not None
    backplane = Backplane(server, node)
    add(backplane)
    hooks = server.hooks
    hooks.startup.append(backplane.start)
    hooks.shutdown.append(backplane.stop)
    hooks.nick_claims.append(backplane.claim_nick)
    hooks.registered.append(backplane.registered)
    hooks.nick_changed.append(backplane.nick_changed)
    hooks.joined.append(backplane.joined)
    hooks.parted.append(backplane.parted)
    hooks.kicked.append(backplane.kicked)
    hooks.quitted.append(backplane.quitted)
    hooks.delivered.append(backplane.delivered)
    hooks.delivered_between_guests.append(backplane.delivered)
    hooks.message_order.append(backplane.order)
    hooks.topic_changed.append(backplane.topic_changed)
    hooks.away_changed.append(backplane.away_changed)
    hooks.account_changed.append(backplane.account_changed)
    hooks.user_changed.append(backplane.user_changed)
    hooks.modes_changed.append(backplane.modes_changed)
    hooks.invited.append(backplane.invited)
    hooks.redacted.append(backplane.redacted)
    hooks.metadata_changed.append(backplane.metadata_changed)
    hooks.marker_moved.append(backplane.marker_moved)
    hooks.rename_told.append(backplane.rename_told)
    hooks.network_counts.append(backplane.network_counts)
    hooks.network_links.append(backplane.mirror.links)
    return backplane
