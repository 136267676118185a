"""Club Aide in a real browser: a member asks for help on a phone and sees an offer arrive.

Two allied sections; awa (Lomé) sets her password, asks the network for help
at 360 px, and once a member of Marseille has offered help, finds the offer
on her page and accepts it. Each page is checked like the others (axe,
360 px, weight, console) and photographed at 360 and 1280 px.

A page test, so it runs once, in the SQLite pass (``sqlite_only``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from models.accounts import OPERATOR, principal_of, user_by_name
from node import sel, users
from node.network import help
from tests.browser.harness import PHONE, check_console, check_page
from tests.conftest import MakeNode
from tests.node.test_help_requests import allied, processed

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.sqlite_only]

PASSWORD = "une phrase de passe assez longue"


async def test_a_member_asks_for_help_on_a_phone_and_sees_an_offer_arrive(
    make_node: MakeNode, page: Page
) -> None:
    lome = await make_node("lome")
    mars = await make_node("marseille")
    await allied(lome, mars)
    await sel.account_open(lome.node, "awa", "Awa Diallo", None, None, by=OPERATOR)
    await sel.account_open(mars.node, "kofi", "Kofi", None, None, by=OPERATOR)
    link = (await users.user_add(lome.node, OPERATOR, "awa", ["member:awa"], "Awa Diallo")).link
    await users.user_add(mars.node, OPERATOR, "kofi", ["member:kofi"], "Kofi")

    await page.set_viewport_size(PHONE)
    await page.goto(link)
    await page.fill("#password", PASSWORD)
    await page.fill("#password2", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/me")
    await page.click("text=Demandes d'aide (Club Aide)")
    await page.wait_for_url("**/me/help")
    await check_page(page, f"{lome.url}/me/help", "help-ask", lang="fr")

    await page.set_viewport_size(PHONE)
    await page.fill("#title", "Un tableur pour les cotisations")
    await page.fill(
        "#description",
        "Notre association suit ses cotisations sur papier.\n"
        "Qui peut nous montrer un tableur simple, d'ici la fin du mois ?",
    )
    await page.fill("#category", "Bureautique")
    await page.fill("#area", "Lomé")
    await page.click("form[action='/me/help'] button[type=submit]")
    await page.wait_for_url("**/me/help?done=asked")
    assert "sans votre nom" in await page.inner_text("main")
    await check_page(page, page.url, "help-asked", lang="fr")

    await processed(mars, "Create")
    async with mars.node.sessions() as session:
        kofi = principal_of(await user_by_name(session, "kofi"))
    (request,) = await help.network_requests(mars.node, kofi)
    await help.offer(
        mars.node, kofi, request.request.uuid, "Je peux vous montrer un tableur mardi soir.", "Kofi"
    )
    await processed(lome, "Offer")

    await page.set_viewport_size(PHONE)
    await page.goto(f"{lome.url}/me/help")
    main = await page.inner_text("main")
    assert "Je peux vous montrer un tableur mardi soir." in main
    assert "Le premier entretien est toujours gratuit." in main
    await check_page(page, f"{lome.url}/me/help", "help-offer-arrived", lang="fr")

    await page.set_viewport_size(PHONE)
    await page.fill("textarea[name=message]", "Mardi me va.")
    await page.click("text=Accepter cette aide (premier entretien gratuit)")
    await page.wait_for_url("**/me/help?done=accepted")
    assert "Premier entretien gratuit, noté le" in await page.inner_text("main")
    await check_page(page, page.url, "help-accepted", lang="fr")
    check_console(page)
