"""Logging in over HTTP: cookies, CSRF, Origin, fixation, throttling, one-time links.

A plain HTTP client plays the browser here (each test keeps its own
cookie jar), so the security rules are checked byte for byte; the browser
tests drive the same pages in Chromium.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from yarl import URL

from models.accounts import MAX_FAILURES_PER_ACCOUNT, OPERATOR
from node import sel, users
from tests.conftest import MakeNode, RunningNode

PASSWORD = "correct horse battery"


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    jar = aiohttp.CookieJar(unsafe=True)  # keep cookies of 127.0.0.1
    async with aiohttp.ClientSession(
        cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=15)
    ) as session:
        yield session


async def node_with_member(make_node: MakeNode) -> tuple[RunningNode, str]:
    rn = await make_node("lome", run_workers=False)
    await sel.account_open(rn.node, "awa", "Awa", None, None, by=OPERATOR)
    invited = await users.user_add(rn.node, OPERATOR, "awa", ["member:awa"], "Awa Diallo")
    return rn, invited.link


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


async def get_form(browser: aiohttp.ClientSession, url: str) -> str:
    async with browser.get(url) as resp:
        assert resp.status == 200, await resp.text()
        return csrf_of(await resp.text())


async def accept(browser: aiohttp.ClientSession, rn: RunningNode, link: str) -> None:
    token = await get_form(browser, link)
    async with browser.post(
        link,
        data={"csrf": token, "password": PASSWORD, "password2": PASSWORD},
        headers={"Origin": rn.url},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 303, await resp.text()
        assert resp.headers["Location"] == "/me"


async def log_in(
    browser: aiohttp.ClientSession, rn: RunningNode, password: str = PASSWORD
) -> aiohttp.ClientResponse:
    token = await get_form(browser, f"{rn.url}/login")
    async with browser.post(
        f"{rn.url}/login",
        data={"csrf": token, "name": "awa", "password": password, "next": "/me"},
        headers={"Origin": rn.url},
        allow_redirects=False,
    ) as resp:
        await resp.read()
        return resp


async def test_invitation_sets_the_password_logs_in_and_cannot_be_used_again(
    make_node: MakeNode, browser: aiohttp.ClientSession
) -> None:
    rn, link = await node_with_member(make_node)
    await accept(browser, rn, link)
    async with browser.get(f"{rn.url}/me") as resp:
        page = await resp.text()
        assert resp.status == 200
        assert "Awa Diallo" in page and "membre" in page
        assert resp.headers["Cache-Control"] == "no-store"
    async with browser.get(link) as resp:
        assert resp.status == 410
        assert "plus valable" in await resp.text()


async def test_session_cookie_flags_and_a_new_token_at_every_login(
    make_node: MakeNode, browser: aiohttp.ClientSession
) -> None:
    rn, link = await node_with_member(make_node)
    await accept(browser, rn, link)
    first = browser.cookie_jar.filter_cookies(URL(rn.url))["coopnet_session"].value
    resp = await log_in(browser, rn)
    assert resp.status == 303 and resp.headers["Location"] == "/me"
    header = next(h for h in resp.headers.getall("Set-Cookie") if "coopnet_session=" in h)
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "Secure" not in header  # served over plain http on loopback
    second = browser.cookie_jar.filter_cookies(URL(rn.url))["coopnet_session"].value
    assert second != first
    # The session the browser held before the login is over (no fixation).
    async with aiohttp.ClientSession() as other:
        async with other.get(
            f"{rn.url}/me", cookies={"coopnet_session": first}, allow_redirects=False
        ) as r:
            assert r.status == 303 and r.headers["Location"].startswith("/login")


async def test_forms_without_the_token_or_from_another_site_change_nothing(
    make_node: MakeNode, browser: aiohttp.ClientSession
) -> None:
    rn, link = await node_with_member(make_node)
    token = await get_form(browser, link)
    data = {"password": PASSWORD, "password2": PASSWORD}
    attempts = [
        ({**data}, {"Origin": rn.url}),  # no token
        ({**data, "csrf": "forged"}, {"Origin": rn.url}),  # wrong token
        ({**data, "csrf": token}, {"Origin": "https://evil.example"}),  # foreign Origin
        ({**data, "csrf": token}, {"Referer": "https://evil.example/page"}),  # foreign Referer
    ]
    for form, headers in attempts:
        async with browser.post(link, data=form, headers=headers, allow_redirects=False) as r:
            assert r.status == 403, (form, headers)
            assert "nothing was done" in await r.text() or "reload the page" in await r.text()
    # The link is still unused: none of those went through.
    await accept(browser, rn, link)


async def test_logging_in_is_throttled_and_logging_out_ends_the_session(
    make_node: MakeNode, browser: aiohttp.ClientSession
) -> None:
    rn, link = await node_with_member(make_node)
    await accept(browser, rn, link)
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        resp = await log_in(browser, rn, "not the password")
        assert resp.status == 400
    resp = await log_in(browser, rn)  # the right one, too late
    assert resp.status == 400
    async with browser.get(f"{rn.url}/me") as r:  # the invitation's session still runs
        token = csrf_of(await r.text())
    async with browser.post(
        f"{rn.url}/logout", data={"csrf": token}, headers={"Origin": rn.url}, allow_redirects=False
    ) as r:
        assert r.status == 303
    async with browser.get(f"{rn.url}/me", allow_redirects=False) as r:
        assert r.status == 303 and r.headers["Location"] == "/login?next=/me"


async def test_login_redirects_only_to_our_own_pages(
    make_node: MakeNode, browser: aiohttp.ClientSession
) -> None:
    rn, link = await node_with_member(make_node)
    await accept(browser, rn, link)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as fresh:
        for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
            token = await get_form(fresh, f"{rn.url}/login")
            async with fresh.post(
                f"{rn.url}/login",
                data={"csrf": token, "name": "awa", "password": PASSWORD, "next": target},
                headers={"Origin": rn.url},
                allow_redirects=False,
            ) as r:
                assert r.status == 303 and r.headers["Location"] == "/me", target


async def test_pages_show_a_login_link_and_the_person_once_logged_in(
    make_node: MakeNode, browser: aiohttp.ClientSession
) -> None:
    rn, link = await node_with_member(make_node)
    async with browser.get(f"{rn.url}/offers") as r:
        assert 'href="/login"' in await r.text()
    await accept(browser, rn, link)
    async with browser.get(f"{rn.url}/offers?lang=en") as r:
        page = await r.text()
        assert 'href="/me"' in page and "Log out" in page


async def test_a_person_chooses_the_interface_language(
    make_node: MakeNode, browser: aiohttp.ClientSession
) -> None:
    rn, link = await node_with_member(make_node)
    await accept(browser, rn, link)
    async with browser.get(f"{rn.url}/me", headers={"Accept-Language": "fr"}) as r:
        assert "Se déconnecter" in await r.text()
        token = csrf_of(await r.text())
    for bad in ("de", "x" * 100):
        async with browser.post(
            f"{rn.url}/me/language",
            data={"csrf": token, "language": bad},
            headers={"Origin": rn.url},
            allow_redirects=False,
        ) as r:
            assert r.status == 400
    async with browser.post(
        f"{rn.url}/me/language",
        data={"csrf": token, "language": "en"},
        headers={"Origin": rn.url},
        allow_redirects=False,
    ) as r:
        assert r.status == 303
    # Chosen once, it wins over the browser's own language.
    async with browser.get(f"{rn.url}/me", headers={"Accept-Language": "fr"}) as r:
        page = await r.text()
        assert "Log out everywhere" in page and 'lang="en"' in page


async def test_a_form_body_that_cannot_be_read_is_a_400(
    make_node: MakeNode, browser: aiohttp.ClientSession
) -> None:
    rn, _ = await node_with_member(make_node)
    token = await get_form(browser, f"{rn.url}/login")
    bodies = [
        (b"csrf=" + token.encode() + b"&name=\xff\xfe", "application/x-www-form-urlencoded"),
        (b"csrf=" + token.encode(), "application/x-www-form-urlencoded; charset=klingon"),
        (b"--x\r\nContent-Disposition: form-data\r\n\r\n", "multipart/form-data; boundary=x"),
    ]
    for body, content_type in bodies:
        async with browser.post(
            f"{rn.url}/login",
            data=body,
            headers={"Origin": rn.url, "Content-Type": content_type},
            allow_redirects=False,
        ) as r:
            assert r.status == 400, (body, content_type, r.status, await r.text())
