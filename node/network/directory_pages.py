"""The shared offer directory on the web, the offers collection, and asking for contact.

``/directory`` (public, like ``/offers``): our live offers and our allies'
in one list, newest first, searchable by text (accent-insensitive, French
and English stems), category, area and price unit, filterable by section;
each entry says which section it comes from and links to the original.
``/users/<node>/offers`` is the paged OrderedCollection of our live offers
that allies read when an alliance begins (node/network/backfill.py).
``/directory/contact`` lets a logged-in person of this section write to an
allied offer's author through our node actor; ``/me/contacts`` shows their
requests and the answers (models/network/contact.py says what crosses).
"""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from models.accounts import Principal
from models.actors import LocalActor, RemoteActor, get_local_actor, get_node_actor
from models.errors import Forbidden, NotFound, UserError
from models.network.contact import MAX_MESSAGE, ask_contact, requests_of
from models.network.directory import (
    PAGE,
    DirectoryQuery,
    RemoteOffer,
    allied_node_for,
    local_page,
    search_directory,
    sections_in_directory,
)
from models.offers import CATEGORIES, offer_to_ap
from node.collections import PAGE_SIZE, collection, page, page_number
from node.context import Node
from node.i18n import register
from node.network.directory_messages import EN, FR
from node.pages import CATEGORY_LABELS
from node.ui.auth import principal, read_form, render, require_login
from node.web import ap_response, get_node, wants_ap

register("fr", FR)
register("en", EN)

routes = web.RouteTableDef()

#: Characters of a filter read from the query string.
MAX_PARAM = 200
UNITS = ("money", "sel")


# ----------------------------------------------------------------------------- collection


@routes.get("/users/{username}/offers")
async def offers_collection(request: web.Request) -> web.StreamResponse:
    node = get_node(request)
    async with node.sessions() as session:
        actor = await get_local_actor(session, request.match_info["username"])
        if actor is None or not actor.is_node:
            raise web.HTTPNotFound(text="only the node actor has an offers collection")
        if not wants_ap(request):
            raise web.HTTPSeeOther("/directory")
        ident = f"{node.urls.actor(actor.username)}/offers"
        number = page_number(request.query.get("page"))
        offset = ((number or 1) - 1) * PAGE_SIZE
        offers, total = await local_page(session, offset, PAGE_SIZE)
        if number is None:
            return ap_response(collection(ident, total))
        authors = {
            a.id: a
            for a in await session.scalars(
                select(LocalActor).where(LocalActor.id.in_({o.local_actor_id for o in offers}))
            )
        }
    items = []
    for offer in offers:
        doc = offer_to_ap(node.urls, authors[offer.local_actor_id], offer)
        doc.pop("@context", None)
        items.append(doc)
    return ap_response(page(ident, number, total, items))


# ----------------------------------------------------------------------------- directory


def _param(request: web.Request, name: str) -> str:
    value = request.query.get(name, "")
    return value.strip()[:MAX_PARAM]


def _query(request: web.Request) -> DirectoryQuery:
    raw_page = _param(request, "page")
    number = int(raw_page) if raw_page.isdigit() and len(raw_page) <= 4 else 1
    category = _param(request, "category")
    unit = _param(request, "unit")
    return DirectoryQuery(
        text=_param(request, "q"),
        category=category if category in CATEGORIES else "",
        area=_param(request, "area"),
        unit=unit if unit in UNITS else "",
        section=_param(request, "section"),
        page=max(number, 1),
    )


def _link(q: DirectoryQuery, number: int) -> str:
    params = {
        "q": q.text,
        "category": q.category,
        "area": q.area,
        "unit": q.unit,
        "section": q.section,
        "page": str(number),
    }
    return "/directory?" + urlencode({k: v for k, v in params.items() if v})


async def _node_name(node: Node) -> tuple[str, str]:
    async with node.sessions() as session:
        actor = await get_node_actor(session)
    return node.urls.actor(actor.username), actor.name or actor.username


