"""Two members of two sections settle an exchange in their own browser sessions.

Lomé's coordinator invites awa from the accounts page; awa (Lomé) and bob
(Marseille) each open their invitation link, choose a
password, and land on their page; awa records 1 h 30 received from bob,
bob (whose section asks members to confirm what they are paid from
elsewhere) confirms it in his own session, and both pages, both balances
and both ledgers show it. Every page on the way is checked like the public
ones (axe, 360 px, weight, console) and photographed.

A page test, so it runs once, in the SQLite pass (``sqlite_only``).
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

import pytest

from models.accounts import OPERATOR
from node import sel, users
from node.actions import follow, list_following
from tests.allies import ally
from tests.browser.harness import check_console, check_page
from tests.conftest import MakeNode, RunningNode

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.sqlite_only]

PASSWORD = "une phrase de passe assez longue"


async def two_sections(make_node: MakeNode) -> tuple[RunningNode, RunningNode]:
    lome = await make_node("lome")
    marseille = await make_node("marseille", sel_confirm_incoming=True)
    await sel.account_open(lome.node, "awa", "Awa Diallo", None, None, by=OPERATOR)
    await sel.account_open(marseille.node, "bob", "Bob Martin", None, None, by=OPERATOR)
    await follow(lome.node, marseille.acct, by=OPERATOR)
    await follow(marseille.node, lome.acct, by=OPERATOR)
    for _ in range(200):
        states = []
        for rn in (lome, marseille):
            rows = await list_following(rn.node, by=OPERATOR)
            states.append(any(r.state == "accepted" for r in rows))
        if all(states):
            break
        await asyncio.sleep(0.05)
    await ally(lome, marseille)
    await sel.peer_add(lome.node, marseille.acct, "10", "10", by=OPERATOR)
    await sel.peer_add(marseille.node, lome.acct, "10", "10", by=OPERATOR)
    return lome, marseille


async def set_password(page: Page, link: str, name: str) -> None:
    await check_page(page, link, f"invitation-{name}", lang="fr")
    await page.fill("#password", PASSWORD)
    await page.fill("#password2", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/me")


async def test_two_members_of_two_sections_settle_an_exchange_in_their_browsers(
    make_node: MakeNode, browser: Browser, page: Page
) -> None:
    lome, marseille = await two_sections(make_node)
    # Lomé's coordinator (the first account comes from the command line) invites
    # awa from the accounts page, in a browser session of her own.
    coco_link = (await users.user_add(lome.node, OPERATOR, "coco", ["coordinator"])).link
    coordinator = await browser.new_context(locale="fr-FR")
    try:
        coco = await coordinator.new_page()
        await set_password(coco, coco_link, "coco")
        await coco.goto(f"{lome.url}/admin/users")
        await coco.fill("#name", "awa")
        await coco.fill("#display_name", "Awa")
        await coco.select_option("#member", "awa")
        await coco.click("form[action='/admin/users'] button[type=submit]")
        shown = re.search(r"https?://\S+/invitation/[\w-]+", await coco.inner_text("main"))
        assert shown, "the new account's link is not shown to the coordinator"
        awa_link = shown.group(0)
        check_console(coco)
    finally:
        await coordinator.close()
    bob_link = (await users.user_add(marseille.node, OPERATOR, "bob", ["member:bob"], "Bob")).link

    # awa, in this page's session.
    await check_page(page, f"{lome.url}/login", "login", lang="fr")
    await set_password(page, awa_link, "awa")
    await check_page(page, f"{lome.url}/me", "me-member", lang="fr")
    await check_page(page, f"{lome.url}/me/sel", "member-sel-empty", lang="fr")
    host = marseille.url.split("://", 1)[1]
    await page.check("input[name=direction][value=received]")
    await page.select_option("#with", f"peer:{host}")
    await page.fill("#remote", "bob")
    await page.fill("#hours", "1h30")
    await page.fill("#description", "Réparation de vélo")
    await page.select_option("#category", "repair")
    await page.click("form[action='/me/sel/record'] button[type=submit]")
    await page.wait_for_url("**/me/sel?ok=recorded")
    assert "Échange enregistré" in await page.inner_text("main")

    # bob, in a browser session of his own.
    context = await browser.new_context(locale="fr-FR")
    try:
        bob = await context.new_page()
        await set_password(bob, bob_link, "bob")
        for _ in range(200):
            await bob.goto(f"{marseille.url}/me")
            if "à confirmer" in await bob.inner_text("main"):
                break
            await asyncio.sleep(0.05)
        await check_page(bob, f"{marseille.url}/me", "me-member-to-confirm", lang="fr")
        await check_page(bob, f"{marseille.url}/me/sel", "member-sel-to-confirm", lang="fr")
        assert "Réparation de vélo" in await bob.inner_text("main")
        await bob.click("form[action$='/confirm'] button[type=submit]")
        await bob.wait_for_url("**/me/sel?ok=done")
        assert "Solde : 1,5 h" in await bob.inner_text("main")
        check_console(bob)
    finally:
        await context.close()

    for _ in range(200):
        await page.goto(f"{lome.url}/me/sel")
        if "Solde : -1,5 h" in await page.inner_text("main"):
            break
        await asyncio.sleep(0.05)
    await check_page(page, f"{lome.url}/me/sel", "member-sel-settled", lang="fr")
    text = await page.inner_text("main")
    assert "Solde : -1,5 h" in text and "réglé" in text
    for rn in (lome, marseille):
        assert (await sel.verify(rn.node, by=OPERATOR)).ok
    rec = await sel.reconcile(lome.node, marseille.acct, by=OPERATOR)
    assert rec.ok and not rec.in_flight
