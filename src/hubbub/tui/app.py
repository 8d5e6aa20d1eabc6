"""The Textual chat window: conversations on the left, messages in the middle,
members on the right, topic on top, input at the bottom. The client library
runs on Textual's own event loop, so no threads are involved."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, OptionList, RichLog, Static
from textual.widgets.option_list import Option

from hubbub.client import events as ev
from hubbub.client import formatting
from hubbub.client.client import Client, NotConnected
from hubbub.client.config import ClientConfig
from hubbub.client.session import ChatSession, Conversation, Line
from hubbub.protocol.printable import printable
from hubbub.tui.chatinput import ChatInput
from hubbub.tui.render import render_conversation, render_line, render_member

_MEMBERSHIP = (
    ev.Connected,
    ev.Disconnected,
    ev.Join,
    ev.Part,
    ev.Kick,
    ev.Quit,
    ev.NickChange,
    ev.ModeChange,
    ev.Names,
)


def _alt_digits_are_alt() -> None:
    """xterm, tmux, GNOME Terminal... send Alt+2 as ESC 2, which Textual reads as
    the character macOS WezTerm makes with Option+2 ("™"), so Alt+digit, the key
    irssi and WeeChat users switch windows with, never arrived as "alt+2"."""
    try:
        from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
    except ImportError:  # a Textual without that table: nothing to undo
        return
    if isinstance(ANSI_SEQUENCES_KEYS, dict):
        for digit in "0123456789":
            ANSI_SEQUENCES_KEYS.pop(f"\x1b{digit}", None)


PLACEHOLDER = (
    "Type a message or /help  -  Ctrl+N/Ctrl+P or Alt+1..0: conversations, "
    "PgUp/PgDn: scroll, Ctrl+Q: quit"
)


class ChatApp(App[None]):
    TITLE = "hubbub chat"
    CSS = """
    #topic { height: 1; background: $boost; color: $text; padding: 0 1; }
    #conversations { width: 22; border: none; border-right: solid $panel-lighten-2; }
    #members { width: 20; border: none; border-left: solid $panel-lighten-2; }
    #messages { width: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    #status { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    ChatInput { border: none; height: 1; padding: 0 1; }
    """
    # Ctrl+N/Ctrl+P and Alt+1..0 switch conversations as in irssi and WeeChat;
    # Textual's command palette (themes, key help) moves from Ctrl+P to F1.
    COMMAND_PALETTE_BINDING = "f1"
    BINDINGS = [
        Binding("ctrl+q", "leave", "Quit"),
        Binding("ctrl+n", "cycle(1)", "Next conversation", show=False, priority=True),
        Binding("ctrl+p", "cycle(-1)", "Previous conversation", show=False, priority=True),
        Binding("pageup", "page(-1)", "Scroll messages up", show=False),
        Binding("pagedown", "page(1)", "Scroll messages down", show=False),
        *(
            Binding(f"alt+{n % 10}", f"jump({n})", f"Conversation {n}", show=False, priority=True)
            for n in range(1, 11)
        ),
    ]

    def __init__(self, config: ClientConfig) -> None:
        super().__init__()
        _alt_digits_are_alt()
        self.config = config
        self.client = Client(config)
        self.session = ChatSession(config.nick, server_name=config.host)
        self._sidebar_key: list[tuple[str, int, bool, bool]] = []
        self._shown: Conversation = self.session.current
        self._members_shown: list[str] | None = None  # None: redraw next time
        self._redraw_pending = False

    def compose(self) -> ComposeResult:
        # markup=False: a topic or error saying "[b]" or "[/x]" is text, not styling.
        yield Static("", id="topic", markup=False)
        with Horizontal():
            yield OptionList(id="conversations")
            yield RichLog(id="messages", wrap=True, markup=False, min_width=20)
            yield OptionList(id="members")
        yield Static("", id="status", markup=False)
        yield ChatInput(self.session, placeholder=PLACEHOLDER, id="input")

    def on_mount(self) -> None:
        self.client.start()
        self.run_worker(self._pump(), name="irc-events", exit_on_error=False)
        self.query_one(ChatInput).focus()
        self._refresh_all()

    async def on_unmount(self) -> None:
        await self.client.close()

    # ------------------------------------------------------------- network
    async def _pump(self) -> None:
        async for event in self.client.events():
            lines = self.session.apply(event)
            if isinstance(event, _MEMBERSHIP):
                self.session.set_members(self.client.state.member_lists())
            self._show(lines)
            if isinstance(event, ev.Disconnected) and not event.reconnecting:
                self._status(f"disconnected - {event.reason}  (Ctrl+Q quits)")

    def _show(self, lines: list[tuple[Conversation, Line]]) -> None:
        current = self.session.current
        if current is not self._shown or current.reordered or self._redraw_pending:
            # The session switched (e.g. to a channel just joined), or history
            # went in above the newest lines: redraw once the burst is over.
            if not self._redraw_pending:
                self._redraw_pending = True
                self.call_later(self._refresh_all)
            self._refresh_sidebar()
            return
        log = self.query_one("#messages", RichLog)
        # Stay where the person scrolled to read; follow new lines only at the bottom.
        follow = log.scroll_y >= log.max_scroll_y
        for conv, line in lines:
            if conv is self.session.current:
                log.write(render_line(line), scroll_end=follow)
        self._refresh_sidebar()
        self._refresh_current()

    # ------------------------------------------------------------ rendering
    def _status(self, text: str | None = None) -> None:
        if text is None:
            state = "connected" if self.client.connected else "connecting..."
            text = f"{self.session.nick} on {self.config.address} - {state}"
        self.query_one("#status", Static).update(printable(text))

    def _refresh_all(self) -> None:
        self._redraw_pending = False
        self._shown = self.session.current
        self._shown.reordered = False
        log = self.query_one("#messages", RichLog)
        log.clear()
        for line in self.session.current.lines:
            log.write(render_line(line))
        self._sidebar_key = []
        self._members_shown = None
        self._refresh_sidebar()
        self._refresh_current()

    def _refresh_sidebar(self) -> None:
        convs = self.session.ordered()
        key = [(c.name, c.unread, c.highlight, c.joined) for c in convs]
        if key == self._sidebar_key:
            return
        self._sidebar_key = key
        sidebar = self.query_one("#conversations", OptionList)
        sidebar.clear_options()
        sidebar.add_options([Option(render_conversation(c), id=c.key) for c in convs])
        sidebar.highlighted = convs.index(self.session.current)

    def _refresh_current(self) -> None:
        conv = self.session.current
        topic = conv.topic if conv.kind == "channel" else ""
        title = conv.name if conv.kind != "server" else f"server {self.config.address}"
        topic = formatting.strip(topic)
        shown = f"{title}: {topic}" if topic else title
        self.query_one("#topic", Static).update(printable(shown))
        if conv.members != self._members_shown:
            self._members_shown = list(conv.members)
            members = self.query_one("#members", OptionList)
            members.clear_options()
            members.add_options([Option(render_member(m)) for m in conv.members])
        self._status()

    def switch_to(self, name: str) -> None:
        self.session.switch(name)
        self._refresh_all()

    # --------------------------------------------------------------- input
    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        if message.option_list.id == "conversations" and message.option.id:
            conv = self.session.conversations.get(message.option.id)
            if conv is not None and conv is not self.session.current:
                self.switch_to(conv.name)
            self.query_one(ChatInput).focus()

    async def on_input_submitted(self, message: Input.Submitted) -> None:
        field = self.query_one(ChatInput)
        text = message.value
        field.remember(text)
        field.value = ""
        outcome, added = self.session.submit(text)
        try:
            for msg in outcome.send:
                self.client.send(msg)
        except NotConnected as exc:
            added.append(self.session.note(f"Not sent: {exc}", "error"))
        self._show(added)
        if outcome.quit is not None:
            await self._leave(outcome.quit)

    async def _leave(self, reason: str) -> None:
        self._status("quitting...")
        await self.client.quit(reason)
        self.exit()

    async def action_leave(self) -> None:
        await self._leave("Leaving")

    def action_cycle(self, step: int) -> None:
        convs = self.session.ordered()
        index = (convs.index(self.session.current) + step) % len(convs)
        self.switch_to(convs[index].name)

    def action_jump(self, number: int) -> None:
        """Alt+1 is the server view, Alt+2 the first channel, and so on."""
        convs = self.session.ordered()
        if number <= len(convs):
            self.switch_to(convs[number - 1].name)

    def action_page(self, step: int) -> None:
        log = self.query_one("#messages", RichLog)
        if step < 0:
            log.scroll_page_up(animate=False)
        else:
            log.scroll_page_down(animate=False)
