"""The Tk client in a real window on Xvfb, driven through its widgets, with
library clients on the other end of a real server."""

from __future__ import annotations

import tkinter as tk
from pathlib import Path

from libpeers import PeerFactory, in_order, joined_peer

from hubbub.client import ClientConfig, Kick, MessageEvent, Names, Quit, TopicChange
from hubbub.gui.app import GuiApp
from hubbub.gui.window import ChatWindow
from uiwait import pump_tk as pump
from uiwait import tk_text


def shown(window: ChatWindow) -> str:
    return tk_text(window.messages)


def type_and_enter(window: ChatWindow, text: str) -> None:
    window.entry.delete(0, "end")
    window.entry.insert(0, text)
    window.entry.event_generate("<Return>")


async def test_connect_chat_and_close(
    root: tk.Tk, irc: object, peer: PeerFactory, tmp_path: Path
) -> None:
    port = irc.port()  # type: ignore[attr-defined]
    app = GuiApp(root, ClientConfig(port=port, nick="guest", config_dir=tmp_path))
    dialog = app.dialog
    assert dialog is not None
    dialog.entries["nickname"].delete(0, "end")
    dialog.entries["nickname"].insert(0, "carol")
    dialog.entries["channels"].insert(0, "#lobby")
    dialog.connect_button.invoke()
    window = app.window
    assert window is not None
    await pump(root, lambda: "You have joined #lobby" in shown(window))
    assert window.topic.get() == "#lobby"

    bob = await joined_peer(peer, "bob", "#lobby")
    await pump(root, lambda: list(window.members.get(0, "end")) == ["@carol", "bob"])

    type_and_enter(window, "hello from the desktop")
    got = await bob.events().wait_for(MessageEvent)
    assert (got.source, got.text) == ("carol", "hello from the desktop")

    bob.say("#lobby", "hi carol!")
    await pump(root, lambda: "<bob> hi carol!" in shown(window))
    assert window.messages.tag_ranges("highlight")

    window.entry.insert(0, "/topic Desktop hour")
    window.send_button.invoke()
    topic = await bob.events().wait_for(TopicChange)
    assert topic.topic == "Desktop hour"
    await pump(root, lambda: window.topic.get() == "#lobby: Desktop hour")

    bob.say("carol", "psst")
    await pump(root, lambda: "bob (1)" in window.conversations.get(0, "end"))
    labels = list(window.conversations.get(0, "end"))
    window.conversations.selection_clear(0, "end")
    window.conversations.selection_set(labels.index("bob (1)"))
    window.conversations.event_generate("<<ListboxSelect>>")
    await pump(root, lambda: "<bob> psst" in shown(window))
    assert window.session.current.name == "bob"
    type_and_enter(window, "/join #lobby")
    await pump(root, lambda: window.session.current.name == "#lobby")

    type_and_enter(window, "/kick bob enough")
    kick = await bob.events().wait_for(Kick)
    assert (kick.nick, kick.reason) == ("bob", "enough")

    type_and_enter(window, "/join #side")
    await pump(root, lambda: window.members.get(0, "end") == ("@carol",))
    type_and_enter(window, "/close")
    await pump(root, lambda: "#side" not in window.conversations.get(0, "end"))
    await pump(root, lambda: window.session.current is window.session.server)
    click_conversation(window, "#lobby")
    await pump(root, lambda: root.focus_get() is window.entry)
    assert window.session.current.name == "#lobby"

    type_and_enter(window, "/nosuch")
    await pump(root, lambda: "Unknown command /nosuch" in shown(window))

    # Closing the window sends QUIT and exits cleanly.
    other = await peer("dave", channels=["#lobby"])
    await other.events().wait_for(Names)
    root.tk.call(root.protocol("WM_DELETE_WINDOW"))
    await pump(root, lambda: app.closed)
    gone = await other.events().wait_for(Quit)
    assert gone.nick == "carol"
    assert app.network is not None and app.network.finished


async def test_dialog_rejects_bad_input(root: tk.Tk, tmp_path: Path) -> None:
    app = GuiApp(root, ClientConfig(config_dir=tmp_path))
    dialog = app.dialog
    assert dialog is not None
    dialog.port.set("70000")
    dialog.connect_button.invoke()
    assert "port" in dialog.error.get() and app.window is None
    dialog.port.set("6667")
    dialog.nick.set("9lives")
    dialog.connect_button.invoke()
    assert "nickname" in dialog.error.get() and app.window is None
    dialog.tls_check.invoke()
    assert dialog.port.get() == "6697"
    dialog.cancel_button.invoke()
    assert app.closed


async def test_unreachable_server_shows_in_window(root: tk.Tk, tmp_path: Path) -> None:
    from libpeers import free_port

    app = GuiApp(root, ClientConfig(port=free_port(), nick="lonely", config_dir=tmp_path))
    assert app.dialog is not None
    app.dialog.connect_button.invoke()
    window = app.window
    assert window is not None
    await pump(root, lambda: "connection refused" in shown(window))
    window.quit_button.invoke()
    await pump(root, lambda: app.closed)


