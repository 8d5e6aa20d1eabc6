"""The web client on a 360x740 phone screen: conversations and members are
drawers, opened by buttons and closed by a choice, the backdrop or Esc; the
page never scrolls sideways."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import expect
from webserver import WebServer
from webui import TIMEOUT, connect, conversations, members, message_box, say, shows

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def phone(browser: Any) -> AsyncIterator[Any]:
    context = await browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    await context.close()
    assert errors == []


async def no_sideways_scroll(page: Any) -> None:
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360


async def test_drawers_on_a_phone(phone: Any, web: WebServer) -> None:
    await connect(phone, web.url, "mobi", channels="#pocket #other")
    raw = await web.client("desk")
    await raw.send("JOIN #pocket")
    await expect(conversations(phone)).to_be_hidden()
    await expect(members(phone)).to_be_hidden()
    await expect(message_box(phone)).to_be_visible()
    await no_sideways_scroll(phone)

    show = phone.get_by_role("button", name="Show conversations")
    await expect(show).to_have_attribute("aria-expanded", "false")
    await show.click()
    await expect(conversations(phone)).to_be_visible()
    await expect(show).to_have_attribute("aria-expanded", "true")
    await conversations(phone).get_by_role("button", name="#pocket").click()
    await expect(conversations(phone)).to_be_hidden()
    await expect(phone.get_by_role("heading", name="#pocket", exact=True)).to_be_visible()

    await phone.get_by_role("button", name="Show members").click()
    await expect(members(phone).get_by_role("button", name="desk")).to_be_visible(timeout=TIMEOUT)
    await phone.keyboard.press("Escape")
    await expect(members(phone)).to_be_hidden()

    await say(phone, "typed on a phone")
    msg = await raw.expect("PRIVMSG")
    assert msg.params == ["#pocket", "typed on a phone"]
    await raw.send("PRIVMSG #pocket :" + "a-very-long-word-" * 20)
    await shows(phone, "a-very-long-word-a-very")
    await no_sideways_scroll(phone)
