"""Receipt pages over real HTTP: the public receipt, the mediator's, the coordinator's.

A plain HTTP client with its own cookie jar plays each person's browser
(helpers of tests/web/test_mediator_pages.py).
"""

from __future__ import annotations

import csv
import io
import json
import re

import aiohttp
import segno

from models.accounts import OPERATOR
from models.base import utcnow
from models.charter.receipts import Receipt, ReceiptDraft
from models.mediators import Profile
from node import content, sel
from node.charter import receipts
from node.ui.receipts import qr_svg
from tests.charter.test_receipts import stored
from tests.conftest import MakeNode, RunningNode
from tests.web.test_mediator_pages import (
    MAX_PAGE,
    csrf_of,
    invite,
    log_in_with_link,
    new_browser,
    page,
    post,
    text_of,
)


async def section(make_node: MakeNode) -> RunningNode:
    rn = await make_node("lome", run_workers=False)
    await content.mediator_add(rn.node, "ama", Profile(name="Ama"), by=OPERATOR)
    await content.mediator_add(rn.node, "kossi", Profile(name="Kossi"), by=OPERATOR)
    await sel.account_open(rn.node, "awa", "Awa", None, None, by=OPERATOR)
    return rn


FORM = {
    "payer": "Association Lumière",
    "contact": "lumiere@example.org",
    "amount": "120,50 €",
    "purpose": "Hébergement du site, 2027",
    "method": "mobile_money",
    "received": "",
    "contract": "",
}


async def test_the_public_receipt_page_json_and_qr(make_node: MakeNode) -> None:
    rn = await section(make_node)
    view = await receipts.issue(
        rn.node,
        "ama",
        ReceiptDraft(payer="Association Lumière", amount="120,50 €", purpose="Hébergement"),
        by=OPERATOR,
    )
    async with aiohttp.ClientSession() as http:
        body, resp = await page(http, view.url)
        assert resp.headers["X-Robots-Tag"] == "noindex"
        assert '<meta name="robots" content="noindex, nofollow">' in body
        assert "@media print" in body and "<script" not in body
        words = text_of(body)
        assert view.number in words and "Association Lumière" in words
        assert "120,50 EUR" in words  # written as a French reader expects
        assert "Valide" in words  # French first
        # The QR code is inline SVG and is the code of this very URL.
        assert qr_svg(view.url, "Code QR de l'adresse de vérification de ce reçu") in body
        assert str(segno.make(view.url, error="m").svg_inline(scale=3, border=2))[5:] in body
        assert len(body.encode()) < MAX_PAGE

        english, _ = await page(http, f"{view.url}?lang=en")
        assert "Valid: this node holds this receipt" in text_of(english)
        assert "120.50 EUR" in text_of(english)

        for accept in ("application/json", "application/activity+json"):
            async with http.get(view.url, headers={"Accept": accept}) as resp:
                assert resp.status == 200
                assert resp.headers["Vary"] == "Accept"
                served = json.loads(await resp.read())
            assert served["state"] == "valid" and served["cancelledBy"] is None
            assert served["receipt"] == json.loads(view.receipt.body)  # exactly as signed

        cancel = await receipts.cancel(rn.node, view.number, "erreur de montant", by=OPERATOR)
        body, _ = await page(http, view.url)
        words = text_of(body)
        assert f"Annulé par le reçu {cancel.number}" in words and "erreur de montant" in words
        body, _ = await page(http, cancel.url)
        assert f"Ce reçu annule le reçu {view.number}" in text_of(body)
        async with http.get(view.url, headers={"Accept": "application/json"}) as resp:
            served = json.loads(await resp.read())
        assert served["state"] == "cancelled"
        assert served["cancelledBy"]["number"] == cancel.number
        assert served["cancelledBy"]["id"] == cancel.url

        for missing in ("00000000-0000-4000-8000-000000000000", "LOME-2026-0001", "x"):
            async with http.get(
                f"{rn.url}/receipts/{missing}", headers={"Accept": "text/html"}
            ) as resp:
                assert resp.status == 404
                assert "Introuvable" in await resp.text()


