"""A mediator's pages: profile, offers, and the inbox of fediverse replies.

Every page acts for one mediator, named in its path
(``/me/mediator/{username}/…``), and calls the same functions as the CLI
(node/content.py) with the logged-in person as ``by``: those functions
decide who may do what, the pages only show their refusals. A refusal
re-renders the form with its message (400), or a short page (403, 404).
Every POST goes through ``read_form`` (Origin and CSRF checks first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDictProxy

from models.accounts import Principal
from models.actors import LocalActor
from models.errors import Forbidden, NotFound, UserError
from models.markdown import first_paragraph
from models.mediators import MediatorError, Profile
from models.offers import CATEGORIES, MAX_DESCRIPTION, MAX_TITLE, Offer, OfferDraft, OfferError
from models.replies import MAX_ANSWER, FediMessage
from node import content
from node.charter import hostings
from node.context import Node
from node.i18n import register
from node.network import obligations
from node.pages import category_label, offer_price
from node.ui.auth import read_form, render, require_login
from node.ui.coordinator_obligations import STATE_LABELS
from node.ui.mediator_messages import FR
from node.web import get_node

register("fr", FR)

routes = web.RouteTableDef()

PREFIX = "/me/mediator"
INBOX_PAGE = 15
OFFERS_PAGE = 30
#: A message longer than this (sanitised HTML) shows as an excerpt in the list.
LIST_WHOLE = 1500


# ----------------------------------------------------------------------------- helpers


def _lang_query(request: web.Request) -> str:
    """'?lang=en' when the page was asked in a language: links and forms keep it."""
    lang = request.query.get("lang")
    return f"?lang={lang}" if lang in ("fr", "en") else ""


def _with_lang(request: web.Request, path: str) -> str:
    query = _lang_query(request)
    if not query:
        return path
    return path + ("&" if "?" in path else "?") + query[1:]


def _refusal(request: web.Request, exc: UserError, status: int | None = None) -> web.Response:
    code = status or (403 if isinstance(exc, Forbidden) else 404 if _missing(exc) else 400)
    title = {403: "Not allowed", 404: "Not found"}.get(code, "Not possible")
    return render(
        "ui/mediator_refused.html", request, {"error": str(exc), "title": title}, status=code
    )


def _missing(exc: UserError) -> bool:
    return isinstance(exc, NotFound) or (
        isinstance(exc, (MediatorError, OfferError)) and str(exc).startswith("no ")
    )


def _page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) <= 6 and int(raw) > 0 else 1


@dataclass(frozen=True)
class MediatorLinks:
    """What a person's dashboard (/me) shows for one mediator they speak for."""

    username: str
    name: str
    home: str
    #: None for the node actor: its profile is the node's settings (/admin/settings).
    profile: str | None
    offers: str
    new_offer: str
    inbox: str
    unread: int
    #: None for the node actor: contracts are made by mediators.
    contracts: str | None = None
    #: None for the node actor: receipts are issued by mediators.
    receipts: str | None = None


def links_for(actor: LocalActor, unread: int) -> MediatorLinks:
    base = f"{PREFIX}/{quote(actor.username)}"
    return MediatorLinks(
        username=actor.username,
        name=actor.name or actor.username,
        home=f"{base}/offers",
        profile=None if actor.is_node else f"{base}/profile",
        offers=f"{base}/offers",
        new_offer=f"{base}/offers/new",
        inbox=f"{base}/inbox",
        unread=unread,
        contracts=None if actor.is_node else f"{base}/contracts",
        receipts=None if actor.is_node else f"{base}/receipts",
    )


async def dashboard(node: Node, who: Principal) -> list[MediatorLinks]:
    """The mediators ``who`` speaks for, with their pages and unread counts (for /me).

    Empty for someone who is no mediator (a coordinator reaches every
    mediator's pages from /me/mediator, but their own dashboard counts only
    the mediators they were granted).
    """
    unread = await content.inbox_unread(node, by=who)
    out = []
    for actor in await _speakers(node, who):
        if actor.username in unread:
            out.append(links_for(actor, unread[actor.username]))
    return out


