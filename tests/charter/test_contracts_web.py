"""Hosting contracts over real HTTP, across roles: the coordinator writes the
documents, a mediator makes a contract from an offer, the client (no
account) signs through the link, the mediator hands it in and ends it, the
client rates, and the coordinator sees shares and ratings.

Each person is a plain HTTP client with its own cookie jar
(tests/web/browsing.py); the client's pages are reached with no cookie but
the pre-login form token, as a phone's browser would.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select, update

from models.accounts import OPERATOR
from models.charter.contract_models import ModelVersion
from models.charter.contracts import Contract, ContractState
from models.charter.satisfaction import SatisfactionRequest, SatisfactionSetting
from models.mediators import Profile
from models.offers import OfferDraft
from node import content
from node.charter import contracts as act
from tests.conftest import MakeNode, RunningNode
from tests.web.browsing import Page, Visitor, invite_and_log_in

MODEL = """# Contrat d'hébergement

Entre **{mediator}** et **{client}** : {service} pour {price}, durée {duration},
du {start} au {end}. Part de la section : {share}.
"""
CONDITIONS = "## Conditions générales\n\nLe service est rendu au mieux.\n"
MAX_PAGE = 50_000


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def link_in(html: str, path: str) -> str:
    found = re.search(r"(https?://[^\s<\"]+" + re.escape(path) + r"[A-Za-z0-9_-]+)", html)
    assert found, f"no {path} link in the page"
    return found.group(1)


async def section(make_node: MakeNode) -> RunningNode:
    rn = await make_node("lome")
    await content.mediator_add(rn.node, "ama", Profile(name="Ama Mensah"), by=OPERATOR)
    await content.mediator_add(rn.node, "kossi", Profile(name="Kossi"), by=OPERATOR)
    await act.model_save(rn.node, OPERATOR, "contract", MODEL)
    await act.model_save(rn.node, OPERATOR, "conditions", CONDITIONS)
    return rn


async def client_page(client: Visitor, link: str, status: int = 200) -> Page:
    page = await client.get(link.removeprefix(client.rn.url))
    assert page.status == status, (page.status, page.text[:400])
    assert len(page.text.encode()) < MAX_PAGE
    return page


def sign_form(**changes: str) -> dict[str, str]:
    form = {
        "full_name": "Afi Dossou",
        "organisation": "Association Lumière",
        "address": "12 rue des Palmiers, Lomé",
        "email": "afi@example.org",
        "phone": "+228 90 00 00 00",
        "counterpart": "money",
        "counterpart_detail": "virement",
        "typed_name": "Afi Dossou",
        "consent": "yes",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v != "-"}


async def make_contract(rn: RunningNode, ama: Visitor) -> tuple[str, str]:
    """A contract from Ama's offer through her pages: (uuid, client link)."""
    offer = await content.offer_publish(
        rn.node,
        OfferDraft(title="Hébergement associatif", description="Site et courriel", price="120 EUR"),
        "ama",
        by=OPERATOR,
    )
    base = "/me/mediator/ama/contracts"
    form = await ama.get(f"{base}?offer={offer.uuid}")
    assert form.status == 200, form.text[:300]
    assert 'value="Hébergement associatif"' in form.text and 'value="120.00 EUR"' in form.text
    made = await ama.post(
        base,
        {
            "offer": offer.uuid,
            "client": "Association Lumière",
            "service": "Hébergement associatif",
            "price": "120.00 EUR",
            "duration": "12 mois",
            "start": "2027-01-01",
            "end": "2027-12-31",
            "share": "12 EUR",
        },
        form_page=base,
    )
    assert made.status == 303, made.text[:500]
    path = made.headers["Location"]
    ref = path.rsplit("/", 1)[1]
    linked = await ama.post(path + "/link", {}, form_page=path)
    assert linked.status == 200, linked.text[:300]
    return ref, link_in(linked.text, "/contract/")


