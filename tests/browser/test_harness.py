"""The browser harness itself: each check fails on a page made to break it, and says why.

A missing Chromium or axe-core fails under CI=true and skips elsewhere, so
CI can never pass by quietly running no browser test. Pages here are
served by the test itself through Playwright's routing (no server, no
network). About the harness, not the database: run once, in the SQLite pass.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import harness

if TYPE_CHECKING:  # names only: without Playwright the fixtures skip, or fail under CI
    from playwright.async_api import Page, Route

pytestmark = pytest.mark.sqlite_only
#: What every test using the browser needs (tests/browser/conftest.py says why).
on_browser_loop = pytest.mark.asyncio(loop_scope="session")

URL = "http://harness.test/"


async def serve(page: Page, html: str) -> None:
    """Load ``html`` as the document at URL (an ordinary text/html response)."""

    async def fulfill(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

    await page.route(URL, fulfill)
    await page.goto(URL)


def doc(body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>t</title></head><body><main><h1>Test</h1>{body}</main></body></html>"
    )


@pytest.mark.parametrize("ci", ["true", None])
def test_missing_browser_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str | None
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("COOPNET_CHROMIUM", str(tmp_path / "no-chromium"))
    expected = pytest.fail.Exception if ci else pytest.skip.Exception

    with pytest.raises(expected, match="apt-get install chromium"):
        harness.require_tools()


def test_missing_axe_fails_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(harness, "AXE", tmp_path / "node_modules" / "axe-core" / "axe.min.js")

    with pytest.raises(pytest.fail.Exception, match="npm ci --prefix tests/browser"):
        harness.require_tools()


@on_browser_loop
async def test_clean_page_passes_every_check(page: Page) -> None:
    await serve(page, doc("<p>Bonjour.</p>"))

    await harness.check_accessible(page, "clean")
    await harness.check_no_overflow(page, "clean")
    harness.check_console(page)


@on_browser_loop
async def test_axe_violations_are_listed_with_rule_impact_and_selector(page: Page) -> None:
    await serve(
        page,
        doc(
            '<img id="photo" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
            '<p id="pale" style="color:#ccc">Texte trop pâle</p>'
        ),
    )

    with pytest.raises(pytest.fail.Exception) as failed:
        await harness.check_accessible(page, "bad")

    message = str(failed.value)
    assert "[critical] image-alt" in message and "#photo" in message
    assert "[serious] color-contrast" in message and "#pale" in message
    assert "dequeuniversity.com/rules/axe/" in message


@on_browser_loop
async def test_sideways_scrolling_at_phone_width_is_reported(page: Page) -> None:
    await serve(page, doc('<div class="banner" style="width:500px">Large</div>'))

    with pytest.raises(
        pytest.fail.Exception, match=r"\d+ px wide on a 360 px screen\n.*div\.banner"
    ):
        await harness.check_no_overflow(page, "wide")


@on_browser_loop
async def test_console_errors_and_exceptions_are_reported(page: Page) -> None:
    await serve(page, doc("<script>console.error('oops'); throw new Error('boom')</script>"))

    with pytest.raises(pytest.fail.Exception) as failed:
        harness.check_console(page)

    assert "console error: oops" in str(failed.value)
    assert "uncaught exception: boom" in str(failed.value)


@on_browser_loop
async def test_heavy_html_is_reported(page: Page) -> None:
    html = doc("<p>" + "x" * harness.MAX_HTML_BYTES + "</p>")

    async def fulfill(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html", body=html)

    await page.route(URL, fulfill)
    response = await page.goto(URL)
    assert response is not None

    with pytest.raises(pytest.fail.Exception, match="too heavy"):
        await harness.check_weight(response, "heavy")


@on_browser_loop
async def test_screenshots_at_phone_and_desktop_widths(
    page: Page, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(harness, "SCREENSHOTS", tmp_path)
    await serve(page, doc("<p>Bonjour.</p>"))

    paths = await harness.screenshots(page, "hello")

    assert [p.name for p in paths] == ["hello-360.png", "hello-1280.png"]
    widths = [struct.unpack(">I", p.read_bytes()[16:20])[0] for p in paths]
    assert widths == [360, 1280]