def carol_in_lobby(root: tk.Tk, irc: object, tmp_path: Path) -> tuple[GuiApp, ChatWindow]:
    """A GUI connected as carol, joining #lobby (the join may still be on its way)."""
    port = irc.port()  # type: ignore[attr-defined]
    app = GuiApp(root, ClientConfig(port=port, nick="carol", config_dir=tmp_path))
    app.connect(ClientConfig(port=port, nick="carol", channels=["#lobby"], config_dir=tmp_path))
    assert app.window is not None
    return app, app.window


def click_conversation(window: ChatWindow, label: str) -> None:
    """A real mouse click on an entry of the conversation list."""
    index = list(window.conversations.get(0, "end")).index(label)
    box = window.conversations.bbox(index)
    assert box is not None, f"{label} is not shown"
    x, y, _w, _h = box
    window.conversations.event_generate("<Button-1>", x=x + 2, y=y + 2)
    window.conversations.event_generate("<ButtonRelease-1>", x=x + 2, y=y + 2)


async def test_keyboard_stays_in_the_entry(
    root: tk.Tk, irc: object, peer: PeerFactory, tmp_path: Path
) -> None:
    """After a click on a conversation, typing goes to the entry (the listbox
    used to keep the focus and swallow it); Ctrl+N/Ctrl+P and Alt+digit switch
    conversations from the keyboard; PageUp/PageDown scroll the messages."""
    app, window = carol_in_lobby(root, irc, tmp_path)
    await pump(root, lambda: "You have joined #lobby" in shown(window))
    bob = await peer("bob", channels=["#lobby"])
    bob.say("carol", "psst")
    await pump(root, lambda: "bob (1)" in window.conversations.get(0, "end"))

    click_conversation(window, "bob (1)")
    await pump(root, lambda: root.focus_get() is window.entry)
    assert window.session.current.name == "bob"
    click_conversation(window, "#lobby")
    await pump(root, lambda: root.focus_get() is window.entry)
    assert window.session.current.name == "#lobby"

    window.entry.event_generate("<Control-p>")
    assert window.session.current is window.session.server
    window.entry.event_generate("<Control-p>")
    assert window.session.current.name == "bob"
    window.entry.event_generate("<Control-n>")
    assert window.session.current is window.session.server
    window.entry.event_generate("<Alt-Key-2>")
    assert window.session.current.name == "#lobby"
    assert window.topic.get() == "#lobby"
    window.entry.event_generate("<Alt-Key-3>")
    assert window.session.current.name == "bob" and "<bob> psst" in shown(window)
    window.entry.event_generate("<Alt-Key-9>")
    assert window.session.current.name == "bob"

    window.entry.event_generate("<Alt-Key-2>")
    for _ in range(3):
        type_and_enter(window, "/help")
    root.update()
    assert window.messages.yview()[1] == 1.0
    window.entry.event_generate("<Prior>")
    root.update()
    assert window.messages.yview()[1] < 1.0
    window.entry.event_generate("<Next>")
    window.entry.event_generate("<Next>")
    root.update()
    assert window.messages.yview()[1] == 1.0
    app.close()
    await pump(root, lambda: app.closed)


async def test_history_shows_above_the_join(
    root: tk.Tk, irc: object, peer: PeerFactory, tmp_path: Path
) -> None:
    bob = await joined_peer(peer, "bob", "#lobby")
    for text in ("said before carol came", "and once more"):
        bob.say("#lobby", text)
        await bob.events().wait_for(MessageEvent, lambda e, t=text: e.text == t)
    app, window = carol_in_lobby(root, irc, tmp_path)
    await pump(root, lambda: "<bob> and once more" in shown(window))
    text = shown(window)
    assert in_order(
        text, "<bob> said before carol came", "<bob> and once more", "You have joined #lobby"
    )
    app.close()
    await pump(root, lambda: app.closed)


async def test_irc_formatting(root: tk.Tk, irc: object, peer: PeerFactory, tmp_path: Path) -> None:
    app, window = carol_in_lobby(root, irc, tmp_path)
    await pump(root, lambda: "You have joined #lobby" in shown(window))
    bob = await peer("bob", channels=["#lobby"])
    bob.say("#lobby", "plain, then \x02bold\x02 and \x034red\x03!")
    await pump(root, lambda: "<bob> plain, then bold and red!" in shown(window))
    text = window.messages
    red = text.search("red!", "1.0")
    bold = text.search("bold", "1.0")
    assert "fg#ff0000" in text.tag_names(red)
    assert "fmt-b" in text.tag_names(bold)
    assert text.tag_cget("fg#ff0000", "foreground") == "#ff0000"
    app.close()
    await pump(root, lambda: app.closed)
