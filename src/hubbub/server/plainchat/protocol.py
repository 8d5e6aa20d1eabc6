"""``PlainChat``: one plain-chat connection, sans-I/O, around an ordinary
``Session``. To the session it is the ``Link`` (the IRC lines written to the
user come here and leave as plain text); to its transport adapter it is the
protocol (bytes in, a start, a loss). The user is an ordinary user to
everyone else: what it types becomes the lines an IRC client would send,
run through the session (flood control, limits, every command's rules).
"""

from __future__ import annotations

from typing import ClassVar

from hubbub.protocol.message import ProtocolError, parse_line
from hubbub.server.plainchat import commands, render
from hubbub.server.plainchat.framing import PlainFramer
from hubbub.server.plainchat.text import terminal_safe, without_telnet_commands
from hubbub.server.session import Cancellable, Link, Session, SessionHost

# The greeting: the third tutorial's client answers exactly these 4 bytes,
# arriving alone, with its name.
GREETING = b"NICK"
# No name this long after the greeting: the user is a person who needs asking.
PROMPT_DELAY = 1.0
# A message sent with no newline ends when the client pauses this long.
IDLE_END = 0.3
# Longest name tried (a longer one is refused by NICK anyway).
MAX_NAME = 100


class PlainChat:
    """One plain-chat user: framing, naming, translation both ways."""

    METRICS_TRANSPORT: ClassVar[str] = "plain-chat"

    __slots__ = (
        "_first_name",
        "_held",
        "_idle_timer",
        "_names",
        "_names_wanted",
        "_prompt_timer",
        "_quitting",
        "_state",
        "_tried",
        "framer",
        "server",
        "session",
        "transport",
    )

    def __init__(self, server: SessionHost, transport: Link, ip: str, host: str, port: int):
        self.server = server
        self.transport = transport
        self.session = Session(server, self, ip, host, port, False)
        self.session.user.plain_chat = True
        self.framer = PlainFramer()
        # naming: the next message is a name; checking: a name is being
        # tried (later messages are held); chatting: registered.
        self._state = "naming"
        self._tried: str | None = None
        self._first_name: str | None = None  # the name the client chose itself
        self._held: list[str] = []
        self._names_wanted = 0
        self._names: list[str] = []
        self._quitting = False
        self._prompt_timer: Cancellable | None = None
        self._idle_timer: Cancellable | None = None

    @property
    def channel(self) -> str:
        return self.server.config.plain.channel

    # --- from the transport adapter ------------------------------------------------
    def start(self) -> None:
        """The connection is made: admit it, greet, ask for a name in a second."""
        self.server.connection_opened(self.session)
        if self.session.closed:
            return
        self.transport.write(GREETING)
        self._prompt_timer = self.server.call_later(PROMPT_DELAY, self._prompt_if_nameless)

    def receive_data(self, data: bytes) -> None:
        if self.session.closed:
            return
        for message in self.framer.feed(data):
            self._take(message)
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self.framer.pending and not self.session.closed:
            self._idle_timer = self.server.call_later(IDLE_END, self._idle_end)

    def end_of_input(self) -> None:
        """The client closed its side: what it sent last is a message, then it leaves."""
        message = self.framer.take_partial()
        if message is not None:
            self._take(message)
        self.server.disconnect(self.session.user, "Connection closed")

    def connection_lost(self) -> None:
        """The transport is gone (after a close, or the peer went away)."""
        for timer in (self._prompt_timer, self._idle_timer):
            if timer is not None:
                timer.cancel()
        self._prompt_timer = self._idle_timer = None
        self.server.disconnect(self.session.user, "Connection closed")
        self.session.mark_closed()

    # --- input ----------------------------------------------------------------------
    def _idle_end(self) -> None:
        self._idle_timer = None
        message = self.framer.take_partial()
        if message is not None and not self.session.closed:
            self._take(message)

    def _take(self, raw: bytes) -> None:
        if self.session.closed:
            return
        text = without_telnet_commands(raw).decode("utf-8", "replace")
        self._take_text(text.replace("\0", "").replace("\r", "").strip())

    def _take_text(self, text: str) -> None:
        if self._state == "chatting":
            self._chat(text)
        elif self._state == "checking":
            if len(self._held) >= self.server.config.limits.flood_max_queue:
                self.server.disconnect(self.session.user, "Excess Flood")
                return
            self._held.append(text)
        else:
            self._try_name(text)

    def _try_name(self, text: str) -> None:
        text = commands.strip_own_name(text, (self._first_name or "",))
        if text == commands.QUIT_WORD:
            self._quit("left the chat")
            return
        if not text:
            self._say(render.name_problem(render.NO_NICK_GIVEN, "", 0), commands.PROMPT)
            return
        name = text[:MAX_NAME]
        first = self._first_name is None
        if first:
            self._first_name = name
        self._tried = name
        self._state = "checking"
        for line in commands.name_lines(name, first, self.server.config.plain.echo):
            self._irc(line)

    def _chat(self, text: str) -> None:
        user = self.session.user
        text = commands.strip_own_name(text, (user.nick, self._first_name or ""))
        step = commands.chat_step(text, self.channel)
        if step.say:
            self._say(*step.say)
        if step.names:
            self._names_wanted += 1
        for line in step.irc:
            self._irc(line)
        if step.quit is not None:
            self._quit(step.quit)

    def _irc(self, line: str) -> None:
        """Hand one IRC line to the session, as if an IRC client sent it."""
        self.session.receive_line(line.encode())

    def _quit(self, reason: str) -> None:
        """``{quit}`` is answered with ``{quit}`` (the tutorials' clients
        close on it), then the user leaves as an IRC QUIT would."""
        self.session.flush()
        self.transport.write(commands.QUIT_WORD.encode())
        self._quitting = True
        self.server.disconnect(self.session.user, f"Quit: {reason}")

    def _prompt_if_nameless(self) -> None:
        self._prompt_timer = None
        if self._first_name is None and not self.framer.pending:
            # On a new line: on nc's screen the greeting stays a word of its own.
            self._say("", commands.PROMPT)

    # --- output: IRC lines for this user become plain lines --------------------------
    def _say(self, *lines: str) -> None:
        """Write ``lines`` to the user, each made safe for a terminal."""
        if not self._quitting:
            text = "".join(terminal_safe(line) + "\n" for line in lines)
            self.transport.write(text.encode())

    def _shown(self, data: bytes) -> list[str]:
        out: list[str] = []
        for raw in data.split(b"\r\n"):
            if not raw:
                continue
            try:
                msg = parse_line(raw, client=False)
            except ProtocolError:
                continue
            command = msg.command
            if command in render.NAME_PROBLEMS:
                out += self._name_refused(command, msg.params)
            elif command == "001":
                out += self._registered()
            elif command == "353" and self._names_wanted and len(msg.params) >= 4:
                self._names += msg.params[3].split()
            elif command == "366" and self._names_wanted:
                out.append(self._names_line())
            elif command == "PING":
                self.server.call_soon(self._irc, f"PONG :{msg.params[-1] if msg.params else ''}")
            else:
                line = render.render(msg, self.session.user.nick, self.channel)
                if line is not None:
                    out.append(line)
        return out

    def _name_refused(self, numeric: str, params: list[str]) -> list[str]:
        # The name as typed: a middle parameter cannot show its spaces.
        name = params[1] if numeric != render.NO_NICK_GIVEN and len(params) > 2 else ""
        if self._state == "checking" and self._tried is not None:
            name = self._tried
        why = render.name_problem(numeric, name, self.server.config.limits.nicklen)
        if self._state != "checking":
            return [why]  # a /nick that failed
        self._state = "naming"
        self._tried = None
        self.server.call_soon(self._release_held)
        return [why, commands.PROMPT]

    def _registered(self) -> list[str]:
        self._state = "chatting"
        self.server.call_soon(self._irc, f"JOIN {self.channel}")
        self.server.call_soon(self._release_held)
        return [commands.welcome(self.session.user.nick, self.channel)]

    def _release_held(self) -> None:
        """Messages that came while a name was being tried, taken in order."""
        while self._held and self._state != "checking" and not self.session.closed:
            self._take_text(self._held.pop(0))

    def _names_line(self) -> str:
        self._names_wanted -= 1
        names, self._names = self._names, []
        if not names:
            return f"Nobody is in {self.channel}."
        return f"In {self.channel}: " + ", ".join(names)

    # --- Link (for the session) ----------------------------------------------------
    def write(self, data: bytes) -> None:
        if self._quitting:
            return
        lines = self._shown(data)
        if lines:
            self._say(*lines)

    def buffered(self) -> int:
        return self.transport.buffered()

    def close(self) -> None:
        self.transport.close()

    def abort(self) -> None:
        self.transport.abort()

    def set_reading(self, on: bool) -> None:
        self.transport.set_reading(on)
