"""Applying other nodes' events to this node's world, and delivering them to
this node's own users with the msgid and server-time the origin gave them.

No I/O: ``Mirror.apply`` takes one decoded event (``events.py``); the bus
feeds it. Events of this node's own users were applied when they happened
and are never applied twice (``Backplane`` skips its own node)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hubbub.server.api import ModeChange
from hubbub.server.delivery import TAG_MESSAGE_TAGS, Event, deliver, deliver_body, deliver_split
from hubbub.server.mode_changes import set_modes
from hubbub.server.remote import RemoteSink, is_remote, make_remote, update
from hubbub.server.state import User, WhowasEntry

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

log = logging.getLogger(__name__)

SPLIT_REASON = "*.net *.split"


def _event(sender: User | None, fields: dict[str, Any]) -> Event:
    """The origin's tags: same msgid, same time, same client tags."""
    event = Event(sender, fields.get("tags") or {}, at=fields.get("at"))
    if "id" in fields:
        event.msgid = str(fields["id"])
    return event


class Mirror:
    """This node's copy of the other nodes' users, kept by their events."""

    def __init__(
        self,
        server: ServerApi,
        local: Callable[[str], User | None],
        on_close: Callable[[str, str], None],
    ) -> None:
        self.server = server
        self._local = local  # one of this node's users by uid
        self._on_close = on_close  # a KILL of a mirrored user (RemoteSink.close)
        self.users: dict[str, User] = {}  # uid -> mirrored user
        self.incarnations: dict[str, str] = {}  # node -> its current run

    # --- nodes ------------------------------------------------------------
    def saw_node(self, node: str, incarnation: str) -> None:
        """A node speaks: if it restarted, the users of its last run are gone."""
        known = self.incarnations.get(node)
        if known is not None and known != incarnation:
            self.split(node)
        self.incarnations[node] = incarnation

    def split(self, node: str, reason: str = SPLIT_REASON) -> int:
        """Every user of ``node`` quits (it died, or stopped); returns how many."""
        gone = [user for user in self.users.values() if _node_of(user) == node]
        for user in gone:
            self._quit(user, reason)
        self.incarnations.pop(node, None)
        return len(gone)

    def nodes(self) -> list[str]:
        return list(self.incarnations)

    # --- events -----------------------------------------------------------
    def apply(self, event: dict[str, Any]) -> None:
        kind = event.get("t")
        handler = getattr(self, f"_on_{kind}", None)
        if handler is None:
            log.warning("cluster: unknown event %r from node %s", kind, event.get("n"))
            return
        handler(event)

    def _on_user(self, event: dict[str, Any]) -> None:
        uid = str(event["u"])
        known = self.users.get(uid)
        if known is not None:
            update(known, event)
            return
        world = self.server.world
        nick = str(event["nick"])
        if world.find_user(nick) is not None:
            # Claims in PostgreSQL make this a race lost long ago (docs/cluster.md).
            log.warning("cluster: node %s introduced %s, a nick taken here", event["n"], nick)
            return
        sink = RemoteSink(str(event["n"]), uid, str(event.get("srv", "")), self._on_close)
        user = make_remote(event, sink)
        world.set_nick(user, nick)
        self.users[uid] = user
        self.server.notify_monitors_online(user)

    def _on_nick(self, event: dict[str, Any]) -> None:
        user = self.users.get(str(event["u"]))
        if user is None:
            return
        world = self.server.world
        new = str(event["new"])
        recipients = world.neighbours(user)
        old_source, old_nick = user.source, user.nick
        self.server.notify_monitors_offline(user)
        world.set_nick(user, new)
        deliver(_local(recipients), old_source, "NICK", [new], _event(user, event))
        world.whowas.appendleft(
            WhowasEntry(old_nick, user.user, user.host, user.realname, time.time())
        )
        self.server.notify_monitors_online(user)

    def _on_join(self, event: dict[str, Any]) -> None:
        user = self.users.get(str(event["u"]))
        if user is None:
            return
        world = self.server.world
        channel, _created = world.get_or_create_channel(str(event["ch"]))
        if user in channel.members:
            return
        world.add_member(channel, user, str(event.get("p", "")))
        if event.get("burst"):
            return
        account = user.account or "*"
        deliver_split(
            _local(channel.members),
            "extended-join",
            (user.source, "JOIN", [channel.name, account, user.realname]),
            (user.source, "JOIN", [channel.name]),
            _event(user, event),
        )

    def _on_part(self, event: dict[str, Any]) -> None:
        user = self.users.get(str(event["u"]))
        channel = self.server.world.find_channel(str(event["ch"]))
        if user is None or channel is None or user not in channel.members:
            return
        reason = str(event.get("r", ""))
        params = [channel.name, reason] if reason else [channel.name]
        deliver(_local(channel.members), user.source, "PART", params, _event(user, event))
        self.server.world.remove_member(channel, user)

    def _on_kick(self, event: dict[str, Any]) -> None:
        uid = str(event["u"])
        target = self.users.get(uid) or self._local(uid)
        channel = self.server.world.find_channel(str(event["ch"]))
        if target is None or channel is None or target not in channel.members:
            return
        params = [channel.name, target.nick, str(event["r"])]
        deliver(_local(channel.members), str(event["src"]), "KICK", params, _event(None, event))
        self.server.world.remove_member(channel, target)

    def _on_quit(self, event: dict[str, Any]) -> None:
        user = self.users.get(str(event["u"]))
        if user is not None:
            self._quit(user, str(event.get("r", "")), event)

    def _on_kill(self, event: dict[str, Any]) -> None:
        """An operator elsewhere killed one of our users."""
        user = self._local(str(event["u"]))
        if user is not None:
            text = str(event["r"])
            self.server.disconnect(user, text, quit_message=text)

    def _on_msg(self, event: dict[str, Any]) -> None:
        sender = self.users.get(str(event["u"]))
        if sender is None:
            return
        cmd, text, to = str(event["cmd"]), str(event.get("text", "")), str(event["to"])
        if event.get("ch"):
            channel = self.server.world.find_channel(to)
            if channel is None:
                return
            recipients = [m for m in _local(channel.members)]
            name = channel.name
        else:
            target = self._local(to)
            if target is None:
                return
            recipients, name = [target], target.nick
        if cmd == "TAGMSG":
            recipients = [m for m in recipients if m.tag_mask & TAG_MESSAGE_TAGS]
            body = f":{sender.source} TAGMSG {name}"
        else:
            body = f":{sender.source} {cmd} {name} :{text}"
        deliver_body(recipients, body, _event(sender, event))

    def _on_topic(self, event: dict[str, Any]) -> None:
        channel = self.server.world.find_channel(str(event["ch"]))
        if channel is None:
            return
        channel.topic = str(event["text"])
        channel.topic_by = str(event["by"])
        channel.topic_at = int(event["when"])
        if event.get("burst"):
            return
        params = [channel.name, channel.topic]
        deliver(_local(channel.members), channel.topic_by, "TOPIC", params, _event(None, event))

    def _on_mode(self, event: dict[str, Any]) -> None:
        channel = self.server.world.find_channel(str(event["ch"]))
        if channel is None:
            return
        changes = [ModeChange(bool(a), str(m), p) for a, m, p in event["changes"]]
        set_modes(self.server, channel, str(event["setter"]), changes, mirrored=True)

    def _on_away(self, event: dict[str, Any]) -> None:
        user = self.users.get(str(event["u"]))
        if user is None:
            return
        user.away = event.get("away")
        watchers = [u for u in self.server.world.neighbours(user) if "away-notify" in u.caps]
        params = [user.away] if user.away is not None else []
        deliver(_local(watchers), user.source, "AWAY", params, _event(user, event))

    def _on_account(self, event: dict[str, Any]) -> None:
        user = self.users.get(str(event["u"]))
        if user is None:
            return
        user.account = event.get("acct")
        watchers = [u for u in self.server.world.neighbours(user) if "account-notify" in u.caps]
        params = [user.account or "*"]
        deliver(_local(watchers), user.source, "ACCOUNT", params, _event(user, event))

    def _quit(self, user: User, reason: str, event: dict[str, Any] | None = None) -> None:
        sink = user.sink
        assert isinstance(sink, RemoteSink)
        self.users.pop(sink.uid, None)
        world = self.server.world
        deliver(
            _local(world.neighbours(user)), user.source, "QUIT", [reason], _event(user, event or {})
        )
        self.server.notify_monitors_offline(user)
        world.remove_user(user)


def _node_of(user: User) -> str:
    sink = user.sink
    assert isinstance(sink, RemoteSink)
    return sink.node


def _local(users: Any) -> list[User]:
    return [user for user in users if not is_remote(user)]
