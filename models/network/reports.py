"""Semi-annual evaluation reports, from a section to its seat.

A section's node composes its report for a semester from its own data plus
the coordinator's free text and sends it to its seat only. The seat keeps
every section's reports and acknowledges each. One row per section and
semester on either side: the section's node holds its own (``sent``), the
seat's node holds what it received (``received``); a corrected report sent
again replaces the earlier one.

The figures are a JSON object whose keys are listed in ``FIGURES``
(models/network/report_figures.py, where they are composed); the
seat's dashboard reads them side by side, so a key's meaning never changes
(add keys, never reuse one).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.errors import UserError


class ReportError(UserError):
    pass


class ReportDirection(StrEnum):
    SENT = "sent"
    RECEIVED = "received"


class ReportState(StrEnum):
    #: Composed here, not sent yet.
    DRAFT = "draft"
    #: Sent to the seat (or, at the seat, received); no acknowledgement yet.
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    #: The seat refused this sending (``refusal`` says why); correct it and send again.
    REFUSED = "refused"


class SectionReport(Base):
    __tablename__ = "section_reports"
    __table_args__ = (UniqueConstraint("section_uri", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    #: The report object's id (ours when sent, the section's when received).
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    #: The section's node actor.
    section_uri: Mapped[str] = mapped_column(String(2048), index=True)
    section_name: Mapped[str] = mapped_column(String(200), default="")
    #: The semester, as 2026-S2 (models.charter.hostings.Semester).
    period: Mapped[str] = mapped_column(String(7), index=True)
    direction: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), default=ReportState.DRAFT)
    figures_json: Mapped[str] = mapped_column(Text, default="{}")
    #: The coordinator's free text (Markdown source when ours, sanitised HTML when received).
    text: Mapped[str] = mapped_column(Text, default="")
    composed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The seat's reason when it refused the last sending.
    refusal: Mapped[str | None] = mapped_column(String(500))
    #: The Create or Update that carried the current version (sent or received):
    #: the seat's Accept must name it to acknowledge this version (migration 0022).
    activity_uri: Mapped[str | None] = mapped_column(String(2048))
    #: The day the figures were counted up to (migration 0022).
    as_of: Mapped[date | None] = mapped_column(Date)

    @property
    def figures(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.figures_json or "{}")
        return data


async def reports_for(
    session: AsyncSession,
    *,
    period: str | None = None,
    section_uri: str | None = None,
    direction: ReportDirection | None = None,
) -> list[SectionReport]:
    """Reports, newest semester first, filtered by what is given."""
    query = select(SectionReport)
    if period is not None:
        query = query.where(SectionReport.period == period)
    if section_uri is not None:
        query = query.where(SectionReport.section_uri == section_uri)
    if direction is not None:
        query = query.where(SectionReport.direction == direction)
    rows = await session.execute(
        query.order_by(SectionReport.period.desc(), SectionReport.section_name)
    )
    return list(rows.scalars())


async def delivered(session: AsyncSession, section_uri: str, period: str) -> SectionReport | None:
    """The report of ``section_uri`` for ``period`` if it was sent (or received), else None."""
    rows = await reports_for(session, period=period, section_uri=section_uri)
    for row in rows:
        if row.state in (ReportState.SENT, ReportState.ACKNOWLEDGED):
            return row
    return None
