"""The coordinator's page of the charter's obligations, /admin/obligations.

What ``coopnet obligations`` shows, grouped by relation, late ones first
and named in words (not by colour alone), and what ``coopnet obligation``
does: record an obligation no data shows, cancel a record. On the seat,
each allied section has its own block. The guards and field checks are
``coordinator``'s; node/network/obligations.py checks the role again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from models.accounts import Principal
from models.errors import UserError
from models.network.obligations import (
    CATALOGUE,
    RELATION_LABELS,
    Item,
    Relation,
    State,
    recordable,
)
from node.i18n import register
from node.network import obligations
from node.ui.coordinator import (
    NOTICES,
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
from node.ui.obligations_messages import FR
from node.web import get_node

register("fr", FR)
# This page's notices join the coordinator's list (``?done=`` picks only these names).
NOTICES.update(
    {
        "obligation-recorded": "Recorded: the obligation counts as done for that period.",
        "obligation-cancelled": "Record cancelled; it stays listed but no longer counts.",
    }
)

log = logging.getLogger("coopnet.ui.coordinator")
routes = web.RouteTableDef()

OBLIGATIONS = PREFIX + "/obligations"
#: Records listed at the bottom of the page ('coopnet obligation list' has them all).
SHOWN_RECORDS = 30
#: The words (and mark) each state is shown with: never colour alone.
STATE_LABELS = {
    State.LATE: "Late",
    State.DUE: "Due",
    State.DONE: "Done",
    State.NOT_APPLICABLE: "Not applicable",
}


def _as_of(request: web.Request) -> date | None:
    raw = request.query.get("as_of", "")[:10]
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _grouped(items: list[Item]) -> list[tuple[str, list[Item]]]:
    """(relation label, its items) in the charter's order, empty relations left out."""
    out = []
    for relation in Relation:
        mine = [i for i in items if i.relation is relation]
        if mine:
            out.append((RELATION_LABELS[relation], mine))
    return out


def _counts(items: list[Item]) -> dict[str, int]:
    return {s.value: sum(1 for i in items if i.state is s) for s in State}


async def _page(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    typed: Mapping[str, str] | None = None,
) -> web.Response:
    node = get_node(request)
    as_of = _as_of(request) or obligations.today()
    items = await obligations.obligations_of(node, by=who, as_of=as_of)
    own = [i for i in items if not i.section]
    sections: dict[str, list[Item]] = {}
    for i in items:
        if i.section:
            sections.setdefault(i.section, []).append(i)
    choices = await obligations.record_choices(node, by=who)
    subjects: dict[str, str] = {}
    for options in choices.values():
        for subject, name in options:
            subjects.setdefault(subject, name)
    records = await obligations.obligation_records(node, by=who)
    return page(
        request,
        "ui/coord_obligations.html",
        {
            "as_of": as_of,
            "counts": _counts(items),
            "own": _grouped(own),
            "sections": sorted(sections.items()),
            "state_labels": STATE_LABELS,
            "relation_labels": RELATION_LABELS,
            "recordable": recordable(node.config.role),
            "subjects": sorted(subjects.items(), key=lambda s: (s[0] != "", s[1])),
            "records": records[:SHOWN_RECORDS],
            "titles": {k: o.title for k, o in CATALOGUE.items()},
            "typed": typed or {"done_on": obligations.today().isoformat()},
        },
        status=status,
        error=error,
    )


@routes.get(OBLIGATIONS)
@admin
async def obligations_page(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _page(request, who)


def _day(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FormError("{field}: write the date as YYYY-MM-DD", field="Done on") from None


@routes.post(OBLIGATIONS)
@admin_post
async def obligation_record(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    node = get_node(request)
    typed: dict[str, str] = {}
    try:
        keys = tuple(o.key for o in recordable(node.config.role))
        typed["key"] = choice(form, "key", keys, label="Obligation")
        typed["period"] = text(form, "period", limit=10, label="Period")
        typed["who"] = text(form, "who", limit=2048, label="Who")
        typed["done_on"] = text(form, "done_on", limit=10, label="Done on")
        typed["note"] = text(form, "note", limit=500, label="Note")
        row = await obligations.obligation_record(
            node,
            typed["key"],
            typed["period"],
            typed["who"],
            _day(typed["done_on"]),
            typed["note"],
            by=who,
        )
        log.info("%s recorded obligation #%s", who.name, row.id)
    except UserError as exc:
        return await _page(
            request, who, status=status_of(exc), error=say(request, exc), typed=typed
        )
    raise done(request, OBLIGATIONS, "obligation-recorded")


@routes.post(OBLIGATIONS + "/{id}/cancel")
@admin_post
async def obligation_cancel(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 9:
        raise web.HTTPNotFound(text="no such record")
    try:
        reason = text(form, "reason", limit=300, label="Reason", required=True)
        row = await obligations.obligation_cancel(get_node(request), int(raw), reason, by=who)
        log.info("%s cancelled obligation record #%s", who.name, row.id)
    except UserError as exc:
        return await _page(request, who, status=status_of(exc), error=say(request, exc))
    raise done(request, OBLIGATIONS, "obligation-cancelled")
