"""What the client knows about the world, and the translation of incoming IRC
lines into typed events. Pure: no sockets, no asyncio, so it is testable line
by line and the connection code stays about connecting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from hubbub.client import events as ev
from hubbub.client import whois
from hubbub.protocol import numerics as rpl
from hubbub.protocol.casemap import fold
from hubbub.protocol.message import Message

HISTORY_BATCHES = {"chathistory", "draft/chathistory"}
# Numerics the state consumes itself or that carry nothing a person needs.
_QUIET_NUMERICS = {
    rpl.RPL_MYINFO,
    rpl.RPL_ISUPPORT,
    rpl.RPL_NAMREPLY,
    rpl.RPL_ENDOFNAMES,
    rpl.RPL_TOPIC,
    rpl.RPL_NOTOPIC,
    rpl.RPL_TOPICWHOTIME,
    rpl.RPL_CREATIONTIME,
    rpl.RPL_LISTSTART,
    rpl.RPL_LISTEND,
    rpl.RPL_SASLSUCCESS,
    "354",
}


def nick_of(source: str | None) -> str:
    """``nick!user@host`` -> ``nick``; a server name stays as it is."""
    if not source:
        return ""
    return source.split("!", 1)[0].split("@", 1)[0]


def server_time(msg: Message) -> datetime:
    """The message's ``time`` tag (server-time), or now when it has none."""
    stamp = msg.tags.get("time")
    if stamp:
        try:
            return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            pass
    return datetime.now(UTC)


@dataclass(slots=True)
class Member:
    nick: str
    prefixes: str = ""
    away: bool = False


@dataclass(slots=True)
class Channel:
    name: str
    topic: str = ""
    topic_by: str | None = None
    members: dict[str, Member] = field(default_factory=dict)

    def member(self, nick: str) -> Member | None:
        return self.members.get(fold(nick))


