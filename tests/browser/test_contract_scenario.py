"""A hosting contract in a real browser: a mediator makes it from an offer, the
client signs through the link on a phone, rates the service, and the
coordinator sees the contract, the share and the rating.

Every page on the way is checked like the others (axe at 360 and 1280 px,
weight, no sideways scrolling, console) and photographed. The HTTP-level
rules (who may do what, CSRF, tampering, bad input) are in
tests/charter/test_contracts_web.py.

A page test, so it runs once, in the SQLite pass (``sqlite_only``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from models.accounts import OPERATOR
from models.mediators import Profile
from models.offers import OfferDraft
from node import content, users
from node.charter import contracts as act
from node.charter import receipts
from tests.browser.harness import (
    PHONE,
    check_accessible,
    check_no_overflow,
    check_page,
    screenshots,
    watch,
)
from tests.conftest import MakeNode, RunningNode

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.sqlite_only]

PASSWORD = "une phrase de passe assez longue"
MODEL = """# Contrat d'hébergement

Entre **{mediator}**, médiateur, et **{client}**, client : {service} pour {price},
durée {duration}, du {start} au {end}. Part de la section : {share}.
"""
CONDITIONS = """## Conditions générales d'hébergement

1. Le médiateur assure la mise en ligne et la sauvegarde.
2. Le client respecte la charte du réseau.
"""


async def log_in(page: Page, rn: RunningNode, name: str, roles: list[str]) -> None:
    link = (await users.user_add(rn.node, OPERATOR, name, roles, name.title())).link
    await page.goto(link)
    await page.fill("#password", PASSWORD)
    await page.fill("#password2", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/me")


async def test_a_contract_from_offer_to_signature_and_rating_in_the_browser(
    make_node: MakeNode, page: Page, browser: Browser
) -> None:
    rn = await make_node("lome")
    await content.mediator_add(rn.node, "ama", Profile(name="Ama Mensah"), by=OPERATOR)
    offer = await content.offer_publish(
        rn.node,
        OfferDraft(title="Hébergement associatif", description="Site et courriel", price="120 EUR"),
        "ama",
        by=OPERATOR,
    )

    # The coordinator writes the two documents, with a preview.
    coordinator = await browser.new_context(viewport=PHONE, locale="fr-FR")
    admin = await coordinator.new_page()
    watch(admin)
    await log_in(admin, rn, "coco", ["coordinator"])
    await check_page(admin, f"{rn.url}/admin/contracts/models", "contract-models-empty", lang="fr")
    await admin.fill("#text-contract", MODEL)
    await admin.click("#contract button[value=preview]")
    await admin.wait_for_load_state()
    assert "Aperçu" in await admin.inner_text("main")
    await screenshots(admin, "contract-models-preview")
    await check_no_overflow(admin, "contract-models-preview")
    await check_accessible(admin, "contract-models-preview")
    await admin.click("#contract button[value=save]")
    await admin.wait_for_url("**/admin/contracts/models?kind=contract")
    assert "Version 1" in await admin.inner_text("main")
    await admin.click("text=Conditions générales d'hébergement")
    await admin.wait_for_url("**/admin/contracts/models?kind=conditions")
    await admin.fill("#text-conditions", CONDITIONS)
    await admin.click("#conditions button[value=save]")
    await admin.wait_for_url("**/admin/contracts/models?kind=conditions")
    await admin.click("text=Version 1")
    await admin.wait_for_url("**version=1")
    assert "Le client respecte la charte" in await admin.inner_text("main")
    await screenshots(admin, "contract-models-version")
    await check_accessible(admin, "contract-models-version")

    # The mediator makes the contract from her offer and gets the client's link.
    await log_in(page, rn, "ama", ["mediator:ama"])
    base = f"{rn.url}/me/mediator/ama/contracts"
    await check_page(page, base, "mediator-contracts-empty", lang="fr")
    await page.click(f"a[href*='offer={offer.uuid}']")
    await page.wait_for_load_state()
    assert await page.input_value("#service") == "Hébergement associatif"
    assert await page.input_value("#price") == "120.00 EUR"
    await page.fill("#client", "Association Lumière")
    await page.fill("#duration", "12 mois")
    await page.fill("#start", "2027-01-01")
    await page.fill("#end", "2027-12-31")
    await page.fill("#share", "12 EUR")
    await page.click("form.stack button[type=submit]")
    await page.wait_for_url(re.compile(r".*/contracts/[0-9a-f-]{36}$"))
    contract_url = page.url
    contract_uuid = contract_url.rsplit("/", 1)[1]
    await check_page(page, contract_url, "mediator-contract-draft", lang="fr")
    await page.click("text=Créer le lien de signature du client")
    await page.wait_for_load_state()
    link = (await page.inner_text("code.linkbox")).strip()
    assert link.startswith(f"{rn.url}/contract/")
    await screenshots(page, "mediator-contract-link")
    await check_accessible(page, "mediator-contract-link")

    # The client, on a phone, with no account: reads, fills in, signs.
    phone = await browser.new_context(viewport=PHONE, locale="fr-FR")
    client = await phone.new_page()
    watch(client)
    await check_page(client, link, "client-contract", lang="fr")
    await client.set_viewport_size(PHONE)
    text = await client.inner_text("article.contract")
    assert "Entre Ama Mensah, médiateur, et Association Lumière" in text
    assert "Conditions générales d'hébergement" in text
    await client.fill("#full_name", "Afi Dossou")
    await client.fill("#organisation", "Association Lumière")
    await client.fill("#address", "12 rue des Palmiers, Lomé")
    await client.fill("#email", "afi@example.org")
    await client.fill("#phone", "+228 90 00 00 00")
    await client.check("input[name=counterpart][value=money]")
    await client.fill("#typed_name", "Afi Dossou")
    # Signing without ticking the box: the browser refuses the form (required).
    await client.check("input[name=consent]")
    await client.click("text=Signer le contrat")
    await client.wait_for_load_state()
    assert "le contrat est signé" in await client.inner_text("main")
    copy = (await client.inner_text("code.linkbox")).strip()
    await screenshots(client, "client-contract-signed")
    await check_no_overflow(client, "client-contract-signed")
    await check_accessible(client, "client-contract-signed")
    await check_page(client, copy, "client-contract-copy", lang="fr")
    assert "Vérifié" in await client.inner_text("main")
    # The signing link, once used, is a clear page.
    used = await phone.new_page()
    watch(used)
    await check_page(used, link, "client-contract-used", status=410, lang="fr")
    assert "ne sert qu'une fois" in await used.inner_text("main")

    # The mediator hands it in, ends it, and gives the satisfaction link.
    await page.goto(contract_url)
    await page.fill("#share", "12 EUR")
    await page.click("text=Marquer comme remis à la section")
    await page.wait_for_url(contract_url)

    # The client paid: a receipt from the contract's page, filled in from the
    # contract, then checked as anyone holding it would (its address, signed).
    await page.click("text=Émettre un reçu pour une somme reçue au titre de ce contrat")
    await page.wait_for_load_state()
    assert await page.input_value("#payer") == "Afi Dossou"
    assert await page.input_value("#amount") == "120.00 EUR"
    await screenshots(page, "mediator-receipt-from-contract")
    await check_accessible(page, "mediator-receipt-from-contract")
    await page.click("button:has-text('Émettre le reçu')")
    await page.wait_for_load_state()
    [issued] = await receipts.receipts_for_contract(rn.node, contract_uuid, by=OPERATOR)
    assert issued.receipt.contract_ref == contract_uuid and issued.state == "valid"
    verdict = await receipts.verify(issued.url)
    assert verdict.state == "valid" and verdict.verified.number == issued.number
    await check_page(client, issued.url, "receipt-of-contract", lang="fr")
    assert issued.number in await client.inner_text("main")
    await page.goto(contract_url)
    assert issued.number in await page.inner_text("main")

    await page.click("text=Terminer le contrat")
    await page.wait_for_load_state()
    rating_link = (await page.inner_text("code.linkbox")).strip()
    await screenshots(page, "mediator-contract-ended")
    await check_accessible(page, "mediator-contract-ended")

    await check_page(client, rating_link, "client-satisfaction", lang="fr")
    await client.set_viewport_size(PHONE)
    await client.check("input[name=rating][value='5']")
    await client.fill("#comment", "Site en ligne en une semaine, merci !")
    await client.click("text=Envoyer mon avis")
    await client.wait_for_load_state()
    assert "Votre avis a bien été reçu" in await client.inner_text("main")
    await screenshots(client, "client-satisfaction-thanks")
    await check_accessible(client, "client-satisfaction-thanks")

    # The coordinator sees the contract, the share paid and the rating.
    await check_page(admin, f"{rn.url}/admin/contracts", "coordinator-contracts", lang="fr")
    main = await admin.inner_text("main")
    assert "Association Lumière" in main and "Parts versées (remis)\u00a0: 12.00 EUR" in main
    assert "1 note(s), moyenne 5.0/5" in main and "Site en ligne en une semaine" in main
    contracts = await act.contract_list(rn.node, OPERATOR)
    await check_page(
        admin,
        f"{rn.url}/admin/contracts?contract={contracts[0].uuid}",
        "coordinator-contract",
        lang="fr",
    )
    assert "Afi Dossou" in await admin.inner_text("main")
    # And the receipt in the section's book of receipts.
    await check_page(admin, f"{rn.url}/admin/receipts", "coordinator-receipts", lang="fr")
    assert issued.number in await admin.inner_text("main")
    await admin.goto(f"{rn.url}/admin/contracts?contract={contracts[0].uuid}")
    # Printed, the contract stands alone: no navigation, black on white.
    await admin.emulate_media(media="print")
    assert not await admin.is_visible("nav.admin")
    assert await admin.is_visible("article.contract")
    color = await admin.evaluate("getComputedStyle(document.body).color")
    assert color == "rgb(0, 0, 0)"
    await screenshots(admin, "coordinator-contract-print")
    await admin.emulate_media(media="screen")
    await check_page(
        admin, f"{rn.url}/admin/contracts?lang=en", "coordinator-contracts-en", lang="en"
    )
    assert "Shares paid (handed in): 12.00 EUR" in await admin.inner_text("main")
    await coordinator.close()
    await phone.close()
