"""Club Aide in the browser's place: ask, offer from an allied section, accept, report."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from models.accounts import OPERATOR
from models.network.help import HelpRequest
from node import sel
from tests.conftest import MakeNode, RunningNode
from tests.node.test_help_requests import allied, processed
from tests.web.browsing import Visitor, invite_and_log_in


@pytest.fixture
async def visitors() -> AsyncIterator[list[Visitor]]:
    opened: list[Visitor] = []
    yield opened
    for v in opened:
        await v.close()


async def member(rn: RunningNode, name: str, display: str) -> Visitor:
    await sel.account_open(rn.node, name, display, None, None, by=OPERATOR)
    return await invite_and_log_in(rn, name, [f"member:{name}"])


def uuid_in(path_part: str, html: str) -> str:
    found = re.search(path_part + r"/([0-9a-f-]{36})/", html)
    assert found, f"no {path_part} link in the page"
    return found.group(1)


async def test_ask_offer_accept_and_report_through_the_pages(
    make_node: MakeNode, visitors: list[Visitor]
) -> None:
    lome = await make_node("lome")
    mars = await make_node("marseille")
    await allied(lome, mars)
    awa = await member(lome, "awa", "Awa Diallo")
    kofi = await member(mars, "kofi", "Kofi Mensah")
    visitors += [awa, kofi]

    page = await awa.get("/me/help")
    assert page.status == 200 and "Le premier entretien est toujours gratuit" in page.text
    assert "crivez ici ni votre nom" in page.text
    page = await awa.post("/me/help", {"title": "", "description": "x"})
    assert page.status == 400 and "Titre" in page.text and "obligatoire" in page.text
    page = await awa.post("/me/help", {"title": "Site", "description": "x"}, csrf=False)
    assert page.status == 403
    page = await awa.post(
        "/me/help",
        {"title": "Refaire le site de l'association", "description": "Il est <b>cassé</b>."},
    )
    assert page.status == 303, page.text
    await processed(mars, "Create")

    page = await kofi.get("/me/help/network")
    assert "Refaire le site" in page.text and "&lt;b&gt;cassé&lt;/b&gt;" in page.text
    assert "Awa" not in page.text and "awa" not in page.text
    ident = uuid_in("/me/help/network", page.text)
    page = await kofi.post(
        f"/me/help/network/{ident}/offer", {"message": ""}, form_page="/me/help/network"
    )
    assert page.status == 400
    page = await kofi.post(
        f"/me/help/network/{ident}/offer",
        {"message": "Je fais des sites : appelons-nous.", "signature": "Kofi"},
        form_page="/me/help/network",
    )
    assert page.status == 303, page.text
    assert "Vous avez proposé votre aide" in (await kofi.get("/me/help/network")).text
    await processed(lome, "Offer")

    page = await awa.get("/me/help")
    assert "Je fais des sites" in page.text and "Kofi, un membre de" in page.text
    mine = uuid_in("/me/help", page.text)
    offer = re.search(r'name="offer" value="([0-9a-f-]{36})"', page.text)
    assert offer
    page = await awa.post(
        f"/me/help/{mine}/accept",
        {"offer": offer.group(1), "message": "Merci, je vous écris."},
        form_page="/me/help",
    )
    assert page.status == 303, page.text
    page = await awa.get("/me/help")
    assert "Premier entretien gratuit, noté le" in page.text
    await processed(mars, "Accept")
    page = await kofi.get("/me/help")
    assert "votre proposition est acceptée" in page.text and "Merci, je vous écris." in page.text

    page = await awa.post(
        f"/me/help/{mine}/outcome", {"outcome": "peut-être"}, form_page="/me/help"
    )
    assert page.status == 400
    page = await awa.post(
        f"/me/help/{mine}/outcome", {"outcome": "partly", "note": "Bien"}, form_page="/me/help"
    )
    assert page.status == 303
    assert "En partie résolu" in (await awa.get("/me/help")).text
    # Someone else cannot act on awa's request.
    page = await kofi.post(f"/me/help/{mine}/withdraw", {}, form_page="/me/help")
    assert page.status == 404

    # The coordinator sees counts, no person.
    chef = await invite_and_log_in(lome, "chef2", ["coordinator"])
    visitors.append(chef)
    page = await chef.get("/admin/help")
    assert page.status == 200 and "Demandées par nos membres" in page.text
    assert "Awa" not in page.text and "Refaire" not in page.text
    assert (await awa.get("/admin/help")).status == 403
    anonymous = Visitor(lome)
    visitors.append(anonymous)
    assert (await anonymous.get("/me/help")).status == 303
    async with lome.node.sessions() as session:
        assert (await session.scalars(select(HelpRequest))).one().outcome == "partly"
