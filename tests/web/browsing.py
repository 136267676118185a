"""An HTTP client that behaves like a browser on our pages: cookies, forms, CSRF.

Each ``Visitor`` keeps its own cookie jar; ``post`` reads the CSRF token
from the page the form is on, as a browser would send it, and sends our
own Origin unless told otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import aiohttp

from models.accounts import OPERATOR
from node import users
from tests.conftest import RunningNode

PASSWORD = "correct horse battery"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


@dataclass
class Page:
    status: int
    text: str
    headers: Any


class Visitor:
    def __init__(self, rn: RunningNode) -> None:
        self.rn = rn
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=aiohttp.ClientTimeout(total=15)
        )

    async def close(self) -> None:
        await self.http.close()

    async def get(self, path: str) -> Page:
        async with self.http.get(self.rn.url + path, allow_redirects=False) as resp:
            return Page(resp.status, await resp.text(), resp.headers)

    async def post(
        self, path: str, data: dict[str, str], *, form_page: str | None = None, csrf: bool = True
    ) -> Page:
        form = dict(data)
        if csrf:
            page = await self.get(form_page or path)
            form["csrf"] = csrf_of(page.text)
        async with self.http.post(
            self.rn.url + path, data=form, headers={"Origin": self.rn.url}, allow_redirects=False
        ) as resp:
            return Page(resp.status, await resp.text(), resp.headers)

    async def log_in(self, name: str, password: str = PASSWORD) -> None:
        page = await self.post("/login", {"name": name, "password": password, "next": "/me"})
        assert page.status == 303, page.text


async def invite_and_log_in(rn: RunningNode, name: str, roles: list[str]) -> Visitor:
    """An account with ``roles``, its password set through its link, logged in."""
    link = (await users.user_add(rn.node, OPERATOR, name, roles)).link
    visitor = Visitor(rn)
    path = link.removeprefix(rn.url)
    page = await visitor.post(path, {"password": PASSWORD, "password2": PASSWORD})
    assert page.status == 303, page.text
    return visitor
