"""Driving the web client the way a person does: through the labels and
roles the page exposes (the same accessible names a screen reader reads)."""

from __future__ import annotations

import os
from typing import Any

import pytest

try:
    from playwright.async_api import expect
except ImportError:  # the browser fixture says the same, and fails under CI
    if os.environ.get("CI"):
        raise
    pytest.skip("playwright is not installed", allow_module_level=True)

TIMEOUT = 10_000  # ms: the machine running the tests is shared and slow


async def connect(
    page: Any,
    url: str,
    nick: str,
    *,
    channels: str = "",
    password: str = "",
    register: bool = False,
) -> None:
    """Fill the connect screen, press Connect, wait until the chat shows."""
    await page.goto(url)
    await page.get_by_label("Nickname").fill(nick)
    if password:
        await page.get_by_label("Password", exact=True).fill(password)
    if register:
        await page.get_by_label("Register").check()
    if channels:
        await page.get_by_label("Channels").fill(channels)
    await page.get_by_role("button", name="Connect").click()
    await expect(log(page)).to_be_visible(timeout=TIMEOUT)
    await expect(page.locator("#who-am-i")).to_contain_text(nick, timeout=TIMEOUT)


def log(page: Any) -> Any:
    return page.get_by_role("log", name="Messages")


def conversations(page: Any) -> Any:
    return page.get_by_role("navigation", name="Conversations")


def members(page: Any) -> Any:
    return page.get_by_role("complementary", name="Members")


def message_box(page: Any) -> Any:
    return page.get_by_label("Message", exact=True)


async def say(page: Any, text: str) -> None:
    box = message_box(page)
    await box.fill(text)
    await box.press("Enter")
    await expect(box).to_have_value("", timeout=TIMEOUT)


async def open_conversation(page: Any, name: str) -> None:
    await conversations(page).get_by_role("button", name=name).click()
    await expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible(timeout=TIMEOUT)


async def shows(page: Any, text: str) -> None:
    """Wait until a message containing ``text`` is in the log."""
    await expect(log(page).locator(".msg", has_text=text).first).to_be_visible(timeout=TIMEOUT)


async def message_action(page: Any, row: Any, name: str) -> None:
    """Point at a message, then press one of its actions (Reply to ..., React ...)."""
    await row.hover()
    toolbar = page.get_by_role("toolbar", name="Message actions")
    await toolbar.get_by_role("button", name=name).click()
