"""The figures of a section's semi-annual report, composed from the node's own data.

A report counts what happened in one semester (``Semester``) up to an
"as of" day: the end of the semester once it is over, or the day the
coordinator composes it. Events after that day do not count, so the same
report composed again later for the same day gives the same numbers.

Composition is a list of small providers (``PROVIDERS``), each a function
``(session, scope) -> {key: value}`` reading one area of the data. Adding a
figure (help requests, say) is one provider appended here and its keys
added to ``FIGURES``. A key's meaning never changes once sent: the seat
compares semesters and sections by key (add keys, never reuse one).

Values are JSON of three shapes only, checked by ``check_figures`` when a
report is received (models/network/report_wire.py):

- ``count``: a non-negative integer;
- ``number``: a non-negative number (one or two decimals), or null when
  there is nothing to average;
- ``map``: an object of up to ``MAX_MAP`` entries, string keys (a currency
  code, a peer section's host), non-negative integer values.

The keys (``FIGURES`` below, in the order pages show them):

========================== ======= ===================================================
key                        shape   meaning (in the semester, up to the as-of day)
========================== ======= ===================================================
mediators                  count   mediators of the section at some time in the period
mediators_certified        count   of those still here at its end, those holding a live
                                   certification from the section
mediators_active           count   mediators who bought a hosting, had a contract
                                   signed or issued a receipt in the period
hostings_bought            count   hostings bought by mediators (cancelled ones excluded)
hostings_aim               count   the charter's aim: six a semester per current mediator
hostings_expected          count   one per month begun per current mediator (by as-of)
hostings_per_mediator      number  hostings bought per current mediator (two decimals)
mediators_on_aim           count   current mediators with at least one per month begun
hostings_behind            map     current mediators under one hosting a month ended since
                                   they joined (by username: hostings bought), as the
                                   obligations page reads the charter; the seat's reads it
contracts_signed           count   contracts the client signed
contracts_handed_in        count   contracts handed in to the section with its share
contracts_not_handed_in    count   contracts signed by the end and not handed in by then
contract_shares_paid       map     the section's shares handed in, per currency, minor units
receipts_issued            count   receipts issued that still stand (not cancelled)
receipts_cancelled         count   cancelling receipts issued
receipts_amounts           map     sums of the standing receipts, per currency, minor units
satisfaction_asked         count   satisfaction links given to clients
satisfaction_answers       count   ratings clients gave
satisfaction_average       number  their average, 1 to 5 (one decimal), null without any
sel_local_exchanges        count   SEL exchanges between members of the section
sel_local_minutes          count   their total, in minutes
sel_peer_exchanges         map     SEL exchanges with each peer section (by its host)
sel_peer_minutes_out       map     minutes our members paid to each peer section
sel_peer_minutes_in        map     minutes each peer section's members paid ours
sel_peer_exchanges_total   count   the sum of sel_peer_exchanges
sel_peer_minutes_total     count   minutes exchanged with peers, both ways
bulletins_sent             count   bulletins the section published (not deleted)
bulletin_months            count   months of the period with at least one bulletin
help_asked                 count   Club Aide requests our members asked (by the day asked)
help_answered              count   of those, requests that received at least one offer
help_accepted              count   of those, requests whose requester took up an offer
help_withdrawn             count   of those, requests withdrawn
help_resolved              count   of those, outcome reported: resolved
help_partly                count   of those, outcome reported: partly resolved
help_unresolved            count   of those, outcome reported: not resolved
help_offers_made           count   offers of help our people made (to any section)
help_offers_accepted       count   of those, offers the requester took up
========================== ======= ===================================================

SEL exchanges count by the day they were performed, and only once they
took effect (confirmed locally; settled or committed with a peer).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import LocalActor
from models.attestations import Attestation, Kind
from models.bulletins import Bulletin
from models.charter.contracts import Contract
from models.charter.hostings import PER_SEMESTER, HostingPurchase, Semester, tally
from models.charter.receipts import Receipt
from models.charter.satisfaction import SatisfactionRequest
from models.network import help as club_aide
from models.network import obligations as duties
from models.sel.exchanges import Exchange, Role, State
from models.urls import Urls

#: Figure value shapes.
COUNT = "count"
NUMBER = "number"
MAP = "map"

#: Every figure key we compose, with its shape, in the order pages show them.
FIGURES: dict[str, str] = {
    "mediators": COUNT,
    "mediators_certified": COUNT,
    "mediators_active": COUNT,
    "hostings_bought": COUNT,
    "hostings_aim": COUNT,
    "hostings_expected": COUNT,
    "hostings_per_mediator": NUMBER,
    "mediators_on_aim": COUNT,
    "hostings_behind": MAP,
    "contracts_signed": COUNT,
    "contracts_handed_in": COUNT,
    "contracts_not_handed_in": COUNT,
    "contract_shares_paid": MAP,
    "receipts_issued": COUNT,
    "receipts_cancelled": COUNT,
    "receipts_amounts": MAP,
    "satisfaction_asked": COUNT,
    "satisfaction_answers": COUNT,
    "satisfaction_average": NUMBER,
    "sel_local_exchanges": COUNT,
    "sel_local_minutes": COUNT,
    "sel_peer_exchanges": MAP,
    "sel_peer_minutes_out": MAP,
    "sel_peer_minutes_in": MAP,
    "sel_peer_exchanges_total": COUNT,
    "sel_peer_minutes_total": COUNT,
    "bulletins_sent": COUNT,
    "bulletin_months": COUNT,
    "help_asked": COUNT,
    "help_answered": COUNT,
    "help_accepted": COUNT,
    "help_withdrawn": COUNT,
    "help_resolved": COUNT,
    "help_partly": COUNT,
    "help_unresolved": COUNT,
    "help_offers_made": COUNT,
    "help_offers_accepted": COUNT,
}

#: Bounds a received report must keep (checked in report_wire.check_figures).
MAX_KEYS = 100
MAX_MAP = 100
MAX_COUNT = 10**15
MAX_KEY_CHARS = 64
MAX_MAP_KEY_CHARS = 255

Figures = dict[str, Any]


@dataclass(frozen=True)
class Scope:
    """What a provider counts: one semester, up to and including ``last_day``."""

    semester: Semester
    as_of: date
    urls: Urls

    @property
    def first_day(self) -> date:
        return self.semester.first_day

    @property
    def last_day(self) -> date:
        """The semester's last day, or the as-of day if earlier."""
        return min(self.as_of, self.semester.last_day)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight (UTC) after the last day counted."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), UTC)

    @property
    def empty(self) -> bool:
        return self.as_of < self.first_day

    def within(self, column: Any) -> Any:
        return (column >= self.start) & (column < self.end)


