"""The coordinator's page of hostings bought by mediators, /admin/hostings.

What ``coopnet hosting`` does: record a purchase, cancel one recorded by
mistake, and see each mediator's count per month of a semester against the
charter's aim (one a month, six a semester). The guards and field checks
are ``coordinator``'s; node/charter/hostings.py checks the role again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from models.accounts import Principal
from models.charter.hostings import PER_MONTH, PER_SEMESTER, Semester
from models.errors import UserError
from node import content
from node.charter import hostings
from node.ui.coordinator import (
    PREFIX,
    FormError,
    admin,
    admin_post,
    choice,
    done,
    page,
    say,
    status_of,
    text,
)
from node.web import get_node

log = logging.getLogger("coopnet.ui.coordinator")
routes = web.RouteTableDef()

HOSTINGS = PREFIX + "/hostings"
#: Purchases listed on the page (a semester of a big section stays under 50 KB).
SHOWN_PURCHASES = 60


def _semester(request: web.Request) -> Semester:
    raw = request.query.get("semester", "")
    if raw:
        try:
            return Semester.parse(raw[:20])
        except UserError:
            pass
    return Semester.of(hostings.today_utc())


def _day(form: Mapping[str, Any]) -> date:
    value = text(form, "bought_on", limit=10, label="Date of purchase", required=True)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FormError("{field}: write the date as YYYY-MM-DD", field="Date of purchase") from None


async def _page(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    typed: Mapping[str, str] | None = None,
) -> web.Response:
    node = get_node(request)
    semester = _semester(request)
    today = hostings.today_utc()
    current = Semester.of(today)
    bought = await hostings.hosting_list(node, semester, by=who)
    return page(
        request,
        "ui/coord_hostings.html",
        {
            "semester": semester,
            "previous": semester.previous(),
            "next": semester.following() if semester < current else None,
            "tallies": await hostings.hosting_tallies(node, semester, by=who, today=today),
            "purchases": bought[:SHOWN_PURCHASES],
            "more": len(bought) > SHOWN_PURCHASES,
            "mediators": [
                (m.username, m.name or m.username) for m in await content.mediator_list(node)
            ],
            "typed": typed or {"bought_on": today.isoformat()},
            "per_month": PER_MONTH,
            "per_semester": PER_SEMESTER,
        },
        status=status,
        error=error,
    )


@routes.get(HOSTINGS)
@admin
async def hostings_page(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _page(request, who)


@routes.post(HOSTINGS)
@admin_post
async def hosting_record(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    node = get_node(request)
    typed: dict[str, str] = {}
    try:
        current = tuple(m.username for m in await content.mediator_list(node))
        typed["mediator"] = choice(form, "mediator", current, label="Mediator")
        typed["what"] = text(form, "what", limit=300, label="What was bought", required=True)
        typed["price"] = text(form, "price", limit=40, label="Price paid")
        typed["bought_on"] = text(form, "bought_on", limit=10, label="Date of purchase")
        row = await hostings.hosting_record(
            node, typed["mediator"], _day(form), typed["what"], typed["price"], by=who
        )
        log.info("%s recorded hosting #%s bought by %s", who.name, row.id, typed["mediator"])
    except UserError as exc:
        return await _page(
            request, who, status=status_of(exc), error=say(request, exc), typed=typed
        )
    raise done(request, HOSTINGS, "hosting-recorded", semester=str(Semester.of(row.bought_on)))


@routes.post(HOSTINGS + "/{id}/cancel")
@admin_post
async def hosting_cancel(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 9:
        raise web.HTTPNotFound(text="no such purchase")
    try:
        reason = text(form, "reason", limit=300, label="Reason", required=True)
        row = await hostings.hosting_cancel(get_node(request), int(raw), reason, by=who)
        log.info("%s cancelled hosting #%s", who.name, row.id)
    except UserError as exc:
        return await _page(request, who, status=status_of(exc), error=say(request, exc))
    raise done(request, HOSTINGS, "hosting-cancelled", semester=str(Semester.of(row.bought_on)))
