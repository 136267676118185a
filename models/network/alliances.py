"""Alliances: two node actors that have both agreed to be peers.

The network has no centre: what makes two nodes peers is that each
coordinator said yes, as TimeOverflow's alliances between banks. One side
asks (``requested`` here, ``pending`` there); the other accepts or rejects;
either side may end an accepted alliance later (``ended``). A section
declares its seat by allying with it: the alliance records the peer's role
as its actor document states it (``seat`` or ``section``), so the seat lists
its sections and a section knows its seat from the same table.

Everything of the network that builds on peers (SEL peering, the shared
offer directory, reports to the seat, help requests) asks this module who
the accepted peers are; it never reads follows for that.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.errors import UserError
from models.states import check_transition

MAX_NOTE = 500


class AllianceError(UserError):
    pass


class AllianceState(StrEnum):
    #: We asked; waiting for the peer's coordinator.
    REQUESTED = "requested"
    #: The peer asked; waiting for ours.
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    #: Was accepted; one side ended it.
    ENDED = "ended"


ALLIANCE_TRANSITIONS = {
    AllianceState.REQUESTED: frozenset(
        {AllianceState.ACCEPTED, AllianceState.REJECTED, AllianceState.ENDED}
    ),
    AllianceState.PENDING: frozenset(
        {AllianceState.ACCEPTED, AllianceState.REJECTED, AllianceState.ENDED}
    ),
    AllianceState.ACCEPTED: frozenset({AllianceState.ENDED}),
    # A refused or ended alliance may be asked for again, from either side.
    AllianceState.REJECTED: frozenset({AllianceState.REQUESTED, AllianceState.PENDING}),
    AllianceState.ENDED: frozenset({AllianceState.REQUESTED, AllianceState.PENDING}),
}


class PeerRole(StrEnum):
    SEAT = "seat"
    SECTION = "section"


class Alliance(Base):
    __tablename__ = "alliances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The peer node actor's URI.
    peer_uri: Mapped[str] = mapped_column(String(2048), unique=True)
    #: name@host, for people.
    peer_handle: Mapped[str] = mapped_column(String(300), default="")
    peer_name: Mapped[str] = mapped_column(String(200), default="")
    #: seat or section, from the peer's actor document.
    peer_role: Mapped[str] = mapped_column(String(16))
    peer_inbox: Mapped[str] = mapped_column(String(2048), default="")
    state: Mapped[str] = mapped_column(String(16), index=True)
    #: True when the current request is ours.
    asked_by_us: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The id of the request activity (ours or theirs) that Accept/Reject answer.
    request_uri: Mapped[str] = mapped_column(String(2048), default="")
    #: In a crossing (both asked at once), the other request's id, which the
    #: peer may name too when it ends the alliance.
    other_request_uri: Mapped[str] = mapped_column(String(2048), default="")
    #: The coordinator's note with the request, or the reason of a refusal or end.
    note: Mapped[str] = mapped_column(String(MAX_NOTE), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When it was last accepted (None if never).
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the peer's offers collection was last read whole (None: to do), and
    #: when it was last tried (a failed read is retried later): node/network/backfill.py.
    offers_backfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offers_backfill_tried_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def move_to(self, new: AllianceState) -> None:
        self.state = check_transition(ALLIANCE_TRANSITIONS, AllianceState(self.state), new)
        self.updated_at = utcnow()
        if new is AllianceState.ACCEPTED:
            self.accepted_at = self.updated_at
            # A new (or renewed) alliance reads the peer's current offers again.
            self.offers_backfilled_at = None
            self.offers_backfill_tried_at = None


async def alliance_with(session: AsyncSession, peer_uri: str) -> Alliance | None:
    return (
        await session.execute(select(Alliance).where(Alliance.peer_uri == peer_uri))
    ).scalar_one_or_none()


async def list_alliances(session: AsyncSession) -> list[Alliance]:
    rows = await session.execute(select(Alliance).order_by(Alliance.peer_handle, Alliance.id))
    return list(rows.scalars())


async def accepted_peers(session: AsyncSession, role: PeerRole | None = None) -> list[Alliance]:
    """Every accepted alliance (of one role if given), in handle order."""
    query = select(Alliance).where(Alliance.state == AllianceState.ACCEPTED)
    if role is not None:
        query = query.where(Alliance.peer_role == role)
    rows = await session.execute(query.order_by(Alliance.peer_handle, Alliance.id))
    return list(rows.scalars())


async def is_ally(session: AsyncSession, actor_uri: str) -> bool:
    row = await alliance_with(session, actor_uri)
    return row is not None and row.state == AllianceState.ACCEPTED


async def seat_of(session: AsyncSession) -> Alliance | None:
    """This section's seat: its accepted alliance with a seat, if any."""
    seats = await accepted_peers(session, PeerRole.SEAT)
    return seats[0] if seats else None


async def sections_of(session: AsyncSession) -> list[Alliance]:
    """The seat's sections (or a section's peer sections)."""
    return await accepted_peers(session, PeerRole.SECTION)