async def test_lifecycle_across_roles(make_node: MakeNode) -> None:
    rn = await section(make_node)
    coordinator = await invite_and_log_in(rn, "coord", ["coordinator"])
    ama = await invite_and_log_in(rn, "ama", ["mediator:ama"])
    client = Visitor(rn)
    try:
        ref, link = await make_contract(rn, ama)
        # The client reads the whole contract, filled in, and the conditions.
        page = await client_page(client, link)
        assert page.headers["X-Robots-Tag"].startswith("noindex")
        assert '<meta name="robots" content="noindex">' in page.text
        shown = text_of(page.text)
        assert "Entre Ama Mensah et Association Lumière" in shown
        assert "120.00 EUR" in shown and "2027-12-31" in shown and "12.00 EUR" in shown
        assert "Le service est rendu au mieux." in shown
        signed = await client.post(link.removeprefix(rn.url), sign_form())
        assert signed.status == 200, signed.text[:500]
        copy = link_in(signed.text, "/contract/copy/")
        assert "Afi Dossou" in text_of(signed.text)

        async with rn.node.sessions() as s:
            row = (await s.scalars(select(Contract).where(Contract.uuid == ref))).one()
        assert row.state == ContractState.SIGNED
        assert row.signed_text is not None and "Association Lumière" in row.signed_text
        assert row.client_phone == "+228 90 00 00 00" and row.counterpart == "money"
        assert row.mediator_accepted_at is not None and row.signed_at is not None
        assert (await act.contract_verify(rn.node, OPERATOR, ref)).ok

        # The client's read-only copy, printable, verified.
        mine = await client_page(client, copy)
        assert "@media print" in mine.text and "Vérifié" in mine.text
        # A lost copy link: the mediator makes a new one, shown once; the old one stops.
        renewed = await ama.post(
            f"/me/mediator/ama/contracts/{ref}/copy",
            {},
            form_page=f"/me/mediator/ama/contracts/{ref}",
        )
        assert renewed.status == 200 and "Nouveau lien" in renewed.text
        copy2 = link_in(renewed.text, "/contract/copy/")
        assert copy2 != copy
        assert (await client.get(copy.removeprefix(rn.url))).status == 404
        assert "Vérifié" in (await client_page(client, copy2)).text

        # The coordinator sees the share due, then paid.
        listing = await coordinator.get("/admin/contracts")
        assert listing.status == 200
        assert "Parts dues (signés, non remis)\u00a0: 12.00 EUR" in text_of(listing.text)
        handed = await ama.post(
            f"/me/mediator/ama/contracts/{ref}/hand-in",
            {"share": "12 EUR"},
            form_page=f"/me/mediator/ama/contracts/{ref}",
        )
        assert handed.status == 303, handed.text[:300]
        listing = await coordinator.get("/admin/contracts?lang=en")
        shown = text_of(listing.text)
        assert "Shares due (signed, not handed in): none" in shown
        assert "Shares paid (handed in): 12.00 EUR" in shown

        # Ending gives the satisfaction link; the client rates once.
        ended = await ama.post(
            f"/me/mediator/ama/contracts/{ref}/end",
            {},
            form_page=f"/me/mediator/ama/contracts/{ref}",
        )
        assert ended.status == 200
        rating = link_in(ended.text, "/satisfaction/")
        form = await client_page(client, rating)
        assert "Ama Mensah" in form.text
        rated = await client.post(
            rating.removeprefix(rn.url), {"rating": "5", "comment": "Très bon <b>service</b>"}
        )
        assert rated.status == 200 and "Merci" in rated.text
        again = await client.post(
            rating.removeprefix(rn.url), {"rating": "1", "comment": "x"}, form_page="/login"
        )
        assert again.status == 410
        listing = await coordinator.get("/admin/contracts")
        assert "1 note(s), moyenne 5.0/5" in text_of(listing.text)
        assert "Très bon &lt;b&gt;service&lt;/b&gt;" in listing.text
        async with rn.node.sessions() as s:
            row = (await s.scalars(select(Contract).where(Contract.uuid == ref))).one()
            answers = (await s.scalars(select(SatisfactionRequest))).all()
        assert row.state == ContractState.ENDED and row.share_paid_minor == 1200
        assert [(a.rating, a.comment) for a in answers] == [(5, "Très bon <b>service</b>")]
    finally:
        for v in (coordinator, ama, client):
            await v.close()


