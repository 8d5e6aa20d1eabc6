"""The web client in a real Chromium against a real hubbub, next to raw IRC
clients over TCP: what one side sends, the other sees."""

from __future__ import annotations

from typing import Any

import pytest
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
    open_conversation,
    say,
    shows,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

TAGS = ["message-tags", "echo-message", "server-time", "batch"]


async def test_connect_join_send_and_receive(page: Any, web: WebServer) -> None:
    await connect(page, web.url, "wendy", channels="#lobby")
    await expect(page.get_by_role("heading", name="#lobby")).to_be_visible(timeout=TIMEOUT)
    raw = await web.client("rita")
    await raw.send("JOIN #lobby")
    await expect(members(page).get_by_role("button", name="rita")).to_be_visible(timeout=TIMEOUT)
    # The channel's creator is its operator: shown with @ in the member list.
    await expect(members(page).locator(".member", has_text="wendy")).to_contain_text("@")
    await say(page, "hello from the browser")
    msg = await raw.expect("PRIVMSG")
    assert msg.source is not None and msg.source.startswith("wendy!")
    assert msg.params == ["#lobby", "hello from the browser"]
    await raw.send("PRIVMSG #lobby :hi back from IRC")
    await shows(page, "hi back from IRC")
    await expect(log(page).locator(".msg", has_text="hi back from IRC")).to_contain_text("rita")


async def test_member_list_shows_away_and_account(page: Any, web: WebServer) -> None:
    raw = await web.client("amy")
    await raw.ask("REGISTER * * correct-horse-battery")
    await raw.send("JOIN #awaytest")
    await raw.ask("AWAY :lunch")
    await connect(page, web.url, "wanda", channels="#awaytest")
    amy = members(page).locator(".member", has_text="amy")
    await expect(amy).to_have_class("member away", timeout=TIMEOUT)
    await expect(amy).to_contain_text("(amy)")  # logged in as account amy
    await raw.send("AWAY")
    await expect(amy).to_have_class("member", timeout=TIMEOUT)


async def test_private_message_both_ways(page: Any, web: WebServer) -> None:
    await connect(page, web.url, "wes")
    raw = await web.client("pam")
    await raw.send("PRIVMSG wes :psst, a secret")
    entry = conversations(page).get_by_role("button", name="pam")
    await expect(entry).to_contain_text("1", timeout=TIMEOUT)  # unread badge
    await expect(page).to_have_title("(1) hubbub")  # the unread count in the title
    await open_conversation(page, "pam")
    await shows(page, "psst, a secret")
    await say(page, "secret received")
    msg = await raw.expect("PRIVMSG")
    assert msg.params == ["pam", "secret received"]
    # /msg opens a conversation and sends in one go
    await say(page, "/msg pam second line")
    msg = await raw.expect("PRIVMSG")
    assert msg.params == ["pam", "second line"]


async def test_private_conversations_listed_from_history_targets(
    context: Any, web: WebServer
) -> None:
    raw = await web.client("tara")
    await raw.ask("REGISTER * * tara-password-1")
    page = await context.new_page()
    await connect(page, web.url, "tobias", password="tobias-password", register=True)
    await raw.ask("PRIVMSG tobias :remember me later")
    await page.close()
    # A second device (a new profile) logs in: the private chat is listed,
    # and opening it fetches its history.
    second = await context.browser.new_context()
    try:
        other = await second.new_page()
        await connect(other, web.url, "tobias", password="tobias-password")
        await open_conversation(other, "tara")
        await shows(other, "remember me later")
    finally:
        await second.close()


async def test_kick_as_operator_from_the_member_menu(page: Any, web: WebServer) -> None:
    await connect(page, web.url, "olga", channels="#opsroom")
    raw = await web.client("kyle")
    await raw.send("JOIN #opsroom")
    member = members(page).get_by_role("button", name="kyle")
    await expect(member).to_be_visible(timeout=TIMEOUT)
    await member.click()
    await (
        members(page)
        .get_by_role("group", name="Actions for kyle")
        .get_by_role("button", name="Kick")
        .click()
    )
    kick = await raw.expect("KICK")
    assert kick.params[:2] == ["#opsroom", "kyle"]
    await shows(page, "kyle was kicked by olga")
    await expect(members(page).get_by_role("button", name="kyle")).to_have_count(0)


