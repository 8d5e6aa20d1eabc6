"""Avatars in the web client (draft/metadata-3 key ``avatar``): set by an IRC
client, shown by the browser next to that user's messages and in the member
list; unsafe values fall back to initials; the user's own display name and
avatar from the Profile dialog and /displayname, /avatar; and what
``[web] remote_avatars = false`` changes in a real browser."""

from __future__ import annotations

import base64
import re
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import expect
from webserver import WebServer
from webui import TIMEOUT, connect, log, members, say

from harness import make_config
from hubbub.server.app import Server
from ircclient import RawClient

pytestmark = pytest.mark.asyncio(loop_scope="session")

CAPS = ["draft/metadata-3", "batch", "message-tags", "echo-message", "server-time"]
# Nothing listens on port 1: the browser tries this avatar and it fails to load.
UNREACHABLE = "https://127.0.0.1:1/avatar.png"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG of one colour (so the browser can decode it)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def data_url(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode()


RED = data_url(png(4, 4, (220, 30, 30)))
BLUE = data_url(png(3, 3, (30, 30, 220)))


async def with_avatar(web: WebServer, nick: str, avatar: str, channel: str) -> RawClient:
    client = await web.client(nick, CAPS)
    answers = await client.answers(f"METADATA * SET avatar :{avatar}")
    assert ("761", [nick, nick, "avatar", "*", avatar]) in answers, answers
    await client.send(f"JOIN {channel}")
    return client


def row_of(page: Any, text: str) -> Any:
    return log(page).locator(".msg", has_text=text)


async def image_loaded(image: Any) -> int:
    """Wait until ``image`` has decoded; its natural width."""
    await image.evaluate(
        "(img) => img.complete && img.naturalWidth ? 0 : new Promise((ok, fail) => {"
        " img.addEventListener('load', ok); img.addEventListener('error', fail); })"
    )
    width: int = await image.evaluate("(img) => img.naturalWidth")
    return width


async def test_data_png_avatar_from_irc_is_shown_next_to_messages_and_members(
    page: Any, web: WebServer
) -> None:
    alice = await with_avatar(web, "alice", RED, "#pics")
    await connect(page, web.url, "viewer", channels="#pics")
    entry = members(page).locator(".member", has_text="alice")
    member_image = entry.locator(".avatar img")
    await expect(member_image).to_have_attribute("src", RED, timeout=TIMEOUT)

    await alice.send("PRIVMSG #pics :look at my avatar")
    image = row_of(page, "look at my avatar").locator(".avatar img")
    await expect(image).to_have_attribute("src", RED, timeout=TIMEOUT)
    await expect(image).to_have_attribute("referrerpolicy", "no-referrer")
    await expect(image).to_have_attribute("loading", "lazy")
    await expect(image).to_have_attribute("alt", "")
    assert await image_loaded(image) == 4  # the CSP let the data: image in, and it decoded
    # The avatar sits before the nick, and a screen reader skips it.
    avatar = row_of(page, "look at my avatar").locator(".avatar")
    await expect(avatar).to_have_attribute("aria-hidden", "true")
    assert await avatar.evaluate("(a) => a.nextElementSibling.classList.contains('nick')")

    # A change reaches the subscribed browser; a cleared avatar becomes initials.
    await alice.ask(f"METADATA * SET avatar :{BLUE}")
    await expect(image).to_have_attribute("src", BLUE, timeout=TIMEOUT)
    await expect(member_image).to_have_attribute("src", BLUE, timeout=TIMEOUT)
    await alice.ask("METADATA * SET avatar")
    await expect(avatar.locator("img")).to_have_count(0, timeout=TIMEOUT)
    await expect(avatar).to_have_text("A")
    await expect(avatar).to_have_class(re.compile(r"\binitials\b"))


async def test_the_avatar_follows_a_nick_change(page: Any, web: WebServer) -> None:
    renamer = await with_avatar(web, "before", RED, "#renames")
    await connect(page, web.url, "renameview", channels="#renames")
    await expect(members(page).get_by_role("button", name="before")).to_be_visible(timeout=TIMEOUT)
    await renamer.send("NICK after")
    await expect(members(page).get_by_role("button", name="after")).to_be_visible(timeout=TIMEOUT)
    await renamer.send("PRIVMSG #renames :new name, same face")
    image = row_of(page, "new name, same face").locator(".avatar img")
    await expect(image).to_have_attribute("src", RED, timeout=TIMEOUT)


async def test_unsafe_avatar_values_are_never_loaded(page: Any, web: WebServer) -> None:
    unsafe = {
        "jsuser": "javascript:alert(document.domain)",
        "httpuser": "http://127.0.0.1:1/avatar.png",
        "htmluser": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "svguser": "data:image/svg+xml;base64,PHN2Zy8+",
        "textuser": "just some text",
    }
    clients = {
        nick: await with_avatar(web, nick, value, "#unsafe") for nick, value in unsafe.items()
    }
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await connect(page, web.url, "careful", channels="#unsafe")
    for nick, client in clients.items():
        await client.send(f"PRIVMSG #unsafe :hello from {nick}")
    for nick in unsafe:
        avatar = row_of(page, f"hello from {nick}").locator(".avatar")
        await expect(avatar).to_have_text(nick[0].upper(), timeout=TIMEOUT)
        await expect(avatar.locator("img")).to_have_count(0)
        member = members(page).locator(".member", has_text=nick).locator(".avatar")
        await expect(member.locator("img")).to_have_count(0)
    await expect(page.locator("img")).to_have_count(0)
    assert not [url for url in requested if "127.0.0.1:1" in url], requested


async def test_https_avatar_is_fetched_without_referrer_and_falls_back_when_it_fails(
    page: Any, web: WebServer
) -> None:
    requests: list[Any] = []
    page.on("request", lambda request: requests.append(request))
    remote = await with_avatar(web, "remote", UNREACHABLE, "#far")
    await connect(page, web.url, "looker", channels="#far")
    await remote.send("PRIVMSG #far :my avatar is far away")
    avatar = row_of(page, "my avatar is far away").locator(".avatar")
    # The browser asked for it (no referrer), it failed, initials took its place.
    await expect(avatar).to_have_text("R", timeout=TIMEOUT)
    await expect(avatar.locator("img")).to_have_count(0)
    tried = [r for r in requests if r.url == UNREACHABLE]
    assert tried, [r.url for r in requests]
    assert (await tried[0].all_headers()).get("referer", "") == ""  # none, or empty
    # Once every copy has failed, a later message does not try the address again.
    member = members(page).locator(".member", has_text="remote").locator(".avatar")
    await expect(member).to_have_text("R", timeout=TIMEOUT)
    before = len([r for r in requests if r.url == UNREACHABLE])
    await remote.send("PRIVMSG #far :still far")
    await expect(row_of(page, "still far").locator(".avatar")).to_have_text("R", timeout=TIMEOUT)
    assert len([r for r in requests if r.url == UNREACHABLE]) == before


async def test_profile_dialog_sets_display_name_and_avatar(page: Any, web: WebServer) -> None:
    watcher = await web.client("watcher", CAPS)
    await watcher.ask("METADATA * SUB avatar display-name")
    await watcher.send("JOIN #profile")
    await connect(page, web.url, "profiler", channels="#profile")
    await expect(members(page).get_by_role("button", name="watcher")).to_be_visible(timeout=TIMEOUT)
    await page.get_by_role("button", name="Profile", exact=True).click()
    dialog = page.get_by_role("dialog", name="Your profile")
    await expect(dialog).to_be_visible()

    # An unsafe avatar is refused in the dialog; nothing is sent.
    await dialog.get_by_label("Avatar URL").fill("javascript:alert(1)")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("https: address")
    await expect(dialog).to_be_visible()

    await dialog.get_by_label("Display name").fill("Pro Filer")
    await dialog.get_by_label("Avatar URL").fill(RED)
    await expect(dialog.locator("#profile-avatar img")).to_have_attribute("src", RED)
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()

    told: dict[str, str] = {}
    while len(told) < 2:
        line = await watcher.expect("761")
        assert line.params[:2] == ["*", "profiler"], line
        told[line.params[2]] = line.params[4]
    assert told == {"display-name": "Pro Filer", "avatar": RED}
    await expect(page.locator("#my-avatar img")).to_have_attribute("src", RED, timeout=TIMEOUT)
    await say(page, "now with a face")
    row = row_of(page, "now with a face")
    await expect(row.locator(".avatar img")).to_have_attribute("src", RED, timeout=TIMEOUT)
    await expect(row.locator(".display-name")).to_have_text("Pro Filer")

    # Emptied fields clear both keys.
    await page.get_by_role("button", name="Profile", exact=True).click()
    await expect(dialog.get_by_label("Display name")).to_have_value("Pro Filer")
    await dialog.get_by_label("Display name").fill("")
    await dialog.get_by_label("Avatar URL").fill("")
    await dialog.get_by_role("button", name="Save").click()
    cleared = {(await watcher.expect("766")).params[2] for _ in range(2)}
    assert cleared == {"display-name", "avatar"}
    await expect(row.locator(".avatar img")).to_have_count(0, timeout=TIMEOUT)
    await expect(row.locator(".avatar")).to_have_text("P")


async def test_avatar_and_displayname_commands(page: Any, web: WebServer) -> None:
    watcher = await web.client("cmdwatch", CAPS)
    await watcher.ask("METADATA * SUB avatar display-name")
    await watcher.send("JOIN #cmds")
    await connect(page, web.url, "typist", channels="#cmds")
    await expect(members(page).get_by_role("button", name="cmdwatch")).to_be_visible(
        timeout=TIMEOUT
    )
    await say(page, f"/avatar {BLUE}")
    line = await watcher.expect("761")
    assert line.params == ["*", "typist", "avatar", "*", BLUE]
    await say(page, "/displayname Ty Pist")
    line = await watcher.expect("761")
    assert line.params == ["*", "typist", "display-name", "*", "Ty Pist"]
    await say(page, "/avatar http://plain.example/a.png")
    await expect(row_of(page, "An avatar must be")).to_be_visible(timeout=TIMEOUT)
    await say(page, "/avatar")
    line = await watcher.expect("766")
    assert line.params[:3] == ["*", "typist", "avatar"]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def local_only(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebServer]:
    """A server with ``[web] remote_avatars = false``."""
    data = Path(tmp_path_factory.mktemp("local-avatars"))
    config = make_config(data, web={"remote_avatars": False})
    server = Server(config)
    await server.start()
    running = WebServer(config, server)
    yield running
    await running.close()


async def test_remote_avatars_off_shows_data_avatars_and_never_fetches_https(
    page: Any, local_only: WebServer
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    far = await with_avatar(local_only, "faraway", UNREACHABLE, "#local")
    near = await with_avatar(local_only, "nearby", RED, "#local")
    await connect(page, local_only.url, "homebody", channels="#local")
    await far.send("PRIVMSG #local :from far")
    await near.send("PRIVMSG #local :from near")
    image = row_of(page, "from near").locator(".avatar img")
    await expect(image).to_have_attribute("src", RED, timeout=TIMEOUT)
    assert await image_loaded(image) == 4
    far_avatar = row_of(page, "from far").locator(".avatar")
    await expect(far_avatar).to_have_text("F", timeout=TIMEOUT)
    await expect(far_avatar.locator("img")).to_have_count(0)
    assert UNREACHABLE not in requested


async def test_a_redrawn_message_keeps_the_keyboard_focus(page: Any, web: WebServer) -> None:
    """A message drawn again (its sender's avatar changed) while a keyboard
    user is on it keeps the focus: the user is not thrown out of the log."""
    fay = await with_avatar(web, "fay", RED, "#keys")
    await connect(page, web.url, "keyuser", channels="#keys")
    await fay.send("PRIVMSG #keys :stay on me")
    row = row_of(page, "stay on me")
    await expect(row.locator(".avatar img")).to_have_attribute("src", RED, timeout=TIMEOUT)
    await log(page).focus()
    await page.keyboard.press("ArrowUp")  # the newest message: fay's
    await expect(row).to_be_focused()
    await fay.ask(f"METADATA * SET avatar :{BLUE}")
    await expect(row.locator(".avatar img")).to_have_attribute("src", BLUE, timeout=TIMEOUT)
    await expect(row).to_be_focused()
