"""SEL exchanges: inside a section, and the records of exchanges with peers.

Inside a section: one member records a service given or received, the other
confirms (it posts) or rejects; the admin can cancel a posted exchange with
a reversing entry. Between sections the same row records the protocol's
state on each side (see models/interchange.py).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.ledger import (
    Account,
    LedgerError,
    check_amount,
    check_can_move,
    get_account,
    near_limit_warnings,
    post,
)
from models.outbox import new_uuid
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
    reason: Mapped[str | None] = mapped_column(Text)
    #: The responder's per-peer sequence number of its commit (both sides store it).
    peer_seq: Mapped[int | None] = mapped_column(Integer)
    #: origin: when we last asked the peer (the Offer, or a re-ask after expiry).
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

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


async def record_local(
    session: AsyncSession,
    base: str,
    *,
    payer: str,
    payee: str,
    amount: int,
    description: str,
    category: str = "other",
    performed_on: date | None = None,
    recorded_by: str = "payer",
) -> tuple[Exchange, list[str]]:
    """Record an exchange between two members; it posts when the other one confirms.

    Returns warnings for accounts close to a limit. A move that would
    already break a limit is refused now rather than at confirmation.
    """
    check_amount(amount)
    if recorded_by not in ("payer", "payee"):
        raise ExchangeError("recorded_by is 'payer' or 'payee'")
    payer_acc, payee_acc = await get_account(session, payer), await get_account(session, payee)
    if payer_acc.kind != "member" or payee_acc.kind != "member":
        raise ExchangeError("exchanges inside a section are between member accounts")
    if payer_acc.id == payee_acc.id:
        raise ExchangeError("a member cannot exchange with themselves")
    check_can_move(payer_acc, payee_acc, amount)
    ident = new_uuid()
    row = Exchange(
        uuid=ident,
        uri=f"{base}/sel/exchanges/{ident}",
        role=Role.LOCAL,
        state=State.PENDING,
        payer_id=payer_acc.id,
        payee_id=payee_acc.id,
        amount=amount,
        description=check_description(description),
        category=check_category(category),
        performed_on=(performed_on or utcnow().date()).isoformat(),
        recorded_by=recorded_by,
    )
    session.add(row)
    await session.flush()
    return row, near_limit_warnings([payer_acc, payee_acc])


async def get_exchange(session: AsyncSession, ref: str) -> Exchange:
    column = Exchange.uri if ref.startswith("http") else Exchange.uuid
    row = (await session.execute(select(Exchange).where(column == ref))).scalar_one_or_none()
    if row is None:
        raise ExchangeError(f"no exchange {ref!r} (see 'coopnet sel history')")
    return row


async def _party(session: AsyncSession, row: Exchange, member: str | None) -> None:
    """The member confirming or rejecting must be the one who did not record it."""
    if member is None:
        return  # the section's admin acts
    expected_id = row.payee_id if row.recorded_by == "payer" else row.payer_id
    account = await session.get(Account, expected_id)
    assert account is not None
    if member != account.code:
        raise ExchangeError(f"only {account.code!r} (the other party) can answer this exchange")


async def confirm_local(
    session: AsyncSession, ref: str, member: str | None = None
) -> tuple[Exchange, list[str]]:
    row = await get_exchange(session, ref)
    if row.role != Role.LOCAL or row.state != State.PENDING:
        raise ExchangeError(f"this exchange is {row.state}; only a pending one can be confirmed")
    await _party(session, row, member)
    payer, payee = (
        await session.get(Account, row.payer_id),
        await session.get(Account, row.payee_id),
    )
    assert payer is not None and payee is not None
    await post(session, row.uuid, payer, payee, row.amount)
    row.move_to(State.CONFIRMED)
    row.decided_at = utcnow()
    return row, near_limit_warnings([payer, payee])


async def reject_local(
    session: AsyncSession, ref: str, member: str | None = None, reason: str = ""
) -> Exchange:
    row = await get_exchange(session, ref)
    if row.role != Role.LOCAL or row.state != State.PENDING:
        raise ExchangeError(f"this exchange is {row.state}; only a pending one can be rejected")
    await _party(session, row, member)
    row.move_to(State.REJECTED)
    row.decided_at = utcnow()
    row.reason = reason.strip()[:500] or None
    return row


async def cancel_local(session: AsyncSession, ref: str, reason: str = "") -> Exchange:
    """The admin's correction: a reversing entry, the original stays in the journal."""
    row = await get_exchange(session, ref)
    if row.role != Role.LOCAL:
        raise ExchangeError(
            "an exchange with another section cannot be cancelled on one side; "
            "record a new exchange in the other direction"
        )
    if row.state != State.CONFIRMED:
        raise ExchangeError(f"this exchange is {row.state}; only a confirmed one can be cancelled")
    payer, payee = (
        await session.get(Account, row.payer_id),
        await session.get(Account, row.payee_id),
    )
    assert payer is not None and payee is not None
    # A reversal that would push the payee past a limit (they spent what they
    # received) is refused: fix it with a new exchange once they can afford it.
    try:
        await post(session, row.uuid, payee, payer, row.amount, kind="reversal")
    except LedgerError as exc:
        raise ExchangeError(f"cannot cancel now: {exc}") from exc
    row.move_to(State.CANCELLED)
    row.reason = reason.strip()[:500] or None
    return row


async def history(
    session: AsyncSession, account: str | None = None, limit: int = 200
) -> list[Exchange]:
    q = select(Exchange).order_by(Exchange.created_at.desc(), Exchange.id.desc()).limit(limit)
    if account is not None:
        acc = await get_account(session, account)
        q = q.where(or_(Exchange.payer_id == acc.id, Exchange.payee_id == acc.id))
    return list((await session.execute(q)).scalars().all())
