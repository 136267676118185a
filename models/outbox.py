"""Outgoing activities and their delivery rows: the persistent delivery queue.

An activity is stored with one delivery row per inbox in the same
transaction as the change that caused it, so a crash can neither lose a
delivery nor send one for a change that was rolled back. A row leaves the
``pending`` state only when the remote answered 2xx (``delivered``) or we
gave up (``dead``). ``locked_until`` is a lease: a worker killed mid-send
leaves the row to be picked up again once the lease runs out.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from federation.delivery import dedupe_inboxes
from models.actors import LocalActor
from models.base import Base, UTCDateTime, utcnow
from models.states import check_transition


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


DELIVERY_TRANSITIONS: dict[DeliveryState, frozenset[DeliveryState]] = {
    DeliveryState.PENDING: frozenset({DeliveryState.DELIVERED, DeliveryState.DEAD}),
    DeliveryState.DELIVERED: frozenset(),
    # An operator may revive a dead row (coopnet deliveries --retry).
    DeliveryState.DEAD: frozenset({DeliveryState.PENDING}),
}


class Activity(Base):
    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    object_uri: Mapped[str | None] = mapped_column(String(2048), index=True)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Delivered in order per inbox: a later ordered activity waits for the
    #: earlier ones to the same inbox (SEL exchanges rely on it).
    ordered: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)
    published: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[LocalActor] = relationship(lazy="joined")

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("activity_id", "inbox"),
        Index("ix_deliveries_due", "state", "next_attempt_at"),
        Index("ix_deliveries_inbox_state", "inbox", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    inbox: Mapped[str] = mapped_column(String(2048))
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    activity: Mapped[Activity] = relationship(lazy="joined")

    def move_to(self, new: DeliveryState) -> None:
        self.state = check_transition(DELIVERY_TRANSITIONS, DeliveryState(self.state), new)


def new_uuid() -> str:
    return str(uuid.uuid4())


async def enqueue(
    session: AsyncSession,
    actor: LocalActor,
    activity: dict[str, Any],
    inboxes: list[str],
    *,
    public: bool = False,
    ordered: bool = False,
    now: datetime | None = None,
) -> Activity:
    """Store an outgoing activity and one pending delivery per distinct inbox."""
    now = now or utcnow()
    obj = activity.get("object")
    object_uri = obj if isinstance(obj, str) else obj.get("id") if isinstance(obj, dict) else None
    row = Activity(
        uri=activity["id"],
        local_actor_id=actor.id,
        type=str(activity.get("type")),
        object_uri=object_uri,
        public=public,
        ordered=ordered,
        body=json.dumps(activity, ensure_ascii=False, separators=(",", ":")),
        published=now,
    )
    session.add(row)
    await session.flush()
    # Lets a worker know this transaction queued something to send.
    session.info["queued_deliveries"] = True
    targets = dedupe_inboxes(inboxes)
    if targets:
        # One multi-row INSERT: a post to 1,000 servers is one statement, not 1,000.
        await session.execute(
            insert(Delivery),
            [
                {
                    "activity_id": row.id,
                    "inbox": inbox,
                    "state": DeliveryState.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for inbox in targets
            ],
        )
    return row


#: How many pending ordered rows one claim looks at (across all inboxes).
ORDERED_SCAN = 2000


async def claim_due(
    session: AsyncSession, now: datetime, limit: int, lease: timedelta
) -> list[Delivery]:
    """Take due rows and lease them to this worker.

    Unordered rows: up to ``limit``, oldest due first. Ordered rows (SEL):
    for each inbox, the longest run of its oldest pending rows that are all
    due and free; a row is never taken while an older one to the same inbox
    is waiting or in flight. The caller sends each inbox's run in order and
    stops at the first failure, so order holds without one claim per row.
    On PostgreSQL ``SKIP LOCKED`` keeps several workers' claims of unordered
    rows disjoint; the lease (``locked_until``, committed with the claim)
    keeps them so while the rows are sent, outside any transaction. In one
    process, claims are serialised by the worker.
    """
    free = or_(Delivery.locked_until.is_(None), Delivery.locked_until < now)
    unordered = (
        (
            await session.execute(
                select(Delivery)
                .join(Activity, Activity.id == Delivery.activity_id)
                .where(
                    Delivery.state == DeliveryState.PENDING,
                    Delivery.next_attempt_at <= now,
                    free,
                    Activity.ordered.is_(False),
                )
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=Delivery)
            )
        )
        .unique()
        .scalars()
        .all()
    )
    # Ordered rows are locked and waited for, not skipped: skipping a row
    # another worker is claiming would make its successor look like the
    # oldest of its inbox. Claims are short, so the wait is too; rows are
    # locked in (inbox, id) order by everyone, so no two claims deadlock.
    # Only the columns the choice needs: loading every pending row with its
    # activity (body, actor) on each claim cost more than sending them.
    ordered_rows = (
        await session.execute(
            select(Delivery.id, Delivery.inbox, Delivery.next_attempt_at, Delivery.locked_until)
            .join(Activity, Activity.id == Delivery.activity_id)
            .where(Delivery.state == DeliveryState.PENDING, Activity.ordered.is_(True))
            .order_by(Delivery.inbox, Delivery.id)
            .limit(ORDERED_SCAN)
            .with_for_update(of=Delivery)
        )
    ).all()
    chosen: list[int] = []
    blocked: set[str] = set()
    for row in ordered_rows:
        if row.inbox in blocked:
            continue
        ready = row.next_attempt_at <= now and (row.locked_until is None or row.locked_until < now)
        if ready and len(unordered) + len(chosen) < 2 * limit:
            chosen.append(row.id)
        else:
            blocked.add(row.inbox)
    taken = list(unordered)
    if chosen:
        taken += (
            (
                await session.execute(
                    select(Delivery)
                    .where(Delivery.id.in_(chosen))
                    .order_by(Delivery.inbox, Delivery.id)
                )
            )
            .unique()
            .scalars()
            .all()
        )
    for delivery in taken:
        delivery.locked_until = now + lease
    await session.flush()
    return taken


async def delivery_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
    return {state: n for state, n in rows.tuples()}


async def list_deliveries(
    session: AsyncSession, state: DeliveryState | None = None, limit: int = 100
) -> list[Delivery]:
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if state is not None:
        query = query.where(Delivery.state == state)
    return list((await session.execute(query)).unique().scalars().all())


async def retry_dead(session: AsyncSession, now: datetime) -> int:
    """Operator's lever after fixing a peer: dead rows get a fresh start."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.state == DeliveryState.DEAD)
        .values(
            state=DeliveryState.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            locked_until=None,
            finished_at=None,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
