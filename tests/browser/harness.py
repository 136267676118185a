"""Pages in a real browser: Debian's Chromium driven by Playwright, checked by axe-core.

What the browser tests need from the machine, and what happens without it:

- Chromium at /usr/bin/chromium (``COOPNET_CHROMIUM`` names another binary).
  Playwright's own browser downloads are never used: ``./dev test`` installs
  Debian's ``chromium`` package when it is missing and it runs as root.
- axe-core's ``axe.min.js``, pinned by tests/browser/package-lock.json and
  installed by ``./dev test`` (``npm ci --prefix tests/browser``) into
  tests/browser/node_modules.

Under ``CI=true`` a missing browser or axe file fails the browser tests,
never skips them (as a missing PostgreSQL does, tests/pg.py); elsewhere they
are skipped with a message that says how to install what is missing.

The checks, each failing with a message a person can act on:
``check_console`` (no console errors, no uncaught exceptions),
``check_accessible`` (axe: no serious or critical violation),
``check_weight`` (the HTML document under ``MAX_HTML_BYTES``),
``check_no_overflow`` (nothing wider than a 360 px phone screen), and
``screenshots`` (full-page PNGs at 360 and 1280 px, under tests/screenshots/,
not committed, for a person to look at). ``check_page`` loads a URL and runs
them all.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from weakref import WeakKeyDictionary

import pytest

if TYPE_CHECKING:
    from playwright.async_api import ConsoleMessage, Error, Page, Response, ViewportSize

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = HERE.parent / "screenshots"
#: Debian's Chromium, run headless as root in a sandbox with no network but loopback.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 360, "height": 740}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
#: A page's HTML document (not counting what it loads) stays under this.
MAX_HTML_BYTES = 50 * 1024
#: axe impacts that fail a test; "minor" and "moderate" ones are not checked.
FAILING_IMPACTS = ("serious", "critical")


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def chromium_path() -> Path:
    named = os.environ.get("COOPNET_CHROMIUM")
    if named:
        return Path(named)
    found = shutil.which("chromium")
    return Path(found) if found else Path("/usr/bin/chromium")


def missing_tools() -> list[str]:
    """What the browser tests lack on this machine, each with how to install it."""
    missing = []
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        missing.append("Playwright for Python: pip install -e '.[test]' (./dev does it)")
    browser = chromium_path()
    if not (browser.is_file() and os.access(browser, os.X_OK)):
        missing.append(
            f"Chromium ({browser}): apt-get install chromium as root (./dev test does it "
            "when run as root), or COOPNET_CHROMIUM=/path/to/chromium"
        )
    if not AXE.is_file():
        missing.append(f"axe-core ({AXE}): npm ci --prefix tests/browser (./dev test does it)")
    return missing


def require_tools() -> None:
    """Skip (on a developer's machine) or fail (under CI=true) when a tool is missing."""
    missing = missing_tools()
    if not missing:
        return
    message = "browser tests need " + "; ".join(missing)
    if on_ci():
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


# ----------------------------------------------------------------------------- console


@dataclass
class Messages:
    """What a page said on its console and what it threw, as the page fixture saw it."""

    errors: list[str] = field(default_factory=list)


_messages: WeakKeyDictionary[Page, Messages] = WeakKeyDictionary()


def watch(page: Page) -> None:
    """Record the page's console errors and uncaught exceptions (the page fixture calls it)."""
    seen = _messages.setdefault(page, Messages())

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            where = msg.location.get("url", "")
            seen.errors.append(f"console error: {msg.text} ({where})")

    def on_error(exc: Error) -> None:
        seen.errors.append(f"uncaught exception: {exc.message}")

    page.on("console", on_console)
    page.on("pageerror", on_error)


def _fail(title: str, lines: list[str]) -> NoReturn:
    pytest.fail("\n".join([title, *(f"  {line}" for line in lines)]), pytrace=False)


def check_console(page: Page, *, allow: tuple[str, ...] = ()) -> None:
    """No console error and no uncaught exception since the page was opened.

    ``allow`` holds regular expressions of expected messages (the browser
    logs a page served as 404 as a failed resource, for instance).
    """
    errors = [
        e for e in _messages.get(page, Messages()).errors if not any(re.search(a, e) for a in allow)
    ]
    if errors:
        _fail(f"{page.url}: the browser reported errors", errors)


# ----------------------------------------------------------------------------- axe


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8") + "\n;true"


async def check_accessible(page: Page, name: str) -> None:
    """Run axe-core on the page as it is; fail on any serious or critical violation.

    The message lists each rule with its impact, axe's one-line help, its
    reference page and the selectors of the offending elements.
    """
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, not added as a <script>: the
        # node's Content-Security-Policy (default-src 'none') rightly refuses
        # inline scripts, and the pages are tested under the policy they are
        # served with (a violation is a console error, so check_console sees it).
        await page.evaluate(_axe_source())
    result: dict[str, Any] = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    violations = [v for v in result["violations"] if v.get("impact") in FAILING_IMPACTS]
    if not violations:
        return
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:10]:
            target = " ".join(str(t) for t in node["target"])
            summary = " ".join(str(node.get("failureSummary", "")).split())
            lines.append(f"    at {target}: {summary}")
        if len(v["nodes"]) > 10:
            lines.append(f"    … and {len(v['nodes']) - 10} more")
    _fail(f"{name} ({page.url}): axe found {len(violations)} serious/critical problems", lines)


