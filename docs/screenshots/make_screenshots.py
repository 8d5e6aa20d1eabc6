"""Regenerate the client screenshots from real runs against a real server.

    .venv/bin/python docs/screenshots/make_screenshots.py

Starts a hubbub server in-process, lets a few library clients chat, then
captures the terminal client (Textual SVG -> PNG with rsvg-convert) and the
Tk client (on $DISPLAY, or a private Xvfb, with ImageMagick's ``import``).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import tkinter as tk
from pathlib import Path

from hubbub.client import Client, ClientConfig, Join, Names
from hubbub.gui.app import GuiApp
from hubbub.server.app import Server
from hubbub.server.config import parse_config
from hubbub.tui.app import ChatApp

HERE = Path(__file__).parent


async def start_server(data: Path) -> tuple[Server, int]:
    config = parse_config(
        {
            "server": {"name": "irc.hubbub.local", "network": "hubbub", "data_dir": str(data)},
            "listen": [{"host": "127.0.0.1", "port": 0}],
            "limits": {"flood_control": False, "throttle": False},
        }
    )
    server = Server(config)
    await server.start()
    return server, server.listeners[0].port


async def cast(port: int, config_dir: Path) -> dict[str, Client]:
    people = {}
    for nick in ("bob", "carol", "dave"):
        client = Client(
            ClientConfig(port=port, nick=nick, channels=["#lobby"], config_dir=config_dir)
        )
        await client.connect()
        await client.events().wait_for(Names)
        people[nick] = client
    people["bob"].send_raw("TOPIC #lobby :Welcome to hubbub - be kind, have fun")
    people["bob"].send_raw("MODE #lobby +v carol")
    return people


async def conversation(people: dict[str, Client], me: str) -> None:
    lines = [
        ("bob", "#lobby", "morning all"),
        ("carol", "#lobby", f"hi {me}, did the release go out?"),
        ("dave", "#lobby", "\x01ACTION puts the kettle on\x01"),
        ("bob", "#lobby", "tests are green, tagging now"),
        ("carol", me, "can you look at my patch later?"),
    ]
    for nick, target, text in lines:
        people[nick].send_raw(f"PRIVMSG {target} :{text}")
        await asyncio.sleep(0.05)


async def tui_shot(port: int, config_dir: Path, people: dict[str, Client]) -> None:
    app = ChatApp(ClientConfig(port=port, nick="alice", channels=["#lobby"], config_dir=config_dir))
    async with app.run_test(size=(110, 28)) as pilot:
        await people["bob"].events().wait_for(Join, lambda e: e.nick == "alice")
        await pilot.pause(0.3)
        await conversation(people, "alice")
        await pilot.press(*"/me waves", "enter")
        await pilot.pause(0.3)
        await pilot.press(*"sounds good, ca", "tab")
        await pilot.pause(0.3)
        svg = HERE / "tui.svg"
        app.save_screenshot(str(svg))
    subprocess.run(["rsvg-convert", "-o", str(HERE / "tui.png"), str(svg)], check=True)
    svg.unlink()


async def gui_shot(port: int, config_dir: Path, people: dict[str, Client]) -> None:
    root = tk.Tk()
    app = GuiApp(
        root, ClientConfig(port=port, nick="erin", channels=["#lobby"], config_dir=config_dir)
    )
    assert app.dialog is not None
    app.dialog.connect_button.invoke()
    for _ in range(100):
        root.update()
        await asyncio.sleep(0.01)
    await conversation(people, "erin")
    assert app.window is not None
    app.window.entry.insert(0, "on my way, carol")
    for _ in range(60):
        root.update()
        await asyncio.sleep(0.01)
    subprocess.run(["import", "-window", root.wm_frame(), str(HERE / "gui.png")], check=True)
    app.close()
    for _ in range(100):
        if app.closed:
            break
        root.update()
        await asyncio.sleep(0.01)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server, port = await start_server(Path(tmp) / "data")
        people = await cast(port, Path(tmp) / "config")
        await tui_shot(port, Path(tmp) / "config", people)
        await gui_shot(port, Path(tmp) / "config", people)
        for client in people.values():
            await client.quit()
        await server.stop()


def with_display() -> None:
    if os.environ.get("DISPLAY"):
        asyncio.run(main())
        return
    xvfb = subprocess.Popen(["Xvfb", ":77", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
    try:
        os.environ["DISPLAY"] = ":77"
        import time

        time.sleep(1)
        asyncio.run(main())
    finally:
        xvfb.terminate()


if __name__ == "__main__":
    with_display()
