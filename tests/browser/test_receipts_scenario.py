"""Receipts in a real browser: a mediator issues one from the page, the public
receipt page (with its QR code) is checked by axe at 360 and 1280 px, then the
mediator cancels it and the public page says so; the coordinator's book is
checked too.

Every page is weighed, checked for sideways scrolling and console errors, and
photographed (tests/screenshots/receipt-*.png). The HTTP-level rules are in
tests/charter/test_receipts_pages.py. Runs once, in the SQLite pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from models.accounts import OPERATOR
from models.mediators import Profile
from node import content, users
from tests.browser.harness import check_console, check_page, screenshots
from tests.conftest import MakeNode

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.sqlite_only]

PASSWORD = "une phrase de passe assez longue"


async def log_in(page: Page, link: str) -> None:
    await page.goto(link)
    await page.fill("#password", PASSWORD)
    await page.fill("#password2", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/me")


async def test_a_mediator_issues_a_receipt_and_anyone_checks_it(
    make_node: MakeNode, page: Page
) -> None:
    rn = await make_node("lome", run_workers=False)
    await content.mediator_add(rn.node, "ama", Profile(name="Ama Mensah"), by=OPERATOR)
    await log_in(page, (await users.user_add(rn.node, OPERATOR, "ama", ["mediator:ama"])).link)
    mine = f"{rn.url}/me/mediator/ama/receipts"

    await check_page(page, mine, "receipt-mediator-empty", lang="fr")
    await page.fill("#payer", "Association des couturières de Bè")
    await page.fill("#contact", "+228 90 12 34 56")
    await page.fill("#amount", "25 000 FCFA")
    await page.fill("#purpose", "Hébergement du site et de la messagerie, année 2027")
    await page.select_option("#method", "mobile_money")
    await page.click("form.stack button[type=submit]")
    await page.wait_for_url("**/receipts?done=issued*")
    main = await page.inner_text("main")
    assert "Reçu émis : LOME-" in main and "25000 XOF" in main

    receipt_url = await page.get_attribute("main article h3 a", "href")
    assert receipt_url is not None and "/receipts/" in receipt_url
    await check_page(page, receipt_url, "receipt-public", lang="fr")
    assert await page.locator(".qr svg[role=img]").count() == 1
    assert "Valide" in await page.inner_text("main")
    await check_page(page, f"{receipt_url}?lang=en", "receipt-public-en", lang="en")
    # Printed: the receipt, its QR code, and no navigation.
    await page.emulate_media(media="print")
    assert not await page.locator("header").is_visible()
    assert await page.locator(".qr svg").is_visible()
    assert await page.locator("article.receipt").is_visible()
    await page.emulate_media(media="screen")
    assert await page.locator("header").is_visible()

    # Cancelled from the mediator's page: a confirmation with a reason.
    await page.goto(mine)
    await page.click("text=Annuler ce reçu")
    await page.wait_for_url("**/cancel")
    await check_page(page, page.url, "receipt-cancel-confirm", lang="fr")
    await page.fill("#reason", "Montant saisi deux fois")
    await page.click("form.stack button[type=submit]")
    await page.wait_for_url("**/receipts?done=cancelled*")
    await check_page(page, receipt_url, "receipt-public-cancelled", lang="fr")
    assert "Annulé par le reçu LOME-" in await page.inner_text("main")
    await check_page(page, mine, "receipt-mediator-list", lang="fr")

    # Bad input: the form comes back with what was typed and the reason (the
    # browser logs the 400 as a failed resource: expected, and allowed).
    await page.fill("#payer", "Club de lecture")
    await page.fill("#amount", "-3 €")
    await page.fill("#purpose", "Formation")
    await page.click("form.stack button[type=submit]")
    await page.wait_for_load_state()
    assert "le montant doit être positif" in await page.inner_text("main")
    assert await page.input_value("#payer") == "Club de lecture"
    assert await page.input_value("#purpose") == "Formation"
    await screenshots(page, "receipt-mediator-refused")
    check_console(page, allow=(r"status of 400\b",))

    # The coordinator's book, in a browser of its own.
    browser = page.context.browser
    assert browser is not None
    context = await browser.new_context(locale="fr-FR")
    try:
        tab = await context.new_page()
        await log_in(tab, (await users.user_add(rn.node, OPERATOR, "awa", ["coordinator"])).link)
        await check_page(tab, f"{rn.url}/admin/receipts", "receipt-coordinator", lang="fr")
        main = await tab.inner_text("main")
        # The only receipt was cancelled: both show in the list, neither in the totals.
        assert "Annulé par LOME-" in main and "Annule LOME-" in main
        assert "Aucun reçu valide cette année." in main
    finally:
        await context.close()
