"""The web client's modern IRC features against the real server, checked from
both sides: what the browser sends is read by a raw IRC client with the
capability, and what that client sends is seen in the browser. Read markers
(draft/read-marker), multiline messages (draft/multiline), deleting a message
(draft/message-redaction), display names (draft/metadata-3), reactions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import expect
from webserver import WebServer
from webui import (
    TIMEOUT,
    connect,
    conversations,
    log,
    members,
    message_action,
    message_box,
    shows,
)

from harness import make_config
from hubbub.protocol.message import Message
from hubbub.server.app import Server

pytestmark = pytest.mark.asyncio(loop_scope="session")

PASSWORD = "a long enough secret"
TAGS = ["message-tags", "echo-message", "server-time", "batch"]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def web(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebServer]:
    """The module's server, letting this one address create the accounts these tests need."""
    data = Path(tmp_path_factory.mktemp("modern"))
    config = make_config(data, accounts={"registrations_per_ip": 20})
    server = Server(config)
    await server.start()
    running = WebServer(config, server)
    yield running
    await running.close()


def badge(page: Any, name: str) -> Any:
    """The unread count shown on a conversation's button."""
    return conversations(page).locator("button.conversation", has_text=name).locator(".badge")


async def said(raw: Any, text: str) -> Message:
    """Send the PRIVMSG line ``text``; return its echo (with msgid and time)."""
    await raw.send(text)
    body = text.split(" :", 1)[1]
    return await raw.expect(lambda m: m.command == "PRIVMSG" and m.params[1] == body)


async def clock_past(raw: Any, stamp: str) -> None:
    """Wait until the server's clock (this machine's) is past ``stamp``: what is
    said next is stamped later (messages within one millisecond share a time,
    and a read marker at that time covers them all)."""
    while datetime.now(UTC) <= datetime.fromisoformat(stamp) + timedelta(milliseconds=1):
        await raw.ask("PING :clock")


async def test_read_markers_sent_on_reading_and_synced_from_another_device(
    page: Any, web: WebServer
) -> None:
    await connect(page, web.url, "marko", channels="#read", password=PASSWORD, register=True)
    await expect(page.locator("#who-am-i")).to_contain_text("logged in as marko")
    # The same account on an IRC client: a second device of marko.
    device = await web.client_logged_in("marko", PASSWORD, ["draft/read-marker", *TAGS])
    poster = await web.client("poster", TAGS)
    await poster.send("JOIN #read")
    await expect(members(page).get_by_role("button", name="poster")).to_be_visible(timeout=TIMEOUT)

    # Reading #read in the browser (it is open) sends MARKREAD up to the message.
    first = await said(poster, "PRIVMSG #read :first")
    await shows(page, "first")
    stamp = f"timestamp={first.tags['time']}"
    marker = await device.expect(lambda m: m.command == "MARKREAD" and m.params[1:] == [stamp])
    assert marker.params[0].lower() == "#read"

    # Away from #read, new messages count as unread.
    await conversations(page).get_by_role("button", name="Server messages").click()
    second = await said(poster, "PRIVMSG #read :second")
    await clock_past(poster, second.tags["time"])
    third = await said(poster, "PRIVMSG #read :third")
    await expect(badge(page, "#read")).to_have_text("2", timeout=TIMEOUT)

    # The other device reads up to the second message, then to the third.
    await device.send(f"MARKREAD #read timestamp={second.tags['time']}")
    await expect(badge(page, "#read")).to_have_text("1", timeout=TIMEOUT)
    await device.send(f"MARKREAD #read timestamp={third.tags['time']}")
    await expect(badge(page, "#read")).to_have_count(0, timeout=TIMEOUT)


