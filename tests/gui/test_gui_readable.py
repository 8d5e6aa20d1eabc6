"""The Tk client on Xvfb against a real server: control characters from
others are shown as such, WHOIS reads as sentences, and a damaged pin file
stops a TLS connection with a message in the window."""

from __future__ import annotations

import re
import tkinter as tk
from pathlib import Path

from libpeers import PeerFactory

from hubbub.client import ClientConfig, Names
from hubbub.client.tofu import PIN_FILE
from hubbub.gui.app import GuiApp
from hubbub.gui.window import ChatWindow
from uiwait import pump_tk as pump
from uiwait import tk_text

HOSTILE = "look \x1b]0;pwned\x07\x1b[2J\x9b31m\x7f\x00 here"


def shown(window: ChatWindow) -> str:
    return tk_text(window.messages)


def connected(root: tk.Tk, config: ClientConfig) -> tuple[GuiApp, ChatWindow]:
    app = GuiApp(root, config)
    app.connect(config)
    assert app.window is not None
    return app, app.window


async def test_control_characters_are_shown_not_obeyed(
    root: tk.Tk, irc: object, peer: PeerFactory, tmp_path: Path
) -> None:
    bob = await peer("bob", channels=["#lobby"])  # first in: an operator, may set the topic
    await bob.events().wait_for(Names)
    port = irc.port()  # type: ignore[attr-defined]
    config = ClientConfig(port=port, nick="carol", channels=["#lobby"], config_dir=tmp_path)
    app, window = connected(root, config)
    await pump(root, lambda: "You have joined #lobby" in shown(window))
    bob.send_raw("TOPIC #lobby :\x1b]0;title\x07 news")
    bob.say("#lobby", HOSTILE)
    await pump(root, lambda: "<bob> look" in shown(window))
    assert "<bob> look ^[]0;pwned^G^[[2J<U+009B>31m^? here" in shown(window)  # NUL: dropped
    assert not any(ch in shown(window) for ch in "\x1b\x07\x9b\x7f\x00")
    await pump(root, lambda: "news" in window.topic.get())
    assert window.topic.get() == "#lobby: ^[]0;title^G news"
    app.close()
    await pump(root, lambda: app.closed)


async def test_whois_reads_as_sentences(
    root: tk.Tk, irc: object, peer: PeerFactory, tmp_path: Path
) -> None:
    bob = await peer("bob", channels=["#lobby"], realname="Bob Builder")
    port = irc.port()  # type: ignore[attr-defined]
    config = ClientConfig(port=port, nick="carol", channels=["#lobby"], config_dir=tmp_path)
    app, window = connected(root, config)
    await pump(root, lambda: "You have joined #lobby" in shown(window))
    window.entry.insert(0, "/whois bob")
    window.send_entry()
    await pump(root, lambda: "End of WHOIS for bob" in shown(window))
    text = shown(window)
    # the host is the cloak others see (server.cloak is on by default)
    assert re.search(r"bob is ~bob@[a-z2-7]{16}\.hubbub \(real name: Bob Builder\)", text)
    assert "bob is on @#lobby" in text and "bob is connected to irc.test.local" in text
    assert "bob has been idle " in text and "seconds idle" not in text
    del bob
    app.close()
    await pump(root, lambda: app.closed)


async def test_damaged_pin_file_is_reported_in_the_window(
    root: tk.Tk, irc: object, tmp_path: Path
) -> None:
    (tmp_path / PIN_FILE).write_text("{damaged")
    port = irc.port("tls")  # type: ignore[attr-defined]
    config = ClientConfig(port=port, nick="carol", tls=True, config_dir=tmp_path)
    app, window = connected(root, config)
    await pump(root, lambda: "cannot be used" in shown(window))
    assert str(tmp_path / PIN_FILE) in shown(window)
    await pump(root, lambda: window.status.get() == "disconnected")
    assert (tmp_path / PIN_FILE).read_text() == "{damaged"
    app.close()
    await pump(root, lambda: app.closed)