@dataclass(slots=True)
class ClientState:
    nick: str
    server: str = ""
    registered: bool = False
    caps: set[str] = field(default_factory=set)
    isupport: dict[str, str] = field(default_factory=dict)
    prefix_modes: str = "ov"
    prefix_chars: str = "@+"
    chantypes: str = "#&"
    away: str | None = None
    channels: dict[str, Channel] = field(default_factory=dict)
    _batches: dict[str, str] = field(default_factory=dict)
    _names: dict[str, dict[str, Member]] = field(default_factory=dict)

    # ------------------------------------------------------------------ queries
    def is_me(self, nick: str) -> bool:
        return fold(nick) == fold(self.nick)

    def is_channel(self, name: str) -> bool:
        return bool(name) and name.lstrip(self.prefix_chars)[:1] in tuple(self.chantypes)

    def channel(self, name: str) -> Channel | None:
        return self.channels.get(fold(name))

    def rank(self, prefixes: str) -> int:
        """Smaller is more powerful; no prefix sorts last."""
        ranks = [self.prefix_chars.index(p) for p in prefixes if p in self.prefix_chars]
        return min(ranks) if ranks else len(self.prefix_chars)

    def sorted_members(self, name: str) -> list[Member]:
        chan = self.channel(name)
        if chan is None:
            return []
        return sorted(chan.members.values(), key=lambda m: (self.rank(m.prefixes), fold(m.nick)))

    def member_lists(self) -> dict[str, list[str]]:
        """Folded channel name -> members with their highest prefix, best first."""
        return {
            key: [m.prefixes[:1] + m.nick for m in self.sorted_members(chan.name)]
            for key, chan in self.channels.items()
        }

    def reset(self) -> None:
        """Forget the per-connection state before a reconnect."""
        self.registered = False
        self.caps.clear()
        self.channels.clear()
        self._batches.clear()
        self._names.clear()
        self.away = None

    # ----------------------------------------------------------------- updates
    def split_prefixes(self, entry: str) -> tuple[str, str]:
        """``@+alice!u@h`` -> (``@+``, ``alice``) for NAMES entries."""
        i = 0
        while i < len(entry) and entry[i] in self.prefix_chars:
            i += 1
        return entry[:i], nick_of(entry[i:])

    def _add_member(self, channel: str, nick: str, prefixes: str = "") -> None:
        chan = self.channel(channel)
        if chan is not None:
            chan.members[fold(nick)] = Member(nick, prefixes)

    def _sort_prefixes(self, prefixes: str) -> str:
        return "".join(sorted(set(prefixes), key=self.prefix_chars.index))

    def apply_isupport(self, tokens: list[str]) -> None:
        for token in tokens:
            key, _, value = token.partition("=")
            if key.startswith("-"):
                self.isupport.pop(key[1:], None)
                continue
            self.isupport[key] = value
            if key == "PREFIX" and value.startswith("(") and ")" in value:
                modes, chars = value[1:].split(")", 1)
                if len(modes) == len(chars):
                    self.prefix_modes, self.prefix_chars = modes, chars
            elif key == "CHANTYPES" and value:
                self.chantypes = value

    def _mode_arg_kinds(self) -> tuple[str, str, str]:
        """Channel modes that take an argument: always, when set, never (lists)."""
        groups = ([*self.isupport.get("CHANMODES", "beI,k,l,imnpst").split(","), "", "", ""])[:4]
        return groups[0] + groups[1] + self.prefix_modes, groups[2], groups[3]

    def _apply_channel_modes(self, chan: Channel, modes: str, args: list[str]) -> None:
        always, when_set, _ = self._mode_arg_kinds()
        adding = True
        queue = list(args)
        for letter in modes:
            if letter in "+-":
                adding = letter == "+"
                continue
            takes_arg = letter in always or (adding and letter in when_set)
            arg = queue.pop(0) if takes_arg and queue else None
            if letter in self.prefix_modes and arg is not None:
                member = chan.member(arg)
                if member is None:
                    continue
                char = self.prefix_chars[self.prefix_modes.index(letter)]
                if adding:
                    member.prefixes = self._sort_prefixes(member.prefixes + char)
                else:
                    member.prefixes = member.prefixes.replace(char, "")

    def apply(self, msg: Message) -> list[ev.AnyEvent]:
        """Update the state from one incoming line; return what a UI should hear."""
        handler = _HANDLERS.get(msg.command)
        time = server_time(msg)
        if handler is not None:
            return handler(self, msg, time)
        if msg.command.isdigit():
            return self._numeric(msg, time)
        return []

    def local_echo(self, msg: Message) -> ev.MessageEvent | None:
        """The event for a message we sent, for servers without echo-message."""
        if msg.command not in ("PRIVMSG", "NOTICE") or len(msg.params) < 2:
            return None
        return self._message_event(msg.command, self.nick, msg.params[0], msg.params[1], msg)

    # -------------------------------------------------------------- handlers
    def _message_event(
        self, command: str, source: str, target: str, text: str, msg: Message
    ) -> ev.MessageEvent | None:
        kind: ev.MessageKind = "privmsg" if command == "PRIVMSG" else "notice"
        if text.startswith("\x01"):
            body = text.strip("\x01")
            ctcp, _, rest = body.partition(" ")
            if ctcp.upper() != "ACTION":
                return None
            kind, text = "action", rest
        own = self.is_me(source)
        if self.is_channel(target):
            conversation = target.lstrip(self.prefix_chars)
        else:
            conversation = target if own else source
        batch = self._batches.get(msg.tags.get("batch", ""), "")
        return ev.MessageEvent(
            kind=kind,
            source=source,
            target=target,
            text=text,
            conversation=conversation,
            own=own,
            history=batch in HISTORY_BATCHES,
            msgid=msg.tags.get("msgid"),
            account=msg.tags.get("account"),
            time=server_time(msg),
        )

    def _on_privmsg(self, msg: Message, time: datetime) -> list[ev.AnyEvent]:
        if len(msg.params) < 2:
            return []
        source = nick_of(msg.source)
        if msg.command == "NOTICE" and (not msg.source or "!" not in msg.source):
            return [ev.ServerNotice(msg.params[-1], time=time)]
        event = self._message_event(msg.command, source, msg.params[0], msg.params[1], msg)
        return [event] if event else []

    def _in_history(self, msg: Message) -> bool:
        return self._batches.get(msg.tags.get("batch", ""), "") in HISTORY_BATCHES

    def _on_join(self, msg: Message, time: datetime) -> list[ev.AnyEvent]:
        if not msg.params or self._in_history(msg):
            return []
        nick, channel = nick_of(msg.source), msg.params[0]
        own = self.is_me(nick)
        if own and self.channel(channel) is None:
            self.channels[fold(channel)] = Channel(channel)
        self._add_member(channel, nick)
        account = msg.params[1] if len(msg.params) > 1 and msg.params[1] != "*" else None
        return [ev.Join(nick, channel, own=own, account=account, time=time)]

    def _on_part(self, msg: Message, time: datetime) -> list[ev.AnyEvent]:
        if not msg.params or self._in_history(msg):
            return []
        nick, channel = nick_of(msg.source), msg.params[0]
        own = self.is_me(nick)
        chan = self.channel(channel)
        if own:
            self.channels.pop(fold(channel), None)
        elif chan is not None:
            chan.members.pop(fold(nick), None)
        return [ev.Part(nick, channel, msg.param(1), own=own, time=time)]

    def _on_kick(self, msg: Message, time: datetime) -> list[ev.AnyEvent]:
        if len(msg.params) < 2:
            return []
        channel, nick = msg.params[0], msg.params[1]
        own = self.is_me(nick)
        chan = self.channel(channel)
        if own:
            self.channels.pop(fold(channel), None)
        elif chan is not None:
            chan.members.pop(fold(nick), None)
        by = nick_of(msg.source)
        return [ev.Kick(channel, nick, by, msg.param(2), own=own, time=time)]

    def _on_quit(self, msg: Message, time: datetime) -> list[ev.AnyEvent]:
        nick = nick_of(msg.source)
        shared = []
        for chan in self.channels.values():
            if chan.members.pop(fold(nick), None) is not None:
                shared.append(chan.name)
        return [ev.Quit(nick, msg.param(0), tuple(shared), time=time)]

    def _on_nick(self, msg: Message, time: datetime) -> list[ev.AnyEvent]:
        if not msg.params:
            return []
        old, new = nick_of(msg.source), msg.params[0]
        own = self.is_me(old)
        if own:
            self.nick = new
        shared = []
        for chan in self.channels.values():
            member = chan.members.pop(fold(old), None)
            if member is not None:
                member.nick = new
                chan.members[fold(new)] = member
                shared.append(chan.name)
        return [ev.NickChange(old, new, tuple(shared), own=own, time=time)]

    def _on_topic(self, msg: Message, time: datetime) -> list[ev.AnyEvent]:
        if len(msg.params) < 2:
            return []
        channel, topic, by = msg.params[0], msg.params[1], nick_of(msg.source)
        chan = self.channel(channel)
        if chan is not None:
            chan.topic, chan.topic_by = topic, by
        return [ev.TopicChange(channel, topic, by, time=time)]

    def _on_mode(self, msg: Message, time: datetime) -> list[ev.AnyEvent]:
        if len(msg.params) < 2:
            return []
        target, modes, args = msg.params[0], msg.params[1], msg.params[2:]
        chan = self.channel(target)
        if chan is not None:
            self._apply_channel_modes(chan, modes, args)
        by = nick_of(msg.source)
        return [ev.ModeChange(target, by, modes, tuple(args), time=time)]

    def _on_away(self, msg: Message, time: datetime) -> list[ev.AnyEvent]:
        nick = nick_of(msg.source)
        message = msg.params[0] if msg.params else None
        for chan in self.channels.values():
            member = chan.member(nick)
            if member is not None:
                member.away = message is not None
        return [ev.Away(nick, message, time=time)]

    def _on_invite(self, msg: Message, time: datetime) -> list[ev.AnyEvent]:
        if len(msg.params) < 2:
            return []
        return [ev.Invite(nick_of(msg.source), msg.params[1], time=time)]

    def _on_batch(self, msg: Message, time: datetime) -> list[ev.AnyEvent]:
        ref = msg.param(0)
        if ref.startswith("+") and len(msg.params) > 1:
            self._batches[ref[1:]] = msg.params[1]
        elif ref.startswith("-"):
            self._batches.pop(ref[1:], None)
        return []

    def _on_error(self, msg: Message, time: datetime) -> list[ev.AnyEvent]:
        return [ev.Error(msg.param(0, "closing link"), time=time)]

    def _numeric(self, msg: Message, time: datetime) -> list[ev.AnyEvent]:
        code, params = msg.command, msg.params
        out: list[ev.AnyEvent] = []
        if code == rpl.RPL_WELCOME:
            self.registered = True
            if params:
                self.nick = params[0]
            self.server = msg.source or ""
            out.append(ev.Connected(self.nick, self.server, frozenset(self.caps), time=time))
        elif code == rpl.RPL_ISUPPORT:
            self.apply_isupport(params[1:-1])
        elif code == rpl.RPL_TOPIC and len(params) >= 3:
            chan = self.channel(params[1])
            if chan is not None:
                chan.topic = params[2]
            out.append(ev.TopicChange(params[1], params[2], None, time=time))
        elif code == rpl.RPL_NAMREPLY and len(params) >= 4:
            pending = self._names.setdefault(fold(params[2]), {})
            for entry in params[3].split():
                prefixes, nick = self.split_prefixes(entry)
                pending[fold(nick)] = Member(nick, self._sort_prefixes(prefixes))
        elif code == rpl.RPL_ENDOFNAMES and len(params) >= 2:
            members = self._names.pop(fold(params[1]), {})
            chan = self.channel(params[1])
            if chan is not None:
                chan.members = members
            names = tuple(m.prefixes + m.nick for m in members.values())
            out.append(ev.Names(params[1], names, time=time))
        elif code == rpl.RPL_NOWAWAY:
            self.away = self.away or "away"
        elif code == rpl.RPL_UNAWAY:
            self.away = None
        if code not in _QUIET_NUMERICS:
            out.append(ev.Numeric(code, tuple(params), readable_numeric(msg), time=time))
        return out


