"""A mediator's day in a real browser: profile, an offer previewed and published,
a Mastodon user's reply read and answered, the offer withdrawn.

Every page on the way is checked like the others (axe at 360 and 1280 px,
weight, no sideways scrolling, console) and photographed. The HTTP-level
rules (who may do what, CSRF, hostile input) are in tests/web/test_mediator_pages.py.

A page test, so it runs once, in the SQLite pass (``sqlite_only``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from models.accounts import OPERATOR
from models.mediators import Profile
from node import content, users
from tests.browser.harness import (
    DESKTOP,
    check_accessible,
    check_console,
    check_no_overflow,
    check_page,
    screenshots,
)
from tests.conftest import MakeNode
from tests.peers.mastodon import MastodonLikePeer

if TYPE_CHECKING:
    from playwright.async_api import Page

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.sqlite_only]

PASSWORD = "une phrase de passe assez longue"


async def wait_for_text(page: Page, url: str, text: str) -> None:
    for _ in range(200):
        await page.goto(url)
        if text in await page.inner_text("main"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared on {url}")


async def test_a_mediator_publishes_an_offer_and_answers_a_reply_in_the_browser(
    make_node: MakeNode, page: Page
) -> None:
    rn = await make_node("lome")
    await content.mediator_add(rn.node, "ama", Profile(name="Ama"), by=OPERATOR)
    link = (await users.user_add(rn.node, OPERATOR, "ama", ["mediator:ama"], "Ama")).link
    await page.goto(link)
    await page.fill("#password", PASSWORD)
    await page.fill("#password2", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/me")
    base = f"{rn.url}/me/mediator/ama"

    await check_page(page, f"{base}/profile", "mediator-profile", lang="fr")
    await page.fill("#name", "Ama Mensah")
    await page.fill("#skills", "sites web, hébergement")
    await page.click("form.stack button[type=submit]")
    await page.wait_for_url("**/profile?saved=1")
    assert "Profil enregistré" in await page.inner_text("main")

    await check_page(page, f"{base}/offers", "mediator-offers-empty", lang="fr")
    await check_page(page, f"{base}/offers/new", "mediator-offer-new", lang="fr")
    await page.fill("#title", "Hébergement pour associations")
    await page.fill("#description", "Un site et une messagerie.\n\n- **formation**\n- suivi")
    await page.fill("#price", "10 EUR")
    await page.fill("#valid_until", "2099-12-31")
    await page.click("button[value=preview]")
    await page.wait_for_load_state()
    assert "Aperçu de l'offre" in await page.inner_text("main")
    # The preview is the answer to a POST: checked where it stands, not reloaded.
    await screenshots(page, "mediator-offer-preview")
    await check_no_overflow(page, "mediator-offer-preview")
    await check_accessible(page, "mediator-offer-preview at 360 px")
    await page.set_viewport_size(DESKTOP)
    await check_accessible(page, "mediator-offer-preview at 1280 px")
    # The form came back filled in: publishing is one more press.
    await page.click("button[value=publish]")
    await page.wait_for_url("**/offers?done=published*")
    await check_page(page, page.url, "mediator-offers", lang="fr")
    assert "Hébergement pour associations" in await page.inner_text("main")

    offers = await content.offer_list(rn.node)
    async with MastodonLikePeer() as peer:
        reply = await peer.reply(
            offers[0].uri, f"{rn.url}/users/ama", "Bonjour, c'est combien par an ?"
        )
        await wait_for_text(page, f"{base}/offers", "Réponses du fédivers non lues")
        await check_page(page, f"{base}/offers", "mediator-offers-unread", lang="fr")
        await check_page(page, f"{base}/inbox", "mediator-inbox", lang="fr")
        await page.click("text=Lire et répondre")
        await page.wait_for_load_state()
        await check_page(page, page.url, "mediator-message", lang="fr")
        await page.fill("#text", "Bonjour ! 120 EUR par an, formation comprise.")
        await page.click("form.stack button[type=submit]")
        await page.wait_for_url("**?sent=1")
        assert "Votre réponse est en route" in await page.inner_text("main")
        answer = await peer.wait_for(
            lambda r: r.type == "Create" and "120 EUR" in str(r.object.get("content"))
        )
        assert answer.display == (True, "native")
        # Signed by the mediator, checked by the peer on its own, in reply to alice.
        assert answer.key_id == f"{rn.url}/users/ama#main-key" and answer.verified_via
        assert answer.object["inReplyTo"] == reply
        assert peer.actor_id("alice") in answer.object["to"]
    await check_page(page, f"{base}/inbox?lang=en", "mediator-inbox-en", lang="en")

    await page.goto(f"{base}/offers")
    await page.click("text=Retirer")
    await page.wait_for_load_state()
    await check_page(page, page.url, "mediator-withdraw", lang="fr")
    await page.click("form.stack button[type=submit]")
    await page.wait_for_url("**/offers?done=withdrawn")
    assert "Retirée" in await page.inner_text("main")
    check_console(page)