async def test_the_signing_link_works_once_and_a_second_use_changes_nothing(
    make_node: MakeNode,
) -> None:
    rn = await section(make_node)
    ama = await invite_and_log_in(rn, "ama", ["mediator:ama"])
    client = Visitor(rn)
    try:
        ref, link = await make_contract(rn, ama)
        first = await client.post(link.removeprefix(rn.url), sign_form())
        assert first.status == 200
        async with rn.node.sessions() as s:
            before = (await s.scalars(select(Contract).where(Contract.uuid == ref))).one()
        # The same link again: a clear page, 410, nothing written.
        seen = await client.get(link.removeprefix(rn.url))
        assert seen.status == 410 and "ne sert qu'une fois" in text_of(seen.text)
        second = await client.post(
            link.removeprefix(rn.url),
            sign_form(full_name="Someone Else", typed_name="Someone Else"),
            form_page="/login",
        )
        assert second.status == 410
        async with rn.node.sessions() as s:
            after = (await s.scalars(select(Contract).where(Contract.uuid == ref))).one()
        assert after.client_full_name == "Afi Dossou"
        assert after.signed_document == before.signed_document
        assert after.signed_at == before.signed_at
        # A new link replaces the old one before signing; the old one then fails.
        ref2, link2 = await make_contract(rn, ama)
        _, link3 = await act.contract_link(rn.node, OPERATOR, ref2)
        assert (await client.get(link2.removeprefix(rn.url))).status == 410
        assert (await client.get(link3.removeprefix(rn.url))).status == 200
        # An unknown token, too.
        assert (await client.get("/contract/nope")).status == 410
    finally:
        await ama.close()
        await client.close()


async def test_missing_details_or_no_consent_are_refused_with_the_form_kept(
    make_node: MakeNode,
) -> None:
    rn = await section(make_node)
    ama = await invite_and_log_in(rn, "ama", ["mediator:ama"])
    client = Visitor(rn)
    try:
        ref, link = await make_contract(rn, ama)
        path = link.removeprefix(rn.url)
        for changes, message in [
            ({"phone": ""}, "votre numéro de téléphone est obligatoire"),
            ({"address": ""}, "votre adresse postale est obligatoire"),
            ({"email": "not-an-address"}, "votre adresse e-mail"),
            ({"consent": "-"}, "cochez la case"),
            ({"typed_name": "Quelqu'un"}, "tapez votre nom complet exactement"),
            ({"counterpart": "-"}, "choisissez la contrepartie"),
            ({"counterpart": "article", "counterpart_detail": ""}, "dites sur quoi portera"),
        ]:
            page = await client.post(path, sign_form(**changes))
            assert page.status == 400, (changes, page.text[:300])
            assert message in text_of(page.text), (changes, text_of(page.text)[-800:])
            # What was typed is kept.
            assert 'value="Association Lumière"' in page.text
            assert 'value="Afi Dossou"' in page.text
            if "address" not in changes:
                assert "12 rue des Palmiers, Lomé</textarea>" in page.text
        # Forged or missing CSRF: refused before anything.
        forged = await client.post(path, {**sign_form(), "csrf": "forged"}, csrf=False)
        assert forged.status == 403
        async with client.http.post(
            rn.url + path, data=sign_form(), headers={"Origin": "https://evil.example"}
        ) as resp:
            assert resp.status == 403
        async with rn.node.sessions() as s:
            row = (await s.scalars(select(Contract).where(Contract.uuid == ref))).one()
        assert row.state == ContractState.AWAITING and row.signed_at is None
        assert row.client_full_name is None
        # English on request.
        page = await client.post(path + "?lang=en", sign_form(phone=""), form_page=path)
        assert page.status == 400 and "your phone number is required" in page.text
    finally:
        await ama.close()
        await client.close()


