"""Offers, bulletins, mediators and attestations as other servers and browsers see them.

Real nodes on loopback ports, real HTTP; rows are made with the domain
functions the CLI uses, inside one transaction each.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from models.actors import LocalActor, RemoteActor, get_local_actor
from models.attestations import Attestation, Kind, issue
from models.base import utcnow
from models.bulletins import Bulletin, delete_bulletin, get_bulletin, publish_bulletin
from models.mediators import Profile, add_mediator
from models.offers import (
    CATEGORIES,
    Offer,
    OfferDraft,
    OfferState,
    end_offer,
    get_offer,
    publish_offer,
)
from models.posts import RemoteObject
from node.i18n import CATALOG
from node.pages import CATEGORY_LABELS, KIND_LABELS
from tests.conftest import MakeNode, RunningNode

AP = "application/activity+json"
LD_AS = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
TEMPLATES = Path(__file__).resolve().parents[2] / "node" / "templates"


def varies_on_accept(resp: aiohttp.ClientResponse) -> bool:
    values = ",".join(resp.headers.getall("Vary", []))
    return "accept" in [v.strip().lower() for v in values.split(",")]


async def get_ap(http: aiohttp.ClientSession, url: str, accept: str = AP) -> dict[str, Any]:
    async with http.get(url, headers={"Accept": accept}) as resp:
        assert resp.status == 200, (url, await resp.text())
        assert resp.content_type == AP, (url, resp.content_type)
        assert varies_on_accept(resp), dict(resp.headers)
        doc = await resp.json(content_type=None)
    assert isinstance(doc, dict)
    return doc


async def get_html(
    http: aiohttp.ClientSession,
    url: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> str:
    async with http.get(url, headers={"Accept": BROWSER, **(headers or {})}) as resp:
        body = await resp.text()
        assert resp.status == status, (url, resp.status, body)
        assert resp.content_type == "text/html", (url, resp.content_type)
        return body


async def get_gone_ap(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with http.get(url, headers={"Accept": AP}) as resp:
        assert resp.status == 410, (url, resp.status, await resp.text())
        assert resp.content_type == AP
        doc = await resp.json(content_type=None)
    assert isinstance(doc, dict)
    return doc


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def hrefs(page: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', page)


# ----------------------------------------------------------------------------- helpers


async def node_actor(rn: RunningNode) -> LocalActor:
    async with rn.node.sessions() as session:
        actor = await get_local_actor(session, rn.config.name)
    assert actor is not None
    return actor


async def new_offer(rn: RunningNode, draft: OfferDraft, username: str | None = None) -> Offer:
    async with rn.node.sessions() as session, session.begin():
        actor = await get_local_actor(session, username or rn.config.name)
        assert actor is not None
        return await publish_offer(session, rn.node.urls, actor, draft)


async def new_bulletin(
    rn: RunningNode, title: str, markdown: str, username: str | None = None, **kw: Any
) -> Bulletin:
    async with rn.node.sessions() as session, session.begin():
        actor = await get_local_actor(session, username or rn.config.name)
        assert actor is not None
        return await publish_bulletin(session, rn.node.urls, actor, title, markdown, **kw)


async def new_mediator(rn: RunningNode, username: str, **profile: Any) -> LocalActor:
    async with rn.node.sessions() as session, session.begin():
        return await add_mediator(session, username, Profile(**profile))


async def end(rn: RunningNode, offer: Offer, state: OfferState = OfferState.WITHDRAWN) -> None:
    async with rn.node.sessions() as session, session.begin():
        row = await get_offer(session, offer.uuid)
        assert row is not None
        await end_offer(session, rn.node.urls, row, state)


async def certify(
    rn: RunningNode, subject_uri: str, kind: Kind = Kind.CERTIFICATION
) -> Attestation:
    async with rn.node.sessions() as session, session.begin():
        issuer = await get_local_actor(session, rn.config.name)
        assert issuer is not None
        return await issue(session, rn.node.urls, issuer, kind, subject_uri)


def hosting_offer(title: str = "Hébergement de site associatif", **kw: Any) -> OfferDraft:
    values: dict[str, Any] = {
        "title": title,
        "description": "Un site **WordPress** hébergé à Lomé, sauvegardes comprises.",
        "category": "hosting",
        "price": "25 EUR",
        "sel_hours": "1.5",
        "area": "Grand Lomé",
        "contact": "mailto:contact@lome.example",
        "valid_from": datetime(2026, 1, 1, tzinfo=UTC),
        "valid_until": utcnow() + timedelta(days=365),
    }
    values.update(kw)
    return OfferDraft(**values)


# ----------------------------------------------------------------------------- offers


@pytest.mark.parametrize("accept", [AP, LD_AS], ids=["activity+json", "ld+json"])
async def test_offer_as_activitystreams(
    accept: str, make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node(run_workers=False)
    offer = await new_offer(rn, hosting_offer())

    doc = await get_ap(http, offer.uri, accept)

    assert doc["id"] == offer.uri == f"{rn.url}/offers/{offer.uuid}"
    assert "Proposal" in as_list(doc["type"]) and "Note" in as_list(doc["type"])
    assert doc["attributedTo"] == rn.actor_id
    assert doc["name"] == "Hébergement de site associatif"
    assert "<strong>WordPress</strong>" in doc["content"]
    assert doc["reciprocal"]["resourceQuantity"]["hasNumericalValue"] == "25.00"


async def test_offer_page_for_browsers(make_node: MakeNode, http: aiohttp.ClientSession) -> None:
    rn = await make_node(run_workers=False)
    offer = await new_offer(rn, hosting_offer())

    async with http.get(offer.uri, headers={"Accept": BROWSER}) as resp:
        assert resp.status == 200
        assert varies_on_accept(resp)
        page = await resp.text()

    assert "<h1>Hébergement de site associatif</h1>" in page
    assert "<strong>WordPress</strong>" in page  # the rendered Markdown, not escaped
    assert "Hébergement" in page.split("</h1>", 1)[1]  # category label, in French
    assert "25.00 EUR" in page and "1.5 h SEL" in page
    assert "Grand Lomé" in page
    assert "2026-01-01" in page and offer.valid_until is not None
    assert offer.valid_until.strftime("%Y-%m-%d") in page
    assert 'href="mailto:contact@lome.example"' in page
    assert rn.actor_id in hrefs(page)
    assert "Disponible" in page


async def test_offer_page_in_english(make_node: MakeNode, http: aiohttp.ClientSession) -> None:
    rn = await make_node(run_workers=False)
    offer = await new_offer(rn, hosting_offer(category="training"))

    french = await get_html(http, offer.uri)
    english = await get_html(http, offer.uri + "?lang=en")
    by_header = await get_html(http, offer.uri, headers={"Accept-Language": "en-GB,en;q=0.8"})

    assert "Formation" in french and "Prix" in french and 'lang="fr"' in french
    assert "Training" in english and "Price" in english and 'lang="en"' in english
    assert "Formation" not in english and "Prix" not in english
    assert "Price" in by_header


@pytest.mark.parametrize(
    ("state", "sentence"),
    [
        (OfferState.WITHDRAWN, "Cette offre a été retirée."),
        (OfferState.EXPIRED, "Cette offre a expiré."),
    ],
)
async def test_ended_offer_is_gone(
    state: OfferState, sentence: str, make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node(run_workers=False)
    offer = await new_offer(rn, hosting_offer())
    await end(rn, offer, state)

    doc = await get_gone_ap(http, offer.uri)
    page = await get_html(http, offer.uri, status=410)

    assert doc["id"] == offer.uri
    assert doc["type"] == "Tombstone"
    assert doc["formerType"] == "Proposal"
    assert isinstance(doc["deleted"], str) and doc["deleted"].endswith("Z")
    assert sentence in page
    assert "Hébergement de site associatif" in page


async def test_offer_past_its_end_date_is_gone_before_the_worker_expires_it(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node(run_workers=False)
    offer = await new_offer(rn, hosting_offer())
    async with rn.node.sessions() as session, session.begin():
        row = await get_offer(session, offer.uuid)
        assert row is not None
        row.valid_until = utcnow() - timedelta(minutes=1)

    doc = await get_gone_ap(http, offer.uri)
    listing = await get_html(http, f"{rn.url}/offers")

    assert doc["type"] == "Tombstone"
    assert offer.uri not in hrefs(listing)


@pytest.mark.parametrize("kind", ["offers", "bulletins", "attestations"])
async def test_unknown_objects_are_404(
    kind: str, make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node(run_workers=False)
    url = f"{rn.url}/{kind}/0b0b0b0b-0000-4000-8000-000000000000"

    async with http.get(url, headers={"Accept": AP}) as resp:
        assert resp.status == 404
        assert "error" in await resp.json(content_type=None)
    page = await get_html(http, url, status=404)

    assert "Introuvable" in page


async def test_offer_list_newest_first_with_feed_link(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node(run_workers=False)
    await new_mediator(rn, "akossiwa", name="Akossiwa")
    older = await new_offer(rn, hosting_offer("Formation WordPress", category="training"))
    newer = await new_offer(rn, hosting_offer("Site vitrine"), username="akossiwa")
    withdrawn = await new_offer(rn, hosting_offer("Offre retirée"))
    await end(rn, withdrawn)

    page = await get_html(http, f"{rn.url}/offers")

    links = hrefs(page)
    assert newer.uri in links and older.uri in links
    assert links.index(newer.uri) < links.index(older.uri)
    assert withdrawn.uri not in links and "Offre retirée" not in page
    assert f"{rn.url}/users/akossiwa" in links
    assert re.search(
        r'<link rel="alternate" type="application/atom\+xml"[^>]*href="'
        + re.escape(f"{rn.url}/feeds/offers.atom"),
        page,
    ), page
    assert "<h1>Offres</h1>" in page
    assert "Des sections pairs" in page


async def test_bulletin_list_newest_first_with_feed_link(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node(run_workers=False)
    first = await new_bulletin(rn, "Bulletin de janvier", "Les nouvelles de janvier.")
    second = await new_bulletin(rn, "Bulletin de février", "Les nouvelles de février.")
    gone = await new_bulletin(rn, "Bulletin supprimé", "Rien.")
    async with rn.node.sessions() as session, session.begin():
        row = await get_bulletin(session, gone.uuid)
        assert row is not None
        await delete_bulletin(session, rn.node.urls, row)

    page = await get_html(http, f"{rn.url}/bulletins?lang=en")

    links = hrefs(page)
    assert links.index(second.uri) < links.index(first.uri)
    assert gone.uri not in links
    assert "Les nouvelles de février." in page  # the summary
    assert f"{rn.url}/feeds/bulletins.atom" in links
    assert "<h1>Bulletins</h1>" in page and "From peer sections" in page


# ----------------------------------------------------------------------------- peers' items


async def test_peer_offers_are_listed_and_escaped(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node(run_workers=False)
    peer_actor = "https://marseille.example/users/marseille"
    async with rn.node.sessions() as session, session.begin():
        session.add(
            RemoteActor(
                uri=peer_actor,
                type="Organization",
                preferred_username="marseille",
                name="Section de <b>Marseille</b>",
                inbox=peer_actor + "/inbox",
            )
        )
        session.add(
            RemoteObject(
                uri="https://marseille.example/offers/1",
                actor_uri=peer_actor,
                type="Proposal",
                kind="offer",
                name='Cours <script>alert("x")</script> de Python',
                summary="",
                content="<p>Initiation au code, le <strong>samedi</strong>.</p>",
                url="https://marseille.example/offres/1",
                published=utcnow(),
                body="{}",
            )
        )
        session.add(
            RemoteObject(
                uri="https://marseille.example/offers/2",
                actor_uri=peer_actor,
                type="Proposal",
                kind="offer",
                name="Lien piégé",
                summary="<img src=x onerror=alert(1)>",
                content="",
                url="javascript:alert(1)",
                published=utcnow(),
                body="{}",
            )
        )
        session.add(
            RemoteObject(
                uri="https://marseille.example/bulletins/9",
                actor_uri=peer_actor,
                type="Article",
                kind="bulletin",
                name="Bulletin de Marseille",
                summary="Résumé",
                content="",
                url=None,
                published=utcnow(),
                body="{}",
            )
        )

    page = await get_html(http, f"{rn.url}/offers")
    bulletins = await get_html(http, f"{rn.url}/bulletins")

    assert "<script" not in page
    assert "Cours &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; de Python" in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "Initiation au code, le samedi." in page  # plain text of the sanitised content
    assert "https://marseille.example/offres/1" in hrefs(page)
    assert not any(h.lower().startswith("javascript") for h in hrefs(page))
    assert "Section de &lt;b&gt;Marseille&lt;/b&gt;" in page
    assert "@marseille@marseille.example" in page
    assert "Bulletin de Marseille" not in page  # bulletins are on their own page
    assert "Bulletin de Marseille" in bulletins
    assert "https://marseille.example/bulletins/9" in hrefs(bulletins)  # no url: its id


# ----------------------------------------------------------------------------- bulletins

HOSTILE_MARKDOWN = (
    "Bonjour <script>alert('x')</script> à toutes et à tous.\n\n"
    "## Agenda\n\n- formation le *12*\n- <img src=x onerror=alert(1)>\n\n"
    "[lien](javascript:alert(1)) et [site](https://coop.example/)\n"
)


async def test_bulletin_as_activitystreams(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node(run_workers=False)
    bulletin = await new_bulletin(rn, "Bulletin de mars", HOSTILE_MARKDOWN)

    doc = await get_ap(http, bulletin.uri)

    assert doc["id"] == bulletin.uri == f"{rn.url}/bulletins/{bulletin.uuid}"
    assert doc["type"] == "Article"
    assert doc["attributedTo"] == rn.actor_id
    assert doc["name"] == "Bulletin de mars"
    assert "<h2>Agenda</h2>" in doc["content"]
    assert "<script" not in doc["content"]
    assert "<img" not in doc["content"] and 'href="javascript' not in doc["content"]


async def test_bulletin_summary_in_activitystreams_is_safe_html(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    """AS2 ``summary`` is HTML: Markdown's literal ``<script>`` must reach peers escaped."""
    rn = await make_node(run_workers=False)
    bulletin = await new_bulletin(rn, "Bulletin de mars", HOSTILE_MARKDOWN)

    async with http.get(bulletin.uri, headers={"Accept": AP}) as resp:
        doc = json.loads(await resp.text())

    # summary and content are HTML in AS2: the literal tag arrives escaped.
    # (source.content is the author's Markdown, typed text/markdown, not HTML.)
    assert "<script" not in doc["summary"] and "&lt;script&gt;" in doc["summary"]
    assert "<script" not in doc["content"]
    assert doc["source"]["mediaType"] == "text/markdown"