Provider = Callable[[AsyncSession, Scope], Awaitable[Figures]]


def _ratio(numerator: int, denominator: int, places: str = "0.01") -> float | None:
    if denominator <= 0:
        return None
    value = (Decimal(numerator) / Decimal(denominator)).quantize(
        Decimal(places), rounding=ROUND_HALF_UP
    )
    return float(value)


def host_of(uri: str | None) -> str:
    return urlsplit(uri or "").netloc or (uri or "?")[:MAX_MAP_KEY_CHARS]


async def _mediators(session: AsyncSession, scope: Scope) -> list[LocalActor]:
    """Mediators present at some time in the period (created before its end,
    not removed before its start)."""
    rows = await session.scalars(
        select(LocalActor)
        .where(
            LocalActor.type == "Person",
            LocalActor.created_at < scope.end,
            or_(LocalActor.deleted_at.is_(None), LocalActor.deleted_at >= scope.start),
        )
        .order_by(LocalActor.username)
    )
    return list(rows.all())


def _current(mediators: list[LocalActor], scope: Scope) -> list[LocalActor]:
    """Those still mediators at the end of the period."""
    return [m for m in mediators if m.deleted_at is None or m.deleted_at >= scope.end]


async def mediator_figures(session: AsyncSession, scope: Scope) -> Figures:
    mediators = await _mediators(session, scope)
    current = _current(mediators, scope)
    certified = set(
        (
            await session.scalars(
                select(Attestation.subject_uri).where(
                    Attestation.kind == Kind.CERTIFICATION,
                    Attestation.issued_at < scope.end,
                    or_(Attestation.revoked_at.is_(None), Attestation.revoked_at >= scope.end),
                )
            )
        ).all()
    )
    ids = [m.id for m in mediators]
    active: set[int] = set()
    if ids:
        active.update(
            (
                await session.scalars(
                    select(HostingPurchase.actor_id).where(
                        HostingPurchase.actor_id.in_(ids),
                        HostingPurchase.cancelled_at.is_(None),
                        HostingPurchase.bought_on >= scope.first_day,
                        HostingPurchase.bought_on <= scope.last_day,
                    )
                )
            ).all()
        )
        active.update(
            (
                await session.scalars(
                    select(Contract.actor_id).where(
                        Contract.actor_id.in_(ids), scope.within(Contract.signed_at)
                    )
                )
            ).all()
        )
        active.update(
            (
                await session.scalars(
                    select(Receipt.mediator_actor_id).where(
                        Receipt.mediator_actor_id.in_(ids), scope.within(Receipt.created_at)
                    )
                )
            ).all()
        )
    return {
        "mediators": len(mediators),
        "mediators_certified": sum(1 for m in current if scope.urls.actor(m.username) in certified),
        "mediators_active": len(active),
    }