async def test_typed_commands(page: Any, web: WebServer) -> None:
    await connect(page, web.url, "cmdr", channels="#cmds")
    raw = await web.client("cora")
    await raw.send("JOIN #cmds")
    await expect(members(page).get_by_role("button", name="cora")).to_be_visible(timeout=TIMEOUT)
    await say(page, "/me waves")
    msg = await raw.expect("PRIVMSG")
    assert msg.params == ["#cmds", "\x01ACTION waves\x01"]
    await say(page, "/topic A topic from the web")
    msg = await raw.expect("TOPIC")
    assert msg.params == ["#cmds", "A topic from the web"]
    await expect(page.locator("#topic")).to_have_text("A topic from the web")
    await say(page, "/invite cora #cmds")
    await say(page, "/ban cora")
    msg = await raw.expect(lambda m: m.command == "MODE" and m.params[0] == "#cmds")
    assert msg.params == ["#cmds", "+b", "cora!*@*"]
    await say(page, "/kick cora not today")
    msg = await raw.expect("KICK")
    assert msg.params == ["#cmds", "cora", "not today"]
    await say(page, "/nick cmdr2")
    await expect(page.locator("#who-am-i")).to_contain_text("cmdr2", timeout=TIMEOUT)
    await say(page, "/away gone fishing")
    await shows(page, "You have been marked as being away")
    await say(page, "/help")
    await shows(page, "/join #channel")
    await say(page, "/frobnicate")
    await shows(page, "Unknown command /frobnicate")
    await say(page, "/part #cmds")
    await expect(conversations(page).get_by_role("button", name="#cmds")).to_have_count(0)


async def test_join_and_leave_buttons(page: Any, web: WebServer) -> None:
    await connect(page, web.url, "jules")
    await page.get_by_label("Join a channel").fill("#buttons")
    await page.get_by_role("button", name="Join", exact=True).click()
    await expect(page.get_by_role("heading", name="#buttons")).to_be_visible(timeout=TIMEOUT)
    await page.get_by_role("button", name="Leave #buttons").click()
    await expect(conversations(page).get_by_role("button", name="#buttons")).to_have_count(0)


async def test_xss_attempts_are_text(page: Any, web: WebServer) -> None:
    await connect(page, web.url, "victim", channels="#xss")
    raw = await web.client("mallory")
    await raw.send("JOIN #xss")
    await raw.send("PRIVMSG #xss :<img src=x onerror=window.pwned=1>")
    await raw.send('PRIVMSG #xss :<a href="javascript:window.pwned=2">click</a>')
    await raw.send("PRIVMSG #xss :javascript:window.pwned=3 and JaVaScRiPt:alert(1)")
    await raw.send("PRIVMSG #xss :fine: https://example.org/a?b=<c>")
    await shows(page, "https://example.org/a?b=")
    await shows(page, "<img src=x onerror=window.pwned=1>")
    await shows(page, '<a href="javascript:window.pwned=2">click</a>')
    assert await log(page).locator("img").count() == 0
    hrefs = await log(page).locator("a").evaluate_all("links => links.map(a => a.href)")
    assert hrefs == ["https://example.org/a?b="]
    rel = await log(page).locator("a").get_attribute("rel")
    assert rel is not None and "noopener" in rel.split()
    assert await page.evaluate("() => window.pwned") is None


async def test_mirc_formatting_is_drawn(page: Any, web: WebServer) -> None:
    await connect(page, web.url, "fmt", channels="#fmt")
    raw = await web.client("painter")
    await raw.send("JOIN #fmt")
    await raw.send("PRIVMSG #fmt :\x02bold\x02 \x0304,01red on black\x03 \x1ditalic\x1d plain")
    await shows(page, "red on black")
    row = log(page).locator(".msg", has_text="red on black")
    await expect(row.locator(".f-bold", has_text="bold")).to_have_count(1)
    await expect(row.locator(".fg-4.bg-1", has_text="red on black")).to_have_count(1)
    await expect(row.locator(".f-italic", has_text="italic")).to_have_count(1)
    await expect(row.locator(".text")).to_have_text("bold red on black italic plain")