async def _speakers(node: Node, who: Principal) -> list[LocalActor]:
    """The actors whose pages ``who`` reaches here: the section itself first (for
    a coordinator: its own offers and the replies sent to it), then mediators."""
    mediators = await content.mediator_list(node)
    mine = [m for m in mediators if who.coordinator or m.id in who.mediators]
    if who.coordinator:
        mine.insert(0, await content.speaker_get(node, node.node_username, by=who))
    return mine


async def _context(request: web.Request, who: Principal, username: str) -> dict[str, Any]:
    """What every page of one mediator shows: who it is, its links, unread replies."""
    node = get_node(request)
    actor, unread = await content.mediator_overview(node, username, by=who)
    return {
        "actor": actor,
        "handle": f"@{actor.username}@{node.urls.host}",
        "nav": links_for(actor, unread),
        "lq": _lang_query(request),
        "active": "",
    }


def _gate(request: web.Request) -> Principal:
    """Logged in, and a mediator or a coordinator, or no page at all."""
    who = require_login(request)
    if not who.mediators and not who.coordinator:
        raise Forbidden("these pages are for mediators: your account has no mediator role")
    return who


# ----------------------------------------------------------------------------- index


@routes.get(PREFIX)
async def index(request: web.Request) -> web.StreamResponse:
    try:
        who = _gate(request)
    except UserError as exc:
        return _refusal(request, exc)
    node = get_node(request)
    mine = await _speakers(node, who)
    unread = await content.inbox_unread(node, by=who)
    if len(mine) == 1 and not who.coordinator:
        raise web.HTTPSeeOther(_with_lang(request, links_for(mine[0], 0).home))
    return render(
        "ui/mediator_index.html",
        request,
        {
            "items": [links_for(m, unread.get(m.username, 0)) for m in mine],
            "lq": _lang_query(request),
        },
    )


@routes.get(PREFIX + "/{username}")
async def mediator_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(
        _with_lang(request, f"{PREFIX}/{quote(request.match_info['username'])}/offers")
    )


# ----------------------------------------------------------------------------- profile


def _mediator_only(ctx: dict[str, Any]) -> None:
    """The node actor has no mediator profile: its name and summary are the node's settings."""
    if ctx["actor"].is_node:
        raise NotFound("the section's profile is set in the node's settings, not here")


def _profile_values(actor: LocalActor) -> dict[str, str]:
    return {
        "name": actor.name,
        "summary": actor.summary,
        "skills": ", ".join(actor.skill_list),
        "area": actor.area,
        "contact": actor.contact_url,
        "avatar": actor.avatar_url,
    }


def _text(form: MultiDictProxy[Any], key: str) -> str:
    value = form.get(key, "")
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


@routes.get(PREFIX + "/{username}/profile")
async def profile_page(request: web.Request) -> web.StreamResponse:
    try:
        who = _gate(request)
        ctx = await _context(request, who, request.match_info["username"])
        _mediator_only(ctx)
    except UserError as exc:
        return _refusal(request, exc)
    return render(
        "ui/mediator_profile.html",
        request,
        {
            **ctx,
            "active": "profile",
            "values": _profile_values(ctx["actor"]),
            "saved": "saved" in request.query,
        },
    )


