"""SEL exchanges: the record of each one, inside a section or with a peer.

Inside a section (``models.sel.local``) a row follows the members' answers;
between sections the same row records the protocol's state on each side
(``models.sel.origin`` for the payer's section, ``models.sel.responder``
for the payee's).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.sel.accounts import LedgerError, get_account
from models.states import check_transition

CATEGORIES = (
    "help",
    "hosting",
    "training",
    "website",
    "telework",
    "repair",
    "care",
    "transport",
    "food",
    "other",
)


class Role(StrEnum):
    LOCAL = "local"  # both members here
    ORIGIN = "origin"  # our member pays a member of a peer section; we asked
    RESPONDER = "responder"  # a peer's member pays one of ours; we decided


class State(StrEnum):
    PENDING = "pending"  # local: waiting for the other member
    CONFIRMED = "confirmed"  # local: posted
    REJECTED = "rejected"  # local or origin: refused, nothing posted (hold released)
    CANCELLED = "cancelled"  # local: reversed by the admin
    HELD = "held"  # origin: amount reserved, Offer sent, waiting for the answer
    SETTLED = "settled"  # origin: the peer committed, we posted
    EXPIRED = "expired"  # origin: the peer said it did not commit before expiry; released
    COMMITTED = "committed"  # responder: posted and accepted
    REFUSED = "refused"  # responder: rejected, nothing posted (never commits later)
    AWAITING = "awaiting"  # responder: waiting for our member to confirm (nothing posted)


TRANSITIONS: dict[State, frozenset[State]] = {
    State.PENDING: frozenset({State.CONFIRMED, State.REJECTED}),
    State.CONFIRMED: frozenset({State.CANCELLED}),
    State.HELD: frozenset({State.SETTLED, State.REJECTED, State.EXPIRED}),
    State.REJECTED: frozenset(),
    State.CANCELLED: frozenset(),
    State.SETTLED: frozenset(),
    State.EXPIRED: frozenset(),
    State.COMMITTED: frozenset(),
    State.REFUSED: frozenset(),
    State.AWAITING: frozenset({State.COMMITTED, State.REFUSED}),
}

FINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


class Exchange(Base):
    __tablename__ = "sel_exchanges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    #: The agreement's id: ours for local and originated exchanges, the peer's otherwise.
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    #: Empty only for an Offer refused because its sender is not a peer (no account).
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("sel_accounts.id"), index=True)
    payee_id: Mapped[int | None] = mapped_column(ForeignKey("sel_accounts.id"), index=True)
    #: For exchanges with a peer: the remote member, as "code@host".
    remote_party: Mapped[str | None] = mapped_column(String(300))
    peer_uri: Mapped[str | None] = mapped_column(String(2048), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32), default="other")
    performed_on: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD
    #: local: who recorded it ("payer" or "payee"); the other one confirms.
    recorded_by: Mapped[str] = mapped_column(String(8), default="payer")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A refusal's machine-readable code ("limit", "expired"…), as a Reject carries it;
    #: none for an answer from a member of this section.
    reason_code: Mapped[str | None] = mapped_column(String(32))
    #: Why, for people: a member's words, or a refusal's message (without its code).
    reason: Mapped[str | None] = mapped_column(Text)
    #: The responder's per-peer sequence number of its commit (both sides store it).
    peer_seq: Mapped[int | None] = mapped_column(Integer)
    #: origin: when we last asked the peer (the Offer, or a re-ask after expiry).
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: responder: the latest Offer activity for this agreement (what the answer answers).
    offer_activity: Mapped[str | None] = mapped_column(String(2048))

    def move_to(self, new: State) -> None:
        self.state = check_transition(TRANSITIONS, State(self.state), new)


class ExchangeError(LedgerError):
    pass


def check_category(category: str) -> str:
    if category not in CATEGORIES:
        raise ExchangeError(f"category must be one of: {', '.join(CATEGORIES)}")
    return category


def check_description(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise ExchangeError("describe the service exchanged")
    if len(text) > 500:
        raise ExchangeError("the description is over 500 characters")
    return text


async def get_exchange(session: AsyncSession, ref: str) -> Exchange:
    column = Exchange.uri if ref.startswith("http") else Exchange.uuid
    row = (await session.execute(select(Exchange).where(column == ref))).scalar_one_or_none()
    if row is None:
        raise ExchangeError(f"no exchange {ref!r} (see 'coopnet sel history')")
    return row


async def history(
    session: AsyncSession, account: str | None = None, limit: int | None = 200
) -> list[Exchange]:
    """Newest first; ``limit=None`` for all of them (an export)."""
    q = select(Exchange).order_by(Exchange.created_at.desc(), Exchange.id.desc())
    if limit is not None:
        q = q.limit(limit)
    if account is not None:
        acc = await get_account(session, account)
        q = q.where(or_(Exchange.payer_id == acc.id, Exchange.payee_id == acc.id))
    return list((await session.execute(q)).scalars().all())
