"""Desktop notifications in the web client: asked for only after the user
pressed Connect, shown for private messages and mentions while the tab is
hidden, never for other lines or while the tab is in front.

A headless tab cannot be hidden, so the page gets a switch for
``document.hidden`` (and ``visibilityState``); ``Notification`` is the
browser's own, wrapped to record what the page asked it to show."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import expect
from webserver import WebServer
from webui import TIMEOUT, connect, conversations

from harness import until

pytestmark = pytest.mark.asyncio(loop_scope="session")

RECORDER = """
(() => {
  let hidden = false;
  Object.defineProperty(Document.prototype, "hidden", { get: () => hidden });
  Object.defineProperty(Document.prototype, "visibilityState", {
    get: () => (hidden ? "hidden" : "visible"),
  });
  window.__setHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event("visibilitychange"));
  };
  window.__shown = [];
  window.__asked = 0;
  const Real = window.Notification;
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__shown.push({ title, body: (options || {}).body || "" });
    }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...args) => {
    window.__asked += 1;
    return Real.requestPermission(...args);
  };
  window.Notification = Recorded;
})();
"""


@pytest_asyncio.fixture(loop_scope="session")
async def granted(browser: Any, web: WebServer) -> AsyncIterator[Any]:
    """A page whose origin may show notifications."""
    ctx = await browser.new_context(permissions=["notifications"], base_url=web.url)
    await ctx.add_init_script(RECORDER)
    page = await ctx.new_page()
    yield page
    await ctx.close()


async def shown(page: Any) -> list[dict[str, str]]:
    result: list[dict[str, str]] = await page.evaluate("window.__shown")
    return result


async def shown_at_least(page: Any, count: int) -> None:
    """Wait until the page has shown ``count`` notifications. Polled from
    here: ``page.wait_for_function`` runs its predicate with eval() inside
    the page when the first look fails, which the web client's Content
    Security Policy (script-src 'self') refuses."""

    async def enough() -> bool:
        return len(await shown(page)) >= count

    await until(enough, TIMEOUT / 1000)


async def test_permission_is_asked_only_when_the_user_presses_connect(
    browser: Any, web: WebServer
) -> None:
    ctx = await browser.new_context()
    try:
        await ctx.add_init_script(RECORDER)
        page = await ctx.new_page()
        await page.goto(web.url)
        await page.get_by_label("Nickname").fill("asker")
        assert await page.evaluate("window.__asked") == 0  # not on page load
        await connect(page, web.url, "asker")
        assert await page.evaluate("window.__asked") == 1
    finally:
        await ctx.close()


async def test_private_messages_and_mentions_notify_while_hidden(
    granted: Any, web: WebServer
) -> None:
    page = granted
    await connect(page, web.url, "nina", channels="#notes")
    raw = await web.client("otto")
    await raw.send("JOIN #notes")
    await expect(conversations(page).get_by_role("button", name="#notes")).to_be_visible(
        timeout=TIMEOUT
    )
    # In front: nothing is shown, whatever arrives.
    await raw.send("PRIVMSG nina :while you look")
    await expect(conversations(page).get_by_role("button", name="otto")).to_be_visible(
        timeout=TIMEOUT
    )
    await page.evaluate("window.__setHidden(true)")
    await raw.send("PRIVMSG #notes :just chatting")
    await raw.send("PRIVMSG #notes :nina, look at this")
    await raw.send("PRIVMSG nina :psst")
    await shown_at_least(page, 2)
    assert await shown(page) == [
        {"title": "otto in #notes", "body": "nina, look at this"},
        {"title": "otto", "body": "psst"},
    ]
    # one unread before hiding (otto's first private line) and three since
    await expect(page).to_have_title("(4) #notes | hubbub")
