"""The semi-annual report (/admin/reports) and the seat's network dashboard (/admin/dashboard).

A section's coordinator picks a semester, sees the figures counted from the
node's data, writes the text (Markdown), and sends the report to the seat;
the page says whether the seat acknowledged it. The seat's coordinator sees
every section's figures side by side, with totals and two charts drawn on
the server (node/ui/report_chart.py). The guards are ``coordinator``'s;
node/network/reports.py checks the role again.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from models.accounts import Principal
from models.charter.hostings import PER_SEMESTER, Semester
from models.errors import UserError
from models.markdown import render_markdown
from models.network.report_wire import MAX_TEXT
from models.network.reports import ReportDirection, ReportState
from node.i18n import pick_language, register, show_hours, translator
from node.network import reports
from node.ui.coordinator import (
    NOTICES,
    PREFIX,
    admin,
    admin_post,
    done,
    page,
    say,
    status_of,
    text,
)
from node.ui.report_chart import Bar, bar_chart
from node.ui.reports_messages import EN, FR
from node.web import get_node

register("fr", FR)
register("en", EN)
log = logging.getLogger("coopnet.ui.coordinator")
routes = web.RouteTableDef()

REPORTS = PREFIX + "/reports"
DASHBOARD = PREFIX + "/dashboard"

NOTICES.update(
    {
        "report-composed": "Report saved; the figures were counted again.",
        "report-sent": "Report sent to the seat. It shows as acknowledged once the seat's "
        "node answers.",
    }
)


def _semester(raw: str | None) -> Semester:
    if raw:
        try:
            return Semester.parse(raw[:20])
        except UserError:
            pass
    return Semester.of(reports.today_utc())


async def _reports_page(
    request: web.Request,
    who: Principal,
    semester: Semester,
    *,
    status: int = 200,
    error: str | None = None,
    typed: str | None = None,
) -> web.Response:
    node = get_node(request)
    lang = pick_language(request)
    current = Semester.of(reports.today_utc())
    row = await reports.report_of(node, semester, by=who)
    own = await reports.report_list(node, by=who, direction=ReportDirection.SENT)
    draft = typed if typed is not None else (row.text if row else "")
    changed = bool(row and row.sent_at and row.composed_at and row.composed_at > row.sent_at)
    return page(
        request,
        "ui/coord_reports.html",
        {
            "semester": semester,
            "previous": semester.previous(),
            "next": semester.following() if semester < current else None,
            "future": semester > current,
            "report": row,
            "rows": reports.figure_rows(row.figures, lang) if row else [],
            "preview": render_markdown(row.text) if row and row.text.strip() else "",
            "draft": draft,
            "changed": changed,
            "seat": await reports.seat_name(node, by=who),
            "own": own,
            "max_text": MAX_TEXT,
            "acknowledged": ReportState.ACKNOWLEDGED,
        },
        status=status,
        error=error,
    )


@routes.get(REPORTS)
@admin
async def reports_page(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _reports_page(request, who, _semester(request.query.get("semester")))


def _form_semester(form: MultiDictProxy[Any]) -> Semester:
    raw = text(form, "semester", limit=20, label="Semester", required=True)
    return Semester.parse(raw)


@routes.post(REPORTS + "/compose")
@admin_post
async def report_compose(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    semester = _semester(str(form.get("semester", ""))[:20])
    typed: str | None = None
    try:
        semester = _form_semester(form)
        typed = text(form, "text", limit=MAX_TEXT, label="Text", multiline=True)
        await reports.report_compose(get_node(request), semester, typed, by=who)
        log.info("%s composed the report %s", who.name, semester)
    except UserError as exc:
        return await _reports_page(
            request, who, semester, status=status_of(exc), error=say(request, exc), typed=typed
        )
    raise done(request, REPORTS, "report-composed", semester=str(semester))


@routes.post(REPORTS + "/send")
@admin_post
async def report_send(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    semester = _semester(str(form.get("semester", ""))[:20])
    try:
        semester = _form_semester(form)
        await reports.report_send(get_node(request), semester, by=who)
        log.info("%s sent the report %s to the seat", who.name, semester)
    except UserError as exc:
        return await _reports_page(
            request, who, semester, status=status_of(exc), error=say(request, exc)
        )
    raise done(request, REPORTS, "report-sent", semester=str(semester))


# ----------------------------------------------------------------------------- the dashboard


def _charts(board: reports.Dashboard, lang: str) -> list[tuple[str, Any]]:
    _ = translator(lang)
    per_mediator = []
    sel_hours = []
    for c in board.sections:
        r = board.reports[c.uri]
        if r is None:
            continue
        f = r.figures
        value = f.get("hostings_per_mediator")
        if isinstance(value, int | float):
            per_mediator.append(Bar(c.name, float(value), reports.show_value("x", value, lang)))
        minutes = sum(
            v
            for k in ("sel_local_minutes", "sel_peer_minutes_total")
            if isinstance(v := f.get(k), int)
        )
        sel_hours.append(Bar(c.name, minutes / 60, show_hours(minutes, lang)))
    semester = board.semester
    titles = (
        _("Hostings bought per mediator, against the aim of six") + f" · {semester}",
        _("SEL hours exchanged per section") + f" · {semester}",
    )
    return [
        (
            titles[0],
            bar_chart(
                "chart-hostings",
                titles[0],
                _(
                    "One bar per section: hostings bought per mediator in the semester. The dashed "
                    "line is the charter's aim, six a semester. The table gives the same figures."
                ),
                per_mediator,
                reference=(float(PER_SEMESTER), _("aim: 6")),
            ),
        ),
        (
            titles[1],
            bar_chart(
                "chart-sel",
                titles[1],
                _(
                    "One bar per section: hours exchanged in the SEL, inside the section and with "
                    "peer sections. The table gives the same figures."
                ),
                sel_hours,
            ),
        ),
    ]


@routes.get(DASHBOARD)
@admin
async def dashboard_page(request: web.Request, who: Principal) -> web.StreamResponse:
    node = get_node(request)
    lang = pick_language(request)
    wanted = request.query.get("semester", "")[:20] or None
    board = await reports.dashboard(node, by=who, semester=wanted)
    shown = {
        key: (
            {
                c.uri: reports.show(key, v, lang)
                for c, v in zip(board.sections, (row[c.uri] for c in board.sections), strict=True)
            },
            reports.show(key, board.totals[key], lang),
        )
        for key, row in board.values.items()
    }
    return page(
        request,
        "ui/coord_dashboard.html",
        {
            "board": board,
            "labels": reports.LABELS,
            "shown": shown,
            "charts": _charts(board, lang) if board.semester else [],
        },
    )
