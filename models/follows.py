"""Follow relationships, both ways.

``Follower``: a remote actor follows one of ours. We auto-accept (public
organisations and mediators), so a row exists only once accepted; Undo
removes it. ``Following``: one of ours follows a remote actor; it stays
``pending`` until the remote's Accept arrives.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.actors import RemoteActor
from models.base import Base, UTCDateTime, utcnow
from models.states import check_transition


class FollowingState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


FOLLOWING_TRANSITIONS: dict[FollowingState, frozenset[FollowingState]] = {
    FollowingState.PENDING: frozenset({FollowingState.ACCEPTED, FollowingState.REJECTED}),
    FollowingState.ACCEPTED: frozenset({FollowingState.REJECTED}),
    # A fresh Follow after a Reject starts over: see node.actions.follow().
    FollowingState.REJECTED: frozenset({FollowingState.PENDING}),
}


class Follower(Base):
    __tablename__ = "followers"
    __table_args__ = (UniqueConstraint("local_actor_id", "remote_actor_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"))
    remote_actor_id: Mapped[int] = mapped_column(
        ForeignKey("remote_actors.id", ondelete="CASCADE"), index=True
    )
    follow_uri: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Following(Base):
    __tablename__ = "following"
    __table_args__ = (UniqueConstraint("local_actor_id", "remote_actor_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"))
    remote_actor_id: Mapped[int] = mapped_column(
        ForeignKey("remote_actors.id", ondelete="CASCADE"), index=True
    )
    follow_uri: Mapped[str] = mapped_column(String(2048), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=FollowingState.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def move_to(self, new: FollowingState) -> None:
        self.state = check_transition(FOLLOWING_TRANSITIONS, FollowingState(self.state), new)


async def add_follower(
    session: AsyncSession, local_actor_id: int, remote: RemoteActor, follow_uri: str
) -> Follower:
    """Idempotent: a repeated Follow (Mastodon re-sends them) refreshes the Follow id."""
    row = (
        await session.execute(
            select(Follower).where(
                Follower.local_actor_id == local_actor_id,
                Follower.remote_actor_id == remote.id,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        # Two workers may process two Follows of the same actor at once: insert in a
        # savepoint and, if the other one's row got there first, refresh that one.
        row = Follower(
            local_actor_id=local_actor_id, remote_actor_id=remote.id, follow_uri=follow_uri
        )
        try:
            async with session.begin_nested():
                session.add(row)
        except IntegrityError:
            row = (
                await session.execute(
                    select(Follower).where(
                        Follower.local_actor_id == local_actor_id,
                        Follower.remote_actor_id == remote.id,
                    )
                )
            ).scalar_one()
            row.follow_uri = follow_uri
    else:
        row.follow_uri = follow_uri
    await session.flush()
    return row


async def remove_follower(session: AsyncSession, local_actor_id: int, remote_actor_id: int) -> int:
    result = await session.execute(
        delete(Follower).where(
            Follower.local_actor_id == local_actor_id,
            Follower.remote_actor_id == remote_actor_id,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def remove_all_follows_of(session: AsyncSession, remote_actor_id: int) -> int:
    """A remote actor was deleted: it neither follows nor is followed any more."""
    n = await session.execute(delete(Follower).where(Follower.remote_actor_id == remote_actor_id))
    m = await session.execute(delete(Following).where(Following.remote_actor_id == remote_actor_id))
    return int((n.rowcount or 0) + (m.rowcount or 0))  # type: ignore[attr-defined]


async def follower_inboxes(session: AsyncSession, local_actor_id: int) -> list[str]:
    """Distinct delivery inboxes of an actor's followers (shared inboxes collapse)."""
    inbox = func.coalesce(RemoteActor.shared_inbox, RemoteActor.inbox)
    rows = await session.execute(
        select(inbox)
        .join(Follower, Follower.remote_actor_id == RemoteActor.id)
        .where(Follower.local_actor_id == local_actor_id, RemoteActor.deleted_at.is_(None))
        .distinct()
    )
    return sorted(r[0] for r in rows)


async def list_followers(
    session: AsyncSession, local_actor_id: int, limit: int | None = None
) -> list[tuple[Follower, RemoteActor]]:
    """Newest first; the latest ``limit`` only, if given."""
    rows = await session.execute(
        select(Follower, RemoteActor)
        .join(RemoteActor, Follower.remote_actor_id == RemoteActor.id)
        .where(Follower.local_actor_id == local_actor_id)
        .order_by(Follower.created_at.desc(), Follower.id.desc())
        .limit(limit)
    )
    return [(f, r) for f, r in rows.tuples()]


async def list_following(
    session: AsyncSession, local_actor_id: int, limit: int | None = None
) -> list[tuple[Following, RemoteActor]]:
    """Newest first; the latest ``limit`` only, if given."""
    rows = await session.execute(
        select(Following, RemoteActor)
        .join(RemoteActor, Following.remote_actor_id == RemoteActor.id)
        .where(Following.local_actor_id == local_actor_id)
        .order_by(Following.created_at.desc(), Following.id.desc())
        .limit(limit)
    )
    return [(f, r) for f, r in rows.tuples()]
