"""Pages, lists and feeds for offers, bulletins, mediators and attestations.

An offer, a bulletin or an attestation has one URL: ActivityStreams JSON
for clients that ask for it, an HTML page for browsers (``Vary: Accept``),
410 Gone with a Tombstone once it was withdrawn, expired, deleted or
revoked. The lists (``/offers``, ``/bulletins``, ``/mediators``) are pages
for people; the Atom feeds carry the same offers and bulletins to feed
readers. Everything shown comes either from our own sanitised rows or from
peers' rows sanitised on arrival; names and summaries are text, escaped by
the templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import AS_CONTEXT
from models.actors import LocalActor, RemoteActor, get_local_actor
from models.attestations import Attestation, Kind, collection_of, find_issued, list_issued
from models.base import utcnow
from models.bulletins import Bulletin, bulletin_to_ap, get_bulletin, list_bulletins
from models.html import html_to_text
from models.mediators import list_mediators
from models.offers import CATEGORIES, Offer, OfferState, get_offer, list_offers, offer_to_ap
from models.posts import RemoteObject
from models.to_ap import iso
from models.urls import Urls
from node.collections import PAGE_SIZE, collection, page, page_number
from node.context import Node
from node.feeds import FEED_LIMIT, FeedEntry, atom_feed, plain_excerpt
from node.i18n import pick_language, translator
from node.web import ap_response, get_node, wants_ap

routes = web.RouteTableDef()

#: English message ids of the offer categories; French labels are models.offers.CATEGORIES.
CATEGORY_LABELS = {
    "hosting": "Hosting",
    "training": "Training",
    "website": "Website building",
    "telework": "Telework",
    "help": "Mutual help",
    "other": "Other",
}
#: How many items from peer sections a list page shows.
PEER_LIMIT = 50
LINK_SCHEMES = ("https://", "http://")


def _html(
    template: str, request: web.Request, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    resp = aiohttp_jinja2.render_template(template, request, context, status=status)
    resp.headers["Vary"] = "Accept"
    return resp


def _web_link(url: str | None) -> str | None:
    """Only http(s) links from peers become hrefs; anything else is shown as text or not at all."""
    return url if url and url.startswith(LINK_SCHEMES) else None


def _gone(
    request: web.Request,
    uri: str,
    former_type: str,
    when: datetime | None,
    reason: str,
    context: dict[str, Any] | None = None,
) -> web.Response:
    """410 for something that existed: a Tombstone for machines, a short page for people.

    ``reason`` picks the sentence in gone.html: withdrawn, expired, deleted, revoked.
    """
    if wants_ap(request):
        doc: dict[str, Any] = {
            "@context": AS_CONTEXT,
            "id": uri,
            "type": "Tombstone",
            "formerType": former_type,
        }
        if when is not None:
            doc["deleted"] = iso(when)
        return ap_response(doc, status=410)
    return _html(
        "gone.html",
        request,
        {"uri": uri, "reason": reason, "when": when, **(context or {})},
        status=410,
    )


async def _local_actors(session: AsyncSession) -> dict[int, LocalActor]:
    return {a.id: a for a in (await session.execute(select(LocalActor))).scalars()}


def _offer_end(offer: Offer, actor: LocalActor | None, now: datetime) -> str | None:
    """Why an offer is no longer on offer, or None while it stands.

    An offer past its end date is expired even before the worker that
    federates the expiry has run; an offer by a removed mediator went with it.
    """
    if offer.state != OfferState.PUBLISHED:
        return str(offer.state)
    if offer.valid_until is not None and offer.valid_until <= now:
        return OfferState.EXPIRED.value
    if actor is None or actor.deleted_at is not None:
        return "withdrawn"
    return None


def category_label(key: str) -> str:
    """The English message id of a category (the page translates it)."""
    return CATEGORY_LABELS.get(key, CATEGORIES.get(key, key))


def offer_price(offer: Offer) -> list[str]:
    """Money and/or SEL time, as shown: ['25.00 EUR', '1.5 h SEL']."""
    parts = []
    if offer.price_amount:
        parts.append(f"{offer.price_amount} {offer.price_currency}")
    if offer.sel_minutes is not None:
        parts.append(f"{offer.sel_hours} h SEL")
    return parts


def _handle(urls: Urls, actor: LocalActor) -> str:
    return f"@{actor.username}@{urls.host}"


# ----------------------------------------------------------------------------- offers


@routes.get("/offers/{uuid}")
async def offer_view(request: web.Request) -> web.StreamResponse:
    node = get_node(request)
    async with node.sessions() as session:
        offer = await get_offer(session, request.match_info["uuid"])
        if offer is None:
            raise web.HTTPNotFound(text="no such offer")
        actor = await session.get(LocalActor, offer.local_actor_id)
    ended = _offer_end(offer, actor, utcnow())
    if ended is not None or actor is None:
        when = offer.ended_at or (actor.deleted_at if actor else None) or offer.valid_until
        reason = ended or "withdrawn"
        return _gone(request, offer.uri, "Proposal", when, reason, {"title": offer.title})
    if wants_ap(request):
        return ap_response(offer_to_ap(node.urls, actor, offer))
    return _html(
        "offer.html",
        request,
        {
            "offer": offer,
            "actor": actor,
            "handle": _handle(node.urls, actor),
            "category": category_label(offer.category),
            "price": offer_price(offer),
        },
    )


async def _peer_items(session: AsyncSession, kind: str) -> list[dict[str, Any]]:
    """Offers or bulletins received from peers, newest first, with their author when known."""
    rows = (
        await session.execute(
            select(RemoteObject, RemoteActor)
            .outerjoin(RemoteActor, RemoteActor.uri == RemoteObject.actor_uri)
            .where(RemoteObject.kind == kind)
            .order_by(RemoteObject.received_at.desc(), RemoteObject.id.desc())
            .limit(PEER_LIMIT)
        )
    ).all()
    items = []
    for obj, author in rows:
        text = obj.summary or plain_excerpt(html_to_text(obj.content), 300)
        items.append(
            {
                "title": obj.name,
                "text": text,
                "href": _web_link(obj.url) or _web_link(obj.uri),
                "published": obj.published or obj.received_at,
                "author_name": (author.name or author.handle) if author else obj.actor_uri,
                "author_handle": author.handle if author else None,
                "author_href": _web_link((author.url if author else None) or obj.actor_uri),
            }
        )
    return items


@routes.get("/offers")
async def offers_page(request: web.Request) -> web.StreamResponse:
    node = get_node(request)
    async with node.sessions() as session:
        actors = await _local_actors(session)
        offers = await _live_offers(session, actors)
        peers = await _peer_items(session, "offer")
    return _html(
        "offers.html",
        request,
        {
            "offers": [
                {
                    "offer": o,
                    "actor": actors[o.local_actor_id],
                    "category": category_label(o.category),
                    "price": offer_price(o),
                }
                for o in offers
            ],
            "peers": peers,
            "feed": f"{node.urls.base}/feeds/offers.atom",
        },
    )


async def _live_offers(session: AsyncSession, actors: dict[int, LocalActor]) -> list[Offer]:
    now = utcnow()
    return [
        o
        for o in await list_offers(session)
        if _offer_end(o, actors.get(o.local_actor_id), now) is None
    ]


# ----------------------------------------------------------------------------- bulletins


@routes.get("/bulletins/{uuid}")
async def bulletin_view(request: web.Request) -> web.StreamResponse:
    node = get_node(request)
    async with node.sessions() as session:
        bulletin = await get_bulletin(session, request.match_info["uuid"])
        if bulletin is None:
            raise web.HTTPNotFound(text="no such bulletin")
        actor = await session.get(LocalActor, bulletin.local_actor_id)
    if bulletin.deleted_at is not None or actor is None or actor.deleted_at is not None:
        when = bulletin.deleted_at or (actor.deleted_at if actor else None)
        return _gone(request, bulletin.uri, "Article", when, "deleted", {"title": bulletin.title})
    if wants_ap(request):
        return ap_response(bulletin_to_ap(node.urls, actor, bulletin))
    return _html(
        "bulletin.html",
        request,
        {"bulletin": bulletin, "actor": actor, "handle": _handle(node.urls, actor)},
    )


async def _live_bulletins(session: AsyncSession, actors: dict[int, LocalActor]) -> list[Bulletin]:
    return [
        b
        for b in await list_bulletins(session)
        if (a := actors.get(b.local_actor_id)) is not None and a.deleted_at is None
    ]


@routes.get("/bulletins")
async def bulletins_page(request: web.Request) -> web.StreamResponse:
    node = get_node(request)
    async with node.sessions() as session:
        actors = await _local_actors(session)
        bulletins = await _live_bulletins(session, actors)
        peers = await _peer_items(session, "bulletin")
    return _html(
        "bulletins.html",
        request,
        {
            "bulletins": [{"bulletin": b, "actor": actors[b.local_actor_id]} for b in bulletins],
            "peers": peers,
            "feed": f"{node.urls.base}/feeds/bulletins.atom",
        },
    )


# ----------------------------------------------------------------------------- mediators


@routes.get("/mediators")
async def mediators_page(request: web.Request) -> web.StreamResponse:
    node = get_node(request)
    async with node.sessions() as session:
        mediators = await list_mediators(session)
        certified = {
            row.subject_uri: row.uri
            for row in (
                await session.execute(
                    select(Attestation).where(
                        Attestation.kind == Kind.CERTIFICATION, Attestation.revoked_at.is_(None)
                    )
                )
            ).scalars()
        }
    return _html(
        "mediators.html",
        request,
        {
            "mediators": [
                {
                    "actor": m,
                    "handle": _handle(node.urls, m),
                    "certification": certified.get(node.urls.actor(m.username)),
                }
                for m in mediators
            ]
        },
    )


# ----------------------------------------------------------------------------- attestations

KIND_LABELS = {
    Kind.AUTHORIZATION.value: "Authorisation to certify mediators",
    Kind.CERTIFICATION.value: "Mediator certification",
}


@routes.get("/attestations/{uuid}")
async def attestation_view(request: web.Request) -> web.StreamResponse:
    node = get_node(request)
    async with node.sessions() as session:
        row = await find_issued(session, request.match_info["uuid"])
        if row is None:
            raise web.HTTPNotFound(text="no such attestation")
        issuer = await session.get(LocalActor, row.issuer_actor_id)
        subject = await _subject(session, node.urls, row.subject_uri)
    doc = row.json
    former = doc.get("type") if isinstance(doc.get("type"), str) else "Object"
    context = {
        "att": row,
        "kind": KIND_LABELS.get(row.kind, row.kind),
        "issuer": issuer,
        "issuer_href": node.urls.actor(issuer.username) if issuer else None,
        "subject": subject,
    }
    if row.revoked_at is not None:
        return _gone(request, row.uri, str(former), row.revoked_at, "revoked", context)
    if wants_ap(request):
        return ap_response(doc)
    return _html("attestation.html", request, context)


@dataclass
class Subject:
    name: str
    href: str | None
    handle: str | None


async def _subject(session: AsyncSession, urls: Urls, uri: str) -> Subject:
    """Who an attestation is about: one of our actors, a known remote actor, or just its URI."""
    username = urls.local_username(uri)
    if username:
        local = await get_local_actor(session, username)
        if local is not None:
            return Subject(local.name or local.username, uri, _handle(urls, local))
    remote = (
        await session.execute(select(RemoteActor).where(RemoteActor.uri == uri))
    ).scalar_one_or_none()
    if remote is not None:
        return Subject(remote.name or remote.handle, _web_link(remote.url or uri), remote.handle)
    return Subject(uri, _web_link(uri), None)


async def _attestation_collection(request: web.Request, kind: Kind) -> web.StreamResponse:
    node = get_node(request)
    async with node.sessions() as session:
        actor = await get_local_actor(session, request.match_info["username"])
        if actor is None:
            raise web.HTTPNotFound(text="no such actor")
        rows = await list_issued(session, actor.id, kind)
    ident = collection_of(node.urls, actor, kind)
    number = page_number(request.query.get("page"))
    if number is None:
        return ap_response(collection(ident, len(rows)))
    start = (number - 1) * PAGE_SIZE
    items = [r.uri for r in rows[start : start + PAGE_SIZE]]
    return ap_response(page(ident, number, len(rows), items))


@routes.get("/users/{username}/certified-mediators")
async def certified_mediators(request: web.Request) -> web.StreamResponse:
    return await _attestation_collection(request, Kind.CERTIFICATION)


@routes.get("/users/{username}/authorized-sections")
async def authorized_sections(request: web.Request) -> web.StreamResponse:
    return await _attestation_collection(request, Kind.AUTHORIZATION)


# ----------------------------------------------------------------------------- feeds


def _feed_response(node: Node, lang: str, kind: str, entries: list[FeedEntry]) -> web.Response:
    """One Atom document for /feeds/{kind}.atom, whose HTML twin is /{kind}."""
    _ = translator(lang)
    self_url = f"{node.urls.base}/feeds/{kind}.atom"
    body = atom_feed(
        feed_id=self_url,
        title=f"{node.config.title}: {_(kind.capitalize())}",
        self_url=self_url,
        alternate_url=f"{node.urls.base}/{kind}",
        entries=entries,
        fallback_updated=utcnow(),
        lang=lang,
    )
    return web.Response(body=body, content_type="application/atom+xml", charset="utf-8")


def _entry(
    node: Node, actor: LocalActor, item: Offer | Bulletin, summary: str, html: str
) -> FeedEntry:
    return FeedEntry(
        id=item.uri,
        title=item.title,
        link=item.uri,
        published=item.published,
        updated=item.updated_at or item.published,
        author_name=actor.name or actor.username,
        author_uri=node.urls.actor(actor.username),
        summary=summary,
        content_html=html,
    )


@routes.get("/feeds/offers.atom")
async def offers_feed(request: web.Request) -> web.StreamResponse:
    node = get_node(request)
    async with node.sessions() as session:
        actors = await _local_actors(session)
        offers = (await _live_offers(session, actors))[:FEED_LIMIT]
    entries = []
    for offer in offers:
        actor = actors[offer.local_actor_id]
        # The Note's content: title, text, category, price, area, link; all escaped.
        html = str(offer_to_ap(node.urls, actor, offer)["content"])
        summary = plain_excerpt(html_to_text(offer.content), 300)
        entries.append(_entry(node, actor, offer, summary, html))
    return _feed_response(node, pick_language(request), "offers", entries)


@routes.get("/feeds/bulletins.atom")
async def bulletins_feed(request: web.Request) -> web.StreamResponse:
    node = get_node(request)
    async with node.sessions() as session:
        actors = await _local_actors(session)
        bulletins = (await _live_bulletins(session, actors))[:FEED_LIMIT]
    entries = [_entry(node, actors[b.local_actor_id], b, b.summary, b.content) for b in bulletins]
    return _feed_response(node, pick_language(request), "bulletins", entries)
