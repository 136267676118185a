"""Receipt pages: the public receipt (for whoever holds it), the mediator's
receipts, and the section's book for its coordinator.

- ``/receipts/{uuid}``: anyone. JSON (the signed document as stored, and
  where it stands) for ``Accept: application/json`` or ActivityStreams;
  otherwise a printable page with the QR code of its own URL. Not indexed.
- ``/me/mediator/{username}/receipts``: the mediator's list and issue form;
  ``…/receipts/{uuid}/cancel`` asks for the reason and confirms.
- ``/admin/receipts``: every receipt of a year, by mediator, with totals
  per mediator and currency; ``/admin/receipts/export`` (a POST, as every
  export of /admin) the same as CSV.

The actions (node/charter/receipts.py) decide who may do what; the pages
show their refusals (403 for a role, 400 with the form kept for values).
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
import segno
from aiohttp import web
from markupsafe import Markup, escape
from multidict import MultiDictProxy

from models.accounts import Principal
from models.base import utcnow
from models.charter.receipts import (
    MAX_CONTACT,
    MAX_PAYER,
    MAX_PURPOSE,
    MAX_REASON,
    METHOD_LABELS,
    Method,
    ReceiptDraft,
)
from models.errors import Forbidden, NotFound, UserError
from node.charter import receipts
from node.i18n import pick_language, register, translator
from node.ui import auth, coordinator
from node.ui.mediator import PREFIX, _context, _gate, _lang_query, _refusal, _with_lang
from node.ui.receipt_messages import FR
from node.web import get_node, json_response, wants_ap

register("fr", FR)

routes = web.RouteTableDef()

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MEDIATOR_PAGE = 30
FIELDS = ("payer", "contact", "amount", "purpose", "method", "received", "contract", "once")


def qr_svg(url: str, label: str) -> Markup:
    """The QR code of ``url`` as inline SVG (no image request, no script), named for
    screen readers by ``label``."""
    svg = segno.make(url, error="m").svg_inline(scale=3, border=2)
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))


def _methods() -> list[tuple[str, str]]:
    return [(m.value, METHOD_LABELS[m]) for m in Method]


# ----------------------------------------------------------------------------- public


@routes.get("/receipts/{uuid}")
async def receipt_page(request: web.Request) -> web.StreamResponse:
    ident = request.match_info["uuid"].lower()
    if not UUID.fullmatch(ident):
        raise web.HTTPNotFound(text="no such receipt")
    node = get_node(request)
    try:
        view = await receipts.get(node, ident)
    except NotFound:
        raise web.HTTPNotFound(text="no such receipt") from None
    if wants_ap(request):
        resp = json_response(view.envelope(node.urls))
    else:
        _ = translator(pick_language(request))
        resp = aiohttp_jinja2.render_template(
            "ui/receipt.html",
            request,
            {
                "view": view,
                "r": view.receipt,
                "method": METHOD_LABELS.get(Method(view.receipt.method), view.receipt.method),
                "qr": qr_svg(view.url, _("QR code of this receipt's verification address")),
                "cancelled_url": (
                    receipts.receipt_url(node.urls, view.cancelled_by.uuid)
                    if view.cancelled_by is not None
                    else None
                ),
                "cancels_url": (
                    str(view.receipt.document.get("cancels", {}).get("id", ""))
                    if view.receipt.cancels_id is not None
                    else None
                ),
            },
        )
    resp.headers["Vary"] = "Accept"
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp


# ----------------------------------------------------------------------------- mediator


def _values(form: MultiDictProxy[Any] | None) -> dict[str, str]:
    if form is None:
        return {k: "" for k in FIELDS} | {
            "method": Method.CASH.value,
            "received": utcnow().date().isoformat(),
            "once": secrets.token_urlsafe(24),
        }
    out = {}
    for key in FIELDS:
        value = form.get(key, "")
        out[key] = value.replace("\r\n", "\n") if isinstance(value, str) else ""
    return out


async def _mediator_page(
    request: web.Request,
    who: Principal,
    username: str,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    node = get_node(request)
    ctx = await _context(request, who, username)
    number = request.query.get("page", "1")
    page = int(number) if number.isdigit() and 0 < len(number) <= 6 and int(number) > 0 else 1
    _, views = await receipts.mediator_receipts(
        node,
        username,
        by=who,
        limit=MEDIATOR_PAGE + 1,
        offset=(page - 1) * MEDIATOR_PAGE,
    )
    return auth.render(
        "ui/mediator_receipts.html",
        request,
        {
            **ctx,
            "active": "receipts",
            "views": views[:MEDIATOR_PAGE],
            "more": len(views) > MEDIATOR_PAGE,
            "page": page,
            "values": values or _values(None),
            "methods": _methods(),
            "error": error,
            "notice": request.query.get("done"),
            "issued": request.query.get("number", "")[:40],
            "limits": {
                "payer": MAX_PAYER,
                "contact": MAX_CONTACT,
                "purpose": MAX_PURPOSE,
            },
        },
        status=status,
    )


@routes.get(PREFIX + "/{username}/receipts")
async def mediator_receipts(request: web.Request) -> web.StreamResponse:
    try:
        who = _gate(request)
        username = request.match_info["username"]
        ref = request.query.get("contract", "")
        values = await _from_contract(request, who, username, ref) if ref else None
        return await _mediator_page(request, who, username, values=values)
    except UserError as exc:
        return _refusal(request, exc)


async def _from_contract(
    request: web.Request, who: Principal, username: str, ref: str
) -> dict[str, str]:
    """The issuing form filled in from a signed contract of this mediator's:
    the client, the service, the agreed price (which the mediator may change)."""
    from node.charter import contracts

    if len(ref) > 64:
        raise NotFound("no such contract among this mediator's")
    view = await contracts.contract_view(get_node(request), who, ref)
    c = view.contract
    if view.mediator.username != username:
        raise NotFound("no such contract among this mediator's")
    return _values(None) | {
        "payer": c.client_full_name or c.client_name,
        "contact": c.client_email or "",
        "amount": c.price,
        "purpose": c.service,
        "contract": c.uuid,
    }


@routes.post(PREFIX + "/{username}/receipts")
async def mediator_issue(request: web.Request) -> web.StreamResponse:
    form = await auth.read_form(request)
    username = request.match_info["username"]
    try:
        who = _gate(request)
        await _context(request, who, username)
    except UserError as exc:
        return _refusal(request, exc)
    values = _values(form)
    draft = ReceiptDraft(
        payer=values["payer"],
        amount=values["amount"],
        purpose=values["purpose"],
        contact=values["contact"],
        method=values["method"],
        received=values["received"],
        contract=values["contract"],
    )
    try:
        view = await receipts.issue(
            get_node(request), username, draft, by=who, submission=values["once"]
        )
    except Forbidden as exc:
        return _refusal(request, exc)
    except UserError as exc:
        return await _mediator_page(
            request, who, username, values=values, error=str(exc), status=400
        )
    raise web.HTTPSeeOther(
        _with_lang(
            request,
            f"{PREFIX}/{quote(username)}/receipts?done=issued&number={quote(view.number)}",
        )
    )


async def _cancel_target(
    request: web.Request, who: Principal, username: str
) -> tuple[dict[str, Any], receipts.ReceiptView]:
    ctx = await _context(request, who, username)
    ident = request.match_info["uuid"].lower()
    if not UUID.fullmatch(ident):
        raise NotFound("no such receipt")
    view = await receipts.get(get_node(request), ident, by=who)
    if view.mediator != ctx["actor"].username:
        raise NotFound("no such receipt among this mediator's")
    return ctx, view


def _cancel_form(
    request: web.Request,
    ctx: dict[str, Any],
    view: receipts.ReceiptView,
    *,
    reason: str = "",
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    return auth.render(
        "ui/mediator_receipt_cancel.html",
        request,
        {
            **ctx,
            "active": "receipts",
            "view": view,
            "reason": reason,
            "error": error,
            "max_reason": MAX_REASON,
        },
        status=status,
    )


@routes.get(PREFIX + "/{username}/receipts/{uuid}/cancel")
async def cancel_page(request: web.Request) -> web.StreamResponse:
    try:
        who = _gate(request)
        ctx, view = await _cancel_target(request, who, request.match_info["username"])
    except UserError as exc:
        return _refusal(request, exc)
    return _cancel_form(request, ctx, view)


@routes.post(PREFIX + "/{username}/receipts/{uuid}/cancel")
async def cancel_submit(request: web.Request) -> web.StreamResponse:
    form = await auth.read_form(request)
    username = request.match_info["username"]
    try:
        who = _gate(request)
        ctx, view = await _cancel_target(request, who, username)
    except UserError as exc:
        return _refusal(request, exc)
    reason = form.get("reason", "")
    reason = reason if isinstance(reason, str) else ""
    try:
        done = await receipts.cancel(get_node(request), view.receipt.uuid, reason, by=who)
    except Forbidden as exc:
        return _refusal(request, exc)
    except UserError as exc:
        return _cancel_form(request, ctx, view, reason=reason, error=str(exc), status=400)
    raise web.HTTPSeeOther(
        _with_lang(
            request,
            f"{PREFIX}/{quote(username)}/receipts?done=cancelled&number={quote(done.number)}",
        )
    )


# ----------------------------------------------------------------------------- coordinator


def _filters(values: Mapping[str, Any]) -> tuple[int | None, str | None]:
    raw_year = values.get("year", "")
    raw_year = raw_year if isinstance(raw_year, str) else ""
    year = int(raw_year) if raw_year.isdigit() and len(raw_year) == 4 else None
    raw = values.get("mediator", "")
    mediator = (raw if isinstance(raw, str) else "").strip()[:64] or None
    return year, mediator


@routes.get("/admin/receipts")
@coordinator.admin
async def admin_receipts(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _book_page(request, who, *_filters(request.query))


async def _book_page(
    request: web.Request, who: Principal, year: int | None, mediator: str | None
) -> web.Response:
    node = get_node(request)
    error = None
    try:
        book = await receipts.section_book(node, by=who, year=year, mediator=mediator)
    except UserError as exc:
        if isinstance(exc, Forbidden):
            raise
        error = coordinator.say(request, exc)
        book = await receipts.section_book(node, by=who, year=year)
        mediator = None
    from node import content

    mediators = [(m.username, m.name or m.username) for m in await content.mediator_list(node)]
    query = {"year": str(book.year)} | ({"mediator": mediator} if mediator else {})
    return coordinator.page(
        request,
        "ui/coord_receipts.html",
        {
            "book": book,
            "mediators": mediators,
            "mediator": mediator or "",
            "filters": query,
            "lq": _lang_query(request),
        },
        error=error,
        status=400 if error else 200,
    )


@routes.post("/admin/receipts/export")
@coordinator.admin_post
async def admin_receipts_csv(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    """The book as CSV: a POST, like every export of /admin (sent only to our own form)."""
    node = get_node(request)
    year, mediator = _filters(form)
    try:
        book = await receipts.section_book(node, by=who, year=year, mediator=mediator, limit=None)
    except Forbidden:
        raise
    except UserError:
        return await _book_page(request, who, year, mediator)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "number",
            "state",
            "cancels",
            "cancelled_by",
            "issued",
            "received",
            "mediator",
            "payer",
            "contact",
            "amount",
            "currency",
            "method",
            "purpose",
            "contract",
            "reason",
            "url",
        ]
    )
    for v in book.receipts:
        r = v.receipt
        writer.writerow(
            [
                v.number,
                v.state,
                v.cancels_number or "",
                v.cancelled_by_number or "",
                r.created_at.isoformat(timespec="seconds"),
                r.received_on.isoformat(),
                v.mediator,
                _cell(r.payer_name),
                _cell(r.payer_contact or ""),
                r.amount_text.split(" ")[0],
                r.currency,
                r.method,
                _cell(r.purpose),
                r.contract_ref or "",
                _cell(r.reason or ""),
                v.url,
            ]
        )
    name = f"receipts-{book.year}" + (f"-{mediator}" if mediator else "") + ".csv"
    resp = web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8")
    resp.headers["Content-Disposition"] = f'attachment; filename="{quote(name)}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _cell(value: str) -> str:
    """A spreadsheet must not run what a payer typed: '=…', '+…', '-…', '@…' as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
