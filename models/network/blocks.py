"""Domains cut off both ways: nothing accepted from them, nothing sent to them.

A coordinator blocks a domain with a reason (spam, abuse, a peer that left
the network in anger). From then on the node refuses its requests (403,
before any signature is checked, so no key is fetched from it), sends it
nothing (every outgoing request goes through the guard that asks
``is_blocked``), and forgets what it had from it: its followers and our
follows of its actors end, deliveries waiting for it are given up, its
posts and its messages are hidden (deleted: they were copies of remote
posts), and activities from it still waiting in the inbox are dropped.

An entry is a host (``spam.example``), which also covers its subdomains
(``a.spam.example``) and every port, as Mastodon's domain blocks do; or a
host and port (``127.0.0.1:8003``), which covers that port only: several
nodes on one address (a test network, a shared server) can be told apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Integer, String, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from models.actors import RemoteActor
from models.base import Base, UTCDateTime, utcnow
from models.errors import NotFound, UserError
from models.follows import Follower, Following
from models.inbox import InboxItem, InboxState
from models.outbox import Delivery, DeliveryState
from models.posts import RemoteObject
from models.replies import Direction, FediMessage

MAX_REASON = 500


class BlockError(UserError):
    pass


class DomainBlock(Base):
    __tablename__ = "domain_blocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: host or host:port, lower case, IDNA-encoded.
    domain: Mapped[str] = mapped_column(String(260), unique=True)
    reason: Mapped[str] = mapped_column(String(MAX_REASON))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def normalize(text: str) -> str:
    """'Spam.Example', 'https://spam.example/@x', 'x@spam.example' → 'spam.example'.

    A port is kept when given ('127.0.0.1:8003'); a path, user or scheme is
    dropped. Refuses anything that is not a plausible host.
    """
    raw = text.strip()
    if "://" not in raw:
        raw = "//" + raw.rpartition("@")[2].lstrip("@")
    try:
        parts = urlsplit(raw)
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        raise BlockError(f"{text[:80]!r} is not a domain (spam.example)") from None
    if not host or any(c in host for c in " /\\%") or len(host) > 253:
        raise BlockError(f"{text[:80]!r} is not a domain (spam.example)")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise BlockError(f"{text[:80]!r} is not a domain (spam.example)") from None
    return f"{host}:{port}" if port else host


def covers(entries: Iterable[str], host: str, port: int | None) -> str | None:
    """The entry that blocks ``host`` (and ``port``), or None."""
    host = host.lower().rstrip(".")
    found = set(entries)
    if port is not None and f"{host}:{port}" in found:
        return f"{host}:{port}"
    labels = host.split(".")
    for i in range(len(labels)):
        candidate = ".".join(labels[i:])
        if candidate in found:
            return candidate
    return None


def url_blocked(entries: Iterable[str], url: str) -> str | None:
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    return covers(entries, host, port or (443 if parts.scheme == "https" else 80))


def _matching(column: Any, domain: str) -> ColumnElement[bool]:
    """SQL: a URL column on ``domain`` (and, for a bare host, its subdomains and ports)."""
    if ":" in domain:
        return or_(
            column.like(f"%://{domain}/%"),
            column == f"http://{domain}",
            column == f"https://{domain}",
        )
    return or_(
        column.like(f"%://{domain}/%"),
        column.like(f"%://{domain}:%"),
        column.like(f"%.{domain}/%"),
        column.like(f"%.{domain}:%"),
    )


async def blocked_domains(session: AsyncSession) -> frozenset[str]:
    return frozenset(await session.scalars(select(DomainBlock.domain)))


async def list_blocks(session: AsyncSession) -> list[DomainBlock]:
    rows = await session.scalars(select(DomainBlock).order_by(DomainBlock.domain))
    return list(rows.all())


async def block(
    session: AsyncSession, text: str, reason: str, by: str
) -> tuple[DomainBlock, dict[str, int]]:
    """Block a domain and forget what came from it; (the block, what was removed)."""
    domain = normalize(text)
    reason = " ".join(reason.split())
    if not reason:
        raise BlockError("give the reason for the block (it is kept with it)")
    if len(reason) > MAX_REASON:
        raise BlockError(f"the reason is over {MAX_REASON} characters")
    if await session.scalar(select(DomainBlock.id).where(DomainBlock.domain == domain)):
        raise BlockError(f"{domain} is already blocked")
    row = DomainBlock(domain=domain, reason=reason, created_by=by[:64])
    session.add(row)
    actors = select(RemoteActor.id).where(_matching(RemoteActor.uri, domain))
    now = utcnow()
    removed = {
        "followers": await _count(
            session, delete(Follower).where(Follower.remote_actor_id.in_(actors))
        ),
        "following": await _count(
            session, delete(Following).where(Following.remote_actor_id.in_(actors))
        ),
        "deliveries": await _count(
            session,
            update(Delivery)
            .where(Delivery.state == DeliveryState.PENDING, _matching(Delivery.inbox, domain))
            .values(
                state=DeliveryState.DEAD,
                locked_until=None,
                finished_at=now,
                last_error=f"domain blocked: {reason}"[:500],
            ),
        ),
        "posts": await _count(
            session, delete(RemoteObject).where(_matching(RemoteObject.actor_uri, domain))
        ),
        "messages": await _count(
            session,
            delete(FediMessage).where(
                FediMessage.direction == Direction.IN,
                _matching(FediMessage.remote_actor_uri, domain),
            ),
        ),
        "inbox": await _count(
            session,
            update(InboxItem)
            .where(InboxItem.state == InboxState.PENDING, _matching(InboxItem.actor_uri, domain))
            .values(state=InboxState.FAILED, error="domain blocked", processed_at=now),
        ),
    }
    await session.flush()
    return row, removed


async def _count(session: AsyncSession, statement: Any) -> int:
    result = await session.execute(statement)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def unblock(session: AsyncSession, text: str) -> DomainBlock:
    domain = normalize(text)
    row = await session.scalar(select(DomainBlock).where(DomainBlock.domain == domain))
    if row is None:
        raise NotFound(f"{domain} is not blocked ('coopnet blocks' lists the blocks)")
    await session.delete(row)
    return row