async def test_shift_enter_lines_go_as_one_multiline_message_and_come_back_as_one(
    page: Any, web: WebServer
) -> None:
    await connect(page, web.url, "lines", channels="#ml")
    raw = await web.client("mreader", ["draft/multiline", *TAGS])
    await raw.send("JOIN #ml")
    await expect(members(page).get_by_role("button", name="mreader")).to_be_visible(timeout=TIMEOUT)
    box = message_box(page)
    await box.press_sequentially("first line")
    await box.press("Shift+Enter")
    await box.press_sequentially("second line")
    await box.press("Enter")

    # The IRC side receives one draft/multiline batch holding both lines.
    opening = await raw.expect("BATCH")
    assert opening.params[0].startswith("+") and opening.params[1:] == ["draft/multiline", "#ml"]
    ref = opening.params[0][1:]
    lines = await raw.collect_until("BATCH")
    assert lines[-1].params == [f"-{ref}"]
    assert [(m.command, m.tags.get("batch"), m.params) for m in lines[:-1]] == [
        ("PRIVMSG", ref, ["#ml", "first line"]),
        ("PRIVMSG", ref, ["#ml", "second line"]),
    ]
    # The browser shows its own (echoed) message once, as one message of two lines.
    own = log(page).locator(".msg", has_text="first line")
    await expect(own).to_have_count(1, timeout=TIMEOUT)
    assert await own.locator(".text").inner_text() == "first line\nsecond line"

    # A multiline batch from IRC is one message with its line break.
    await raw.send("BATCH +m1 draft/multiline #ml")
    await raw.send("@batch=m1 PRIVMSG #ml :line one")
    await raw.send("@batch=m1 PRIVMSG #ml :line two")
    await raw.send("BATCH -m1")
    theirs = log(page).locator(".msg", has_text="line one")
    await expect(theirs).to_have_count(1, timeout=TIMEOUT)
    await expect(theirs).to_contain_text("mreader")
    assert await theirs.locator(".text").inner_text() == "line one\nline two"

    # From history (CHATHISTORY LATEST on joining) it is still one message of two lines.
    later = await page.context.browser.new_context()
    try:
        again = await later.new_page()
        await connect(again, web.url, "latecomer", channels="#ml")
        old = log(again).locator(".msg", has_text="line one")
        await expect(old).to_have_count(1, timeout=TIMEOUT)
        assert await old.locator(".text").inner_text() == "line one\nline two"
        mine = log(again).locator(".msg", has_text="first line")
        await expect(mine).to_have_count(1)
        assert await mine.locator(".text").inner_text() == "first line\nsecond line"
    finally:
        await later.close()


async def test_deleting_own_message_sends_redact_and_removes_it_everywhere(
    context: Any, web: WebServer
) -> None:
    page = await context.new_page()
    await connect(page, web.url, "redd", channels="#red", password=PASSWORD, register=True)
    await expect(page.locator("#who-am-i")).to_contain_text("logged in as redd")
    other = await context.browser.new_context()
    try:
        viewer = await other.new_page()
        await connect(viewer, web.url, "viewer", channels="#red")
        raw = await web.client("rawred", ["draft/message-redaction", *TAGS])
        registered = await raw.answers("REGISTER * * rawred-password")
        assert ("REGISTER", ["SUCCESS", "rawred"]) in [(c, p[:2]) for c, p in registered]
        await raw.send("JOIN #red")
        await expect(members(page).get_by_role("button", name="rawred")).to_be_visible(
            timeout=TIMEOUT
        )
        await expect(members(viewer).get_by_role("button", name="redd")).to_be_visible(
            timeout=TIMEOUT
        )

        # Delete from the browser: REDACT goes out; both browsers drop the text.
        message_box_text = "this was a mistake"
        await message_box(page).fill(message_box_text)
        await message_box(page).press("Enter")
        sent = await raw.expect(
            lambda m: m.command == "PRIVMSG" and m.params[1] == message_box_text
        )
        msgid = sent.tags["msgid"]
        await shows(viewer, message_box_text)
        row = log(page).locator(f'.msg[data-msgid="{msgid}"]')
        await message_action(page, row, "Delete your message")
        redact = await raw.expect("REDACT")
        assert redact.params[:2] == ["#red", msgid]
        assert redact.source is not None and redact.source.startswith("redd!")
        for each in (page, viewer):
            gone = log(each).locator(f'.msg[data-msgid="{msgid}"]')
            await expect(gone).to_contain_text("(message deleted)", timeout=TIMEOUT)
            await expect(log(each)).not_to_contain_text(message_box_text)

        # A REDACT from IRC removes that message from the browser's view.
        oops = await said(raw, "PRIVMSG #red :oops, wrong channel")
        await shows(page, "oops, wrong channel")
        replies = await raw.ask(f"REDACT #red {oops.tags['msgid']}")
        assert [m.command for m in replies] == ["REDACT"], replies  # accepted, echoed
        await expect(log(page)).not_to_contain_text("oops, wrong channel", timeout=TIMEOUT)
        await expect(log(viewer)).not_to_contain_text("oops, wrong channel", timeout=TIMEOUT)
    finally:
        await other.close()


