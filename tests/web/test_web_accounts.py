"""Accounts in the web client: register (draft/account-registration), log in
with SASL SCRAM-SHA-256, and come back logged in without typing anything,
with no password kept in the browser."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect
from webserver import WebServer
from webui import TIMEOUT, connect, log

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_register_then_log_in_and_return_without_typing(context: Any, web: WebServer) -> None:
    password = "a long enough secret"
    page = await context.new_page()
    await connect(page, web.url, "regina", password=password, register=True)
    await expect(page.locator("#who-am-i")).to_have_text("regina (logged in as regina)")
    user = web.server.world.find_user("regina")
    assert user is not None and user.account == "regina"
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("button", name="Connect")).to_be_visible()
    # The nickname is remembered (localStorage); the password is not.
    await expect(page.get_by_label("Nickname")).to_have_value("regina")
    await expect(page.get_by_label("Password", exact=True)).to_have_value("")

    # Log in with the password (SCRAM-SHA-256 through SubtleCrypto).
    await connect(page, web.url, "regina", password=password)
    await expect(page.locator("#who-am-i")).to_have_text("regina (logged in as regina)")
    stored = await page.evaluate("() => localStorage.getItem('hubbub.web')")
    assert password not in stored and "keys" in stored

    # A returning user (same browser profile) is connected straight away.
    again = await context.new_page()
    await again.goto(web.url)
    await expect(log(again)).to_be_visible(timeout=TIMEOUT)
    await expect(again.locator("#who-am-i")).to_contain_text("logged in as regina")
    assert await again.get_by_role("button", name="Connect").is_hidden()


async def test_wrong_password_is_refused_on_the_connect_screen(page: Any, web: WebServer) -> None:
    raw = await web.client("owner")
    await raw.ask("REGISTER * * the-right-password")
    await page.goto(web.url)
    await page.get_by_label("Nickname").fill("owner")
    await page.get_by_label("Password", exact=True).fill("the-wrong-password")
    await page.get_by_role("button", name="Connect").click()
    await expect(page.get_by_role("alert")).to_contain_text("Login failed", timeout=TIMEOUT)
    await expect(page.get_by_label("Nickname")).to_be_visible()


async def test_registering_a_taken_account_says_why(page: Any, web: WebServer) -> None:
    raw = await web.client("taken")
    await raw.ask("REGISTER * * taken-password-1")
    await raw.close()
    await page.goto(web.url)
    await page.get_by_label("Nickname").fill("taken")
    await page.get_by_label("Password", exact=True).fill("another-password")
    await page.get_by_label("Register").check()
    await page.get_by_role("button", name="Connect").click()
    await expect(page.get_by_role("alert")).to_contain_text("Could not register", timeout=TIMEOUT)


async def test_connect_screen_rejects_a_bad_nickname_without_connecting(
    page: Any, web: WebServer
) -> None:
    await page.goto(web.url)
    await page.get_by_label("Nickname").fill("two words")
    await page.get_by_role("button", name="Connect").click()
    await expect(page.get_by_role("alert")).to_contain_text("Choose a nickname")
    assert web.server.world.find_user("two") is None
