"""Hostings bought by mediators: what ``coopnet hosting`` and /admin/hostings call.

Coordinators record and cancel purchases (the section sells the hosting
and knows when it is paid); a mediator may read their own tally, so their
pages can say where they stand. ``today`` is the node's clock unless a
caller (a test, a report for a past semester) passes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select

from models.accounts import Principal
from models.actors import LocalActor
from models.charter.hostings import (
    HostingPurchase,
    Semester,
    Tally,
    cancel_purchase,
    purchases,
    record_purchase,
    semester_tallies,
    tally,
)
from models.mediators import get_mediator
from node.context import Node


def today_utc() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class MediatorTally:
    username: str
    name: str
    tally: Tally


async def hosting_record(
    node: Node,
    username: str,
    bought_on: date,
    what: str,
    price: str = "",
    *,
    by: Principal,
    today: date | None = None,
) -> HostingPurchase:
    by.require_coordinator()
    async with node.write() as session:
        actor = await get_mediator(session, username)
        return await record_purchase(
            session, actor, bought_on, what, price, by.name, today=today or today_utc()
        )


async def hosting_cancel(node: Node, ident: int, reason: str, *, by: Principal) -> HostingPurchase:
    by.require_coordinator()
    async with node.write() as session:
        return await cancel_purchase(session, ident, reason)


async def hosting_list(
    node: Node, semester: Semester, *, by: Principal, username: str | None = None
) -> list[tuple[str, HostingPurchase]]:
    """(mediator username, purchase) of the semester, newest first."""
    by.require_coordinator()
    async with node.sessions() as session:
        actor_id = (await get_mediator(session, username)).id if username else None
        rows = await purchases(session, semester, actor_id)
        ids = sorted({r.actor_id for r in rows})
        found = await session.execute(
            select(LocalActor.id, LocalActor.username).where(LocalActor.id.in_(ids))
        )
        names = {int(i): str(u) for i, u in found.all()}
        return [(names.get(r.actor_id, "?"), r) for r in rows]


async def hosting_tallies(
    node: Node, semester: Semester, *, by: Principal, today: date | None = None
) -> list[MediatorTally]:
    """Every current mediator's count for the semester, against the aim."""
    by.require_coordinator()
    async with node.sessions() as session:
        rows = await semester_tallies(session, semester, today or today_utc())
    return [MediatorTally(m.username, m.name or m.username, t) for m, t in rows]


async def hosting_tally_of(
    node: Node, username: str, *, by: Principal, today: date | None = None
) -> Tally:
    """One mediator's current semester, for their own pages."""
    day = today or today_utc()
    semester = Semester.of(day)
    async with node.sessions() as session:
        actor = await get_mediator(session, username)
        by.require_mediator(actor.id)
        rows = await purchases(session, semester, actor.id)
    return tally([r.bought_on for r in rows if r.cancelled_at is None], semester, day)
