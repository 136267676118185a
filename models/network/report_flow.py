"""A section's report from composition to the seat's acknowledgement.

Section side: ``compose_report`` counts the figures (report_figures) and
keeps the coordinator's text in the semester's row; ``send_report`` queues
it to the seat's inbox only (``Create`` the first time, ``Update`` after:
the seat keeps one report per section and semester, the latest). Seat
side: ``receive_report`` (the inbox's Create/Update hook) keeps a report
only from an accepted ally whose role is ``section``, checked and cleaned
(report_wire.parse_report), and queues an ``Accept`` to that section
alone; ``acknowledge_report`` (the inbox's Accept hook) marks the section's
report acknowledged when the Accept names the version it sent last.

The report is never public: its activities are stored with ``public``
False (the outbox collection and /activities/ do not show them), queued
to one inbox, and its id is served to nobody but the seat.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import get_id, same_origin
from models.actors import RemoteActor, get_node_actor
from models.base import utcnow
from models.charter.hostings import Semester
from models.html import plain_line
from models.network.alliances import AllianceState, PeerRole, alliance_with, seat_of
from models.network.report_figures import compose_figures
from models.network.report_wire import (
    MAX_TEXT,
    ReportRefused,
    acknowledgement,
    parse_report,
    refusal,
    report_activity,
    report_object,
)
from models.network.reports import (
    ReportDirection,
    ReportError,
    ReportState,
    SectionReport,
)
from models.outbox import enqueue, new_uuid
from models.to_ap import iso
from models.urls import Urls


def report_uri(urls: Urls, uuid: str) -> str:
    return f"{urls.base}/reports/{uuid}"


def check_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_TEXT:
        raise ReportError(f"the text is over {MAX_TEXT} characters: shorten it")
    if "\x00" in text:
        raise ReportError("the text contains a NUL character")
    return text


async def own_report(session: AsyncSession, section_uri: str, period: str) -> SectionReport | None:
    row: SectionReport | None = await session.scalar(
        select(SectionReport).where(
            SectionReport.section_uri == section_uri,
            SectionReport.period == period,
            SectionReport.direction == ReportDirection.SENT,
        )
    )
    return row


def as_of_for(semester: Semester, today: date) -> date:
    """The day counted up to: today, or the semester's last day once it is over."""
    if today < semester.first_day:
        raise ReportError(f"{semester} has not begun: a report counts what happened")
    return min(today, semester.last_day)


async def compose_report(
    session: AsyncSession,
    urls: Urls,
    semester: Semester,
    today: date,
    text: str | None = None,
) -> SectionReport:
    """Count this node's figures for ``semester`` (up to ``today``) into its row.

    ``text`` (Markdown) replaces the coordinator's text when given; None
    keeps it. Composing again after sending changes what the next sending
    carries, not what the seat has (the page says so): the state stays.
    """
    as_of = as_of_for(semester, today)
    node = await get_node_actor(session)
    section = urls.actor(node.username)
    figures = await compose_figures(session, urls, semester, as_of)
    row = await own_report(session, section, str(semester))
    if row is None:
        ident = new_uuid()
        row = SectionReport(
            uuid=ident,
            uri=report_uri(urls, ident),
            section_uri=section,
            section_name=(node.name or node.username)[:200],
            period=str(semester),
            direction=ReportDirection.SENT,
            state=ReportState.DRAFT,
            text="",
        )
        session.add(row)
    row.figures_json = json.dumps(figures, ensure_ascii=False, sort_keys=False)
    row.as_of = as_of
    row.composed_at = utcnow()
    if text is not None:
        row.text = check_text(text)
    await session.flush()
    return row


async def _seat_inbox(session: AsyncSession, seat_uri: str, known: str) -> str:
    if known:
        return known
    actor = await session.scalar(select(RemoteActor).where(RemoteActor.uri == seat_uri))
    if actor is None or not actor.inbox:
        raise ReportError(
            "the seat's inbox is unknown: renew the alliance with the seat ('coopnet peer')"
        )
    return actor.inbox


async def send_report(
    session: AsyncSession, urls: Urls, semester: Semester, today: date
) -> tuple[SectionReport, dict[str, Any]]:
    """Queue this node's report for ``semester`` to its seat, and only there.

    A report never composed is composed first (without text). Returns the
    row and the activity queued. Refused (ReportError) without a seat.
    """
    seat = await seat_of(session)
    if seat is None:
        raise ReportError(
            "this node has no seat to report to: ally with the seat first "
            "('coopnet peer add' with the seat's account, then the seat approves)"
        )
    inbox = await _seat_inbox(session, seat.peer_uri, seat.peer_inbox)
    node = await get_node_actor(session)
    section = urls.actor(node.username)
    row = await own_report(session, section, str(semester))
    if row is None:
        row = await compose_report(session, urls, semester, today)
    now = utcnow()
    first = row.sent_at is None
    obj = report_object(
        uri=row.uri,
        section=section,
        seat=seat.peer_uri,
        name=f"{row.section_name or node.username} · {row.period}",
        semester=row.period,
        as_of=row.as_of,
        figures=row.figures,
        markdown=row.text,
        published=iso(row.sent_at or now),
        updated=None if first else iso(now),
    )
    activity = report_activity(
        urls.activity(new_uuid()),
        "Create" if first else "Update",
        section,
        seat.peer_uri,
        obj,
        iso(now),
    )
    # public=False: not in the outbox collection, not served at /activities/;
    # one inbox: the seat's, never a followers collection.
    await enqueue(session, node, activity, [inbox], public=False, now=now)
    row.activity_uri = activity["id"]
    row.sent_at = now
    row.state = ReportState.SENT
    row.acknowledged_at = None
    await session.flush()
    return row, activity


