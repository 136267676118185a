"""A coordinator runs the section from the browser: every /admin page checked.

coco opens her invitation link, invites a member (roles chosen from
lists), previews and publishes a bulletin, certifies a mediator, and looks
at follows, deliveries (one dead) and settings. Each page on the way is
checked like the others (axe at 360 and 1280 px, no sideways scroll at
360 px, HTML under 50 KB, no console error) and photographed, in French,
and the overview in English too.

A page test, so it runs once, in the SQLite pass (``sqlite_only``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from models.accounts import OPERATOR
from models.mediators import Profile
from models.outbox import Delivery, DeliveryState
from node import actions, content, sel, users
from tests.browser.harness import check_console, check_page
from tests.conftest import MakeNode

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.sqlite_only]

PASSWORD = "une phrase de passe assez longue"


async def test_a_coordinator_runs_the_section_from_the_browser(
    make_node: MakeNode, page: Page
) -> None:
    rn = await make_node("lome", run_workers=False)
    await sel.account_open(rn.node, "awa", "Awa Diallo", None, None, by=OPERATOR)
    await content.mediator_add(rn.node, "ama", Profile(name="Ama Mensah"), by=OPERATOR)
    await actions.post_note(rn.node, "Bienvenue", by=OPERATOR)
    async with rn.node.sessions() as session, session.begin():
        # A delivery that died (a follower's server refused it for good).
        from models.actors import get_node_actor, upsert_remote_actor
        from models.follows import add_follower

        actor = await get_node_actor(session)
        doc = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": "http://127.0.0.1:9/users/bob",
            "type": "Person",
            "preferredUsername": "bob",
            "inbox": "http://127.0.0.1:9/users/bob/inbox",
        }
        remote = await upsert_remote_actor(session, doc)
        await add_follower(session, actor.id, remote, f"{doc['id']}#follow")
    await actions.post_note(rn.node, "Assemblée jeudi", by=OPERATOR)
    async with rn.node.sessions() as session, session.begin():
        for row in (await session.execute(select(Delivery))).unique().scalars():
            row.state = DeliveryState.DEAD
            row.attempts = 1
            row.last_status = 410
            row.last_error = "HTTP 410 Gone"
    link = (await users.user_add(rn.node, OPERATOR, "coco", ["coordinator"], "Coco")).link

    await page.goto(link)
    await page.fill("#password", PASSWORD)
    await page.fill("#password2", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/me")

    await check_page(page, f"{rn.url}/admin", "admin-home", lang="fr")
    assert "Envois abandonnés\u00a0: 1" in await page.inner_text("main")
    await check_page(page, f"{rn.url}/admin?lang=en", "admin-home-en", lang="en")

    await check_page(page, f"{rn.url}/admin/users", "admin-users", lang="fr")
    await page.fill("#name", "awa")
    await page.fill("#display_name", "Awa Diallo")
    await page.select_option("#member", "awa")
    await page.click("form[action='/admin/users'] button[type=submit]")
    assert "/invitation/" in await page.inner_text("main")
    await check_page(page, f"{rn.url}/admin/users/awa", "admin-user", lang="fr")

    await check_page(page, f"{rn.url}/admin/bulletins", "admin-bulletins", lang="fr")
    await page.fill("#title", "Bulletin de décembre")
    await page.fill("#markdown", "Des **nouvelles**.\n\n## Agenda\n\n- réunion jeudi")
    await page.click("button[value=preview]")
    assert "Aperçu" in await page.inner_text("main")
    await page.click("button[value=publish]")
    await page.wait_for_url("**/admin/bulletins?done=published")
    [bulletin] = await content.bulletin_list(rn.node, by=OPERATOR)
    await check_page(
        page, f"{rn.url}/admin/bulletins/{bulletin.uuid}", "admin-bulletin-edit", lang="fr"
    )

    await check_page(page, f"{rn.url}/admin/certifications", "admin-certifications", lang="fr")
    await page.click("form[action='/admin/certifications/certify'] button")
    await page.wait_for_url("**/admin/certifications?done=certified")
    await check_page(page, f"{rn.url}/admin/certifications", "admin-certifications-done", lang="fr")

    await check_page(page, f"{rn.url}/admin/federation", "admin-federation", lang="fr")
    await check_page(page, f"{rn.url}/admin/deliveries", "admin-deliveries", lang="fr")
    assert "127.0.0.1:9/users/bob/inbox" in await page.inner_text("main")
    await check_page(page, f"{rn.url}/admin/settings", "admin-settings", lang="fr")
    check_console(page)
