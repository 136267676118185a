"""Hostings a mediator buys from the section, counted against the charter's aim.

The charter asks each mediator to buy one hosting a month from their
section, six a semester. The coordinator records each purchase as it is
paid; the node counts them per month and per semester so that the
section (and the obligations the network tracks) can see who keeps the
aim and who is behind, from data rather than from a spreadsheet.

A purchase recorded by mistake is not deleted: it is cancelled with a
reason, stays listed as cancelled, and stops counting. The counting is a
pure function of the purchase dates and a day "today" passed in, so it is
tested with any clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.actors import LocalActor
from models.base import Base, UTCDateTime, utcnow
from models.errors import NotFound, UserError
from models.offers import OfferError, parse_price

#: The charter's aim: one hosting a month, six a semester.
PER_MONTH = 1
PER_SEMESTER = 6
MAX_WHAT = 300
MAX_REASON = 300


class HostingError(UserError):
    pass


class HostingPurchase(Base):
    """One hosting a mediator bought from the section."""

    __tablename__ = "hosting_purchases"
    __table_args__ = (Index("ix_hosting_purchases_actor_day", "actor_id", "bought_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"))
    bought_on: Mapped[date] = mapped_column(Date)
    #: What was bought: the client's site, a domain, a mailbox…
    what: Mapped[str] = mapped_column(String(MAX_WHAT))
    #: The sum paid, as parse_price writes it ("10.00"), and its currency.
    amount: Mapped[str | None] = mapped_column(String(32))
    currency: Mapped[str | None] = mapped_column(String(3))
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(MAX_REASON))


# ----------------------------------------------------------------------------- semesters


@dataclass(frozen=True, order=True)
class Semester:
    """S1 is January to June, S2 July to December."""

    year: int
    half: int

    @classmethod
    def of(cls, day: date) -> Semester:
        return cls(day.year, 1 if day.month <= 6 else 2)

    @classmethod
    def parse(cls, text: str) -> Semester:
        """'2026-S2' (or '2026-s2', '2026S2')."""
        raw = text.strip().upper().replace("-", "")
        if len(raw) == 6 and raw[:4].isdigit() and raw[4] == "S" and raw[5] in "12":
            year = int(raw[:4])
            if 2000 <= year <= 2100:
                return cls(year, int(raw[5]))
        raise HostingError(f"{text[:20]!r} is not a semester: write it as 2026-S2")

    @property
    def months(self) -> list[str]:
        first = 1 if self.half == 1 else 7
        return [f"{self.year}-{m:02d}" for m in range(first, first + 6)]

    @property
    def first_day(self) -> date:
        return date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, 6, 30) if self.half == 1 else date(self.year, 12, 31)

    def previous(self) -> Semester:
        return Semester(self.year, 1) if self.half == 2 else Semester(self.year - 1, 2)

    def following(self) -> Semester:
        return Semester(self.year, 2) if self.half == 1 else Semester(self.year + 1, 1)

    def __str__(self) -> str:
        return f"{self.year}-S{self.half}"


@dataclass(frozen=True)
class Tally:
    """One mediator's hostings in one semester, against the aim."""

    per_month: dict[str, int]
    total: int
    #: Months of the semester begun by "today" (all six once it is over).
    months_due: int
    #: Hostings the aim asks for by now: one per month begun.
    expected: int
    #: Months begun with no hosting bought (the current month counts once it is over).
    months_missed: list[str]
    #: Months of the semester that are over by "today".
    months_ended: int = 0

    @property
    def behind(self) -> bool:
        """Fewer hostings than months ended: the month in progress is due, not late
        (the obligations page reads the charter the same way)."""
        return self.total < self.months_ended * PER_MONTH

    @property
    def due_now(self) -> bool:
        """This month's hosting (or an earlier one) is still to buy."""
        return self.total < self.expected

    @property
    def aim(self) -> int:
        return PER_SEMESTER


