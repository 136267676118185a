"""Client satisfaction: a one-time link for a 1–5 rating and a final comment.

The mediator gets a link for the client when a contract ends, or asks for
one on a signed contract. The token is stored as a SHA-256 digest; a link
is answered once. Each mediator's indicator (count, average, last
comments) is for the coordinator; it shows on the mediator's public page
only when the mediator says so (off by default).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.accounts import digest
from models.base import Base, UTCDateTime, utcnow
from models.charter.contracts import Contract, ContractState
from models.errors import UserError

LINK_LIFETIME = timedelta(days=60)
MAX_COMMENT = 2000
LAST_COMMENTS = 5


class SatisfactionError(UserError):
    pass


class SatisfactionGone(SatisfactionError):
    """Answered, replaced, expired or unknown link (a 410 page)."""


class SatisfactionRequest(Base):
    __tablename__ = "satisfaction_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    #: The mediator rated (the contract's), kept here for the indicator's query.
    actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set when a newer link for the same contract replaced this one.
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SatisfactionSetting(Base):
    """A mediator's consent to show their indicator on their public page."""

    __tablename__ = "satisfaction_settings"

    actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), primary_key=True)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


async def new_request(session: AsyncSession, contract: Contract) -> str:
    """A fresh link for the client of a signed contract; an unanswered earlier one stops."""
    if contract.state not in (ContractState.SIGNED, ContractState.HANDED_IN, ContractState.ENDED):
        raise SatisfactionError(
            f"satisfaction is asked on a signed contract (this one is {contract.state})"
        )
    answered = await session.scalar(
        select(SatisfactionRequest.id).where(
            SatisfactionRequest.contract_id == contract.id,
            SatisfactionRequest.answered_at.is_not(None),
        )
    )
    if answered is not None:
        raise SatisfactionError("the client has already given their rating for this contract")
    now = utcnow()
    await session.execute(
        update(SatisfactionRequest)
        .where(
            SatisfactionRequest.contract_id == contract.id,
            SatisfactionRequest.replaced_at.is_(None),
        )
        .values(replaced_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        SatisfactionRequest(
            contract_id=contract.id,
            actor_id=contract.actor_id,
            token_hash=digest(token),
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    await session.flush()
    return token


async def by_token(
    session: AsyncSession, token: str, *, for_update: bool = False
) -> SatisfactionRequest:
    query = select(SatisfactionRequest).where(SatisfactionRequest.token_hash == digest(token[:128]))
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = await session.scalar(query)
    if row is None or row.replaced_at is not None:
        raise SatisfactionGone("this link is not valid (replaced or unknown)")
    if row.answered_at is not None:
        raise SatisfactionGone("your rating was already received with this link: thank you")
    if row.expires_at <= utcnow():
        raise SatisfactionGone("this link is older than 60 days")
    return row


def check_answer(rating: str, comment: str) -> tuple[int, str]:
    if rating.strip() not in ("1", "2", "3", "4", "5"):
        raise SatisfactionError("choose a rating from 1 to 5")
    comment = comment.replace("\r\n", "\n").strip()
    if len(comment) > MAX_COMMENT:
        raise SatisfactionError(f"the comment: at most {MAX_COMMENT} characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in comment):
        raise SatisfactionError("the comment contains a control character")
    return int(rating), comment


async def answer(
    session: AsyncSession, token: str, rating: str, comment: str
) -> SatisfactionRequest:
    row = await by_token(session, token, for_update=True)
    value, text = check_answer(rating, comment)
    row.rating = value
    row.comment = text
    row.answered_at = utcnow()
    await session.flush()
    return row


@dataclass(frozen=True)
class Indicator:
    count: int
    #: One decimal, as text ('4.5'); None without any rating.
    average: str | None
    last_comments: tuple[tuple[int, str, datetime], ...]


async def indicator(session: AsyncSession, actor_id: int) -> Indicator:
    rows = list(
        (
            await session.scalars(
                select(SatisfactionRequest)
                .where(
                    SatisfactionRequest.actor_id == actor_id,
                    SatisfactionRequest.answered_at.is_not(None),
                )
                .order_by(SatisfactionRequest.answered_at.desc(), SatisfactionRequest.id.desc())
            )
        ).all()
    )
    if not rows:
        return Indicator(0, None, ())
    total = sum(r.rating or 0 for r in rows)
    average = (Decimal(total) / len(rows)).quantize(Decimal("0.1"))
    comments = tuple(
        (r.rating or 0, r.comment or "", r.answered_at) for r in rows if r.comment and r.answered_at
    )[:LAST_COMMENTS]
    return Indicator(len(rows), str(average), comments)


async def is_public(session: AsyncSession, actor_id: int) -> bool:
    row = await session.get(SatisfactionSetting, actor_id)
    return bool(row and row.public)


async def set_public(session: AsyncSession, actor_id: int, public: bool) -> None:
    row = await session.get(SatisfactionSetting, actor_id)
    if row is None:
        session.add(SatisfactionSetting(actor_id=actor_id, public=public, changed_at=utcnow()))
    else:
        row.public = public
        row.changed_at = utcnow()
    await session.flush()


async def answered(session: AsyncSession, actor_id: int | None = None) -> list[SatisfactionRequest]:
    query = (
        select(SatisfactionRequest)
        .where(SatisfactionRequest.answered_at.is_not(None))
        .order_by(SatisfactionRequest.answered_at.desc())
    )
    if actor_id is not None:
        query = query.where(SatisfactionRequest.actor_id == actor_id)
    return list((await session.scalars(query)).all())