async def _sign_directly(rn: RunningNode, ama: Visitor, client: Visitor) -> str:
    ref, link = await make_contract(rn, ama)
    signed = await client.post(link.removeprefix(rn.url), sign_form())
    assert signed.status == 200
    return ref


@pytest.mark.parametrize(
    "column,value",
    [
        ("signed_text", "Entre Ama et Personne : gratuit."),
        ("client_email", "autre@example.org"),
        ("signed_sha256", "0" * 64),
        ("share_minor", 1),
    ],
)
async def test_a_contract_altered_after_signing_is_detected(
    make_node: MakeNode, column: str, value: object
) -> None:
    rn = await section(make_node)
    coordinator = await invite_and_log_in(rn, "coord", ["coordinator"])
    ama = await invite_and_log_in(rn, "ama", ["mediator:ama"])
    client = Visitor(rn)
    try:
        ref = await _sign_directly(rn, ama, client)
        page = await coordinator.get(f"/admin/contracts?contract={ref}")
        assert "Vérifié" in page.text and "ALTÉRÉ" not in page.text
        async with rn.node.write() as s:
            await s.execute(update(Contract).where(Contract.uuid == ref).values({column: value}))
        page = await coordinator.get(f"/admin/contracts?contract={ref}")
        assert page.status == 200 and "ALTÉRÉ" in page.text and "Vérifié" not in page.text
        mine = await ama.get(f"/me/mediator/ama/contracts/{ref}")
        assert "ALTÉRÉ" in mine.text
        result = await act.contract_verify(rn.node, OPERATOR, ref)
        assert not result.ok and result.problems
    finally:
        for v in (coordinator, ama, client):
            await v.close()


async def test_a_model_edited_after_signing_leaves_the_signed_contract_as_signed(
    make_node: MakeNode,
) -> None:
    rn = await section(make_node)
    coordinator = await invite_and_log_in(rn, "coord", ["coordinator"])
    ama = await invite_and_log_in(rn, "ama", ["mediator:ama"])
    client = Visitor(rn)
    try:
        ref = await _sign_directly(rn, ama, client)
        saved = await coordinator.post(
            "/admin/contracts/models",
            {
                "kind": "contract",
                "text": "# Nouveau modèle\n\n{client} paie {price}.",
                "action": "save",
            },
        )
        assert saved.status == 303, saved.text[:300]
        models = await coordinator.get("/admin/contracts/models")
        assert "Version 2" in models.text and "Version 1" in models.text
        page = await coordinator.get(f"/admin/contracts?contract={ref}")
        shown = text_of(page.text)
        assert "modèle de contrat, version 1" in shown
        assert "Entre Ama Mensah et Association Lumière" in shown
        assert "Nouveau modèle" not in shown
        assert "Vérifié" in page.text
        # A new contract is made on version 2.
        ref2, link2 = await make_contract(rn, ama)
        fresh = await client_page(client, link2)
        assert "Nouveau modèle" in fresh.text and "version 2" in text_of(fresh.text)
        async with rn.node.sessions() as s:
            numbers = sorted(
                await s.scalars(select(ModelVersion.number).where(ModelVersion.kind == "contract"))
            )
        assert numbers == [1, 2]
    finally:
        for v in (coordinator, ama, client):
            await v.close()