async def test_bulletin_page_for_browsers(make_node: MakeNode, http: aiohttp.ClientSession) -> None:
    rn = await make_node(run_workers=False)
    bulletin = await new_bulletin(rn, "Bulletin de mars", HOSTILE_MARKDOWN)

    async with http.get(bulletin.uri, headers={"Accept": BROWSER}) as resp:
        assert resp.status == 200 and resp.content_type == "text/html"
        assert varies_on_accept(resp)
        page = await resp.text()
    listing = await get_html(http, f"{rn.url}/bulletins")
    actor_page = await get_html(http, rn.actor_id)

    assert "<h1>Bulletin de mars</h1>" in page
    assert "<h2>Agenda</h2>" in page and "<em>12</em>" in page
    assert 'href="https://coop.example/"' in page
    assert bulletin.published.strftime("%Y-%m-%d") in page
    assert rn.actor_id in hrefs(page)
    for body in (page, listing, actor_page):
        assert "<script" not in body
        assert "<img src=x" not in body
        assert not any(h.lower().startswith("javascript") for h in hrefs(body))
    assert bulletin.uri in hrefs(actor_page)


async def test_deleted_bulletin_is_gone(make_node: MakeNode, http: aiohttp.ClientSession) -> None:
    rn = await make_node(run_workers=False)
    bulletin = await new_bulletin(rn, "Bulletin d'avril", "Texte.")
    async with rn.node.sessions() as session, session.begin():
        row = await get_bulletin(session, bulletin.uuid)
        assert row is not None
        await delete_bulletin(session, rn.node.urls, row)

    doc = await get_gone_ap(http, bulletin.uri)
    page = await get_html(http, bulletin.uri + "?lang=en", status=410)

    assert doc == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": bulletin.uri,
        "type": "Tombstone",
        "formerType": "Article",
        "deleted": doc["deleted"],
    }
    assert "This bulletin was deleted." in page


