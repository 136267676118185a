"""Reports to the seat: what ``coopnet report`` and the /admin pages call.

A section's coordinator composes the semester's report (figures counted
from the node's data, plus their text) and sends it to the seat; the seat's
coordinator reads every section's reports on the network dashboard. Every
action checks the role (coordinator); ``today`` is the node's clock unless
a caller (a test, a report for a past semester) passes one.

``serve_report`` answers GET /reports/{uuid}: the report object, to the
seat only (a GET signed with the seat actor's key); 404 to anyone else, as
if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from federation.inbox import InboxError, verify_request
from models.accounts import Principal
from models.actors import get_node_actor
from models.charter.hostings import Semester
from models.charter.receipts import format_amount
from models.network.alliances import seat_of, sections_of
from models.network.report_figures import FIGURES, MAP, NUMBER
from models.network.report_flow import compose_report, own_report, report_uri, send_report
from models.network.reports import (
    ReportDirection,
    SectionReport,
    reports_for,
)
from models.outbox import Activity
from node.actions import key_resolver
from node.context import Node
from node.i18n import show_hours
from node.web import ap_response, get_node, target_uri

routes = web.RouteTableDef()

#: What each figure is called (message ids: node/ui/reports_messages.py has the French).
LABELS: dict[str, str] = {
    "mediators": "Mediators",
    "mediators_certified": "Mediators certified",
    "mediators_active": "Mediators active",
    "hostings_bought": "Hostings bought",
    "hostings_aim": "Hostings aimed at (6 per mediator)",
    "hostings_expected": "Hostings due by now (1 a month)",
    "hostings_per_mediator": "Hostings per mediator",
    "mediators_on_aim": "Mediators keeping the aim",
    "hostings_behind": "Mediators behind on hostings (bought so far)",
    "contracts_signed": "Contracts signed",
    "contracts_handed_in": "Contracts handed in",
    "contracts_not_handed_in": "Contracts not handed in yet",
    "contract_shares_paid": "Section's shares handed in",
    "receipts_issued": "Receipts issued",
    "receipts_cancelled": "Receipts cancelled",
    "receipts_amounts": "Sums received (receipts)",
    "satisfaction_asked": "Satisfaction asked",
    "satisfaction_answers": "Satisfaction ratings",
    "satisfaction_average": "Average rating (out of 5)",
    "sel_local_exchanges": "SEL exchanges in the section",
    "sel_local_minutes": "SEL hours in the section",
    "sel_peer_exchanges": "SEL exchanges with each peer",
    "sel_peer_minutes_out": "SEL hours paid to peers",
    "sel_peer_minutes_in": "SEL hours received from peers",
    "sel_peer_exchanges_total": "SEL exchanges with peers",
    "sel_peer_minutes_total": "SEL hours with peers",
    "bulletins_sent": "Bulletins published",
    "bulletin_months": "Months with a bulletin",
    "help_asked": "Help requests asked (Club Aide)",
    "help_answered": "Help requests answered",
    "help_accepted": "Help offers taken up (first meeting free)",
    "help_withdrawn": "Help requests withdrawn",
    "help_resolved": "Problems resolved",
    "help_partly": "Problems partly resolved",
    "help_unresolved": "Problems not resolved",
    "help_offers_made": "Offers of help made by our people",
    "help_offers_accepted": "Our offers of help taken up",
}
#: Figures shown as money (maps of currency -> minor units) and as hours (minutes).
MONEY = frozenset({"contract_shares_paid", "receipts_amounts"})
MINUTES = frozenset(
    {
        "sel_local_minutes",
        "sel_peer_minutes_out",
        "sel_peer_minutes_in",
        "sel_peer_minutes_total",
    }
)


def show_value(key: str, value: Any, lang: str = "en") -> str:
    """A figure as people read it: hours for minutes, money for minor units, '–' for none."""
    if value is None:
        return "–"
    if isinstance(value, dict):
        if not value:
            return "0"
        return ", ".join(f"{k}: {show_value(key, v, lang)}" for k, v in sorted(value.items()))
    if key in MONEY and isinstance(value, int):
        return "?"  # a money map's entries are shown with their currency above
    if key in MINUTES and isinstance(value, int):
        return show_hours(value, lang)
    if isinstance(value, float):
        text = f"{value:g}"
        return text.replace(".", ",") if lang == "fr" else text
    return str(value)


def show_money(value: Any) -> str:
    if not isinstance(value, dict) or not value:
        return "0"
    return ", ".join(format_amount(int(v), str(k)) for k, v in sorted(value.items()))


def show(key: str, value: Any, lang: str = "en") -> str:
    return show_money(value) if key in MONEY and value is not None else show_value(key, value, lang)


def figure_rows(figures: dict[str, Any], lang: str = "en") -> list[tuple[str, str, str]]:
    """(key, label, shown value) of the known figures in order, then any unknown ones."""
    rows = [(k, LABELS.get(k, k), show(k, figures.get(k), lang)) for k in FIGURES]
    rows += [(k, k, show(k, v, lang)) for k, v in figures.items() if k not in FIGURES]
    return rows


def today_utc() -> date:
    return datetime.now(UTC).date()


async def report_compose(
    node: Node,
    semester: Semester,
    text: str | None = None,
    *,
    by: Principal,
    today: date | None = None,
) -> SectionReport:
    by.require_coordinator()
    async with node.write() as session:
        return await compose_report(session, node.urls, semester, today or today_utc(), text)


async def report_send(
    node: Node, semester: Semester, *, by: Principal, today: date | None = None
) -> SectionReport:
    by.require_coordinator()
    async with node.write() as session:
        row, _ = await send_report(session, node.urls, semester, today or today_utc())
    node.wake_delivery.set()
    return row


async def report_of(node: Node, semester: Semester, *, by: Principal) -> SectionReport | None:
    """This node's own report for the semester, if composed."""
    by.require_coordinator()
    async with node.sessions() as session:
        actor = await get_node_actor(session)
        return await own_report(session, node.urls.actor(actor.username), str(semester))