def tally(days: list[date], semester: Semester, today: date) -> Tally:
    """Count purchases ``days`` in ``semester`` as seen on ``today``.

    A month that has not begun asks nothing; the month in progress asks
    for its hosting in ``expected`` (the aim is one a month) but is only
    "missed" once it is over, so nobody is marked late on the 2nd.
    """
    per_month = {m: 0 for m in semester.months}
    for day in days:
        key = f"{day.year}-{day.month:02d}"
        if key in per_month:
            per_month[key] += 1
    this_month = f"{today.year}-{today.month:02d}"
    begun = [m for m in semester.months if m <= this_month]
    missed = [m for m in begun if m < this_month and per_month[m] < PER_MONTH]
    return Tally(
        per_month=per_month,
        total=sum(per_month.values()),
        months_due=len(begun),
        expected=len(begun) * PER_MONTH,
        months_missed=missed,
        months_ended=sum(1 for m in begun if m < this_month),
    )


# ----------------------------------------------------------------------------- storage


def _check_day(day: date, today: date) -> date:
    if day > today:
        raise HostingError("a hosting cannot be bought in the future: check the date")
    if day.year < 2000:
        raise HostingError("that date is too far in the past: check the date")
    return day


async def record_purchase(
    session: AsyncSession,
    actor: LocalActor,
    bought_on: date,
    what: str,
    price: str,
    recorded_by: str,
    *,
    today: date,
) -> HostingPurchase:
    if actor.type != "Person" or actor.deleted_at is not None:
        raise HostingError(f"{actor.username!r} is not a current mediator of this section")
    what = " ".join(what.split())
    if not what:
        raise HostingError("say what was bought (the client's site, a domain…)")
    if len(what) > MAX_WHAT:
        raise HostingError(f"the description is over {MAX_WHAT} characters")
    amount = currency = None
    if price.strip():
        try:
            amount, currency = parse_price(price)
        except OfferError as exc:
            raise HostingError(str(exc)) from None
    row = HostingPurchase(
        actor_id=actor.id,
        bought_on=_check_day(bought_on, today),
        what=what,
        amount=amount,
        currency=currency,
        recorded_by=recorded_by[:64],
    )
    session.add(row)
    await session.flush()
    return row


async def cancel_purchase(session: AsyncSession, ident: int, reason: str) -> HostingPurchase:
    row = await session.get(HostingPurchase, ident, with_for_update=True)
    if row is None:
        raise NotFound(f"no hosting purchase number {ident}")
    if row.cancelled_at is not None:
        raise HostingError(f"purchase {ident} was already cancelled")
    reason = " ".join(reason.split())
    if not reason:
        raise HostingError("give the reason for the cancellation")
    row.cancelled_at = utcnow()
    row.cancel_reason = reason[:MAX_REASON]
    return row


async def purchases(
    session: AsyncSession,
    semester: Semester,
    actor_id: int | None = None,
) -> list[HostingPurchase]:
    """Every purchase of the semester (cancelled ones too), newest first."""
    query = select(HostingPurchase).where(
        HostingPurchase.bought_on >= semester.first_day,
        HostingPurchase.bought_on <= semester.last_day,
    )
    if actor_id is not None:
        query = query.where(HostingPurchase.actor_id == actor_id)
    rows = await session.scalars(
        query.order_by(HostingPurchase.bought_on.desc(), HostingPurchase.id.desc())
    )
    return list(rows.all())


async def semester_tallies(
    session: AsyncSession, semester: Semester, today: date
) -> list[tuple[LocalActor, Tally]]:
    """Each current mediator's tally (in name order); cancelled purchases do not count."""
    mediators = await session.scalars(
        select(LocalActor)
        .where(LocalActor.type == "Person", LocalActor.deleted_at.is_(None))
        .order_by(LocalActor.username)
    )
    days: dict[int, list[date]] = {}
    for row in await purchases(session, semester):
        if row.cancelled_at is None:
            days.setdefault(row.actor_id, []).append(row.bought_on)
    return [(m, tally(days.get(m.id, []), semester, today)) for m in mediators]
