"""A coordinator answers alliance requests from the browser, on /admin/network.

A seat and two sections run on loopback. Both sections ask the seat (one
from its coordinator's page, the other as the CLI does); the seat's
coordinator sees both requests waiting, approves one, refuses the other
with a reason; each section's page then shows its seat, or the refusal.
The section refused asks again and is approved; the seat lists both
sections. Then the network at work: a mediator's offer is found in the
seat's directory; the second section allies with the first from its page
and finds that offer in its own directory (read from the first's offers
collection); the first section sends its report from its page; the seat
reads both sections' figures on its dashboard and their obligations.
Last, one section ends its alliance with a confirmation. Every page on
the way is checked (axe at 360 and 1280 px, no sideways scroll, weight,
console) and photographed.

A page test, so it runs once, in the SQLite pass (``sqlite_only``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from models.accounts import OPERATOR
from models.mediators import Profile
from models.network.alliances import AllianceState
from models.network.directory import RemoteOffer
from models.network.reports import ReportState
from models.offers import OfferDraft
from node import content, users
from node.network import alliances, reports
from tests.allies import state_at, wait_for
from tests.browser.harness import check_console, check_page
from tests.conftest import MakeNode, RunningNode
from tests.network.test_reports import SEMESTER, state_of

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.sqlite_only]

PASSWORD = "une phrase de passe assez longue"


async def log_in(page: Page, rn: RunningNode, name: str = "coco") -> None:
    await page.context.clear_cookies()
    link = (await users.user_add(rn.node, OPERATOR, name, ["coordinator"], "Coco")).link
    await page.goto(link)
    await page.fill("#password", PASSWORD)
    await page.fill("#password2", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/me")


async def _acknowledged(rn: RunningNode) -> bool:
    return await state_of(rn) == ReportState.ACKNOWLEDGED


async def is_state(a: RunningNode, b: RunningNode, state: AllianceState) -> bool:
    return await state_at(a, b) == state


async def test_the_seat_approves_and_refuses_alliances_from_the_browser(
    make_node: MakeNode, page: Page
) -> None:
    seat = await make_node("siege", "seat")
    lome = await make_node("lome")
    mars = await make_node("marseille")

    # Lomé's coordinator asks the seat from her page.
    await log_in(page, lome)
    await check_page(page, f"{lome.url}/admin/network", "network-section-empty", lang="fr")
    await page.fill("#target", seat.acct)
    await page.fill("#note", "La section de Lomé demande à rejoindre le réseau.")
    await page.click("form[action='/admin/network/ask'] button")
    await page.wait_for_url("**/admin/network?done=peer-asked")
    assert "Alliance demandée" in await page.inner_text("main")
    assert seat.acct in await page.inner_text("main")
    # Marseille asks as 'coopnet peer add' does.
    await alliances.peer_ask(mars.node, seat.acct, "Bonjour", by=OPERATOR)
    await wait_for(lambda: is_state(seat, lome, AllianceState.PENDING), "lome's request")  # type: ignore[arg-type]
    await wait_for(lambda: is_state(seat, mars, AllianceState.PENDING), "mars's request")  # type: ignore[arg-type]

    await log_in(page, seat)
    await check_page(page, f"{seat.url}/admin/network", "network-seat-pending", lang="fr")
    main = await page.inner_text("main")
    assert "Demandes qui nous attendent (2)" in main
    assert "La section de Lomé demande à rejoindre le réseau." in main
    # Approve Lomé.
    await page.click(
        f"form[action='/admin/network/approve']:has(input[value='{lome.actor_id}']) button"
    )
    await page.wait_for_url("**/admin/network?done=peer-approved")
    # Refuse Marseille, with a reason.
    await page.click(f"details:has(input[value='{mars.actor_id}']) summary")
    await page.fill("form[action='/admin/network/reject'] input[name=reason]", "Pas encore")
    await page.click("form[action='/admin/network/reject'] button")
    await page.wait_for_url("**/admin/network?done=peer-rejected")
    await wait_for(lambda: is_state(lome, seat, AllianceState.ACCEPTED), "lome accepted")  # type: ignore[arg-type]
    await wait_for(lambda: is_state(mars, seat, AllianceState.REJECTED), "mars refused")  # type: ignore[arg-type]
    await check_page(page, f"{seat.url}/admin/network", "network-seat-one-section", lang="fr")
    main = await page.inner_text("main")
    assert "Nos sections (1)" in main and lome.acct in main
    assert "Demandes passées" in main and "refusée" in main

    # Marseille asks again after the refusal; approved this time.
    await alliances.peer_ask(mars.node, seat.acct, by=OPERATOR)
    await wait_for(lambda: is_state(seat, mars, AllianceState.PENDING), "mars again")  # type: ignore[arg-type]
    await page.goto(f"{seat.url}/admin/network")
    await page.click("form[action='/admin/network/approve'] button")
    await page.wait_for_url("**/admin/network?done=peer-approved")
    await wait_for(lambda: is_state(mars, seat, AllianceState.ACCEPTED), "mars accepted")  # type: ignore[arg-type]
    await check_page(page, f"{seat.url}/admin/network?lang=en", "network-seat-en", lang="en")
    main = await page.inner_text("main")
    assert "Our sections (2)" in main

    # The network at work. An offer of Lomé's mediator reaches the seat's
    # directory, found without its accents.
    await content.mediator_add(lome.node, "ama", Profile(name="Ama Mensah"), by=OPERATOR)
    offer = await content.offer_publish(
        lome.node,
        OfferDraft(
            title="Dépannage électricité",
            description="Le samedi matin, à Lomé.",
            price="20 EUR",
            category="help",
        ),
        author="ama",
        by=OPERATOR,
    )

    async def holds(rn: RunningNode) -> bool:
        return await rn.count(RemoteOffer, RemoteOffer.uri == offer.uri) == 1

    await wait_for(lambda: holds(seat), "the offer in the seat's directory")  # type: ignore[arg-type]
    await check_page(page, f"{seat.url}/directory?q=electricite", "network-directory-seat")
    main = await page.inner_text("main")
    assert "Dépannage électricité" in main and "Lome" in main
    # Marseille's coordinator asks Lomé from her page; once Lomé agrees, the offer
    # Lomé published before (never delivered to Marseille) is in Marseille's directory.
    await log_in(page, mars, "coco3")
    assert not await holds(mars)
    await page.goto(f"{mars.url}/admin/network")
    await page.fill("#target", lome.acct)
    await page.click("form[action='/admin/network/ask'] button")
    await page.wait_for_url("**/admin/network?done=peer-asked")
    await wait_for(lambda: is_state(lome, mars, AllianceState.PENDING), "mars asks lome")  # type: ignore[arg-type]
    await alliances.peer_approve(lome.node, mars.actor_id, by=OPERATOR)
    await wait_for(lambda: holds(mars), "lome's existing offer read by marseille")  # type: ignore[arg-type]
    await check_page(page, f"{mars.url}/directory?q=DEPANNAGE", "network-directory-section")
    assert "Dépannage électricité" in await page.inner_text("main")

    # Lomé's coordinator sends the semester's report from her page; Marseille
    # as the CLI does. The seat acknowledges both.
    await log_in(page, lome, "coco4")
    await page.goto(f"{lome.url}/admin/reports")
    await page.fill("#text", "Un semestre **chargé** : un nouveau médiateur.")
    await page.click("form[action='/admin/reports/compose'] button")
    await page.wait_for_url("**/admin/reports?done=report-composed*")
    await page.click("form[action='/admin/reports/send'] button")
    await page.wait_for_url("**/admin/reports?done=report-sent*")
    await reports.report_compose(mars.node, SEMESTER, "Une bonne saison.", by=OPERATOR)
    await reports.report_send(mars.node, SEMESTER, by=OPERATOR)
    for section in (lome, mars):
        await wait_for(
            lambda rn=section: _acknowledged(rn),  # type: ignore[misc]
            f"the seat's acknowledgement of {section.acct}'s report",
        )

    # The seat's coordinator reads the network: the dashboard puts the sections'
    # figures side by side, the obligations page shows each section.
    await log_in(page, seat, "claire")
    await check_page(page, f"{seat.url}/admin/dashboard", "network-dashboard")
    main = await page.inner_text("main")
    assert "Lome" in main and "Marseille" in main
    assert await page.locator("svg.chart[role=img]").count() >= 1
    await check_page(page, f"{seat.url}/admin/obligations", "network-obligations")
    main = await page.inner_text("main")
    assert "Sections alliées" in main and "Lome" in main and "Marseille" in main
    assert "Rapport semestriel" in main

    # Lomé sees its seat, then ends the alliance (the box must be ticked).
    await log_in(page, lome, "coco2")
    await check_page(page, f"{lome.url}/admin/network", "network-section-allied", lang="fr")
    main = await page.inner_text("main")
    assert "Notre siège" in main and seat.acct in main
    await page.click("details:has(form[action='/admin/network/remove']) summary")
    await page.check("form[action='/admin/network/remove'] input[name=confirm]")
    await page.click("form[action='/admin/network/remove'] button")
    await page.wait_for_url("**/admin/network?done=peer-removed")
    await wait_for(lambda: is_state(seat, lome, AllianceState.ENDED), "ended at the seat")  # type: ignore[arg-type]
    assert "Pas encore de siège" in await page.inner_text("main")
    check_console(page)
