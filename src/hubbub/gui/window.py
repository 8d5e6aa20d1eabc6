"""The main chat window: conversations, messages, members, topic, entry with
Send and Quit. Everything here runs on the Tk thread; network news arrives
through the bridge's queue, polled with ``after``."""

from __future__ import annotations

import queue
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any

from hubbub.client import formatting
from hubbub.client.colours import nick_colour
from hubbub.client.completion import complete
from hubbub.client.session import ChatSession, Conversation, Line
from hubbub.gui.bridge import NetworkThread
from hubbub.protocol.printable import printable

POLL_MS = 40
QUIT_GRACE_MS = 3000


class ChatWindow(ttk.Frame):
    def __init__(
        self, master: tk.Misc, network: NetworkThread, on_closed: Callable[[], None]
    ) -> None:
        super().__init__(master)
        self.network = network
        self.session = ChatSession(network.config.nick, server_name=network.config.host)
        self._on_closed = on_closed
        self._history: list[str] = []
        self._history_pos = 0
        self._quitting = False
        self._colour_tags: set[str] = set()
        self._shown: Conversation = self.session.current
        self._redraw_pending = False
        self._build()
        self._render_all()
        self.after(POLL_MS, self._poll)

    # ---------------------------------------------------------------- layout
    def _build(self) -> None:
        self.topic = tk.StringVar(self, "")
        self.status = tk.StringVar(self, "connecting...")
        top = ttk.Label(self, textvariable=self.topic, anchor="w", padding=(8, 4))
        top.pack(side="top", fill="x")

        bottom = ttk.Frame(self, padding=(6, 4))
        bottom.pack(side="bottom", fill="x")
        ttk.Label(bottom, textvariable=self.status, foreground="#666").pack(side="bottom", fill="x")
        self.entry = ttk.Entry(bottom)
        self.entry.pack(side="left", fill="x", expand=True)
        self.send_button = ttk.Button(bottom, text="Send", command=self.send_entry)
        self.send_button.pack(side="left", padx=(6, 0))
        self.quit_button = ttk.Button(bottom, text="Quit", command=self.quit_chat)
        self.quit_button.pack(side="left", padx=(6, 0))
        self.entry.bind("<Return>", lambda _e: self.send_entry())
        self.entry.bind("<Up>", lambda _e: self._walk_history(-1))
        self.entry.bind("<Down>", lambda _e: self._walk_history(1))
        self.entry.bind("<Tab>", self._complete)
        self.entry.bind("<Prior>", lambda _e: self._scroll(-1))
        self.entry.bind("<Next>", lambda _e: self._scroll(1))
        # As in the terminal client (and irssi, WeeChat): Ctrl+N/Ctrl+P and
        # Alt+1..0 switch conversations, wherever the keyboard focus is.
        window = self.winfo_toplevel()
        window.bind("<Control-n>", lambda _e: self.cycle(1))
        window.bind("<Control-p>", lambda _e: self.cycle(-1))
        for n in range(1, 11):
            window.bind(f"<Alt-Key-{n % 10}>", self._jump_key(n))

        panes = ttk.PanedWindow(self, orient="horizontal")
        panes.pack(side="top", fill="both", expand=True)
        self.conversations = tk.Listbox(panes, width=18, exportselection=False, activestyle="none")
        self.conversations.bind("<<ListboxSelect>>", self._conversation_clicked)
        middle = ttk.Frame(panes)
        self.messages = tk.Text(
            middle, wrap="word", state="disabled", width=60, height=20, padx=6, pady=4
        )
        scroll = ttk.Scrollbar(middle, command=self.messages.yview)
        self.messages.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.messages.pack(side="left", fill="both", expand=True)
        self.members = tk.Listbox(panes, width=16, exportselection=False, activestyle="none")
        panes.add(self.conversations, weight=0)
        panes.add(middle, weight=1)
        panes.add(self.members, weight=0)

        self.messages.tag_configure("time", foreground="#888")
        self.messages.tag_configure("event", foreground="#777", font="TkDefaultFont")
        self.messages.tag_configure("info", foreground="#555")
        self.messages.tag_configure("error", foreground="#c0392b")
        self.messages.tag_configure("notice", foreground="#b5651d")
        self.messages.tag_configure("highlight", background="#ffe9a8")
        self.messages.tag_configure("history", foreground="#999")
        self.entry.focus_set()

    # ------------------------------------------------------------- rendering
    def _nick_tag(self, nick: str) -> str:
        colour = nick_colour(nick)
        tag = "nick" + colour
        if tag not in self._colour_tags:
            self.messages.tag_configure(tag, foreground=colour, font="TkDefaultFont 10 bold")
            self._colour_tags.add(tag)
        return tag

    def _insert(self, line: Line) -> None:
        text = self.messages
        text.insert("end", line.time.astimezone().strftime("%H:%M "), ("time",))
        body_tags: tuple[str, ...] = ("highlight",) if line.highlight else ()
        if line.history:
            body_tags += ("history",)
        nick = printable(line.nick or "")
        if line.nick and line.kind == "message":
            text.insert("end", f"<{nick}> ", (self._nick_tag(line.nick),))
            self._insert_formatted(line.text, body_tags)
        elif line.nick and line.kind == "action":
            text.insert("end", f"* {nick} ", (self._nick_tag(line.nick),))
            self._insert_formatted(line.text, body_tags)
        elif line.nick and line.kind == "notice":
            text.insert("end", f"-{nick}- ", ("notice", *body_tags))
            self._insert_formatted(line.text, ("notice", *body_tags))
        else:
            prefix = "!! " if line.kind == "error" else "-- "
            body = printable(formatting.strip(line.text))
            text.insert("end", prefix + body + "\n", (line.kind,))

    def _insert_formatted(self, body: str, base: tuple[str, ...]) -> None:
        """Insert ``body`` with its IRC bold, italics, underline and colours, then
        a newline; other control characters are shown as such (^[ for ESC)."""
        for part, fmt in formatting.runs(body):
            self.messages.insert("end", printable(part), base + self._format_tags(fmt))
        self.messages.insert("end", "\n", base)

    def _format_tags(self, fmt: formatting.Style) -> tuple[str, ...]:
        """Text tags for one formatted run, configured the first time they are used."""
        if fmt.plain:
            return ()
        fg, bg = fmt.fg, fmt.bg
        if fmt.reverse:
            fg, bg = bg or "#ffffff", fg or "#333333"
        wanted: list[tuple[str, dict[str, Any]]] = []
        if fmt.bold or fmt.italics:
            weight = ("bold",) if fmt.bold else ()
            slant = ("italic",) if fmt.italics else ()
            wanted.append(
                ("fmt-" + "".join(w[0] for w in weight + slant), {"font": weight + slant})
            )
        if fmt.underline:
            wanted.append(("fmt-u", {"underline": True}))
        if fmt.strikethrough:
            wanted.append(("fmt-s", {"overstrike": True}))
        if fg:
            wanted.append(("fg" + fg, {"foreground": fg}))
        if bg:
            wanted.append(("bg" + bg, {"background": bg}))
        for name, options in wanted:
            if name in self._colour_tags:
                continue
            if "font" in options:
                options = {"font": (*self._message_font(), *options["font"])}
            self.messages.tag_configure(name, options)
            self._colour_tags.add(name)
        return tuple(name for name, _ in wanted)

    def _message_font(self) -> tuple[str, int]:
        """Family and size of the message font. (A description, not a
        tkinter.font.Font: those delete their Tcl font when garbage-collected,
        which may happen on the network thread.)"""
        actual = self.tk.splitlist(self.tk.call("font", "actual", self.messages.cget("font")))
        spec = dict(zip(actual[::2], actual[1::2], strict=True))
        return str(spec["-family"]), int(spec["-size"])

    def _append(self, lines: list[tuple[Conversation, Line]]) -> None:
        conv = self.session.current
        if conv is not self._shown or conv.reordered or self._redraw_pending:
            # The session switched (e.g. to a channel just joined), or history
            # went in above the newest lines: redraw once the burst is over.
            if not self._redraw_pending:
                self._redraw_pending = True
                self.after_idle(self._render_all)
            return
        current = [line for conv, line in lines if conv is self.session.current]
        if current:
            at_bottom = self.messages.yview()[1] >= 0.999
            self.messages.configure(state="normal")
            for line in current:
                self._insert(line)
            self.messages.configure(state="disabled")
            if at_bottom:
                self.messages.see("end")
        self._render_lists()

    def _render_all(self) -> None:
        self._redraw_pending = False
        self._shown = self.session.current
        self._shown.reordered = False
        self.messages.configure(state="normal")
        self.messages.delete("1.0", "end")
        for line in self.session.current.lines:
            self._insert(line)
        self.messages.configure(state="disabled")
        self.messages.see("end")
        self._render_lists()

    def _render_lists(self) -> None:
        convs = self.session.ordered()
        labels = [printable(("(server) " if c.kind == "server" else "") + c.label()) for c in convs]
        if list(self.conversations.get(0, "end")) != labels:
            self.conversations.delete(0, "end")
            for i, (conv, label) in enumerate(zip(convs, labels, strict=True)):
                self.conversations.insert("end", label)
                if conv.highlight:
                    self.conversations.itemconfigure(i, foreground="#c0392b")
        index = convs.index(self.session.current)
        self.conversations.selection_clear(0, "end")
        self.conversations.selection_set(index)
        members = [printable(m) for m in self.session.current.members]
        if list(self.members.get(0, "end")) != members:
            self.members.delete(0, "end")
            for member in members:
                self.members.insert("end", member)
        conv = self.session.current
        if conv.kind == "channel":
            topic = formatting.strip(conv.topic)
            self.topic.set(printable(f"{conv.name}: {topic}" if topic else conv.name))
        else:
            self.topic.set(printable(conv.name))
        self.winfo_toplevel().title(printable(f"{conv.name} - hubbub"))

    # --------------------------------------------------------------- network
    def _poll(self) -> None:
        """Drain what the network thread delivered, then look again soon."""
        try:
            while True:
                delivery = self.network.inbox.get_nowait()
                if delivery is None:
                    self.status.set("disconnected")
                    break
                if delivery.members is not None:
                    self.session.set_members(delivery.members)
                self._append(self.session.apply(delivery.event))
                self._update_status()
        except queue.Empty:
            pass
        if self._quitting and self.network.finished:
            self._on_closed()
            return
        self.after(POLL_MS, self._poll)

    def _update_status(self) -> None:
        joined = sum(1 for c in self.session.conversations.values() if c.joined)
        state = "connected" if joined or self.session.server.lines else "connecting..."
        self.status.set(f"{self.session.nick} on {self.network.config.address} - {state}")

    # ----------------------------------------------------------------- input
    def send_entry(self) -> None:
        text = self.entry.get()
        self.entry.delete(0, "end")
        if text and (not self._history or self._history[-1] != text):
            self._history.append(text)
        self._history_pos = len(self._history)
        outcome, added = self.session.submit(text)
        if outcome.send:
            self.network.send(outcome.send)
        self._append(added)
        if outcome.quit is not None:
            self.quit_chat(outcome.quit)

    def quit_chat(self, reason: str = "Leaving") -> None:
        """Send QUIT and close once the network thread is done (or after a grace period)."""
        if self._quitting:
            return
        self._quitting = True
        self.status.set("quitting...")
        self.network.quit(reason)
        self.after(QUIT_GRACE_MS, self._on_closed)

    def _conversation_clicked(self, _event: object) -> None:
        picked = self.conversations.curselection()  # type: ignore[no-untyped-call]
        if not picked:
            return
        self.switch_to(self.session.ordered()[picked[0]])
        # The listbox takes the focus itself after <<ListboxSelect>>; take it
        # back afterwards, so what the person types next goes to the entry.
        self.after_idle(self.entry.focus_set)

    def switch_to(self, conv: Conversation) -> str:
        if conv is not self.session.current:
            self.session.switch(conv.name)
            self._render_all()
        self.entry.focus_set()
        return "break"

    def cycle(self, step: int) -> str:
        convs = self.session.ordered()
        return self.switch_to(convs[(convs.index(self.session.current) + step) % len(convs)])

    def jump(self, number: int) -> str:
        """Alt+1 is the server view, Alt+2 the first channel, and so on."""
        convs = self.session.ordered()
        return self.switch_to(convs[number - 1]) if number <= len(convs) else "break"

    def _jump_key(self, number: int) -> Callable[[tk.Event[tk.Misc]], str]:
        return lambda _e: self.jump(number)

    def _scroll(self, pages: int) -> str:
        self.messages.yview_scroll(pages, "pages")
        return "break"

    def _walk_history(self, step: int) -> str:
        if self._history:
            self._history_pos = max(0, min(len(self._history), self._history_pos + step))
            value = (
                self._history[self._history_pos] if self._history_pos < len(self._history) else ""
            )
            self.entry.delete(0, "end")
            self.entry.insert(0, value)
        return "break"

    def _complete(self, _event: object) -> str:
        result = complete(self.session, self.entry.get(), self.entry.index("insert"))
        if result is not None:
            text, cursor = result
            self.entry.delete(0, "end")
            self.entry.insert(0, text)
            self.entry.icursor(cursor)
        return "break"