async def test_a_mediator_issues_and_cancels_from_the_page(make_node: MakeNode) -> None:
    rn = await section(make_node)
    year = utcnow().year
    async with new_browser() as browser:
        token = await log_in_with_link(browser, rn, await invite(rn, "ama", "mediator:ama"))
        path = "/me/mediator/ama/receipts"
        body, _ = await page(browser, f"{rn.url}{path}")
        assert 'href="/me/mediator/ama/receipts" aria-current="page"' in body
        assert "Émettre un reçu" in text_of(body)

        once = re.search(r'name="once" value="([^"]+)"', body)
        assert once is not None
        status, location, _ = await post(
            browser, rn, path, FORM | {"once": once.group(1)}, token=token
        )
        assert status == 303, location
        number = f"LOME-{year}-0001"
        # The same form sent again (a double click, a reload): the same receipt.
        again = await post(browser, rn, path, FORM | {"once": once.group(1)}, token=token)
        assert again[:2] == (303, location)
        assert len(await stored(rn)) == 1
        body, _ = await page(browser, f"{rn.url}{location}")
        assert f"Reçu émis : {number} · ouvrez-le pour l'imprimer" in text_of(body)
        (row,) = await stored(rn)
        assert (row.amount_minor, row.currency, row.method) == (12050, "EUR", "mobile_money")
        assert row.received_on == utcnow().date()

        # Cancelling: a confirmation page with a reason, then the cancelling receipt.
        confirm = f"{path}/{row.uuid}/cancel"
        body, _ = await page(browser, f"{rn.url}{confirm}")
        assert "Oui, annuler ce reçu" in text_of(body)
        status, _, body = await post(browser, rn, confirm, {"reason": " "}, token=token)
        assert status == 400 and "le motif est obligatoire" in text_of(body)
        assert len(await stored(rn)) == 1
        status, location, _ = await post(
            browser, rn, confirm, {"reason": "montant faux"}, token=token
        )
        assert status == 303
        body, _ = await page(browser, f"{rn.url}{location}")
        words = text_of(body)
        assert f"Annulé par LOME-{year}-0002" in words and f"Annule {number}" in words
        # Cancelled already: no second cancellation.
        status, _, body = await post(browser, rn, confirm, {"reason": "encore"}, token=token)
        assert status == 400 and "already cancelled" in body
        assert len(await stored(rn)) == 2

        english, _ = await page(browser, f"{rn.url}{path}?lang=en")
        assert "Issue a receipt" in text_of(english) and "Cancelled by" in text_of(english)


async def test_bad_values_keep_the_form_and_write_nothing(make_node: MakeNode) -> None:
    rn = await section(make_node)
    async with new_browser() as browser:
        token = await log_in_with_link(browser, rn, await invite(rn, "ama", "mediator:ama"))
        path = "/me/mediator/ama/receipts"
        for field, value, says in (
            ("amount", "-3 €", "le montant doit être positif"),
            ("amount", "0", "le montant doit être supérieur à zéro"),
            ("amount", "12 ZZZ", "unknown currency"),
            ("received", "2026-13-45", "YYYY-MM-DD"),
            ("received", "2999-01-01", "la date de réception est dans le futur"),
            ("payer", "", "le nom du payeur est obligatoire"),
            ("method", "troc", "unknown payment method"),
        ):
            status, _, body = await post(browser, rn, path, FORM | {field: value}, token=token)
            assert status == 400, (field, value)
            assert says in text_of(body), (field, text_of(body)[:2000])
            # The form comes back as typed.
            assert 'value="Association Lumière"' in body or field == "payer"
            assert "Hébergement du site, 2027</textarea>" in body
        assert await stored(rn) == []