@routes.post(PREFIX + "/{username}/profile")
async def profile_submit(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    username = request.match_info["username"]
    try:
        who = _gate(request)
        ctx = await _context(request, who, username)
        _mediator_only(ctx)
    except UserError as exc:
        return _refusal(request, exc)
    values = {k: _text(form, k) for k in ("name", "summary", "skills", "area", "contact", "avatar")}
    skills = [s for part in values["skills"].split("\n") for s in part.split(",")]
    profile = Profile(
        name=values["name"],
        summary=values["summary"],
        skills=skills,
        area=values["area"],
        contact=values["contact"],
        avatar=values["avatar"],
    )
    try:
        await content.mediator_update(get_node(request), username, profile, by=who)
    except UserError as exc:
        status = 403 if isinstance(exc, Forbidden) else 400
        return render(
            "ui/mediator_profile.html",
            request,
            {**ctx, "active": "profile", "values": values, "error": str(exc)},
            status=status,
        )
    raise web.HTTPSeeOther(_with_lang(request, f"{ctx['nav'].profile}?saved=1"))


# ----------------------------------------------------------------------------- offers


def _state(offer: Offer, now: datetime) -> str:
    """The message id of where an offer stands."""
    if offer.state == "withdrawn":
        return "Withdrawn"
    if offer.state == "expired" or (offer.valid_until is not None and offer.valid_until <= now):
        return "Expired"
    return "On offer"


@routes.get(PREFIX + "/{username}/offers")
async def offers_page(request: web.Request) -> web.StreamResponse:
    username = request.match_info["username"]
    number = _page_number(request)
    try:
        who = _gate(request)
        ctx = await _context(request, who, username)
        offers, total = await content.mediator_offers(
            get_node(request),
            username,
            by=who,
            offset=(number - 1) * OFFERS_PAGE,
            limit=OFFERS_PAGE,
        )
    except UserError as exc:
        return _refusal(request, exc)
    now = datetime.now(UTC)
    items = [
        {
            "offer": o,
            "state": _state(o, now),
            "live": _state(o, now) == "On offer",
            "category": category_label(o.category),
            "price": offer_price(o),
        }
        for o in offers
    ]
    return render(
        "ui/mediator_offers.html",
        request,
        {
            **ctx,
            "active": "offers",
            "items": items,
            "page": number,
            "more": number * OFFERS_PAGE < total,
            "notice": request.query.get("done"),
            "hostings": None
            if ctx["actor"].is_node
            else await hostings.hosting_tally_of(get_node(request), username, by=who),
            "obligations": None
            if ctx["actor"].is_node
            else await obligations.mediator_obligations(get_node(request), username, by=who),
            "state_labels": STATE_LABELS,
        },
    )


def _day(value: str, what: str, end: bool) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        raise OfferError(f"the {what} date must be written YYYY-MM-DD") from None
    if end:
        return datetime.combine(day, time(23, 59), tzinfo=UTC)
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


OFFER_FIELDS = (
    "title",
    "description",
    "category",
    "price",
    "sel_hours",
    "area",
    "contact",
    "valid_from",
    "valid_until",
)


def _offer_values(offer: Offer | None) -> dict[str, str]:
    if offer is None:
        return {key: "" for key in OFFER_FIELDS} | {"category": "other"}
    return {
        "title": offer.title,
        "description": offer.description,
        "category": offer.category,
        "price": f"{offer.price_amount} {offer.price_currency}" if offer.price_amount else "",
        "sel_hours": offer.sel_hours or "",
        "area": offer.area,
        "contact": offer.contact,
        "valid_from": offer.valid_from.strftime("%Y-%m-%d") if offer.valid_from else "",
        "valid_until": offer.valid_until.strftime("%Y-%m-%d") if offer.valid_until else "",
    }


def _draft(values: dict[str, str]) -> OfferDraft:
    """The form as the domain takes it; the domain checks every field (models/offers.py)."""
    return OfferDraft(
        title=values["title"],
        description=values["description"],
        category=values["category"],
        price=values["price"].strip() or None,
        sel_hours=values["sel_hours"].strip() or None,
        area=values["area"],
        contact=values["contact"],
        valid_from=_day(values["valid_from"], "start", end=False),
        valid_until=_day(values["valid_until"], "end", end=True),
    )


def _categories() -> list[tuple[str, str]]:
    return [(key, category_label(key)) for key in CATEGORIES]


async def _offer_form(
    request: web.Request,
    ctx: dict[str, Any],
    values: dict[str, str],
    *,
    offer: Offer | None,
    preview: Offer | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    return render(
        "ui/mediator_offer_form.html",
        request,
        {
            **ctx,
            "active": "new" if offer is None else "offers",
            "offer": offer,
            "values": values,
            "categories": _categories(),
            "preview": preview,
            "preview_price": offer_price(preview) if preview is not None else [],
            "error": error,
            "max_title": MAX_TITLE,
            "max_description": MAX_DESCRIPTION,
        },
        status=status,
    )


@routes.get(PREFIX + "/{username}/offers/new")
async def new_offer_page(request: web.Request) -> web.StreamResponse:
    try:
        who = _gate(request)
        ctx = await _context(request, who, request.match_info["username"])
    except UserError as exc:
        return _refusal(request, exc)
    return await _offer_form(request, ctx, _offer_values(None), offer=None)


async def _offer_of(request: web.Request, who: Principal, ctx: dict[str, Any], ref: str) -> Offer:
    """The offer in the path, if it is this mediator's and ``who`` may edit it."""
    offer = await content.offer_get(get_node(request), ref, by=who)
    if offer.local_actor_id != ctx["actor"].id:
        raise NotFound("no such offer among this mediator's")
    return offer


@routes.post(PREFIX + "/{username}/offers/new")
@routes.post(PREFIX + "/{username}/offers/{uuid}/edit")
async def offer_submit(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    username = request.match_info["username"]
    ref = request.match_info.get("uuid")
    try:
        who = _gate(request)
        ctx = await _context(request, who, username)
        offer = await _offer_of(request, who, ctx, ref) if ref else None
    except UserError as exc:
        return _refusal(request, exc)
    values = {key: _text(form, key) for key in OFFER_FIELDS}
    node = get_node(request)
    try:
        draft = _draft(values)
        if form.get("action") != "publish":
            preview = content.offer_preview(draft)
            return await _offer_form(request, ctx, values, offer=offer, preview=preview)
        if offer is None:
            done = await content.offer_publish(node, draft, username, by=who)
            notice = "published"
        else:
            changes = {key: getattr(draft, key) for key in OFFER_FIELDS}
            done = await content.offer_update(node, offer.uuid, changes, by=who)
            notice = "updated"
    except UserError as exc:
        status = 403 if isinstance(exc, Forbidden) else 400
        return await _offer_form(request, ctx, values, offer=offer, error=str(exc), status=status)
    target = f"{ctx['nav'].offers}?done={notice}&offer={done.uuid}"
    raise web.HTTPSeeOther(_with_lang(request, target))


@routes.get(PREFIX + "/{username}/offers/{uuid}/edit")
async def edit_offer_page(request: web.Request) -> web.StreamResponse:
    try:
        who = _gate(request)
        ctx = await _context(request, who, request.match_info["username"])
        offer = await _offer_of(request, who, ctx, request.match_info["uuid"])
    except UserError as exc:
        return _refusal(request, exc)
    if _state(offer, datetime.now(UTC)) != "On offer":
        return _refusal(request, OfferError("only an offer still on offer can be changed"), 400)
    return await _offer_form(request, ctx, _offer_values(offer), offer=offer)


@routes.get(PREFIX + "/{username}/offers/{uuid}/withdraw")
async def withdraw_page(request: web.Request) -> web.StreamResponse:
    try:
        who = _gate(request)
        ctx = await _context(request, who, request.match_info["username"])
        offer = await _offer_of(request, who, ctx, request.match_info["uuid"])
    except UserError as exc:
        return _refusal(request, exc)
    return render(
        "ui/mediator_withdraw.html",
        request,
        {**ctx, "active": "offers", "offer": offer, "price": offer_price(offer)},
    )


@routes.post(PREFIX + "/{username}/offers/{uuid}/withdraw")
async def withdraw_submit(request: web.Request) -> web.StreamResponse:
    await read_form(request)
    try:
        who = _gate(request)
        ctx = await _context(request, who, request.match_info["username"])
        offer = await _offer_of(request, who, ctx, request.match_info["uuid"])
        await content.offer_withdraw(get_node(request), offer.uuid, by=who)
    except UserError as exc:
        return _refusal(request, exc)
    raise web.HTTPSeeOther(_with_lang(request, f"{ctx['nav'].offers}?done=withdrawn"))


# ----------------------------------------------------------------------------- inbox


def _excerpt(message: FediMessage) -> dict[str, Any]:
    whole = len(message.content) <= LIST_WHOLE
    return {
        "m": message,
        "html": message.content if whole else None,
        "text": None if whole else first_paragraph(message.content, 400),
        "link": message.link,
    }


@routes.get(PREFIX + "/{username}/inbox")
async def inbox_page(request: web.Request) -> web.StreamResponse:
    username = request.match_info["username"]
    number = _page_number(request)
    try:
        who = _gate(request)
        ctx = await _context(request, who, username)
        rows, total, unread = await content.inbox_list(
            get_node(request),
            username,
            by=who,
            offset=(number - 1) * INBOX_PAGE,
            limit=INBOX_PAGE,
        )
    except UserError as exc:
        return _refusal(request, exc)
    return render(
        "ui/mediator_inbox.html",
        request,
        {
            **ctx,
            "active": "inbox",
            "items": [_excerpt(m) for m in rows],
            "unread": unread,
            "page": number,
            "more": number * INBOX_PAGE < total,
        },
    )


@routes.post(PREFIX + "/{username}/inbox/read")
async def inbox_read_all(request: web.Request) -> web.StreamResponse:
    await read_form(request)
    username = request.match_info["username"]
    try:
        who = _gate(request)
        ctx = await _context(request, who, username)
        await content.inbox_mark_all_read(get_node(request), username, by=who)
    except UserError as exc:
        return _refusal(request, exc)
    raise web.HTTPSeeOther(_with_lang(request, ctx["nav"].inbox))


def _message_ref(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 12:
        raise NotFound("no such message")
    return int(raw)


async def _message_page(
    request: web.Request,
    who: Principal,
    ctx: dict[str, Any],
    *,
    text: str = "",
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    username = request.match_info["username"]
    message, answers, subject = await content.inbox_read(
        get_node(request), username, _message_ref(request), by=who
    )
    # Reading it counted it read: the header's count follows.
    _, unread = await content.mediator_overview(get_node(request), username, by=who)
    ctx = {**ctx, "nav": links_for(ctx["actor"], unread)}
    return render(
        "ui/mediator_message.html",
        request,
        {
            **ctx,
            "active": "inbox",
            "m": message,
            "subject": subject,
            "answers": answers[-5:],
            "text": text,
            "error": error,
            "max_answer": MAX_ANSWER,
            "sent": "sent" in request.query,
        },
        status=status,
    )


@routes.get(PREFIX + "/{username}/inbox/{id}")
async def message_page(request: web.Request) -> web.StreamResponse:
    try:
        who = _gate(request)
        ctx = await _context(request, who, request.match_info["username"])
        return await _message_page(request, who, ctx)
    except UserError as exc:
        return _refusal(request, exc)


@routes.post(PREFIX + "/{username}/inbox/{id}")
async def answer_submit(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    username = request.match_info["username"]
    text = _text(form, "text")
    try:
        who = _gate(request)
        ctx = await _context(request, who, username)
        ref = _message_ref(request)
    except UserError as exc:
        return _refusal(request, exc)
    try:
        await content.inbox_answer(get_node(request), username, ref, text, by=who)
    except UserError as exc:
        if isinstance(exc, Forbidden) or _missing(exc):
            return _refusal(request, exc)
        try:
            return await _message_page(
                request, who, ctx, text=text[: MAX_ANSWER * 2], error=str(exc), status=400
            )
        except UserError as again:
            return _refusal(request, again)
    target = f"{ctx['nav'].inbox}/{ref}?sent=1"
    raise web.HTTPSeeOther(_with_lang(request, target))


__all__ = ["MediatorLinks", "dashboard", "links_for", "routes"]
