"""The charter's obligations: what ``coopnet obligations``, ``coopnet obligation`` and
/admin/obligations call.

Coordinators see every obligation the node tracks and record or cancel
the ones kept by hand; a mediator sees their own (their offers page). The
computation is models/network/obligations.py; ``today`` is the node's
clock (models.base.CLOCK) unless a caller passes another day.
"""

from __future__ import annotations

import logging
from datetime import date

from models.accounts import Principal
from models.base import utcnow
from models.mediators import get_mediator
from models.network.obligation_records import ObligationRecord, cancel_record, list_records
from models.network.obligations import CATALOGUE, Item, Subject, compute, record, subjects_for
from node.context import Node

log = logging.getLogger("coopnet.obligations")


def today() -> date:
    """The node's day: UTC, from the injectable clock."""
    return utcnow().date()


async def obligations_of(node: Node, *, by: Principal, as_of: date | None = None) -> list[Item]:
    """Everything the node tracks, late first (on the seat, each section after the seat's own)."""
    by.require_coordinator()
    async with node.sessions() as session:
        return await compute(session, node.urls, node.config.role, as_of or today())


async def mediator_obligations(
    node: Node, username: str, *, by: Principal, as_of: date | None = None
) -> list[Item]:
    """One mediator's own obligations (what the section tracks about them), for their page."""
    async with node.sessions() as session:
        actor = await get_mediator(session, username)
        by.require_mediator(actor.id)
        items = await compute(session, node.urls, node.config.role, as_of or today())
    role = node.config.role
    return [
        i
        for i in items
        if i.subject == actor.username and CATALOGUE[i.key].tracked.get(role) is Subject.MEDIATOR
    ]


async def obligation_record(
    node: Node,
    key: str,
    period: str,
    who: str,
    done_on: date | None,
    note: str = "",
    *,
    by: Principal,
    as_of: date | None = None,
) -> ObligationRecord:
    by.require_coordinator()
    day = as_of or today()
    async with node.write() as session:
        row = await record(
            session,
            node.config.role,
            key=key,
            period=period,
            who=who,
            done_on=done_on or day,
            note=note,
            recorded_by=by.name,
            today=day,
        )
    log.info("%s recorded %s %s %r (#%s)", by.name, row.key, row.period, row.subject, row.id)
    return row


async def obligation_cancel(
    node: Node, ident: int, reason: str, *, by: Principal
) -> ObligationRecord:
    by.require_coordinator()
    async with node.write() as session:
        row = await cancel_record(session, ident, reason, by.name)
    log.info("%s cancelled obligation record #%s", by.name, row.id)
    return row


async def obligation_records(node: Node, *, by: Principal) -> list[ObligationRecord]:
    by.require_coordinator()
    async with node.sessions() as session:
        return await list_records(session)


async def record_choices(node: Node, *, by: Principal) -> dict[str, list[tuple[str, str]]]:
    """Per obligation recorded by hand here: the (subject, name) it may name."""
    by.require_coordinator()
    role = node.config.role
    async with node.sessions() as session:
        return {
            key: await subjects_for(session, role, key)
            for key, ob in CATALOGUE.items()
            if ob.manual and role in ob.tracked
        }
