"""The offer directory in Chromium: a person searches without accents and finds
an allied section's offer, at phone and desktop widths (screenshots in
tests/screenshots/directory-*.png). The offers crossing real nodes are tested in
tests/node/test_directory.py; here the allied offer is stored as the inbox stores it."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from models.accounts import OPERATOR
from models.actors import RemoteActor
from models.base import utcnow
from models.network.alliances import Alliance, AllianceState
from models.network.directory import keep_offer, parse_offer
from models.offers import OfferDraft
from node import sel, users
from node.content import offer_publish
from tests.browser.harness import check_page
from tests.conftest import MakeNode

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.sqlite_only]

PASSWORD = "une phrase de passe assez longue"
PEER = "https://marseille.example/users/marseille"
LONG = "https://www.example.org/" + "tres-long-chemin-sans-espace-" * 4 + "fin.html"


async def _allied_offer(rn: object) -> None:
    node = rn.node  # type: ignore[attr-defined]
    async with node.write() as session:
        peer = Alliance(
            peer_uri=PEER,
            peer_handle="marseille@marseille.example",
            peer_name="Section de Marseille",
            peer_role="section",
            state=AllianceState.ACCEPTED,
            accepted_at=utcnow(),
        )
        session.add(peer)
        session.add(
            RemoteActor(
                uri="https://marseille.example/users/nadia",
                type="Person",
                preferred_username="nadia",
                name="Nadia",
                inbox="https://marseille.example/users/nadia/inbox",
            )
        )
        await session.flush()
        for n, (title, text, extra) in enumerate(
            (
                (
                    "Dépannage électricité et tableau électrique",
                    f"Mise aux normes, le samedi. Détails : {LONG}",
                    {
                        "reciprocal": {
                            "resourceConformsTo": "https://w3id.org/coopnet/ns#selHour",
                            "resourceQuantity": {"hasUnit": "hour", "hasNumericalValue": "2"},
                        },
                        "location": {"type": "Place", "name": "Marseille 13e"},
                        "category": "help",
                    },
                ),
                ("Cours de couture", "Pour débuter.", {"category": "training"}),
            )
        ):
            obj = {
                "id": f"https://marseille.example/offers/{n}",
                "type": ["Proposal", "Note"],
                "attributedTo": "https://marseille.example/users/nadia",
                "name": title,
                "content": f"<p>{text}</p>",
                "source": {"content": text, "mediaType": "text/markdown"},
                "url": f"https://marseille.example/offers/{n}",
                "endTime": (utcnow() + timedelta(days=30)).isoformat(),
                **extra,
            }
            await keep_offer(session, peer, parse_offer(obj))


async def test_a_person_searches_the_directory_without_accents(
    make_node: MakeNode, page: Page
) -> None:
    rn = await make_node("lome", run_workers=False)
    await offer_publish(
        rn.node,
        OfferDraft(
            title="Formation : installer son électricité en sécurité",
            description="Deux demi-journées à Lomé.",
            category="training",
            price="40 EUR",
            area="Grand Lomé",
        ),
        by=OPERATOR,
    )
    await offer_publish(
        rn.node,
        OfferDraft(title="Hébergement de site", description="WordPress.", price="25 EUR"),
        by=OPERATOR,
    )
    await _allied_offer(rn)
    await page.goto(f"{rn.url}/directory", wait_until="load")
    await page.fill("#q", "electricite")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url("**/directory?q=electricite*")
    titles = await page.locator("article h2").all_inner_texts()
    assert titles == [
        "Dépannage électricité et tableau électrique",
        "Formation : installer son électricité en sécurité",
    ] or sorted(titles) == sorted(
        [
            "Dépannage électricité et tableau électrique",
            "Formation : installer son électricité en sécurité",
        ]
    )
    assert "Section de Marseille" in await page.content()
    await check_page(page, page.url, "directory-search-fr", lang="fr")
    await check_page(page, f"{rn.url}/directory?lang=en", "directory-en", lang="en")
    await page.select_option("#unit", "sel")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url("**unit=sel*")
    assert await page.locator("article h2").all_inner_texts() == [
        "Dépannage électricité et tableau électrique"
    ]


async def test_a_member_asks_for_contact_from_the_directory(
    make_node: MakeNode, page: Page
) -> None:
    rn = await make_node("lome", run_workers=False)
    await _allied_offer(rn)
    await sel.account_open(rn.node, "awa", "Awa Diallo", None, None, by=OPERATOR)
    link = (await users.user_add(rn.node, OPERATOR, "awa", ["member:awa"])).link
    await page.goto(link, wait_until="load")
    await page.fill("#password", PASSWORD)
    await page.fill("#password2", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/me")
    await page.goto(f"{rn.url}/directory?q=couture", wait_until="load")
    await page.click("text=Demander un contact")
    await page.wait_for_url(lambda url: "/directory/contact?offer=" in url)
    await check_page(page, page.url, "directory-contact-fr", lang="fr")
    await page.fill("#message", "Bonjour, je voudrais apprendre la couture.")
    await page.click("form.stack button[type=submit]")
    await page.wait_for_url(lambda url: url.endswith("/me/contacts?sent=1"))
    assert "apprendre la couture" in await page.content()
    await check_page(page, page.url, "me-contacts-fr", lang="fr")
