"""Applying other nodes' events to this node's world, and delivering them to
this node's own users with the msgid and server-time the origin gave them.

No I/O: ``Mirror.apply`` takes one decoded event (``events.py``); the bus
feeds it. Events of this node's own users were applied when they happened
and are never applied twice (``Backplane`` skips its own node)."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hubbub.server import metadata, multiline_form
from hubbub.server.actions import change_host, invite, rename_channel, set_realname
from hubbub.server.api import Context, ModeChange
from hubbub.server.cluster import channel_modes
from hubbub.server.commands.channel_rename import send_join_replies
from hubbub.server.commands.messaging import members_of_rank
from hubbub.server.commands.multiline import Forms
from hubbub.server.commands.redaction import CAP as REDACTION_CAP
from hubbub.server.delivery import TAG_MESSAGE_TAGS, Event, deliver, deliver_body, deliver_split
from hubbub.server.devices import connections_with, expand
from hubbub.server.mode_changes import set_modes
from hubbub.server.read_markers import moved_elsewhere
from hubbub.server.remote import RemoteSink, is_remote, make_remote, update
from hubbub.server.state import PREFIX_MODES, Channel, User, WhowasEntry

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi

log = logging.getLogger(__name__)

SPLIT_REASON = "*.net *.split"


class RemoteCounts:
    """How many users the other nodes have, and of which user modes (LUSERS),
    kept as they come and go instead of counted at every registration."""

    __slots__ = ("modes", "users")

    def __init__(self) -> None:
        self.users = 0
        self.modes: Counter[str] = Counter()


class Mirror:
    """This node's copy of the other nodes' users, kept by their events."""

    def __init__(
        self,
        server: ServerApi,
        local: Callable[[str], User | None],
        on_close: Callable[[str, str, str | None], None],
        on_merge: Callable[[Channel, list[ModeChange]], None] | None = None,
    ) -> None:
        self.server = server
        self._local = local  # one of this node's users by uid
        self._on_close = on_close  # a KILL of a mirrored user (RemoteSink.close)
        # modes a burst added to a channel this node has members in
        self._on_merge = on_merge
        self.users: dict[str, User] = {}  # uid -> mirrored user
        self.incarnations: dict[str, str] = {}  # node -> its current run
        self.servers: dict[str, tuple[str, str]] = {}  # node -> (server name, description)
        self.counts = RemoteCounts()

    def _event(self, sender: User | None, fields: dict[str, Any]) -> Event:
        """The origin's tags: same msgid, same time, same client tags."""
        event = Event(self.server.event_ids, sender, fields.get("tags") or {}, at=fields.get("at"))
        if "id" in fields:
            event.msgid = str(fields["id"])
        return event

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

    def links(self) -> list[tuple[str, str]]:
        """The live nodes' (server name, description), by name (LINKS)."""
        known = (self.servers.get(node) for node in self.incarnations)
        return sorted(server for server in known if server is not None)

    # --- events -----------------------------------------------------------
    def apply(self, event: dict[str, Any]) -> None:
        kind = event.get("t")
        handler = getattr(self, f"_on_{kind}", None)
        if handler is None:
            log.warning("cluster: unknown event %r from node %s", kind, event.get("n"))
            return
        handler(event)

    def _on_server(self, event: dict[str, Any]) -> None:
        """A node names its server (in its burst)."""
        self.servers[str(event["n"])] = (str(event["srv"]), str(event.get("desc", "")))

    def _on_user(self, event: dict[str, Any]) -> None:
        uid = str(event["u"])
        known = self.users.get(uid)
        if known is not None:
            self._caught_up(known, event)
            self.counts.modes.subtract(known.modes)
            update(known, event)
            self.counts.modes.update(known.modes)
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
        self.counts.users += 1
        self.counts.modes.update(user.modes)
        self.server.notify_monitors_online(user)

    def _caught_up(self, user: User, event: dict[str, Any]) -> None:
        """A burst says more of a mirrored user than this node knew (it was
        off the bus when it changed): its neighbours here see the lines they
        missed, NICK, SETNAME, CHGHOST, AWAY and ACCOUNT, as if live."""
        nick = str(event["nick"])
        if nick != user.nick:
            self._rename(user, nick, event)
        if str(event["real"]) != user.realname:
            self._on_setname(event)
        if (str(event["user"]), str(event["host"])) != (user.user, user.host):
            self._on_chghost(event)
        if event.get("away") != user.away:
            self._on_away(event)
        if event.get("acct") != user.account:
            self._on_account(event)

    def _on_nick(self, event: dict[str, Any]) -> None:
        user = self.users.get(str(event["u"]))
        if user is None:
            return
        self._rename(user, str(event["new"]), event)

    def _rename(self, user: User, new: str, event: dict[str, Any]) -> None:
        """``user`` is now ``new``: its local neighbours see the NICK line."""
        world = self.server.world
        holder = world.find_user(new)
        if holder is not None and holder is not user:
            # Claims in PostgreSQL make this a race lost long ago (docs/cluster.md).
            log.warning("cluster: node %s renamed a user to %s, a nick taken here", event["n"], new)
            return
        recipients = world.neighbours(user)
        old_source, old_nick = user.source, user.nick
        self.server.notify_monitors_offline(user)
        world.set_nick(user, new)
        deliver(_local(recipients), old_source, "NICK", [new], self._event(user, event))
        world.whowas.appendleft(
            WhowasEntry(old_nick, user.user, user.host, user.realname, time.time())
        )
        self.server.notify_monitors_online(user)

    def _on_join(self, event: dict[str, Any]) -> None:
        user = self.users.get(str(event["u"]))
        if user is None:
            return
        world = self.server.world
        channel, created = world.get_or_create_channel(str(event["ch"]))
        if user in channel.members:
            return
        prefix = str(event.get("p", ""))
        lost: User | None = None  # a creator whose creation came second
        if event.get("new"):
            origin = (float(event["since"]), str(event["n"]), user)
            known = channel.origin
            if created or known is None or origin[:2] < known[:2]:
                channel.origin = origin
                if known is not None:
                    lost = known[2]
            else:
                prefix = prefix.replace("o", "")
        world.add_member(channel, user, prefix)
        if event.get("burst"):
            return
        local = _local(channel.members)
        account = user.account or "*"
        deliver_split(
            local,
            "extended-join",
            (user.source, "JOIN", [channel.name, account, user.realname]),
            (user.source, "JOIN", [channel.name]),
            self._event(user, event),
        )
        if prefix and local:  # the JOIN line cannot say it: a server MODE does
            modes = "+" + "".join(m for m in PREFIX_MODES if m in prefix)
            nicks = [user.nick] * (len(modes) - 1)
            deliver(local, self.server.name, "MODE", [channel.name, modes, *nicks])
        if lost is not None and channel.is_op(lost):
            demote = [ModeChange(False, "o", lost.nick)]
            set_modes(self.server, channel, self.server.name, demote, mirrored=True)

    def _on_part(self, event: dict[str, Any]) -> None:
        user = self.users.get(str(event["u"]))
        channel = self.server.world.find_channel(str(event["ch"]))
        if user is None or channel is None or user not in channel.members:
            return
        reason = str(event.get("r", ""))
        params = [channel.name, reason] if reason else [channel.name]
        deliver(_local(channel.members), user.source, "PART", params, self._event(user, event))
        self.server.world.remove_member(channel, user)

    def _on_kick(self, event: dict[str, Any]) -> None:
        uid = str(event["u"])
        target = self.users.get(uid) or self._local(uid)
        channel = self.server.world.find_channel(str(event["ch"]))
        if target is None or channel is None or target not in channel.members:
            return
        params = [channel.name, target.nick, str(event["r"])]
        deliver(
            _local(channel.members), str(event["src"]), "KICK", params, self._event(None, event)
        )
        self.server.world.remove_member(channel, target)

    def _on_quit(self, event: dict[str, Any]) -> None:
        user = self.users.get(str(event["u"]))
        if user is not None:
            self._quit(user, str(event.get("r", "")), event)

    def _on_kill(self, event: dict[str, Any]) -> None:
        """An operator elsewhere killed one of our users (``src``: with a
        KILL line from that operator, as on a single server), or GHOSTed it."""
        user = self._local(str(event["u"]))
        if user is not None:
            text = str(event["r"])
            if "src" in event:
                deliver([user], str(event["src"]), "KILL", [user.nick, text])
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
            status = str(event.get("st", ""))  # @#chan: that rank and up only
            recipients = _local(members_of_rank(channel, status))
            name = status + channel.name
        else:
            target = self._local(to)
            if target is None:
                return
            recipients, name = [target], target.nick
        if "ml" in event:
            _deliver_multiline(
                sender, cmd, name, text, str(event["ml"]), recipients, self._event(sender, event)
            )
            return
        if cmd == "TAGMSG":
            recipients = [m for m in recipients if m.tag_mask & TAG_MESSAGE_TAGS]
            body = f":{sender.source} TAGMSG {name}"
        else:
            body = f":{sender.source} {cmd} {name} :{text}"
        deliver_body(recipients, body, self._event(sender, event))

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
        deliver(
            _local(channel.members), channel.topic_by, "TOPIC", params, self._event(None, event)
        )

    def _on_mode(self, event: dict[str, Any]) -> None:
        channel = self.server.world.find_channel(str(event["ch"]))
        if channel is None:
            return
        changes = [ModeChange(bool(a), str(m), p) for a, m, p in event["changes"]]
        set_modes(self.server, channel, str(event["setter"]), changes, mirrored=True)

    def _on_chmodes(self, event: dict[str, Any]) -> None:
        """A burst's modes of a channel (``channel_modes``): this node's members
        see what changes for them as a server MODE."""
        channel = self.server.world.find_channel(str(event["ch"]))
        if channel is None:
            return
        replace = not _local(channel.members)  # known here only from other nodes
        changes = channel_modes.reconcile(channel, event, replace)
        if changes:
            applied = set_modes(self.server, channel, self.server.name, changes, mirrored=True)
            channel_modes.keep_setters(channel, event, applied)
            if applied and not replace and self._on_merge is not None:
                self._on_merge(channel, applied)

    def _on_setname(self, event: dict[str, Any]) -> None:
        user = self.users.get(str(event["u"]))
        if user is not None:
            set_realname(Context(self.server, user), str(event["real"]))

    def _on_chghost(self, event: dict[str, Any]) -> None:
        """A new user@host: of a user of that node, or (SETHOST) of one of ours."""
        uid = str(event["u"])
        user = self.users.get(uid) or self._local(uid)
        if user is not None:
            change_host(self.server, user, str(event["user"]), str(event["host"]))

    def _on_umode(self, event: dict[str, Any]) -> None:
        """User modes are shown to their user alone: here only WHOIS, WHO and LUSERS."""
        user = self.users.get(str(event["u"]))
        if user is None:
            return
        self.counts.modes.subtract(user.modes)
        user.modes = set(str(event["modes"]))
        self.counts.modes.update(user.modes)

    def _on_away(self, event: dict[str, Any]) -> None:
        user = self.users.get(str(event["u"]))
        if user is None:
            return
        user.away = event.get("away")
        watchers = connections_with(_local(self.server.world.neighbours(user)), "away-notify")
        params = [user.away] if user.away is not None else []
        deliver(watchers, user.source, "AWAY", params, self._event(user, event))

    def _on_account(self, event: dict[str, Any]) -> None:
        user = self.users.get(str(event["u"]))
        if user is None:
            return
        user.account = event.get("acct")
        user.history_party = event.get("party")  # how history files its messages
        watchers = connections_with(_local(self.server.world.neighbours(user)), "account-notify")
        params = [user.account or "*"]
        deliver(watchers, user.source, "ACCOUNT", params, self._event(user, event))

    def _on_invite(self, event: dict[str, Any]) -> None:
        """An INVITE elsewhere: recorded here too (the target's node lets it
        in), told to the target and invite-notify members of this node. A
        pending invite in a burst is recorded, for the time it has left."""
        to = str(event["to"])
        target = self._local(to) or self.users.get(to)
        channel = self.server.world.find_channel(str(event["ch"]))
        if event.get("burst"):
            if target is not None and channel is not None:
                settings = self.server.config.channels
                ttl = min(float(event["ttl"]), settings.invite_expiry)
                world = self.server.world
                world.invite(channel, target, time.monotonic(), ttl, settings.max_invites)
            return
        inviter = self.users.get(str(event["u"]))
        if inviter is None or target is None or channel is None:
            return
        invite(Context(self.server, inviter), channel, target, record=bool(event.get("rec")))

    def _on_redact(self, event: dict[str, Any]) -> None:
        """Its node deleted the stored message; members here with the cap are told."""
        sender = self.users.get(str(event["u"]))
        if sender is None:
            return
        audience: list[User]
        if "ch" in event:
            channel = self.server.world.find_channel(str(event["ch"]))
            audience = _local(channel.members) if channel is not None else []
        else:
            other = self._local(str(event["to"]))
            audience = [other] if other is not None else []
        params = [str(param) for param in event["params"]]
        told = connections_with(audience, REDACTION_CAP)
        deliver(told, sender.source, "REDACT", params, self._event(sender, event))

    def _on_meta(self, event: dict[str, Any]) -> None:
        target: User | Channel | None
        if "ch" in event:
            target = self.server.world.find_channel(str(event["ch"]))
        else:
            uid = str(event["u"])
            target = self.users.get(uid) or self._local(uid)
        if target is None:
            return
        key, value = str(event["k"]), event.get("v")
        if value is None:
            target.metadata.pop(key, None)
        else:
            target.metadata[key] = value = str(value)
        metadata.notify(self.server, None, target, key, value)

    def _on_mark(self, event: dict[str, Any]) -> None:
        moved_elsewhere(self.server, str(event["acct"]), str(event["tgt"]), int(event["ms"]))

    def _on_rename(self, event: dict[str, Any]) -> None:
        world = self.server.world
        channel = world.find_channel(str(event["old"]))
        new = str(event["new"])
        if channel is None:
            return
        clash = world.find_channel(new)
        if clash is not None and clash is not channel:
            log.warning(
                "cluster: node %s renamed %s to %s, a channel here", event["n"], channel.name, new
            )
            return
        fallback = rename_channel(
            self.server,
            channel,
            new,
            str(event["r"]),
            source=str(event["src"]),
            actor=None,
            mirrored=self._event(None, event),
        )
        send_join_replies(self.server, channel, _local(fallback))

    def _quit(self, user: User, reason: str, event: dict[str, Any] | None = None) -> None:
        sink = user.sink
        assert isinstance(sink, RemoteSink)
        if self.users.pop(sink.uid, None) is not None:
            self.counts.users -= 1
            self.counts.modes.subtract(user.modes)
        world = self.server.world
        deliver(
            _local(world.neighbours(user)),
            user.source,
            "QUIT",
            [reason],
            self._event(user, event or {}),
        )
        self.server.notify_monitors_offline(user)
        world.remove_user(user)


def _deliver_multiline(
    sender: User,
    command: str,
    target: str,
    text: str,
    layout: str,
    recipients: list[User],
    event: Event,
) -> None:
    """A draft/multiline message: a batch to those with the cap, the lines
    to the others, one msgid (the origin's), as on the sender's node."""
    lines = multiline_form.split(text, layout) or [(line, False) for line in text.split("\n")]
    forms = Forms(sender.source, command, target, lines, event)
    for recipient in expand(recipients):
        for line in forms.lines_for(recipient):
            recipient.sink.write(line)


def _node_of(user: User) -> str:
    sink = user.sink
    assert isinstance(sink, RemoteSink)
    return sink.node


def _local(users: Any) -> list[User]:
    return [user for user in users if not is_remote(user)]
