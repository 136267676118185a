"""Atom feeds of offers and bulletins: the pure builder, then the node's two feeds over HTTP.

Feeds are read back with feedparser, as a feed reader would; ``bozo == 0``
means it found well-formed XML it fully understood.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import feedparser

from models.actors import get_local_actor
from models.bulletins import Bulletin, delete_bulletin, get_bulletin, publish_bulletin
from models.html import html_to_text
from models.mediators import Profile, add_mediator
from models.offers import Offer, OfferDraft, end_offer, get_offer, publish_offer
from node.feeds import FeedEntry, atom_feed, plain_excerpt, xml_text
from tests.conftest import MakeNode, RunningNode

ATOM = "{http://www.w3.org/2005/Atom}"
T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def entry(n: int, **kw: Any) -> FeedEntry:
    values: dict[str, Any] = {
        "id": f"https://lome.example/bulletins/{n}",
        "title": f"Bulletin {n}",
        "link": f"https://lome.example/bulletins/{n}",
        "published": T0 + timedelta(days=n),
        "updated": T0 + timedelta(days=n),
        "author_name": "Section de Lomé",
        "author_uri": "https://lome.example/users/lome",
        "summary": f"Résumé {n}",
        "content_html": f"<p>Texte <strong>{n}</strong></p>",
    }
    values.update(kw)
    return FeedEntry(**values)


def build(entries: list[FeedEntry], **kw: Any) -> bytes:
    values: dict[str, Any] = {
        "feed_id": "https://lome.example/feeds/bulletins.atom",
        "title": "Lomé : bulletins",
        "self_url": "https://lome.example/feeds/bulletins.atom",
        "alternate_url": "https://lome.example/bulletins",
        "entries": entries,
        "fallback_updated": T0,
        "lang": "fr",
    }
    values.update(kw)
    return atom_feed(**values)


# ----------------------------------------------------------------------------- the builder


def test_feed_has_the_required_atom_elements() -> None:
    body = build([entry(2), entry(1)])
    feed = feedparser.parse(body)

    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id == "https://lome.example/feeds/bulletins.atom"
    assert feed.feed.title == "Lomé : bulletins"
    assert feed.feed.updated == "2026-03-03T09:30:00Z"  # the newest entry's
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {
        "self": "https://lome.example/feeds/bulletins.atom",
        "alternate": "https://lome.example/bulletins",
    }
    assert [e.title for e in feed.entries] == ["Bulletin 2", "Bulletin 1"]
    first = feed.entries[0]
    assert first.id == first.link == "https://lome.example/bulletins/2"
    assert first.published == "2026-03-03T09:30:00Z"
    assert first.author == "Section de Lomé"
    assert first.author_detail.href == "https://lome.example/users/lome"
    assert first.summary == "Résumé 2"
    assert first.content[0].type == "text/html"
    assert first.content[0].value == "<p>Texte <strong>2</strong></p>"


def test_empty_feed_is_still_valid_atom() -> None:
    body = build([])
    feed = feedparser.parse(body)
    root = ET.fromstring(body)

    assert feed.bozo == 0
    assert feed.entries == []
    assert root.findtext(f"{ATOM}updated") == "2026-03-01T09:30:00Z"
    assert root.findtext(f"{ATOM}id") == "https://lome.example/feeds/bulletins.atom"


def test_untrusted_text_is_escaped_and_illegal_characters_dropped() -> None:
    hostile = entry(
        1,
        title='<script>alert("t")</script> & co',
        author_name="</name><evil/>",
        summary="a\x00b\x1bc",
        content_html="<p>ok</p>]]><script>x</script>",
    )
    body = build([hostile], title="Feed \x08 title")
    feed = feedparser.parse(body)
    root = ET.fromstring(body)  # raises if the XML were broken

    assert b"<script" not in body and b"<evil" not in body
    assert feed.bozo == 0
    assert root.find(f"{ATOM}entry/{ATOM}title").text == '<script>alert("t")</script> & co'  # type: ignore[union-attr]
    assert root.findtext(f"{ATOM}entry/{ATOM}author/{ATOM}name") == "</name><evil/>"
    assert root.findtext(f"{ATOM}entry/{ATOM}summary") == "abc"
    assert root.findtext(f"{ATOM}title") == "Feed  title"
    content = root.find(f"{ATOM}entry/{ATOM}content")
    assert content is not None and content.get("type") == "html"
    assert content.text == "<p>ok</p>]]><script>x</script>"  # as text, never as markup


def test_xml_text_keeps_every_legal_character() -> None:
    text = "tab\tnl\ncr\r é 漢 😀 \ufffd"
    assert xml_text(text) == text
    assert xml_text("\x00\x01\x0b\x0c\x1f\ufffe\uffff") == ""


def test_plain_excerpt() -> None:
    assert plain_excerpt("  a\n b  ") == "a b"
    long = " ".join(["mot"] * 200)
    cut = plain_excerpt(long, 300)
    assert len(cut) <= 300 and cut.endswith("…") and cut.startswith("mot mot")
    assert not cut[:-1].endswith(" ")
    assert plain_excerpt("x" * 400, 300) == "x" * 299 + "…"


# ----------------------------------------------------------------------------- the node's feeds


async def fetch_feed(http: aiohttp.ClientSession, url: str) -> tuple[bytes, Any]:
    async with http.get(url) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
        body = await resp.read()
    feed = feedparser.parse(body)
    assert feed.bozo == 0, feed.get("bozo_exception")
    return body, feed


async def publish_offers(rn: RunningNode) -> list[Offer]:
    urls = rn.node.urls
    async with rn.node.sessions() as session, session.begin():
        await add_mediator(session, "kofi", Profile(name="Kofi Mensah"))
        lome = await get_local_actor(session, "lome")
        kofi = await get_local_actor(session, "kofi")
        assert lome is not None and kofi is not None
        long_text = "Un hébergement complet. " * 40
        offers = [
            await publish_offer(
                session,
                urls,
                lome,
                OfferDraft(
                    title="Hébergement associatif",
                    description=long_text,
                    category="hosting",
                    price="25 EUR",
                ),
            ),
            await publish_offer(
                session,
                urls,
                kofi,
                OfferDraft(
                    title="Formation <WordPress> & co",
                    description="Deux *samedis*.",
                    category="training",
                    sel_hours="3",
                ),
            ),
            await publish_offer(
                session,
                urls,
                lome,
                OfferDraft(
                    title="Offre retirée",
                    description="Plus d'actualité.",
                    category="other",
                    price="5",
                ),
            ),
        ]
        await end_offer(session, urls, offers[2])
    return offers


async def test_offers_feed(make_node: MakeNode, http: aiohttp.ClientSession) -> None:
    rn = await make_node(run_workers=False)
    offers = await publish_offers(rn)

    body, feed = await fetch_feed(http, f"{rn.url}/feeds/offers.atom")

    assert feed.feed.id == f"{rn.url}/feeds/offers.atom"
    assert feed.feed.title == "Lome: Offres"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links["self"] == f"{rn.url}/feeds/offers.atom"
    assert links["alternate"] == f"{rn.url}/offers"
    assert len(feed.entries) == 2  # the withdrawn one is left out
    by_id = {e.id: e for e in feed.entries}
    assert set(by_id) == {offers[0].uri, offers[1].uri}
    assert [e.id for e in feed.entries] == [offers[1].uri, offers[0].uri]  # newest first
    hosting, training = by_id[offers[0].uri], by_id[offers[1].uri]
    assert hosting.title == "Hébergement associatif"
    assert training.title == "Formation <WordPress> & co"
    assert hosting.link == offers[0].uri
    assert hosting.author == "Lome" and training.author == "Kofi Mensah"
    assert training.author_detail.href == f"{rn.url}/users/kofi"
    # Summary: the first 300 characters of the description as plain text.
    assert 250 < len(hosting.summary) <= 300
    assert hosting.summary.startswith("Un hébergement complet.")
    assert training.summary == "Deux samedis."
    assert "<em>samedis</em>" in training.content[0].value
    assert "3 h SEL" in training.content[0].value
    assert "Offre retirée" not in body.decode()
    assert b"<WordPress>" not in body


async def test_bulletins_feed_keeps_script_out(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node(run_workers=False)
    urls = rn.node.urls
    async with rn.node.sessions() as session, session.begin():
        lome = await get_local_actor(session, "lome")
        assert lome is not None
        january = await publish_bulletin(
            session,
            urls,
            lome,
            "Bulletin de janvier",
            "Bonjour <script>alert('x')</script> à tous.\n\nSuite <b>gras</b>.",
        )
        february = await publish_bulletin(
            session,
            urls,
            lome,
            "Bulletin de février",
            "## Agenda\n\nRéunion le 12.",
            summary="Le mois en bref.",
        )
        deleted: Bulletin = await publish_bulletin(session, urls, lome, "Supprimé", "Rien.")
    async with rn.node.sessions() as session, session.begin():
        row = await get_bulletin(session, deleted.uuid)
        assert row is not None
        await delete_bulletin(session, urls, row)

    body, feed = await fetch_feed(http, f"{rn.url}/feeds/bulletins.atom?lang=en")

    assert b"<script" not in body and b"<b>" not in body
    assert feed.feed.title == "Lome: Bulletins"
    assert feed.feed.language == "en"
    assert [e.title for e in feed.entries] == ["Bulletin de février", "Bulletin de janvier"]
    assert [e.link for e in feed.entries] == [february.uri, january.uri]
    assert feed.entries[0].summary == "Le mois en bref."
    assert feed.entries[1].summary == january.summary
    assert "<h2>Agenda</h2>" in feed.entries[0].content[0].value
    text = html_to_text(feed.entries[1].content[0].value)
    assert "<script>alert('x')</script>" in text  # shown as text, never as a tag


async def test_feed_updated_follows_the_newest_change(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node(run_workers=False)
    urls = rn.node.urls
    async with rn.node.sessions() as session, session.begin():
        lome = await get_local_actor(session, "lome")
        assert lome is not None
        offer = await publish_offer(
            session, urls, lome, OfferDraft(title="Télétravail", description="x", price="1")
        )
    later = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    async with rn.node.sessions() as session, session.begin():
        row = await get_offer(session, offer.uuid)
        assert row is not None
        row.updated_at = later

    _, feed = await fetch_feed(http, f"{rn.url}/feeds/offers.atom")

    assert feed.feed.updated == "2030-01-02T03:04:05Z"
    assert feed.entries[0].updated == "2030-01-02T03:04:05Z"
    assert feed.entries[0].published != feed.entries[0].updated
