"""Fixtures for the web client tests: one headless Chromium for the whole
session (Debian's /usr/bin/chromium driven by Playwright), one real hubbub
server per module, a fresh browser context (own localStorage) per test.

Without Chromium or Playwright the browser tests skip on a developer's
machine and FAIL under CI=true, so CI can never pass without running them.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from harness import make_config
from hubbub.server.app import Server

sys.path.insert(0, str(Path(__file__).parent))
from chromium import CHROMIUM, CHROMIUM_ARGS
from webserver import OPER_PASSWORD, WebServer


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser tests: .ci/run installs it)")
    pytest.skip(reason)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    if not shutil.which(CHROMIUM):
        _missing(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[dev]')")
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield instance
        await instance.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def web(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WebServer]:
    data = tmp_path_factory.mktemp("web")
    opers: Any = [{"name": "admin", "password": OPER_PASSWORD}]
    config = make_config(Path(data), opers=opers)
    server = Server(config)
    await server.start()
    running = WebServer(config, server)
    yield running
    await running.close()


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Any) -> AsyncIterator[Any]:
    """A fresh profile (own localStorage) at desktop size; page errors fail the test."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    yield ctx
    await ctx.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: Any) -> AsyncIterator[Any]:
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == [], f"errors in the page: {errors}"