# ----------------------------------------------------------------------------- layout


async def check_weight(response: Response, name: str) -> None:
    size = len(await response.body())
    if size >= MAX_HTML_BYTES:
        _fail(
            f"{name} ({response.url}): the HTML document is too heavy",
            [f"{size} bytes, the limit is {MAX_HTML_BYTES}"],
        )


_WIDE = """() => {
  const limit = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > limit + 0.5 && r.width > 0) {
      const cls = el.classList.length ? '.' + [...el.classList].join('.') : '';
      wide.push(`${el.tagName.toLowerCase()}${cls} right edge at ${Math.round(r.right)} px`);
    }
  }
  return wide.slice(0, 10);
}"""


async def check_no_overflow(page: Page, name: str) -> None:
    """At a 360 px phone width nothing makes the page scroll sideways."""
    await page.set_viewport_size(PHONE)
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        _fail(
            f"{name} ({page.url}): the page is {width} px wide on a {PHONE['width']} px screen",
            await page.evaluate(_WIDE),
        )


async def screenshots(page: Page, name: str) -> list[Path]:
    """Full-page PNGs at phone and desktop widths: tests/screenshots/NAME-360.png, -1280.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    paths = []
    for size in (PHONE, DESKTOP):
        await page.set_viewport_size(size)
        path = SCREENSHOTS / f"{name}-{size['width']}.png"
        await page.screenshot(path=path, full_page=True)
        paths.append(path)
    return paths


async def check_page(
    page: Page,
    url: str,
    name: str,
    *,
    status: int = 200,
    lang: str | None = None,
) -> Response:
    """Load ``url`` and run every check on it; screenshots are written even when axe fails.

    ``lang``: the ``<html lang>`` the page must declare. axe runs at both
    widths, since what fits on a desktop may not on a phone.
    """
    await page.set_viewport_size(DESKTOP)
    response = await page.goto(url, wait_until="load")
    assert response is not None, url
    assert response.status == status, (url, response.status, (await response.text())[:500])
    assert response.headers.get("content-type", "").startswith("text/html"), response.headers
    if lang is not None:
        assert await page.get_attribute("html", "lang") == lang, url
    await screenshots(page, name)
    await check_weight(response, name)
    await check_no_overflow(page, name)
    await check_accessible(page, f"{name} at {PHONE['width']} px")
    await page.set_viewport_size(DESKTOP)
    await check_accessible(page, f"{name} at {DESKTOP['width']} px")
    allowed = () if status == 200 else (rf"status of {status}\b.*\({re.escape(url)}\)",)
    check_console(page, allow=allowed)
    return response