async def test_hostile_markdown_in_a_model_is_sanitised_and_placeholders_are_checked(
    make_node: MakeNode,
) -> None:
    rn = await section(make_node)
    coordinator = await invite_and_log_in(rn, "coord", ["coordinator"])
    ama = await invite_and_log_in(rn, "ama", ["mediator:ama"])
    client = Visitor(rn)
    try:
        hostile = (
            "# Contrat\n\n<script>alert(1)</script> <img src=x onerror=alert(2)>\n\n"
            "[clic](javascript:alert(3)) pour {client}\n"
        )
        preview = await coordinator.post(
            "/admin/contracts/models", {"kind": "contract", "text": hostile, "action": "preview"}
        )
        assert preview.status == 200
        before_form = preview.text.split("<textarea")[0]
        assert "Contrat</h2>" in before_form and "&lt;script&gt;alert(1)" in before_form
        assert "<script" not in before_form and 'href="javascript' not in before_form
        assert "<img" not in before_form
        bad = await coordinator.post(
            "/admin/contracts/models",
            {"kind": "contract", "text": "Bonjour {clent}", "action": "save"},
        )
        assert bad.status == 400
        assert "{clent}" in bad.text and "{client}, {mediator}" in bad.text
        assert "Bonjour {clent}" in bad.text  # the text typed is kept
        saved = await coordinator.post(
            "/admin/contracts/models", {"kind": "contract", "text": hostile, "action": "save"}
        )
        assert saved.status == 303
        # A client name with HTML cannot add markup either.
        offer_ref, link = await make_contract(rn, ama)
        page = await client_page(client, link)
        body = page.text.split('<article class="contract"', 1)[1].split("</article>", 1)[0]
        assert "&lt;script&gt;" in body
        assert "<script" not in body and "<img" not in body and 'href="javascript' not in body
    finally:
        for v in (coordinator, ama, client):
            await v.close()


async def test_a_mediator_cannot_see_or_act_on_another_mediators_contract(
    make_node: MakeNode,
) -> None:
    rn = await section(make_node)
    ama = await invite_and_log_in(rn, "ama", ["mediator:ama"])
    kossi = await invite_and_log_in(rn, "kossi", ["mediator:kossi"])
    member_only = await invite_and_log_in(rn, "coord2", ["coordinator"])
    try:
        ref, _ = await make_contract(rn, ama)
        async with rn.node.sessions() as s:
            before = (await s.scalars(select(Contract).where(Contract.uuid == ref))).one()
        # Through Ama's path: Kossi is not Ama.
        page = await kossi.get(f"/me/mediator/ama/contracts/{ref}")
        assert page.status == 403
        page = await kossi.get("/me/mediator/ama/contracts")
        assert page.status == 403
        # Through his own path: not his contract.
        page = await kossi.get(f"/me/mediator/kossi/contracts/{ref}")
        assert page.status in (403, 404)
        for action, data in [("link", {}), ("cancel", {}), ("hand-in", {"share": "1 EUR"})]:
            done = await kossi.post(
                f"/me/mediator/kossi/contracts/{ref}/{action}",
                data,
                form_page="/me/mediator/kossi/contracts",
            )
            assert done.status in (403, 404), (action, done.status)
            done = await kossi.post(
                f"/me/mediator/ama/contracts/{ref}/{action}",
                data,
                form_page="/me/mediator/kossi/contracts",
            )
            assert done.status == 403, (action, done.status)
        # Kossi cannot make a contract in Ama's name, nor change her visibility.
        made = await kossi.post(
            "/me/mediator/ama/contracts",
            {
                "client": "X",
                "service": "Y",
                "price": "1 EUR",
                "duration": "1",
                "start": "2027-01-01",
                "end": "2027-01-02",
                "share": "0",
            },
            form_page="/me/mediator/kossi/contracts",
        )
        assert made.status == 403
        # Nor the coordinator pages.
        assert (await kossi.get("/admin/contracts")).status == 403
        assert (await kossi.get("/admin/contracts/models")).status == 403
        posted = await kossi.post(
            "/admin/contracts/models",
            {"kind": "contract", "text": "x", "action": "save"},
            form_page="/me/mediator/kossi/contracts",
        )
        assert posted.status == 403
        # A coordinator may look but cannot consent for the mediator.
        refused = await member_only.post(
            "/me/mediator/ama/contracts/visibility",
            {"public": "yes"},
            form_page="/me/mediator/ama/contracts",
        )
        assert refused.status == 403
        async with rn.node.sessions() as s:
            after = (await s.scalars(select(Contract).where(Contract.uuid == ref))).one()
            settings = (await s.scalars(select(SatisfactionSetting))).all()
            versions = (await s.scalars(select(ModelVersion))).all()
        assert (after.state, after.link_hash, after.share_paid_minor) == (
            before.state,
            before.link_hash,
            before.share_paid_minor,
        )
        assert await rn.count(Contract) == 1 and settings == [] and len(versions) == 2
    finally:
        for v in (ama, kossi, member_only):
            await v.close()


