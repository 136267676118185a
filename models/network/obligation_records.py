"""Obligations recorded by hand: what the charter asks that no data of the node shows.

A mediator attending the monthly coordination, the basic training a
section gives, the seat's delegates at the evaluation meeting: nothing in
the node's tables says these happened, so a coordinator records them,
one row per obligation, period and subject (a mediator, a peer section,
or the node itself). models/network/obligations.py reads these rows next
to the data and turns the obligation "done" for that period.

A record made by mistake is not deleted: it is cancelled (who, when, why),
stays listed, and stops counting. At most one live record per obligation,
period and subject: ``live`` is 1 while the record stands and NULL once
cancelled, and (key, period, subject, live) is unique; NULLs never collide
on SQLite or PostgreSQL, so any number of cancelled records may stay.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.errors import NotFound, UserError

MAX_NOTE = 500
MAX_REASON = 300
MAX_SUBJECT = 2048


class ObligationError(UserError):
    pass


class ObligationRecord(Base):
    __tablename__ = "obligation_records"
    __table_args__ = (UniqueConstraint("key", "period", "subject", "live"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The obligation, as models/network/obligations.py's catalogue names it.
    key: Mapped[str] = mapped_column(String(64), index=True)
    #: 2026-09 (a month), 2026-S2 (a semester) or "once".
    period: Mapped[str] = mapped_column(String(7))
    #: Who it concerns: "" for this node, a mediator's username, a peer node's actor URI.
    subject: Mapped[str] = mapped_column(String(MAX_SUBJECT), default="")
    done_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(MAX_NOTE), default="")
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: 1 while the record stands, NULL once cancelled (see the module's docstring).
    live: Mapped[int | None] = mapped_column(Integer, default=1)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(64))
    cancel_reason: Mapped[str | None] = mapped_column(String(MAX_REASON))


async def add_record(
    session: AsyncSession,
    *,
    key: str,
    period: str,
    subject: str,
    done_on: date,
    note: str,
    recorded_by: str,
) -> ObligationRecord:
    """Store one record (the caller checked key, period and subject against the catalogue)."""
    note = " ".join(note.split())
    if len(note) > MAX_NOTE:
        raise ObligationError(f"the note is over {MAX_NOTE} characters")
    live = await live_record(session, key, period, subject)
    if live is not None:
        raise ObligationError(
            f"already recorded as done (record #{live.id}): cancel that one first to change it"
        )
    row = ObligationRecord(
        key=key,
        period=period,
        subject=subject,
        done_on=done_on,
        note=note,
        recorded_by=recorded_by[:64],
        live=1,
    )
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise ObligationError("already recorded as done by someone else just now") from None
    return row


async def live_record(
    session: AsyncSession, key: str, period: str, subject: str
) -> ObligationRecord | None:
    row: ObligationRecord | None = await session.scalar(
        select(ObligationRecord).where(
            ObligationRecord.key == key,
            ObligationRecord.period == period,
            ObligationRecord.subject == subject,
            ObligationRecord.live == 1,
        )
    )
    return row


async def cancel_record(
    session: AsyncSession, ident: int, reason: str, cancelled_by: str
) -> ObligationRecord:
    row = await session.get(ObligationRecord, ident, with_for_update=True)
    if row is None:
        raise NotFound(f"no obligation record number {ident} ('coopnet obligation list')")
    if row.cancelled_at is not None:
        raise ObligationError(f"record {ident} was already cancelled")
    reason = " ".join(reason.split())
    if not reason:
        raise ObligationError("give the reason for the cancellation")
    if len(reason) > MAX_REASON:
        raise ObligationError(f"the reason is over {MAX_REASON} characters")
    row.live = None
    row.cancelled_at = utcnow()
    row.cancelled_by = cancelled_by[:64]
    row.cancel_reason = reason
    return row


async def list_records(
    session: AsyncSession, *, include_cancelled: bool = True
) -> list[ObligationRecord]:
    """Every record, newest first."""
    query = select(ObligationRecord)
    if not include_cancelled:
        query = query.where(ObligationRecord.live == 1)
    rows = await session.scalars(
        query.order_by(ObligationRecord.created_at.desc(), ObligationRecord.id.desc())
    )
    return list(rows.all())