async def test_roles_csrf_and_login(make_node: MakeNode) -> None:
    rn = await section(make_node)
    theirs = await receipts.issue(
        rn.node, "kossi", ReceiptDraft(payer="B", amount="5 EUR", purpose="x"), by=OPERATOR
    )
    async with new_browser() as anonymous:
        for path in ("/me/mediator/ama/receipts", "/admin/receipts"):
            _, resp = await page(anonymous, f"{rn.url}{path}", status=303)
            assert resp.headers["Location"].startswith("/login?next=")
        status, location, _ = await post(
            anonymous, rn, "/admin/receipts/export", {"year": "2026"}, token="x"
        )
        assert (status, location) == (303, "/login?next=/admin")
    async with new_browser() as browser:
        token = await log_in_with_link(browser, rn, await invite(rn, "ama", "mediator:ama"))
        # Another mediator's receipts: 403, nothing written.
        await page(browser, f"{rn.url}/me/mediator/kossi/receipts", status=403)
        status, _, _ = await post(browser, rn, "/me/mediator/kossi/receipts", FORM, token=token)
        assert status == 403
        cancel = f"/me/mediator/kossi/receipts/{theirs.receipt.uuid}/cancel"
        await page(browser, f"{rn.url}{cancel}", status=403)
        status, _, _ = await post(browser, rn, cancel, {"reason": "x"}, token=token)
        assert status == 403
        # Kossi's receipt through Ama's path: still not hers.
        status, _, _ = await post(
            browser,
            rn,
            f"/me/mediator/ama/receipts/{theirs.receipt.uuid}/cancel",
            {"reason": "x"},
            token=token,
        )
        assert status == 403
        # The coordinator's book is not a mediator's.
        await page(browser, f"{rn.url}/admin/receipts", status=403)
        status, _, body = await post(browser, rn, "/admin/receipts/export", {}, token=token)
        assert status == 403 and "LOME-" not in body
        # CSRF: missing, forged, or posted from another site.
        path = "/me/mediator/ama/receipts"
        assert (await post(browser, rn, path, FORM, token=None))[0] == 403
        assert (await post(browser, rn, path, FORM, token="forged"))[0] == 403
        async with browser.post(
            f"{rn.url}{path}",
            data=FORM | {"csrf": token},
            headers={"Origin": "https://evil.example"},
            allow_redirects=False,
        ) as resp:
            assert resp.status == 403
    async with new_browser() as member:
        token = await log_in_with_link(member, rn, await invite(rn, "awa", "member:awa"))
        await page(member, f"{rn.url}/me/mediator/ama/receipts", status=403)
        status, _, _ = await post(member, rn, "/me/mediator/ama/receipts", FORM, token=token)
        assert status == 403
        await page(member, f"{rn.url}/admin/receipts", status=403)
    rows = await stored(rn)
    assert [r.uuid for r in rows] == [theirs.receipt.uuid]