# ----------------------------------------------------------------------------- mediators


async def test_mediators_page(make_node: MakeNode, http: aiohttp.ClientSession) -> None:
    rn = await make_node(run_workers=False)
    await new_mediator(
        rn, "kofi", name="Kofi Mensah", skills=["WordPress", "formation"], area="Lomé nord"
    )
    await new_mediator(rn, "ama", name="Ama <i>Doe</i>")
    host = rn.url.split("://", 1)[1]

    page = await get_html(http, f"{rn.url}/mediators")

    assert "Kofi Mensah" in page and f"@kofi@{host}" in page
    assert "WordPress, formation" in page and "Lomé nord" in page
    assert f"{rn.url}/users/kofi" in hrefs(page)
    assert "Ama &lt;i&gt;Doe&lt;/i&gt;" in page and f"@ama@{host}" in page
    assert page.index("Ama") < page.index("Kofi")  # by username
    assert "<h1>Médiateurs</h1>" in page


async def test_mediator_profile_page(make_node: MakeNode, http: aiohttp.ClientSession) -> None:
    rn = await make_node(run_workers=False)
    await new_mediator(
        rn,
        "kofi",
        name="Kofi Mensah",
        summary="Médiateur à Lomé.",
        skills=["WordPress", "Télétravail"],
        area="Lomé nord",
        contact="https://kofi.example/contact",
        avatar="https://kofi.example/kofi.png",
    )
    kofi = f"{rn.url}/users/kofi"
    offer = await new_offer(rn, hosting_offer("Site pour artisans"), username="kofi")
    bulletin = await new_bulletin(rn, "Nouvelles de Kofi", "Texte.", username="kofi")
    node_offer = await new_offer(rn, hosting_offer("Offre de la section"))

    before = await get_html(http, kofi)
    attestation = await certify(rn, kofi)
    after = await get_html(http, kofi)

    assert "Non certifié" in before and attestation.uri not in hrefs(before)
    assert attestation.uri in hrefs(after)
    assert "Certifié par la section" in after
    assert "WordPress, Télétravail" in after and "Lomé nord" in after
    assert "https://kofi.example/contact" in hrefs(after)
    img = re.search(r"<img [^>]*>", after)
    assert img is not None
    assert 'src="https://kofi.example/kofi.png"' in img.group(0)
    assert 'alt="Photo de Kofi Mensah"' in img.group(0)
    assert offer.uri in hrefs(after) and bulletin.uri in hrefs(after)
    assert node_offer.uri not in hrefs(after)