@routes.get("/directory")
async def directory_page(request: web.Request) -> web.StreamResponse:
    node = get_node(request)
    q = _query(request)
    node_uri, node_name = await _node_name(node)
    async with node.sessions() as session:
        sections = await sections_in_directory(session)
        if q.section not in ("", "local") and q.section not in {uri for uri, _ in sections}:
            q.section = ""
        entries, total = await search_directory(session, q, node_uri=node_uri, node_name=node_name)
    pages = max(1, -(-total // PAGE))
    context = {
        "q": q,
        "entries": entries,
        "total": total,
        "categories": list(CATEGORIES),
        "category_names": CATEGORY_LABELS,
        "sections": [("local", node_name), *sections],
        "previous": _link(q, q.page - 1) if q.page > 1 else None,
        "next": _link(q, q.page + 1) if q.page < pages else None,
        "pages": pages,
        "logged_in": principal(request) is not None,
        "node_uri": node_uri,
    }
    resp = aiohttp_jinja2.render_template("directory.html", request, context)
    return resp


# ----------------------------------------------------------------------------- ask for contact


async def _remote_offer(node: Node, uri: str) -> RemoteOffer:
    async with node.sessions() as session:
        offer = await session.scalar(select(RemoteOffer).where(RemoteOffer.uri == uri[:2048]))
        if offer is None or await allied_node_for(session, offer.actor_uri) is None:
            raise NotFound(
                "this offer is not in the directory (withdrawn, or its section is no longer allied)"
            )
        return offer


async def contact_ask(node: Node, who: Principal, offer_uri: str, message: str) -> None:
    """Queue a request for contact from ``who`` about an allied section's offer."""
    if who.user_id is None:
        raise Forbidden("log in with your account of this section to ask for contact")
    offer = await _remote_offer(node, offer_uri)
    async with node.sessions() as session:
        author = await session.scalar(select(RemoteActor).where(RemoteActor.uri == offer.actor_uri))
    if author is None:
        from node.actions import resolve_actor

        author = await resolve_actor(node, offer.actor_uri)
    async with node.write() as session:
        me = await get_node_actor(session)
        author = await session.scalar(select(RemoteActor).where(RemoteActor.uri == offer.actor_uri))
        if author is None:
            raise NotFound("the author of this offer cannot be reached")
        await ask_contact(session, node.urls, me, who.user_id, offer, author, message)
    node.wake_delivery.set()


def _contact_form(
    request: web.Request,
    offer: RemoteOffer,
    *,
    text: str = "",
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    return render(
        "ui/directory_contact.html",
        request,
        {"offer": offer, "text": text, "error": error, "max_message": MAX_MESSAGE},
        status=status,
    )


def _refusal(request: web.Request, exc: UserError) -> web.Response:
    status = 403 if isinstance(exc, Forbidden) else 404 if isinstance(exc, NotFound) else 400
    title = {403: "Not allowed", 404: "Not found"}.get(status, "Not possible")
    return render(
        "ui/mediator_refused.html", request, {"error": str(exc), "title": title}, status=status
    )


@routes.get("/directory/contact")
async def contact_page(request: web.Request) -> web.StreamResponse:
    require_login(request)
    try:
        offer = await _remote_offer(get_node(request), request.query.get("offer", ""))
    except UserError as exc:
        return _refusal(request, exc)
    return _contact_form(request, offer)


@routes.post("/directory/contact")
async def contact_submit(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    who = require_login(request)
    offer_uri = form.get("offer")
    text = form.get("message")
    if not isinstance(offer_uri, str) or not isinstance(text, str):
        return _refusal(
            request, UserError("the form is incomplete: choose an offer and write a message")
        )
    node = get_node(request)
    try:
        offer = await _remote_offer(node, offer_uri)
    except UserError as exc:
        return _refusal(request, exc)
    try:
        await contact_ask(node, who, offer_uri, text)
    except Forbidden as exc:
        return _refusal(request, exc)
    except UserError as exc:
        return _contact_form(
            request, offer, text=text[: MAX_MESSAGE * 2], error=str(exc), status=400
        )
    raise web.HTTPSeeOther("/me/contacts?sent=1")


@routes.get("/me/contacts")
async def my_contacts(request: web.Request) -> web.StreamResponse:
    who = require_login(request)
    rows = []
    if who.user_id is not None:
        async with get_node(request).sessions() as session:
            rows = await requests_of(session, who.user_id)
    return render("ui/me_contacts.html", request, {"rows": rows, "sent": "sent" in request.query})