async def hosting_figures(session: AsyncSession, scope: Scope) -> Figures:
    current = _current(await _mediators(session, scope), scope)
    days: dict[int, list[date]] = {}
    rows = await session.scalars(
        select(HostingPurchase).where(
            HostingPurchase.bought_on >= scope.first_day,
            HostingPurchase.bought_on <= scope.last_day,
            HostingPurchase.cancelled_at.is_(None),
        )
    )
    for row in rows.all():
        days.setdefault(row.actor_id, []).append(row.bought_on)
    tallies = [tally(days.get(m.id, []), scope.semester, scope.last_day) for m in current]
    bought = sum(t.total for t in tallies)
    return {
        "hostings_bought": bought,
        "hostings_aim": PER_SEMESTER * len(current),
        "hostings_expected": sum(t.expected for t in tallies),
        "hostings_per_mediator": _ratio(bought, len(current)) or 0.0,
        "mediators_on_aim": sum(1 for t in tallies if not t.due_now),
        "hostings_behind": {
            m.username: t.total
            for m, t in zip(current, tallies, strict=True)
            if duties.hosting_state(
                days.get(m.id, []), scope.semester, scope.last_day, m.created_at.date()
            )[0]
            is duties.State.LATE
        },
    }


def _add(totals: dict[str, int], key: str, amount: int) -> None:
    totals[key] = totals.get(key, 0) + amount


async def contract_figures(session: AsyncSession, scope: Scope) -> Figures:
    rows = (
        await session.scalars(
            select(Contract).where(Contract.signed_at.is_not(None), Contract.signed_at < scope.end)
        )
    ).all()
    signed = handed = owed = 0
    shares: dict[str, int] = {}
    for c in rows:
        assert c.signed_at is not None
        if c.signed_at >= scope.start:
            signed += 1
        if c.handed_in_at is not None and scope.start <= c.handed_in_at < scope.end:
            handed += 1
            _add(shares, c.currency, c.share_paid_minor or 0)
        if c.handed_in_at is None or c.handed_in_at >= scope.end:
            owed += 1
    return {
        "contracts_signed": signed,
        "contracts_handed_in": handed,
        "contracts_not_handed_in": owed,
        "contract_shares_paid": shares,
    }