def readable_numeric(msg: Message) -> str:
    """A numeric as a person would like to read it, without our own nick."""
    params = msg.params[1:]
    code = msg.command
    sentence = whois.describe(code, params)
    if sentence is not None:
        return sentence
    if code == rpl.RPL_LIST and len(params) >= 3:
        return f"{params[0]} ({params[1]} users): {params[2]}"
    if code == rpl.RPL_INVITING and len(params) >= 2:
        return f"You invited {params[0]} to {params[1]}"
    if code in (rpl.RPL_LUSEROP, rpl.RPL_LUSERUNKNOWN, rpl.RPL_LUSERCHANNELS) and params:
        return " ".join(params)
    if code in (rpl.RPL_LOCALUSERS, rpl.RPL_GLOBALUSERS) and params:
        return params[-1]
    if not params:
        return ""
    if len(params) == 1:
        return params[0]
    return " ".join(params[:-1]) + ": " + params[-1]


_HANDLERS = {
    "PRIVMSG": ClientState._on_privmsg,
    "NOTICE": ClientState._on_privmsg,
    "JOIN": ClientState._on_join,
    "PART": ClientState._on_part,
    "KICK": ClientState._on_kick,
    "QUIT": ClientState._on_quit,
    "NICK": ClientState._on_nick,
    "TOPIC": ClientState._on_topic,
    "MODE": ClientState._on_mode,
    "AWAY": ClientState._on_away,
    "INVITE": ClientState._on_invite,
    "BATCH": ClientState._on_batch,
    "ERROR": ClientState._on_error,
}