async def test_a_member_cannot_reach_the_contract_pages(make_node: MakeNode) -> None:
    from node import sel

    rn = await section(make_node)
    await sel.account_open(rn.node, "awa", "Awa", None, None, by=OPERATOR)
    member = await invite_and_log_in(rn, "awa", ["member:awa"])
    anonymous = Visitor(rn)
    try:
        for path in ("/me/mediator/ama/contracts", "/admin/contracts", "/admin/contracts/models"):
            assert (await member.get(path)).status == 403, path
            seen = await anonymous.get(path)
            assert seen.status == 303 and seen.headers["Location"].startswith("/login"), path
    finally:
        await member.close()
        await anonymous.close()


async def test_satisfaction_shows_on_the_public_profile_only_after_the_mediator_agrees(
    make_node: MakeNode,
) -> None:
    rn = await section(make_node)
    ama = await invite_and_log_in(rn, "ama", ["mediator:ama"])
    client = Visitor(rn)
    public = Visitor(rn)
    try:
        ref = await _sign_directly(rn, ama, client)
        asked = await ama.post(
            f"/me/mediator/ama/contracts/{ref}/ask",
            {},
            form_page=f"/me/mediator/ama/contracts/{ref}",
        )
        assert asked.status == 200
        rating = link_in(asked.text, "/satisfaction/")
        bad = await client.post(rating.removeprefix(rn.url), {"rating": "9", "comment": "hm"})
        assert (
            bad.status == 400
            and "choisissez une note de 1 à 5" in bad.text
            and ">hm</textarea>" in bad.text
        )
        assert (
            await client.post(rating.removeprefix(rn.url), {"rating": "4", "comment": "Bien"})
        ).status == 200
        profile = await public.get("/users/ama")
        assert profile.status == 200 and "Satisfaction des clients" not in profile.text
        shown = await ama.post(
            "/me/mediator/ama/contracts/visibility",
            {"public": "yes"},
            form_page="/me/mediator/ama/contracts",
        )
        assert shown.status == 303
        profile = await public.get("/users/ama")
        assert "Satisfaction des clients" in profile.text and "4.0/5" in profile.text
        assert "Bien" in profile.text
        hidden = await ama.post(
            "/me/mediator/ama/contracts/visibility",
            {"public": "no"},
            form_page="/me/mediator/ama/contracts",
        )
        assert hidden.status == 303
        assert "Satisfaction des clients" not in (await public.get("/users/ama")).text
    finally:
        for v in (ama, client, public):
            await v.close()


def test_every_string_of_the_contract_pages_has_a_french_translation() -> None:
    from pathlib import Path

    from node.i18n import CATALOG
    from node.ui import contracts

    templates = Path(contracts.__file__).parent.parent / "templates" / "ui"
    ids: set[str] = set()
    names = ["_contract*.html", "client_*.html", "mediator_contract*.html", "coord_contract*.html"]
    for pattern in names:
        for path in templates.glob(pattern):
            ids.update(re.findall(r'_\("([^"]+)"\)', path.read_text()))
            ids.update(re.findall(r"_\('([^']+)'\)", path.read_text()))
    ids.update(contracts.MODEL_KINDS.values())
    ids.update(contracts._state_label(Contract(state=s)) for s in ContractState)
    assert len(ids) > 80
    assert sorted(i for i in ids if i not in CATALOG["fr"]) == []


