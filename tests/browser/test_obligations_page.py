"""The obligations page in a real browser, on a section and on the seat (issue 11, item 5).

Checked by axe at 360 and 1280 px, weighed, no sideways scroll, and
photographed (tests/screenshots/obligations-*.png). The rules themselves are
tested in tests/network/test_obligations.py. Runs once, in the SQLite pass.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import update

from models.accounts import OPERATOR
from models.actors import LocalActor
from models.base import utcnow
from models.mediators import Profile
from node import content, users
from node.network import obligations
from tests.browser.harness import check_page
from tests.browser.test_receipts_scenario import log_in
from tests.conftest import MakeNode
from tests.network.test_obligations import allied

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.sqlite_only]


async def test_the_obligations_page_on_a_section_and_on_the_seat(
    make_node: MakeNode, page: Page
) -> None:
    seat = await make_node("siege", role="seat")
    lome = await make_node("lome")
    for name in ("ama", "kossi"):
        await content.mediator_add(lome.node, name, Profile(name=name.title()), by=OPERATOR)
    since = utcnow() - timedelta(days=70)
    await allied(seat, lome, since)
    # The section and its mediators have been there for months: last month is owed.
    for rn in (seat, lome):
        async with rn.node.write() as session:
            await session.execute(update(LocalActor).values(created_at=since))

    await log_in(page, (await users.user_add(lome.node, OPERATOR, "coco", ["coordinator"])).link)
    url = f"{lome.url}/admin/obligations"
    await check_page(page, url, "obligations-section", lang="fr")
    main = await page.inner_text("main")
    assert "Obligations de la charte" in main and "Section → siège" in main
    # Late ones are named in words, not by colour alone.
    assert await page.locator("li.late .st-late").count() >= 1
    assert "En retard" in await page.locator("li.late").first.inner_text()

    # One click records a manual obligation as done; the page says so.
    month = obligations.today().isoformat()[:7]
    coordination = "li:has-text('Présent à la coordination mensuelle')"
    await page.click(f"{coordination}:has-text('{month}'):has-text('Kossi') >> button")
    await page.wait_for_url("**/admin/obligations?done=obligation-recorded*")
    assert "Saisie enregistrée" in await page.inner_text("main")
    # The full form too.
    await page.select_option("#key", "section.pricing")
    await page.fill("#note", "Article « Nos tarifs » publié")
    await page.click("#record-form button[type=submit]")
    await page.wait_for_url("**/admin/obligations?done=obligation-recorded*")
    await check_page(page, page.url, "obligations-section-recorded", lang="fr")
    await check_page(page, f"{url}?lang=en", "obligations-section-en", lang="en")

    await log_in(page, (await users.user_add(seat.node, OPERATOR, "chef", ["coordinator"])).link)
    await check_page(page, f"{seat.url}/admin/obligations", "obligations-seat", lang="fr")
    main = await page.inner_text("main")
    assert "Sections alliées" in main and "Lome" in main
