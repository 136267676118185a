"""Attestations announced to this node, waiting to be fetched and checked.

An ``Add`` of an attestation is only a notification: nothing in it is
believed. The inbox queues a check here (only when the announcer is the
network's seat, so a stranger cannot make us fetch anything); the node then
fetches the document from its issuer, checks it (federation/certification.py)
and holds it only if it passes. A check that could not reach the issuer is
tried again with growing delays; a verdict is final until announced again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow

#: Tries before a check that cannot reach the issuer is given up (about 18 h).
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=6)


class CheckState(StrEnum):
    PENDING = "pending"
    HELD = "held"
    REFUSED = "refused"


class AttestationCheck(Base):
    __tablename__ = "attestation_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    subject_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"))
    announced_by: Mapped[str] = mapped_column(String(2048))
    state: Mapped[str] = mapped_column(String(16), default=CheckState.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


async def queue_check(
    session: AsyncSession, uri: str, subject_actor_id: int, announced_by: str
) -> AttestationCheck:
    """Ask for a check; announcing the same attestation again checks it again."""
    row = (
        await session.execute(select(AttestationCheck).where(AttestationCheck.uri == uri))
    ).scalar_one_or_none()
    now = utcnow()
    if row is None:
        row = AttestationCheck(
            uri=uri,
            subject_actor_id=subject_actor_id,
            announced_by=announced_by,
            state=CheckState.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(row)
    elif row.state != CheckState.PENDING:
        row.state = CheckState.PENDING
        row.attempts = 0
        row.next_attempt_at = now
        row.reason = None
    await session.flush()
    return row


async def claim_due(
    session: AsyncSession, now: datetime, limit: int, lease: timedelta
) -> list[AttestationCheck]:
    rows = list(
        (
            await session.execute(
                select(AttestationCheck)
                .where(
                    AttestationCheck.state == CheckState.PENDING,
                    AttestationCheck.next_attempt_at <= now,
                    or_(
                        AttestationCheck.locked_until.is_(None),
                        AttestationCheck.locked_until <= now,
                    ),
                )
                .order_by(AttestationCheck.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
    )
    for row in rows:
        row.locked_until = now + lease
    return rows


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed fetches; None: give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    delay: timedelta = FIRST_RETRY * 4 ** max(attempts - 1, 0)
    return now + min(delay, MAX_RETRY)


def record(row: AttestationCheck, now: datetime, *, held: bool, reason: str | None) -> None:
    row.attempts += 1
    row.locked_until = None
    row.checked_at = now
    row.reason = reason[:1000] if reason else None
    row.state = CheckState.HELD if held else CheckState.REFUSED


def record_unreachable(row: AttestationCheck, now: datetime, reason: str) -> bool:
    """A fetch that failed for a reason that may pass; False when given up."""
    row.attempts += 1
    row.locked_until = None
    row.checked_at = now
    row.reason = reason[:1000]
    when = retry_at(row.attempts, now)
    if when is None:
        row.state = CheckState.REFUSED
        return False
    row.next_attempt_at = when
    return True


async def refuse_pending(session: AsyncSession, uri: str, announced_by: str, reason: str) -> None:
    """The announcer withdrew it (Remove) before it was checked."""
    row = (
        await session.execute(
            select(AttestationCheck).where(
                AttestationCheck.uri == uri,
                AttestationCheck.announced_by == announced_by,
                AttestationCheck.state == CheckState.PENDING,
            )
        )
    ).scalar_one_or_none()
    if row is not None:
        row.state = CheckState.REFUSED
        row.reason = reason
