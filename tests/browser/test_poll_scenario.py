"""A member votes in a public poll from a phone, and everyone reads the result.

The coordinator opens the poll from /admin/polls in a session of her own;
awa opens her invitation, sees on her page that a poll waits for her vote,
votes from /me/polls at 360 px wide, receives her ballot code and finds it
in the list of ballots; the public page shows the counts without any name.
Every page is checked like the others (axe at 360 and 1280 px, weight, no
horizontal scroll, console) and photographed to tests/screenshots.

A page test, so it runs once, in the SQLite pass (``sqlite_only``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from models.accounts import OPERATOR
from node import sel, users
from node.charter import polls
from tests.browser.harness import PHONE, SCREENSHOTS, check_console, check_page
from tests.conftest import MakeNode, RunningNode

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.sqlite_only]

PASSWORD = "une phrase de passe assez longue"


async def set_password(page: Page, link: str, name: str) -> None:
    await page.goto(link)
    await page.fill("#password", PASSWORD)
    await page.fill("#password2", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/me")


async def test_a_member_votes_from_a_phone(
    make_node: MakeNode, browser: Browser, page: Page
) -> None:
    rn = await make_node("lome")
    await sel.account_open(rn.node, "awa", "Awa Diallo", None, None, by=OPERATOR)
    closes = datetime.now(UTC) + timedelta(days=3)

    # The coordinator opens a public poll from her page.
    coco_link = (await users.user_add(rn.node, OPERATOR, "coco", ["coordinator"])).link
    context = await browser.new_context(locale="fr-FR")
    try:
        coco = await context.new_page()
        await set_password(coco, coco_link, "coco")
        await check_page(coco, f"{rn.url}/admin/polls", "admin-polls-empty", lang="fr")
        await coco.fill("#question", "Quel jour pour l'assemblée générale ?")
        await coco.fill("#options", "Samedi matin\nDimanche après-midi\nLundi soir")
        await coco.fill("#closes_date", closes.strftime("%Y-%m-%d"))
        await coco.fill("#closes_time", "18:00")
        await coco.check("input[name=audience][value=public]")
        await coco.click("form[action='/admin/polls'] button[type=submit]")
        await coco.wait_for_url("**/admin/polls?done=poll-opened")
        assert "Sondage ouvert" in await coco.inner_text("main")
        check_console(coco)
        (view,) = await polls.poll_list(rn.node, by=OPERATOR)
        ref = view.uuid
        await vote_as_awa(rn, page, ref)
        # The coordinator sees the counts and the ballots; she may close it early.
        await check_page(coco, f"{rn.url}/admin/polls", "admin-polls-voted", lang="fr")
        listed = await coco.inner_text("main")
        assert "Votants : 1 membre(s) · 0 sur le fédivers" in listed
        assert "Clore maintenant" in listed
        check_console(coco)
    finally:
        await context.close()

    # Anyone reads the public page: counts and ballot codes, no name; English on asking.
    counted = await polls.poll_show(rn.node, ref, by=OPERATOR)
    ((code, _),) = counted.ballots
    anonymous = await browser.new_context(locale="en-GB")
    try:
        reader = await anonymous.new_page()
        await check_page(reader, f"{rn.url}/polls/{ref}?lang=en", "poll-public", lang="en")
        public = await reader.inner_text("main")
        assert "Voters: 1 member(s)" in public and "awa" not in public.lower()
        await reader.click("summary")
        assert code in await reader.inner_text("main")
        check_console(reader)
    finally:
        await anonymous.close()
    assert [o.members for o in counted.counts.options] == [0, 1, 0]
    assert counted.ballots == [(code, ["Dimanche après-midi"])]


async def vote_as_awa(rn: RunningNode, page: Page, ref: str) -> None:
    """awa, on her phone: her invitation, her page, her vote, her ballot code."""
    awa_link = (await users.user_add(rn.node, OPERATOR, "awa", ["member:awa"], "Awa")).link
    await set_password(page, awa_link, "awa")
    await check_page(page, f"{rn.url}/me", "me-member-poll", lang="fr")
    assert "1 ouvert(s), pas encore voté" in await page.inner_text("main")
    await check_page(page, f"{rn.url}/me/polls", "member-polls-to-vote", lang="fr")
    await page.set_viewport_size(PHONE)
    await page.click("text=Dimanche après-midi")  # the label is the target, as a thumb taps it
    await page.click(f"form[action='/me/polls/{ref}/vote'] button[type=submit]")
    await page.wait_for_load_state("load")
    shown = await page.inner_text("main")
    assert "Votre vote est enregistré" in shown
    code = re.search(r"[2-9A-Z]{5}-[2-9A-Z]{5}", shown)
    assert code, shown
    await page.screenshot(path=SCREENSHOTS / "member-polls-voted-code-360.png", full_page=True)
    check_console(page)

    await check_page(page, f"{rn.url}/me/polls", "member-polls-voted", lang="fr")
    text = await page.inner_text("main")
    assert "Vous avez voté." in text and "Dimanche après-midi" in text
    await page.click("summary")
    assert code[0] in await page.inner_text("main")