async def test_typing_reply_and_react_end_to_end(page: Any, web: WebServer) -> None:
    await connect(page, web.url, "tina", channels="#tags")
    raw = await web.client("theo", TAGS)
    await raw.send("JOIN #tags")
    await expect(members(page).get_by_role("button", name="theo")).to_be_visible(timeout=TIMEOUT)
    # typing, browser -> IRC
    await message_box(page).press_sequentially("hel")
    typing = await raw.expect("TAGMSG")
    assert typing.tags.get("+typing") == "active" and typing.params == ["#tags"]
    await message_box(page).fill("")
    # typing, IRC -> browser
    await raw.send("@+typing=active TAGMSG #tags")
    await expect(page.get_by_text("theo is typing…")).to_be_visible(timeout=TIMEOUT)
    await raw.send("@+typing=done TAGMSG #tags")
    await expect(page.get_by_text("theo is typing…")).to_have_count(0, timeout=TIMEOUT)
    # reply from the browser to theo's message
    await raw.send("PRIVMSG #tags :a question?")
    echo = await raw.expect("PRIVMSG")
    question_id = echo.tags["msgid"]
    await shows(page, "a question?")
    row = log(page).locator(f'.msg[data-msgid="{question_id}"]')
    await message_action(page, row, "Reply to theo")
    await say(page, "an answer")
    answer = await raw.expect(lambda m: m.command == "PRIVMSG" and m.params[1] == "an answer")
    assert answer.tags.get("+draft/reply") == question_id
    await expect(log(page).locator(".msg", has_text="an answer")).to_contain_text("↪ theo")
    # react from the browser
    await message_action(page, row, "React 👍")
    react = await raw.expect(lambda m: m.command == "TAGMSG" and "+draft/react" in m.tags)
    assert react.tags["+draft/react"] == "👍" and react.tags["+draft/reply"] == question_id
    await expect(row.locator(".reaction")).to_have_text("👍 1", timeout=TIMEOUT)  # the echo
    # react from IRC to the browser's message
    answer_id = answer.tags["msgid"]
    await raw.send(f"@+draft/react=🎉;+draft/reply={answer_id} TAGMSG #tags")
    answer_row = log(page).locator(f'.msg[data-msgid="{answer_id}"]')
    await expect(answer_row.locator(".reaction")).to_have_text("🎉 1", timeout=TIMEOUT)


async def test_shift_enter_adds_a_line_sent_as_separate_lines_without_multiline(
    page: Any, web: WebServer
) -> None:
    await connect(page, web.url, "multi", channels="#lines")
    raw = await web.client("reader")
    await raw.send("JOIN #lines")
    await expect(members(page).get_by_role("button", name="reader")).to_be_visible(timeout=TIMEOUT)
    box = message_box(page)
    await box.press_sequentially("first line")
    await box.press("Shift+Enter")
    await box.press_sequentially("second line")
    assert await box.input_value() == "first line\nsecond line"
    await box.press("Enter")
    first = await raw.expect("PRIVMSG")
    second = await raw.expect("PRIVMSG")
    assert [first.params[1], second.params[1]] == ["first line", "second line"]


async def test_keyboard_switches_conversations(page: Any, web: WebServer) -> None:
    await connect(page, web.url, "keys", channels="#k1 #k2")
    await expect(conversations(page).get_by_role("button", name="#k2")).to_be_visible(
        timeout=TIMEOUT
    )
    await open_conversation(page, "#k1")
    await message_box(page).press("Alt+ArrowDown")
    await expect(page.get_by_role("heading", name="#k2", exact=True)).to_be_visible()
    await message_box(page).press("Alt+ArrowUp")
    await expect(page.get_by_role("heading", name="#k1", exact=True)).to_be_visible()


async def test_keyboard_reaches_a_messages_actions(page: Any, web: WebServer) -> None:
    await connect(page, web.url, "kbd", channels="#kbd")
    raw = await web.client("kane", TAGS)
    await raw.send("JOIN #kbd")
    await raw.send("PRIVMSG #kbd :first")
    await raw.send("PRIVMSG #kbd :second")
    await shows(page, "second")
    await log(page).focus()
    await page.keyboard.press("ArrowUp")  # the newest message
    await page.keyboard.press("ArrowUp")
    await expect(log(page).locator(".msg", has_text="first")).to_be_focused()
    await page.keyboard.press("Tab")
    reply = page.get_by_role("toolbar", name="Message actions").get_by_role(
        "button", name="Reply to kane"
    )
    await expect(reply).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#reply-text")).to_have_text("Replying to kane: first")
    await expect(message_box(page)).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(page.locator("#reply-banner")).to_be_hidden()
    # The log's text is the messages alone: no button labels read out with them.
    assert await log(page).locator("button").count() == 0