async def test_guest_is_not_offered_delete(page: Any, web: WebServer) -> None:
    """The server refuses REDACT from a guest, so the button is not shown."""
    await connect(page, web.url, "guesty", channels="#guests")
    raw = await web.client("gwatch", TAGS)
    await raw.send("JOIN #guests")
    await expect(members(page).get_by_role("button", name="gwatch")).to_be_visible(timeout=TIMEOUT)
    await message_box(page).fill("a guest's words")
    await message_box(page).press("Enter")
    sent = await raw.expect("PRIVMSG")
    row = log(page).locator(f'.msg[data-msgid="{sent.tags["msgid"]}"]')
    await row.hover()
    toolbar = page.get_by_role("toolbar", name="Message actions")
    await expect(toolbar.get_by_role("button", name="React 👍")).to_be_visible(timeout=TIMEOUT)
    await expect(toolbar.get_by_role("button", name="Delete your message")).to_have_count(0)


async def test_display_name_from_metadata_is_shown_and_follows_changes(
    page: Any, web: WebServer
) -> None:
    alice = await web.client("alice", ["draft/metadata-3", *TAGS])
    answers = await alice.answers("METADATA * SET display-name :Alice A.")
    assert ("761", ["alice", "alice", "display-name", "*", "Alice A."]) in answers, answers
    await alice.send("JOIN #meta")
    await connect(page, web.url, "metaview", channels="#meta")
    entry = members(page).locator(".member", has_text="alice")
    await expect(entry).to_contain_text("Alice A.", timeout=TIMEOUT)
    await said(alice, "PRIVMSG #meta :hello, I am Alice")
    row = log(page).locator(".msg", has_text="hello, I am Alice")
    await expect(row.locator(".display-name")).to_have_text("Alice A.", timeout=TIMEOUT)

    # A change is pushed to the subscribed browser (METADATA notification).
    await alice.ask("METADATA * SET display-name :Alice Again")
    await expect(entry).to_contain_text("Alice Again", timeout=TIMEOUT)
    await expect(row.locator(".display-name")).to_have_text("Alice Again", timeout=TIMEOUT)
    # Cleared: the name goes away.
    await alice.ask("METADATA * SET display-name")
    await expect(row.locator(".display-name")).to_have_count(0, timeout=TIMEOUT)
    await expect(entry).not_to_contain_text("Alice", timeout=TIMEOUT)


async def test_reaction_goes_out_as_tagmsg_and_one_from_irc_is_shown(
    page: Any, web: WebServer
) -> None:
    await connect(page, web.url, "reacto", channels="#react")
    raw = await web.client("rex", TAGS)
    await raw.send("JOIN #react")
    await expect(members(page).get_by_role("button", name="rex")).to_be_visible(timeout=TIMEOUT)
    news = await said(raw, "PRIVMSG #react :good news")
    row = log(page).locator(f'.msg[data-msgid="{news.tags["msgid"]}"]')
    await expect(row).to_be_visible(timeout=TIMEOUT)
    await message_action(page, row, "React 👍")
    react = await raw.expect(lambda m: m.command == "TAGMSG" and "+draft/react" in m.tags)
    assert react.params == ["#react"]
    assert react.tags["+draft/react"] == "👍" and react.tags["+draft/reply"] == news.tags["msgid"]
    assert react.source is not None and react.source.startswith("reacto!")
    await expect(row.locator(".reaction")).to_have_text("👍 1", timeout=TIMEOUT)
    # rex reacts too: the same emoji now counts two people.
    await raw.send(f"@+draft/react=👍;+draft/reply={news.tags['msgid']} TAGMSG #react")
    await expect(row.locator(".reaction")).to_have_text("👍 2", timeout=TIMEOUT)
    await expect(row.locator(".reaction")).to_have_attribute("title", "reacto, rex")