# ----------------------------------------------------------------------------- the seat


async def receive_report(
    session: AsyncSession, urls: Urls, signer: RemoteActor, activity: dict[str, Any]
) -> str:
    """The seat keeps a section's report and acknowledges it; a line for the log."""
    alliance = await alliance_with(session, signer.uri)
    if alliance is None or alliance.state != AllianceState.ACCEPTED:
        return f"ignored: refused report from {signer.uri}, which is not an accepted ally"
    if alliance.peer_role != PeerRole.SECTION:
        role = alliance.peer_role
        return f"ignored: refused report from {signer.uri}, allied as {role}, not a section"
    node = await get_node_actor(session)
    us = urls.actor(node.username)
    try:
        report = parse_report(activity, signer.uri, us)
    except ReportRefused as exc:
        # An ally's report: say why, so its coordinator can correct and send again.
        ident = activity.get("id")
        if isinstance(ident, str) and same_origin(ident, signer.uri):
            answer = refusal(urls.activity(new_uuid()), us, signer.uri, ident, str(exc))
            await enqueue(session, node, answer, [signer.inbox], public=False)
        return f"ignored: refused report from {signer.uri}: {exc}"
    period = str(report.semester)
    row = await session.scalar(
        select(SectionReport).where(
            SectionReport.section_uri == signer.uri, SectionReport.period == period
        )
    )
    clash = await session.scalar(select(SectionReport).where(SectionReport.uri == report.uri))
    if clash is not None and clash is not row:
        return f"ignored: refused report id {report.uri} is already another semester's report"
    if row is not None and row.direction != ReportDirection.RECEIVED:
        return "ignored: refused a report about this node's own section"
    if (
        row is not None
        and report.version is not None
        and row.composed_at is not None
        and report.version < row.composed_at
    ):
        return f"ignored: an older version of {signer.uri}'s report for {period}"
    now = utcnow()
    if row is None:
        row = SectionReport(
            uuid=new_uuid(),
            section_uri=signer.uri,
            period=period,
            direction=ReportDirection.RECEIVED,
        )
        session.add(row)
    row.uri = report.uri
    row.section_name = plain_line(
        alliance.peer_name or signer.name or alliance.peer_handle or signer.uri
    )[:200]
    row.figures_json = json.dumps(report.figures, ensure_ascii=False)
    row.text = report.html
    row.as_of = report.as_of
    row.composed_at = report.version or now
    row.activity_uri = report.activity_uri
    row.received_at = now
    accept = acknowledgement(urls.activity(new_uuid()), us, signer.uri, report.activity_uri)
    await enqueue(session, node, accept, [signer.inbox], public=False, now=now)
    row.state = ReportState.ACKNOWLEDGED
    row.acknowledged_at = now
    await session.flush()
    return f"report {period} from {signer.uri} kept and acknowledged"


async def _seats_answer(
    session: AsyncSession, signer: RemoteActor, activity: dict[str, Any], verb: str
) -> SectionReport | str | None:
    """The sending of ours an Accept or Reject names: the row, a refusal line when
    the signer is not our seat, None when it is not about a report."""
    ref = get_id(activity.get("object"))
    if not ref:
        return None
    row = await session.scalar(
        select(SectionReport).where(
            SectionReport.activity_uri == ref, SectionReport.direction == ReportDirection.SENT
        )
    )
    if row is None:
        return None
    seat = await seat_of(session)
    if seat is None or seat.peer_uri != signer.uri:
        return f"ignored: {signer.uri} {verb} our report but is not our seat"
    return row


async def acknowledge_report(
    session: AsyncSession, signer: RemoteActor, activity: dict[str, Any]
) -> str | None:
    """The section side of the seat's Accept; None when it is not about a report."""
    row = await _seats_answer(session, signer, activity, "acknowledged")
    if not isinstance(row, SectionReport):
        return row
    if row.state != ReportState.ACKNOWLEDGED:
        row.state = ReportState.ACKNOWLEDGED
        row.acknowledged_at = utcnow()
        row.refusal = None
    return f"the seat acknowledged our report for {row.period}"


async def report_refused(
    session: AsyncSession, signer: RemoteActor, activity: dict[str, Any]
) -> str | None:
    """The section side of the seat's Reject; None when it is not about a report."""
    row = await _seats_answer(session, signer, activity, "refused")
    if not isinstance(row, SectionReport):
        return row
    if row.state == ReportState.ACKNOWLEDGED:
        return f"ignored: the seat's refusal of a report it acknowledged ({row.period})"
    content = activity.get("content")
    row.state = ReportState.REFUSED
    row.refusal = plain_line(content if isinstance(content, str) else "")[:500] or "no reason given"
    return f"the seat refused our report for {row.period}: {row.refusal}"