async def test_the_coordinator_sees_every_receipt_totals_and_csv(make_node: MakeNode) -> None:
    rn = await section(make_node)
    year = utcnow().year

    def d(amount: str, payer: str = "=HYPERLINK(1)") -> ReceiptDraft:
        return ReceiptDraft(payer=payer, amount=amount, purpose="hébergement")

    a1 = await receipts.issue(rn.node, "ama", d("100 EUR"), by=OPERATOR)
    await receipts.issue(rn.node, "ama", d("20,50 EUR"), by=OPERATOR)
    await receipts.issue(rn.node, "ama", d("5000 XOF"), by=OPERATOR)
    await receipts.issue(rn.node, "kossi", d("30 EUR", "Club"), by=OPERATOR)
    await receipts.cancel(rn.node, a1.number, "doublon", by=OPERATOR)
    async with new_browser() as browser:
        await log_in_with_link(browser, rn, await invite(rn, "coord", "coordinator"))
        body, _ = await page(browser, f"{rn.url}/admin/receipts")
        assert 'href="/admin/receipts" aria-current="page"' in body
        words = text_of(body)
        # Totals leave out the cancelled receipt and the one that cancels it.
        rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td><td>([^<]+)</td></tr>", body)
        assert rows == [
            ("Ama", "1", "20,50 EUR"),
            ("Ama", "1", "5000 XOF"),
            ("Kossi", "1", "30,00 EUR"),
        ], rows
        for n in range(1, 6):
            assert f"LOME-{year}-{n:04d}" in words
        assert f"Annulé par LOME-{year}-0005" in words

        body, _ = await page(browser, f"{rn.url}/admin/receipts?mediator=kossi&year={year}")
        assert f"LOME-{year}-0004" in text_of(body) and f"LOME-{year}-0001" not in text_of(body)
        body, _ = await page(browser, f"{rn.url}/admin/receipts?year=2001")
        assert "Aucun reçu pour l'instant." in text_of(body)
        body, _ = await page(browser, f"{rn.url}/admin/receipts?mediator=nobody", status=400)
        assert "no mediator 'nobody'" in text_of(body)
        assert 'name="year" value="' in body  # the export form carries the filters

        # The export is a POST from our own form, as every export of /admin.
        token = csrf_of(body)
        status, _, _ = await post(browser, rn, "/admin/receipts/export", {}, token="forged")
        assert status == 403
        async with browser.post(
            f"{rn.url}/admin/receipts/export",
            data={"csrf": token, "year": str(year)},
            headers={"Origin": rn.url},
        ) as resp:
            assert resp.status == 200 and resp.content_type == "text/csv"
            assert "attachment" in resp.headers["Content-Disposition"]
            table = list(csv.DictReader(io.StringIO(await resp.text())))
        assert [r["number"] for r in table] == [f"LOME-{year}-{n:04d}" for n in (5, 4, 3, 2, 1)]
        assert table[4]["state"] == "cancelled" and table[4]["cancelled_by"].endswith("0005")
        assert table[0]["state"] == "cancelling" and table[0]["reason"] == "doublon"
        assert table[2]["amount"] == "5000" and table[2]["currency"] == "XOF"
        # What a payer typed is never a formula in a spreadsheet.
        assert table[2]["payer"] == "'=HYPERLINK(1)" and table[1]["payer"] == "Club"
        english, _ = await page(browser, f"{rn.url}/admin/receipts?lang=en")
        assert "Totals received" in text_of(english)
    assert len(await stored(rn)) == 5
    assert all(isinstance(r, Receipt) for r in await stored(rn))


async def test_pages_stay_small_with_many_receipts(make_node: MakeNode) -> None:
    rn = await section(make_node)
    long = "x" * 900
    for i in range(130):
        await receipts.issue(
            rn.node,
            "ama",
            ReceiptDraft(payer=f"Payeur {i} " + "y" * 180, amount="1 EUR", purpose=long),
            by=OPERATOR,
        )
    async with new_browser() as browser:
        await log_in_with_link(browser, rn, await invite(rn, "coord", "coordinator"))
        body, _ = await page(browser, f"{rn.url}/admin/receipts")  # page() checks < 50 KB
        assert "le CSV les contient tous" in text_of(body)
        body, _ = await page(browser, f"{rn.url}/me/mediator/ama/receipts")
        assert "Plus anciens" in text_of(body)
        await page(browser, f"{rn.url}/me/mediator/ama/receipts?page=5")
        csrf_of(body)


def test_every_string_of_the_receipt_pages_has_a_french_translation() -> None:
    from pathlib import Path

    from models.charter.receipts import METHOD_LABELS
    from node.i18n import CATALOG
    from node.ui import receipts as pages

    templates = Path(pages.__file__).parent.parent / "templates" / "ui"
    ids: set[str] = set()
    for name in ("receipt", "mediator_receipts", "mediator_receipt_cancel", "coord_receipts"):
        source = (templates / f"{name}.html").read_text(encoding="utf-8")
        ids.update(re.findall(r'_\("([^"]+)"\)', source))
        ids.update(re.findall(r"_\('([^']+)'\)", source))
    ids.update(METHOD_LABELS.values())
    ids.update({"Receipts", "QR code of this receipt's verification address"})
    assert len(ids) > 40
    assert sorted(i for i in ids if i not in CATALOG["fr"]) == []
