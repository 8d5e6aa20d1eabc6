"""Regenerate the web client screenshots from real runs against a real server.

    .venv/bin/python docs/screenshots/make_web_screenshots.py

For each of desktop (1280x760) and phone (360x740), light and dark: a fresh
hubbub in-process, raw IRC clients chatting in #hubbub, and the web client in
Debian's Chromium (Playwright) joining, replying and being typed at. Emoji
need a colour emoji font (apt-get install fonts-noto-color-emoji).
"""

from __future__ import annotations

import asyncio
import base64
import struct
import sys
import tempfile
import zlib
from pathlib import Path

from playwright.async_api import Page, async_playwright

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parents[1] / "tests"), str(HERE.parents[1] / "tests" / "web")]

from chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

from harness import make_config  # noqa: E402
from hubbub.server.app import Server  # noqa: E402
from ircclient import RawClient  # noqa: E402

SIZES = {"desktop": {"width": 1280, "height": 760}, "phone": {"width": 360, "height": 740}}


def avatar(background: tuple[int, int, int], face: tuple[int, int, int]) -> str:
    """A 16x16 PNG data: URL (two colours: a round face on a background),
    small enough for the 300-byte metadata value."""
    rows = b"".join(
        b"\0" + bytes(1 if (x - 7.5) ** 2 + (y - 8.5) ** 2 < 36 else 0 for x in range(16))
        for y in range(16)
    )

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 3, 0, 0, 0))
    png += chunk(b"PLTE", bytes(background + face)) + chunk(b"IDAT", zlib.compress(rows, 9))
    png += chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(png).decode()


async def chatting(data: Path) -> tuple[Server, list[RawClient], int]:
    """A server where alice, bob and carol (away) chat in #hubbub; returns
    the clients too: a dropped client would close and quit."""
    server = Server(make_config(data))
    await server.start()
    port = next(x.port for x in server.listeners if x.kind == "plaintext")

    async def raw(nick: str, caps: list[str] | None = None) -> RawClient:
        client = await RawClient.connect("127.0.0.1", port)
        await client.register(nick, caps)
        return client

    alice = await raw("alice", ["message-tags", "echo-message", "server-time", "batch"])
    await alice.ask("REGISTER * * alice-password")
    await alice.ask(f"METADATA * SET avatar :{avatar((46, 125, 50), (255, 213, 79))}")
    await alice.send("JOIN #hubbub")
    await alice.send("TOPIC #hubbub :Welcome to hubbub: chat from any browser, nothing to install")
    bob = await raw("bob", ["message-tags"])
    await bob.ask(f"METADATA * SET avatar :{avatar((21, 101, 192), (255, 171, 145))}")
    await bob.send("JOIN #hubbub")
    carol = await raw("carol")
    await carol.send("JOIN #hubbub")
    await carol.ask("AWAY :in a meeting")
    await alice.send("PRIVMSG #hubbub :Morning all! The new server is up.")
    await bob.send(
        "PRIVMSG #hubbub :\x02Nice\x02, it even draws \x0304colours\x03 and \x1ditalics\x1d"
    )
    await alice.send("PRIVMSG #hubbub :Notes are at https://example.org/meeting-notes")
    await alice.sync()
    web = next(x.port for x in server.listeners if x.kind == "websocket")
    return server, [bob, alice, carol], web


async def shoot(page: Page, bob: RawClient, url: str, name: str, phone: bool) -> None:
    messages = page.get_by_role("log", name="Messages")
    await page.goto(url)
    await page.get_by_label("Nickname").fill("dana")
    await page.get_by_label("Channels").fill("#hubbub")
    if name == "web-desktop-light":
        await page.screenshot(path=HERE / "web-connect-light.png")
    await page.get_by_role("button", name="Connect").click()
    await messages.locator(".msg", has_text="meeting-notes").wait_for()
    await bob.send("PRIVMSG #hubbub :dana: welcome! try the Reply button on a message")
    await bob.send("PRIVMSG dana :psst, private messages work too")
    await messages.locator(".msg", has_text="dana: welcome").wait_for()
    first = messages.locator(".msg", has_text="Morning all").first
    await (first.click() if phone else first.hover())
    actions = page.get_by_role("toolbar", name="Message actions")
    await actions.get_by_role("button", name="Reply to alice").click()
    box = page.get_by_label("Message", exact=True)
    await box.fill("Hello from the browser 👋")
    await box.press("Enter")
    await messages.locator(".msg", has_text="Hello from the browser").last.wait_for()
    await bob.send("@+typing=active TAGMSG #hubbub")
    await page.get_by_text("bob is typing").wait_for()
    await page.mouse.move(0, 0)
    await page.screenshot(path=HERE / f"{name}.png")
    if phone:
        await page.get_by_role("button", name="Show members").click()
        await page.get_by_role("complementary", name="Members").get_by_text("carol").wait_for()
        await page.wait_for_timeout(300)  # the drawer's slide-in transition
        await page.screenshot(path=HERE / f"{name.replace('phone', 'phone-members')}.png")


async def main() -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for scheme in ("light", "dark"):
            for size, viewport in SIZES.items():
                with tempfile.TemporaryDirectory() as data:
                    server, (bob, *_others), port = await chatting(Path(data))
                    context = await browser.new_context(
                        viewport=viewport,  # type: ignore[arg-type]
                        color_scheme=scheme,  # type: ignore[arg-type]
                        device_scale_factor=2 if size == "phone" else 1,
                    )
                    page = await context.new_page()
                    url = f"http://127.0.0.1:{port}/"
                    await shoot(page, bob, url, f"web-{size}-{scheme}", size == "phone")
                    await context.close()
                    await server.stop()
        await browser.close()


if __name__ == "__main__":
    asyncio.run(main())
