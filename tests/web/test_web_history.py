"""History in the web client: the latest lines on opening a channel, older
ones when scrolling up (no jump, no duplicates), and what was missed while
the connection was down, fetched after reconnecting."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect
from webserver import OPER_PASSWORD, WebServer
from webui import TIMEOUT, connect, log, members, shows

pytestmark = pytest.mark.asyncio(loop_scope="session")

LINES = 120


async def texts(page: Any) -> list[str]:
    return list(await log(page).locator(".msg[data-msgid] .text").all_inner_texts())


async def test_scrolling_up_loads_older_messages_without_jump_or_duplicates(
    page: Any, web: WebServer
) -> None:
    raw = await web.client("hugo")
    await raw.send("JOIN #hist")
    for i in range(LINES):
        await raw.send(f"PRIVMSG #hist :line {i:03}")
    await raw.sync()
    await connect(page, web.url, "hanna", channels="#hist")
    await shows(page, f"line {LINES - 1:03}")
    # The latest page only: the oldest line is not loaded yet.
    await expect(log(page).locator(".msg", has_text="line 000")).to_have_count(0)
    loaded = len(await texts(page))
    assert 0 < loaded < LINES
    while loaded < LINES:
        first = log(page).locator(".msg[data-msgid]").first
        first_id = await first.get_attribute("data-msgid")
        await log(page).evaluate("el => { el.scrollTop = 0; }")
        await expect(log(page).locator(".msg[data-msgid]")).not_to_have_count(
            loaded, timeout=TIMEOUT
        )
        now = len(await texts(page))
        assert now > loaded
        loaded = now
        # No jump: the message that was at the top is still in view.
        kept = log(page).locator(f'.msg[data-msgid="{first_id}"]')
        await expect(kept).to_be_in_viewport()
    assert await texts(page) == [f"line {i:03}" for i in range(LINES)]


async def test_reconnects_after_a_server_restart(page: Any, web: WebServer) -> None:
    await connect(page, web.url, "rhea", channels="#restart")
    raw = await web.client("remo")
    await raw.send("JOIN #restart")
    await raw.send("PRIVMSG #restart :before the restart")
    await shows(page, "before the restart")
    await web.stop()
    status = page.get_by_role("status")
    await expect(status).to_contain_text("Reconnecting", timeout=TIMEOUT)
    await web.start()
    await expect(status).to_have_text("", timeout=30_000)  # back-off of at most a few s
    await expect(members(page).locator(".member", has_text="rhea")).to_contain_text(
        "@", timeout=TIMEOUT
    )
    raw = await web.client("remo")
    await raw.send("JOIN #restart")
    await raw.send("PRIVMSG #restart :after the restart")
    await shows(page, "after the restart")
    assert (await texts(page)).count("before the restart") == 1


async def test_missed_messages_are_fetched_once_after_reconnecting(
    page: Any, web: WebServer
) -> None:
    await connect(page, web.url, "missy", channels="#missed")
    oper = await web.client("opal")
    await oper.ask(f"OPER admin {OPER_PASSWORD}")
    await oper.send("JOIN #missed")
    await oper.send("PRIVMSG #missed :seen live")
    await shows(page, "seen live")
    # A K-line disconnects the browser and refuses it while it stands:
    # whatever is said meanwhile, the browser can only get from history.
    await oper.ask("KLINE *missy@* :come back later")
    await expect(page.get_by_role("status")).to_contain_text("Reconnecting", timeout=TIMEOUT)
    await oper.send("PRIVMSG #missed :said while you were away")
    await oper.ask("UNKLINE *missy@*")
    await shows(page, "said while you were away")
    assert await texts(page) == ["seen live", "said while you were away"]
