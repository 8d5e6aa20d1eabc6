"""The chat model behind a UI: conversations (server view, channels, private
chats) with their lines, unread counts and highlights, built from client events.
Shared by the terminal, desktop and plain clients so they read the same way.
No I/O and no threads: a UI feeds events in and renders what comes out."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from hubbub.client import events as ev
from hubbub.client import formatting
from hubbub.client.commands import Outcome, is_channel, parse_input
from hubbub.protocol.casemap import fold

LineKind = Literal["message", "action", "notice", "event", "error", "info"]
ConversationKind = Literal["server", "channel", "private"]
SERVER = "server"
MAX_LINES = 2000
# Replies to a person's query belong where they asked; the rest to the server view.
_REPLY_NUMERICS = {
    "276", "301", "305", "306", "307", "311", "312", "313", "317", "318", "319", "320", "322",
    "324", "330", "335", "338", "341", "346", "347", "348", "349", "352", "353", "366", "367",
    "368", "378", "379", "671",
}  # fmt: skip


@dataclass(slots=True)
class Line:
    time: datetime
    kind: LineKind
    text: str
    nick: str | None = None
    own: bool = False
    highlight: bool = False
    history: bool = False

    def plain(self) -> str:
        """The line as text without a timestamp or IRC formatting, as the
        line-mode client prints it."""
        text = formatting.strip(self.text)
        if self.kind == "message" and self.nick:
            return f"<{self.nick}> {text}"
        if self.kind == "action" and self.nick:
            return f"* {self.nick} {text}"
        if self.kind == "notice" and self.nick:
            return f"-{self.nick}- {text}"
        if self.kind == "error":
            return f"! {text}"
        return f"-- {text}"


@dataclass(slots=True)
class Conversation:
    name: str
    kind: ConversationKind
    lines: deque[Line] = field(default_factory=lambda: deque(maxlen=MAX_LINES))
    unread: int = 0
    highlight: bool = False
    topic: str = ""
    members: list[str] = field(default_factory=list)
    joined: bool = False
    seen_msgids: set[str] = field(default_factory=set)
    # Set when a line went in before the last one (history arriving after the
    # join notices): a UI showing this conversation redraws it, then clears this.
    reordered: bool = False

    @property
    def key(self) -> str:
        return fold(self.name)

    @property
    def target(self) -> str | None:
        """Where plain text typed here goes (None for the server view)."""
        return None if self.kind == "server" else self.name

    def label(self) -> str:
        return f"{self.name} ({self.unread})" if self.unread else self.name


def mentions(text: str, nick: str) -> bool:
    """Does ``text`` name ``nick`` as a word (case-insensitively, formatting aside)?"""
    if not nick:
        return False
    text = formatting.strip(text)
    pattern = r"(?<![\w\[\]\\`^{|}-])" + re.escape(nick) + r"(?![\w\[\]\\`^{|}-])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def _insert_in_time_order(conv: Conversation, line: Line) -> None:
    """Backfilled history comes after "You have joined", the topic and the
    names; put each line where its time says, so the conversation reads in order."""
    lines = conv.lines
    index = len(lines)
    while index > 0 and lines[index - 1].time > line.time:
        index -= 1
    if len(lines) == lines.maxlen:
        if index == 0:
            return  # older than everything kept
        lines.popleft()
        index -= 1
    lines.insert(index, line)
    conv.reordered = True


class ChatSession:
    def __init__(self, nick: str, server_name: str = SERVER) -> None:
        self.nick = nick
        self.server = Conversation(server_name, "server")
        self.conversations: dict[str, Conversation] = {SERVER: self.server}
        self.current: Conversation = self.server

    # ----------------------------------------------------------- navigation
    def get(self, name: str) -> Conversation | None:
        return self.conversations.get(fold(name))

    def open(self, name: str, switch: bool = False) -> Conversation:
        conv = self.get(name)
        if conv is None:
            conv = Conversation(name, "channel" if is_channel(name) else "private")
            self.conversations[conv.key] = conv
        if switch:
            self.switch(conv.name)
        return conv

    def switch(self, name: str) -> Conversation:
        conv = self.server if name == SERVER else self.get(name) or self.server
        self.current = conv
        conv.unread = 0
        conv.highlight = False
        return conv

    def close(self, name: str) -> None:
        conv = self.get(name)
        if conv is None or conv is self.server:
            return
        del self.conversations[conv.key]
        if self.current is conv:
            self.current = self.server

    def ordered(self) -> list[Conversation]:
        """Server view first, then channels, then private chats, each by name."""
        rank = {"server": 0, "channel": 1, "private": 2}
        return sorted(self.conversations.values(), key=lambda c: (rank[c.kind], c.key))

    # -------------------------------------------------------------- lines
    def add(self, conv: Conversation, line: Line) -> tuple[Conversation, Line]:
        lines = conv.lines
        if line.history and lines and lines[-1].time > line.time:
            _insert_in_time_order(conv, line)
        else:
            lines.append(line)
        counts = line.kind in ("message", "action", "notice") and not (line.history or line.own)
        if conv is not self.current and counts:
            conv.unread += 1
            conv.highlight = conv.highlight or line.highlight
        return conv, line

    def note(self, text: str, kind: LineKind = "info") -> tuple[Conversation, Line]:
        """A local line (help, errors of our own) in the current conversation."""
        return self.add(self.current, Line(datetime.now(UTC), kind, text))

    def submit(self, text: str) -> tuple[Outcome, list[tuple[Conversation, Line]]]:
        """Interpret typed text; the caller sends ``outcome.send`` and honours
        ``outcome.quit``. Returns the local lines added (help, errors)."""
        outcome = parse_input(text, self.current.target)
        added: list[tuple[Conversation, Line]] = []
        if outcome.close:
            conv = self.get(outcome.close)
            if conv is None or not conv.joined:
                outcome.send = [m for m in outcome.send if m.command != "PART"]
            self.close(outcome.close)
        if outcome.open:
            self.open(outcome.open, switch=True)
        for info in outcome.info:
            added.append(self.note(info))
        if outcome.error:
            added.append(self.note(outcome.error, "error"))
        return outcome, added

    def set_members(self, members: dict[str, list[str]]) -> None:
        """Take the member lists (channel -> ["@alice", "bob"]) from the client."""
        for conv in self.conversations.values():
            if conv.kind == "channel":
                conv.members = members.get(conv.key, [])

    # -------------------------------------------------------------- events
    def apply(self, event: ev.AnyEvent) -> list[tuple[Conversation, Line]]:
        """Record an event; returns the lines it added, for the UI to render."""
        t = event.time
        out: list[tuple[Conversation, Line]] = []

        def say(conv: Conversation, text: str, kind: LineKind = "event") -> None:
            out.append(self.add(conv, Line(t, kind, text)))

        match event:
            case ev.MessageEvent():
                self._message(event, out)
            case ev.Connected(nick=nick, server=server):
                self.nick = nick
                say(self.server, f"Connected to {server or 'the server'} as {nick}")
            case ev.Disconnected(requested=True):
                for conv in self.conversations.values():
                    conv.joined = False
                say(self.server, "Disconnected (you quit)")
            case ev.Disconnected(reason=reason, retry_in=retry_in):
                if retry_in is not None:
                    reason += f"; reconnecting in {retry_in:g} s"
                for conv in self.conversations.values():
                    if conv.joined or conv is self.server:
                        conv.joined = False
                        say(conv, f"Disconnected: {reason}", "error")
            case ev.Join(nick=nick, channel=channel, own=own):
                conv = self.open(channel, switch=own and self.current is self.server)
                if own:
                    conv.joined = True
                    conv.topic = ""  # the server tells the topic after JOIN, if there is one
                say(conv, "You have joined " + channel if own else f"{nick} has joined {channel}")
            case ev.Part(own=True, channel=channel) if self.get(channel) is None:
                pass  # left with /close: the conversation is gone already
            case ev.Part(nick=nick, channel=channel, reason=reason, own=own):
                conv = self.open(channel)
                who = "You have" if own else f"{nick} has"
                say(conv, f"{who} left {channel}" + (f" ({reason})" if reason else ""))
                if own:
                    conv.joined = False
                    conv.members = []
            case ev.Kick(channel=channel, nick=nick, by=by, reason=reason, own=own):
                conv = self.open(channel)
                who = "You were" if own else f"{nick} was"
                say(
                    conv,
                    f"{who} kicked from {channel} by {by}" + (f" ({reason})" if reason else ""),
                )
                if own:
                    conv.joined = False
                    conv.members = []
            case ev.Quit(nick=nick, reason=reason, channels=channels):
                text = f"{nick} has quit" + (f" ({reason})" if reason else "")
                for conv in self._places(channels, nick):
                    say(conv, text)
            case ev.NickChange(old=old, new=new, channels=channels, own=own):
                text = f"You are now known as {new}" if own else f"{old} is now known as {new}"
                if own:
                    self.nick = new
                    say(self.server, text)
                query = self.get(old)
                if query is not None and query.kind == "private":
                    del self.conversations[query.key]
                    query.name = new
                    self.conversations[query.key] = query
                for conv in self._places(channels, new):
                    say(conv, text)
            case ev.TopicChange(channel=channel, topic=topic, by=by):
                conv = self.open(channel)
                conv.topic = topic
                if by:
                    say(conv, f"{by} changed the topic to: {topic}")
                else:
                    say(conv, f"Topic: {topic}")
            case ev.ModeChange(target=target, by=by, modes=modes, args=args):
                where = (self.get(target) if is_channel(target) else None) or self.server
                text = " ".join([modes, *args])
                say(where, f"{by or 'The server'} sets mode {text} on {target}")
            case ev.Names(channel=channel, members=members):
                conv = self.open(channel)
                shown = ", ".join(members[:40]) + (" ..." if len(members) > 40 else "")
                say(conv, f"{len(members)} here: {shown}")
            case ev.Away(nick=nick, message=message):
                query = self.get(nick)
                if query is not None and query.kind == "private":
                    say(query, f"{nick} is away: {message}" if message else f"{nick} is back")
            case ev.Invite(by=by, channel=channel):
                say(self.current, f"{by} invites you to {channel} (type /join {channel})")
            case ev.ServerNotice(text=text):
                out.append(self.add(self.server, Line(t, "notice", text)))
            case ev.Numeric(code=code, text=text):
                if event.is_error:
                    say(self.current, text, "error")
                elif code in _REPLY_NUMERICS:
                    say(self.current, text, "info")
                else:
                    say(self.server, text, "info")
            case ev.CertificatePinned(address=address, fingerprint=fp, store=store):
                say(
                    self.server,
                    f"First TLS connection to {address}: trusting its self-signed certificate "
                    f"from now on (SHA-256 {fp}), pinned in {store}",
                    "info",
                )
            case ev.Error(message=message):
                say(self.server, message, "error")
                if self.current is not self.server:
                    say(self.current, message, "error")
            case _:
                pass
        return out

    def _places(self, channels: tuple[str, ...], nick: str) -> list[Conversation]:
        """Conversations where news about ``nick`` belongs: shared channels and
        the private chat with them."""
        places = [c for c in (self.get(name) for name in channels) if c is not None]
        query = self.get(nick)
        if query is not None and query.kind == "private":
            places.append(query)
        return places

    def _message(self, event: ev.MessageEvent, out: list[tuple[Conversation, Line]]) -> None:
        found = self.get(event.conversation)
        if found is not None:
            conv = found
        elif event.kind == "notice" and not is_channel(event.conversation):
            conv = self.current  # service notices: show where the person is
        else:
            conv = self.open(event.conversation)
        if event.msgid:
            if event.msgid in conv.seen_msgids:
                return
            conv.seen_msgids.add(event.msgid)
        highlight = not event.own and (
            mentions(event.text, self.nick) or (conv.kind == "private" and event.kind != "notice")
        )
        kind: LineKind = "message" if event.kind == "privmsg" else event.kind
        line = Line(
            event.time,
            kind,
            event.text,
            nick=event.source,
            own=event.own,
            highlight=highlight,
            history=event.history,
        )
        out.append(self.add(conv, line))
