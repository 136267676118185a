"""Fixtures of the browser tests: one Chromium per test process, a fresh page per test.

The browser is session-scoped (launching Chromium costs about a second), so
it lives on pytest-asyncio's session event loop, and so must everything a
browser test awaits: each test module sets
``pytestmark = pytest.mark.asyncio(loop_scope="session")``, and ``make_node``
is redefined here to start its nodes on that loop too. Under pytest-xdist
each worker process has its own session, hence its own browser.

What the tests need from the machine, and what a missing piece does
(skip on a developer's machine, fail under CI=true): tests/browser/harness.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import pytest
import pytest_asyncio

from tests.browser.harness import CHROMIUM_ARGS, DESKTOP, chromium_path, require_tools, watch
from tests.conftest import MakeNode, node_maker

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

LOCALES = {"fr": "fr-FR", "en": "en-GB"}
#: The event loop each browser was launched on: its objects work on that loop only.
_browser_loops: WeakKeyDictionary[Browser, asyncio.AbstractEventLoop] = WeakKeyDictionary()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    require_tools()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        _browser_loops[chromium] = asyncio.get_running_loop()
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
def lang() -> str:
    """The language the browser asks for first; a test parametrizes ``lang`` to change it."""
    return "fr"


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, lang: str) -> AsyncIterator[Page]:
    """A page in a context of its own (no cookies or cache shared between tests).

    The browser's locale (so its Accept-Language) is ``lang``: French unless
    the test says otherwise, as for the network's members. Console errors and
    uncaught exceptions are recorded for ``check_console``.
    """
    if asyncio.get_running_loop() is not _browser_loops.get(browser):
        raise RuntimeError(
            "a browser test must run on the session event loop: "
            "pytestmark = pytest.mark.asyncio(loop_scope='session')"
        )
    context = await browser.new_context(viewport=DESKTOP, locale=LOCALES.get(lang, lang))
    try:
        tab = await context.new_page()
        watch(tab)
        yield tab
    finally:
        await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def make_node(tmp_path: Path) -> AsyncIterator[MakeNode]:
    """tests/conftest.py's ``make_node``, its nodes served on the browser's event loop."""
    async with node_maker(tmp_path) as make:
        yield make