async def test_node_page_lists_mediators_and_links_to_lists(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node(run_workers=False)
    await new_mediator(rn, "kofi", name="Kofi Mensah", skills=["WordPress"])
    offer = await new_offer(rn, hosting_offer())

    page = await get_html(http, rn.actor_id)

    links = hrefs(page)
    for path in ("/offers", "/bulletins", "/mediators", "/users/kofi"):
        assert f"{rn.url}{path}" in links, path
    assert "Kofi Mensah" in page
    assert offer.uri in links
    assert f"{rn.url}/feeds/offers.atom" in links


# ----------------------------------------------------------------------------- attestations


async def test_attestation_document_page_and_collection(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node(run_workers=False)
    await new_mediator(rn, "kofi", name="Kofi Mensah")
    kofi = f"{rn.url}/users/kofi"
    row = await certify(rn, kofi)
    collection_url = f"{rn.actor_id}/certified-mediators"

    doc = await get_ap(http, row.uri)
    page = await get_html(http, row.uri)
    coll = await get_ap(http, collection_url)
    first = await get_ap(http, coll["first"])
    other = await get_ap(http, f"{rn.actor_id}/authorized-sections?page=1")

    assert doc == row.json
    assert doc["type"] == "MediatorCertification" and doc["object"] == kofi
    assert doc["proof"]["type"] == "DataIntegrityProof"
    assert "Certification de médiateur" in page
    assert "Kofi Mensah" in page and kofi in hrefs(page) and rn.actor_id in hrefs(page)
    assert row.issued_at.strftime("%Y-%m-%d") in page
    assert coll["id"] == collection_url and coll["type"] == "OrderedCollection"
    assert coll["totalItems"] == 1
    assert first["orderedItems"] == [row.uri] and first["partOf"] == collection_url
    assert other["orderedItems"] == [] and other["totalItems"] == 0

    async with rn.node.sessions() as session, session.begin():
        stored = (
            await session.execute(select(Attestation).where(Attestation.id == row.id))
        ).scalar_one()
        stored.revoked_at = utcnow()

    coll = await get_ap(http, collection_url)
    first = await get_ap(http, coll["first"])
    gone = await get_gone_ap(http, row.uri)
    gone_page = await get_html(http, row.uri, status=410)

    assert coll["totalItems"] == 0 and first["orderedItems"] == []
    assert gone["id"] == row.uri and gone["type"] == "Tombstone"
    assert gone["formerType"] == "MediatorCertification"
    assert isinstance(gone["deleted"], str) and gone["deleted"].endswith("Z")
    assert "Cette attestation a été révoquée." in gone_page


async def test_authorized_sections_collection(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    seat = await make_node("siege", "seat", run_workers=False)
    lille = "https://lille.example/users/lille"
    row = await certify(seat, lille, Kind.AUTHORIZATION)
    url = f"{seat.actor_id}/authorized-sections"

    coll = await get_ap(http, url)
    first = await get_ap(http, f"{url}?page=1")
    page = await get_html(http, row.uri + "?lang=en")
    certified = await get_ap(http, f"{seat.actor_id}/certified-mediators")

    assert coll["totalItems"] == 1
    assert first["orderedItems"] == [row.uri]
    assert (await get_ap(http, row.uri))["type"] == "SectionAuthorization"
    assert "Authorisation to certify mediators" in page and lille in hrefs(page)
    assert certified["totalItems"] == 0


@pytest.mark.parametrize("name", ["certified-mediators", "authorized-sections"])
async def test_attestation_collections_of_unknown_actor_are_404(
    name: str, make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node(run_workers=False)
    async with http.get(f"{rn.url}/users/nobody/{name}", headers={"Accept": AP}) as resp:
        assert resp.status == 404


# ----------------------------------------------------------------------------- translations


def test_every_page_string_has_a_french_translation() -> None:
    ids: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        ids |= set(re.findall(r'_\("([^"]+)"\)', text))
        ids |= set(re.findall(r"_\('([^']+)'\)", text))
    ids |= set(CATEGORY_LABELS.values()) | set(KIND_LABELS.values())
    french = CATALOG["fr"]

    missing = sorted(i for i in ids if i not in french)

    assert len(ids) > 40
    assert missing == []


def test_category_labels_translate_to_the_model_french_labels() -> None:
    french = CATALOG["fr"]
    assert set(CATEGORY_LABELS) == set(CATEGORIES)
    for key, label in CATEGORY_LABELS.items():
        assert french[label] == CATEGORIES[key], key