async def test_the_mediators_forms_refuse_bad_values_and_forged_requests(
    make_node: MakeNode,
) -> None:
    rn = await section(make_node)
    ama = await invite_and_log_in(rn, "ama", ["mediator:ama"])
    try:
        base = "/me/mediator/ama/contracts"
        good = {
            "client": "Association Lumière",
            "service": "Site",
            "price": "120 EUR",
            "duration": "12 mois",
            "start": "2027-01-01",
            "end": "2027-12-31",
            "share": "12 EUR",
        }
        for changes, message in [
            ({"price": "douze"}, "le prix\u00a0: écrivez un montant"),
            ({"end": "2026-12-31"}, "doit se terminer le jour où il commence ou après"),
            ({"share": "500 EUR"}, "ne peut pas dépasser le prix"),
            ({"start": "demain"}, "la date de début s'écrit AAAA-MM-JJ"),
            ({"client": " "}, "le nom du client est obligatoire"),
        ]:
            page = await ama.post(base, {**good, **changes}, form_page=base)
            assert page.status == 400, (changes, page.text[:300])
            assert message in text_of(page.text), (changes, text_of(page.text)[-600:])
            assert 'value="12 mois"' in page.text  # what was typed is kept
        assert await rn.count(Contract) == 0
        # Forged or missing CSRF, another site's Origin: refused, nothing made.
        forged = await ama.post(base, {**good, "csrf": "forged"}, csrf=False)
        assert forged.status == 403
        missing = await ama.post(base, good, csrf=False)
        assert missing.status == 403
        async with ama.http.post(
            rn.url + base, data=good, headers={"Origin": "https://evil.example"}
        ) as resp:
            assert resp.status == 403
        assert await rn.count(Contract) == 0
        made = await ama.post(base, good, form_page=base)
        assert made.status == 303
        path = made.headers["Location"]
        for action in ("link", "cancel", "hand-in", "end", "ask"):
            refused = await ama.post(f"{path}/{action}", {"csrf": "forged"}, csrf=False)
            assert refused.status == 403, action
        async with rn.node.sessions() as s:
            row = (await s.scalars(select(Contract))).one()
        assert row.state == ContractState.DRAFT and row.link_hash is None
        # A state refusal shows on the contract's page (400), nothing changed.
        early = await ama.post(f"{path}/hand-in", {"share": "12 EUR"}, form_page=path)
        assert early.status == 400 and "only a signed contract" in early.text
    finally:
        await ama.close()


async def test_long_lists_stay_small_and_the_totals_count_every_contract(
    make_node: MakeNode,
) -> None:
    from models.charter.contracts import ContractDraft

    rn = await section(make_node)
    coordinator = await invite_and_log_in(rn, "coord", ["coordinator"])
    ama = await invite_and_log_in(rn, "ama", ["mediator:ama"])
    try:
        long_name = "Association " + "très longue " * 15
        for i in range(130):
            draft = ContractDraft(
                f"{long_name}{i}", "Hébergement " * 10, "100 EUR", "1 an", "2027-01-01",
                "2027-12-31", "10",
            )  # fmt: skip
            await act.contract_create(rn.node, OPERATOR, "ama", draft)
        for visitor, path in (
            (coordinator, "/admin/contracts"),
            (ama, "/me/mediator/ama/contracts"),
        ):
            page = await visitor.get(path)
            assert page.status == 200 and len(page.text.encode()) < MAX_PAGE, (path, len(page.text))
            assert "Page 1 / 4" in page.text and "Plus anciens" in page.text
            assert page.text.count(long_name.strip()) == 40
            # Every contract is reachable, page by page; the last page holds the first ones.
            seen: set[str] = set()
            for n in range(1, 5):
                page = await visitor.get(f"{path}?page={n}")
                assert page.status == 200 and f"Page {n} / 4" in page.text
                seen |= set(re.findall(re.escape(long_name.strip()) + r" ?(\d+)", page.text))
            assert seen == {str(i) for i in range(130)}
            assert "Plus récents" in page.text and "Plus anciens" not in page.text
            # A page past the end, or not a number: the nearest page, never an error.
            assert "Page 4 / 4" in (await visitor.get(f"{path}?page=99")).text
            assert "Page 1 / 4" in (await visitor.get(f"{path}?page=-1")).text
    finally:
        await coordinator.close()
        await ama.close()