async def test_multiline_history_of_another_conversation_is_not_counted_unread(
    page: Any, web: WebServer
) -> None:
    raw = await web.client("mlpast", ["draft/multiline", *TAGS])
    await raw.send("JOIN #mlpast")
    await raw.send("BATCH +p1 draft/multiline #mlpast")
    await raw.send("@batch=p1 PRIVMSG #mlpast :said before")
    await raw.send("@batch=p1 PRIVMSG #mlpast :you came")
    await raw.ask("BATCH -p1")
    await connect(page, web.url, "mlnew", channels="#elsewhere #mlpast")
    await expect(page.get_by_role("heading", name="#elsewhere", exact=True)).to_be_visible(
        timeout=TIMEOUT
    )
    # The #mlpast button exists once its JOIN came, when CHATHISTORY LATEST was sent.
    await expect(conversations(page).get_by_role("button", name="#mlpast")).to_be_visible(
        timeout=TIMEOUT
    )
    # A round trip after that request: a private message out and one back. The
    # server answers in order, so the history came before the answer.
    await message_box(page).fill("/msg mlpast ping")
    await message_box(page).press("Enter")
    await raw.expect(lambda m: m.command == "PRIVMSG" and m.params == ["mlpast", "ping"])
    await raw.send("PRIVMSG mlnew :pong")
    await shows(page, "pong")  # /msg opened the private conversation with mlpast
    # History is not news: no unread count on #mlpast, and it is one message.
    await expect(badge(page, "#mlpast")).to_have_count(0)
    await conversations(page).get_by_role("button", name="#mlpast").click()
    old = log(page).locator(".msg", has_text="said before")
    await expect(old).to_have_count(1, timeout=TIMEOUT)
    assert await old.locator(".text").inner_text() == "said before\nyou came"


async def test_logging_in_counts_unread_from_the_accounts_read_marker(
    page: Any, web: WebServer
) -> None:
    device = await web.client("hdev", [*TAGS, "draft/read-marker"])
    registered = await device.answers("REGISTER * * hdev-password")
    assert ("REGISTER", ["SUCCESS", "hdev"]) in [(c, p[:2]) for c, p in registered]
    await device.ask("JOIN #hfirst")
    await device.ask("JOIN #hist")
    poster = await web.client("hposter", TAGS)
    await poster.ask("JOIN #hist")
    first = await said(poster, "PRIVMSG #hist :one")
    await device.ask(f"MARKREAD #hist timestamp={first.tags['time']}")
    await clock_past(poster, first.tags["time"])
    await said(poster, "PRIVMSG #hist :two")
    await said(poster, "PRIVMSG #hist :three")

    # The browser logs in to the same account (another device, in the same
    # channels, #hfirst shown first): two messages came after the marker.
    await connect(page, web.url, "hdev", password="hdev-password")
    await expect(page.get_by_role("heading", name="#hfirst", exact=True)).to_be_visible(
        timeout=TIMEOUT
    )
    await expect(badge(page, "#hist")).to_have_text("2", timeout=TIMEOUT)
    await conversations(page).get_by_role("button", name="#hist").click()
    await expect(badge(page, "#hist")).to_have_count(0)
    # Reading it there moves the marker for the other device too.
    marker = await device.expect(lambda m: m.command == "MARKREAD" and m.params[0] == "#hist")
    assert marker.params[1] > f"timestamp={first.tags['time']}"