async def report_list(
    node: Node, *, by: Principal, direction: ReportDirection
) -> list[SectionReport]:
    by.require_coordinator()
    async with node.sessions() as session:
        return await reports_for(session, direction=direction)


async def seat_name(node: Node, *, by: Principal) -> str | None:
    """The seat this section reports to (its handle), or None without one."""
    by.require_coordinator()
    async with node.sessions() as session:
        seat = await seat_of(session)
    return (seat.peer_handle or seat.peer_uri) if seat is not None else None


# ----------------------------------------------------------------------------- the dashboard


@dataclass(frozen=True)
class Column:
    """One section on the dashboard."""

    uri: str
    name: str


@dataclass
class Dashboard:
    """Received reports of one semester, by section, and the network's totals."""

    semester: str
    semesters: list[str]
    sections: list[Column]
    #: section uri -> its report (None: not received)
    reports: dict[str, SectionReport | None]
    #: key -> section uri -> value, for the known figures
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    totals: dict[str, Any] = field(default_factory=dict)
    #: Hostings and SEL hours per section per semester (for the charts): semester -> uri -> figures
    history: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def _total(kind: str, values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    if kind == MAP:
        out: dict[str, int] = {}
        for v in present:
            if isinstance(v, dict):
                for k, n in v.items():
                    out[k] = out.get(k, 0) + int(n)
        return out
    if kind == NUMBER:
        return None  # an average of averages misleads; the page shows none
    return sum(int(v) for v in present if isinstance(v, int))


async def dashboard(node: Node, *, by: Principal, semester: str | None = None) -> Dashboard:
    """Every section's figures side by side for one semester (the latest by default)."""
    by.require_coordinator()
    async with node.sessions() as session:
        received = await reports_for(session, direction=ReportDirection.RECEIVED)
        allies = await sections_of(session)
    semesters = sorted({r.period for r in received}, reverse=True)
    chosen = semester if semester in semesters else (semesters[0] if semesters else "")
    names: dict[str, str] = {}
    for a in allies:
        names[a.peer_uri] = a.peer_name or a.peer_handle or a.peer_uri
    for r in received:
        names.setdefault(r.section_uri, r.section_name or r.section_uri)
    sections = sorted((Column(u, n) for u, n in names.items()), key=lambda c: c.name.lower())
    of_semester = {r.section_uri: r for r in received if r.period == chosen}
    reports: dict[str, SectionReport | None] = {c.uri: of_semester.get(c.uri) for c in sections}
    board = Dashboard(chosen, semesters, sections, reports)
    for key, kind in FIGURES.items():
        row = {c.uri: (got.figures.get(key) if (got := reports[c.uri]) else None) for c in sections}
        board.values[key] = row
        board.totals[key] = _total(kind, list(row.values()))
    for r in received:
        board.history.setdefault(r.period, {})[r.section_uri] = r.figures
    return board


# ----------------------------------------------------------------------------- GET /reports/{uuid}


@routes.get("/reports/{uuid}")
async def serve_report(request: web.Request) -> web.StreamResponse:
    """The report object, to the seat's signed GET only; 404 for anyone else."""
    node = get_node(request)
    missing = web.HTTPNotFound(text="no such object")
    uuid = request.match_info["uuid"]
    if (
        len(uuid) > 36
        or "Signature" not in request.headers
        and "Signature-Input" not in (request.headers)
    ):
        raise missing
    async with node.sessions() as session:
        row = await session.scalar(
            select(SectionReport).where(
                SectionReport.uri == report_uri(node.urls, uuid),
                SectionReport.direction == ReportDirection.SENT,
            )
        )
        seat = await seat_of(session)
        sent = (
            await session.scalar(select(Activity).where(Activity.uri == row.activity_uri))
            if row is not None and row.activity_uri
            else None
        )
    if row is None or seat is None or sent is None:
        raise missing
    try:
        key = await verify_request(
            request.method,
            target_uri(request),
            request.headers,
            None,
            key_resolver(node),
            datetime.now(UTC),
            node.config.signature_window_seconds,
            actor=seat.peer_uri,
        )
    except InboxError:
        raise missing from None
    if key.owner != seat.peer_uri:
        raise missing
    obj = sent.json.get("object")
    if not isinstance(obj, dict):
        raise missing
    return ap_response({"@context": sent.json.get("@context"), **obj})
