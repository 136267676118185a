"""A coordinator runs the section from the browser: every /admin page checked.

coco opens her invitation link, invites a member (roles chosen from
lists), previews and publishes a bulletin, certifies a mediator, and looks
at follows, deliveries (one dead) and settings. Then the time bank: she
adds a peer section, reconciles with it after an exchange, checks the
ledger, downloads a CSV, opens an account and cancels an exchange; adds a
mediator and posts a note. Each page on the way is checked like the others
(axe at 360 and 1280 px, no sideways scroll at 360 px, HTML under 50 KB,
no console error) and photographed, in French, and the overview in
English too; so are the pages a form answers with (a check's report).

A page test, so it runs once, in the SQLite pass (``sqlite_only``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from models.accounts import OPERATOR
from models.mediators import Profile
from models.outbox import Delivery, DeliveryState
from models.sel.exchanges import Exchange
from node import actions, content, sel, users
from tests.allies import ally
from tests.browser.harness import (
    DESKTOP,
    PHONE,
    check_accessible,
    check_console,
    check_no_overflow,
    check_page,
    check_weight,
    screenshots,
)
from tests.conftest import MakeNode, RunningNode

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
    await page.fill("#email", "awa@example.org")
    await page.select_option("#member", "awa")
    await page.click("form[action='/admin/users'] button[type=submit]")
    assert "/invitation/" in await page.inner_text("main")
    await check_page(page, f"{rn.url}/admin/users/awa", "admin-user", lang="fr")
    assert "awa@example.org" in await page.inner_text("main")

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

    # The section's own offers: what 'coopnet offer publish' without --author does.
    await page.click("nav.admin a[href='/admin/sel']")
    await page.click("nav.admin a[href='/me/mediator']")
    await check_page(page, f"{rn.url}/me/mediator", "admin-speakers", lang="fr")
    await check_page(page, f"{rn.url}/me/mediator/lome/offers/new", "section-offer-new", lang="fr")
    await page.fill("#title", "Salle de réunion")
    await page.fill("#description", "Une salle pour **douze** personnes, le samedi matin.")
    await page.fill("#sel_hours", "2")
    await page.click("button[value=publish]")
    await page.wait_for_url("**/me/mediator/lome/offers?done=published*")
    assert "Salle de réunion" in await page.inner_text("main")
    await check_page(page, f"{rn.url}/me/mediator/lome/offers", "section-offers", lang="fr")
    [offer] = await content.offer_list(rn.node)
    assert offer.title == "Salle de réunion"
    check_console(page)


async def log_in_through_link(page: Page, rn: RunningNode, name: str) -> None:
    link = (await users.user_add(rn.node, OPERATOR, name, ["coordinator"], name.title())).link
    await page.goto(link)
    await page.fill("#password", PASSWORD)
    await page.fill("#password2", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/me")


async def submit_and_check(page: Page, selector: str, name: str) -> None:
    """Click a button whose form answers with a page (not a redirect); check that page."""
    async with page.expect_navigation() as navigation:
        await page.click(selector)
    response = await navigation.value
    assert response is not None and response.status == 200, name
    await screenshots(page, name)
    await check_weight(response, name)
    await check_no_overflow(page, name)
    await check_accessible(page, f"{name} at {PHONE['width']} px")
    await page.set_viewport_size(DESKTOP)
    await check_accessible(page, f"{name} at {DESKTOP['width']} px")


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(300):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_coordinator_runs_the_time_bank_from_the_browser(
    make_node: MakeNode, page: Page
) -> None:
    lome = await make_node("lome")
    mars = await make_node("marseille")
    await sel.account_open(lome.node, "awa", "Awa Diallo", None, None, by=OPERATOR)
    await sel.account_open(lome.node, "zoe", "Zoé Kouassi", None, None, requested=True, by=OPERATOR)
    await sel.account_open(mars.node, "bob", "Bob", None, None, by=OPERATOR)
    await content.mediator_add(lome.node, "ama", Profile(name="Ama Mensah"), by=OPERATOR)
    for a, b in ((lome, mars), (mars, lome)):
        await actions.follow(a.node, b.acct, by=OPERATOR)
    await ally(lome, mars)
    await sel.peer_add(mars.node, lome.acct, "10", "10", by=OPERATOR)

    async def accepted() -> bool:
        rows = await actions.list_following(lome.node, by=OPERATOR)
        return [r.state for r in rows] == ["accepted"]

    await until(accepted, "lome's follow accepted")
    await log_in_through_link(page, lome, "coco")

    # The overview: a note from the node.
    await check_page(page, f"{lome.url}/admin", "admin-home-sel", lang="fr")
    assert "à approuver" in await page.inner_text("main")
    await page.fill("#note", "Assemblée générale jeudi à 18 h.")
    await page.click("form[action='/admin/note'] button")
    await page.wait_for_url("**/admin?done=posted")
    assert "Note publiée" in await page.inner_text("main")

    # The time bank: a peer added through the form.
    await check_page(page, f"{lome.url}/admin/sel", "admin-sel", lang="fr")
    await page.fill("#section", mars.acct)
    await page.fill("#their_spending", "10")
    await page.fill("#our_spending", "10")
    await page.click("form[action='/admin/sel/peers'] button")
    await page.wait_for_url("**/admin/sel?done=peer-added")
    row, _ = await sel.exchange(
        lome.node, "awa", f"bob@{mars.url.split('://', 1)[1]}", "2", "cours de couture", by=OPERATOR
    )

    async def settled() -> bool:
        async with lome.node.sessions() as session:
            ex = await session.scalar(select(Exchange).where(Exchange.uuid == row.uuid))
            return ex is not None and ex.state == "settled"

    await until(settled, "the exchange settled")
    await check_page(page, f"{lome.url}/admin/sel", "admin-sel-peer", lang="fr")
    await submit_and_check(
        page, "form[action='/admin/sel/reconcile'] button", "admin-sel-reconciled"
    )
    assert "En accord" in await page.inner_text("main")
    await submit_and_check(page, "form[action='/admin/sel/verify'] button", "admin-sel-verified")
    assert "Le journal est sain" in await page.inner_text("main")
    async with page.expect_download() as download:
        await page.click("form[action='/admin/sel/export'] button >> nth=1")
    assert (await download.value).suggested_filename == "sel-exchanges.csv"

    # Accounts: one approved, one opened, an exchange cancelled.
    await page.click("form[action='/admin/sel/accounts/zoe/status'] button")
    await page.wait_for_url("**/admin/sel?done=sel-approved")
    await check_page(page, f"{lome.url}/admin/sel/accounts", "admin-sel-accounts", lang="fr")
    await page.fill("#code", "kofi")
    await page.fill("#name", "Kofi Mensah")
    await page.fill("#lower", "-5")
    await page.fill("#upper", "10")
    await page.click("form[action='/admin/sel/accounts'] button")
    await page.wait_for_url("**/admin/sel/accounts/kofi?done=sel-opened")
    ex, _ = await sel.exchange(lome.node, "kofi", "zoe", "1h30", "jardinage", by=OPERATOR)
    await sel.confirm(lome.node, ex.uuid, "zoe", by=OPERATOR)
    await check_page(page, f"{lome.url}/admin/sel/accounts/kofi", "admin-sel-account", lang="fr")
    await page.click("summary")
    await page.fill(f"#reason-{ex.uuid}", "saisie en double")
    await page.check("input[name=confirm]")
    await page.click("form[action='/admin/sel/accounts/kofi/cancel'] button")
    await page.wait_for_url("**/admin/sel/accounts/kofi?done=sel-cancelled")
    await check_page(
        page, f"{lome.url}/admin/sel/accounts/kofi", "admin-sel-account-cancelled", lang="fr"
    )
    assert "annulé" in await page.inner_text("main")

    # Mediators: one added.
    await check_page(page, f"{lome.url}/admin/mediators", "admin-mediators", lang="fr")
    await page.fill("#username", "kwame")
    await page.fill("#name", "Kwame Asante")
    await page.fill("#summary", "Médiation familiale.")
    await page.fill("#skills", "écoute, droit du travail")
    await page.click("form[action='/admin/mediators'] button")
    await page.wait_for_url("**/admin/mediators?done=mediator-added")
    await check_page(page, f"{lome.url}/admin/mediators?lang=en", "admin-mediators-en", lang="en")
    assert "Kwame Asante" in await page.inner_text("main")
    check_console(page)