async def receipt_figures(session: AsyncSession, scope: Scope) -> Figures:
    rows = (await session.scalars(select(Receipt).where(Receipt.created_at < scope.end))).all()
    cancelled = {r.cancels_id for r in rows if r.cancels_id is not None}
    issued = cancelling = 0
    amounts: dict[str, int] = {}
    for r in rows:
        if r.created_at < scope.start:
            continue
        if r.cancels_id is not None:
            cancelling += 1
        elif r.id not in cancelled:
            issued += 1
            _add(amounts, r.currency, r.amount_minor)
    return {
        "receipts_issued": issued,
        "receipts_cancelled": cancelling,
        "receipts_amounts": amounts,
    }


async def satisfaction_figures(session: AsyncSession, scope: Scope) -> Figures:
    asked = len(
        (
            await session.scalars(
                select(SatisfactionRequest.id).where(scope.within(SatisfactionRequest.created_at))
            )
        ).all()
    )
    ratings = [
        int(r or 0)
        for r in (
            await session.scalars(
                select(SatisfactionRequest.rating).where(
                    scope.within(SatisfactionRequest.answered_at),
                    SatisfactionRequest.rating.is_not(None),
                )
            )
        ).all()
    ]
    return {
        "satisfaction_asked": asked,
        "satisfaction_answers": len(ratings),
        "satisfaction_average": _ratio(sum(ratings), len(ratings), "0.1"),
    }


async def sel_figures(session: AsyncSession, scope: Scope) -> Figures:
    rows = (
        await session.scalars(
            select(Exchange).where(
                Exchange.performed_on >= scope.first_day.isoformat(),
                Exchange.performed_on <= scope.last_day.isoformat(),
                Exchange.state.in_((State.CONFIRMED, State.SETTLED, State.COMMITTED)),
            )
        )
    ).all()
    local = local_minutes = 0
    exchanges: dict[str, int] = {}
    out: dict[str, int] = {}
    into: dict[str, int] = {}
    for ex in rows:
        if ex.role == Role.LOCAL:
            local += 1
            local_minutes += ex.amount
            continue
        peer = host_of(ex.peer_uri)
        _add(exchanges, peer, 1)
        _add(out if ex.role == Role.ORIGIN else into, peer, ex.amount)
    return {
        "sel_local_exchanges": local,
        "sel_local_minutes": local_minutes,
        "sel_peer_exchanges": exchanges,
        "sel_peer_minutes_out": out,
        "sel_peer_minutes_in": into,
        "sel_peer_exchanges_total": sum(exchanges.values()),
        "sel_peer_minutes_total": sum(out.values()) + sum(into.values()),
    }


async def bulletin_figures(session: AsyncSession, scope: Scope) -> Figures:
    node_ids = select(LocalActor.id).where(LocalActor.is_node.is_(True)).scalar_subquery()
    published = (
        await session.scalars(
            select(Bulletin.published).where(
                Bulletin.local_actor_id == node_ids,
                scope.within(Bulletin.published),
                or_(Bulletin.deleted_at.is_(None), Bulletin.deleted_at >= scope.end),
            )
        )
    ).all()
    return {
        "bulletins_sent": len(published),
        "bulletin_months": len({(p.year, p.month) for p in published}),
    }


async def help_request_figures(session: AsyncSession, scope: Scope) -> Figures:
    """Club Aide (models/network/help.py): counts only, never who asked."""
    figures = await club_aide.help_figures(session, scope.first_day, scope.last_day)
    return {f"help_{key}": value for key, value in figures.items()}


#: The providers, in order; each reads one area. Append one to add figures.
PROVIDERS: list[Provider] = [
    mediator_figures,
    hosting_figures,
    contract_figures,
    receipt_figures,
    satisfaction_figures,
    sel_figures,
    bulletin_figures,
    help_request_figures,
]


async def compose_figures(
    session: AsyncSession, urls: Urls, semester: Semester, as_of: date
) -> Figures:
    """Every provider's figures for ``semester`` up to ``as_of``, in one flat object."""
    scope = Scope(semester, as_of, urls)
    figures: Figures = {}
    for provider in PROVIDERS:
        figures.update(await provider(session, scope))
    return figures
