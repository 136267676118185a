"""Local SEL exchanges: both members are of this section.

One member records a service given or received, the other confirms (it
posts) or rejects; the admin can cancel a posted exchange with a reversing
entry.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.outbox import new_uuid
from models.sel.accounts import (
    Account,
    LedgerError,
    check_amount,
    check_can_move,
    get_account,
    near_limit_warnings,
)
from models.sel.exchanges import (
    Exchange,
    ExchangeError,
    Role,
    State,
    check_category,
    check_description,
    get_exchange,
)
from models.sel.ledger import post


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
    now: datetime | None = None,
) -> tuple[Exchange, list[str]]:
    """Record an exchange between two members; it posts when the other one confirms.

    Returns warnings for accounts close to a limit. A move that would
    already break a limit is refused now rather than at confirmation.
    """
    now = now or utcnow()
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
        performed_on=(performed_on or now.date()).isoformat(),
        recorded_by=recorded_by,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row, near_limit_warnings([payer_acc, payee_acc])


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
    session: AsyncSession, ref: str, member: str | None = None, *, now: datetime | None = None
) -> tuple[Exchange, list[str]]:
    now = now or utcnow()
    row = await get_exchange(session, ref)
    if row.role != Role.LOCAL or row.state != State.PENDING:
        raise ExchangeError(f"this exchange is {row.state}; only a pending one can be confirmed")
    await _party(session, row, member)
    payer, payee = (
        await session.get(Account, row.payer_id),
        await session.get(Account, row.payee_id),
    )
    assert payer is not None and payee is not None
    await post(session, row.uuid, payer, payee, row.amount, now=now)
    row.move_to(State.CONFIRMED)
    row.decided_at = now
    return row, near_limit_warnings([payer, payee])


async def reject_local(
    session: AsyncSession,
    ref: str,
    member: str | None = None,
    reason: str = "",
    *,
    now: datetime | None = None,
) -> Exchange:
    row = await get_exchange(session, ref)
    if row.role != Role.LOCAL or row.state != State.PENDING:
        raise ExchangeError(f"this exchange is {row.state}; only a pending one can be rejected")
    await _party(session, row, member)
    row.move_to(State.REJECTED)
    row.decided_at = now or utcnow()
    row.reason = reason.strip()[:500] or None
    return row


async def withdraw_local(
    session: AsyncSession, ref: str, member: str, *, now: datetime | None = None
) -> Exchange:
    """The member who recorded a pending exchange takes it back before it is answered."""
    row = await get_exchange(session, ref)
    if row.role != Role.LOCAL or row.state != State.PENDING:
        raise ExchangeError(f"this exchange is {row.state}; only a pending one can be withdrawn")
    recorder = await session.get(
        Account, row.payer_id if row.recorded_by == "payer" else row.payee_id
    )
    assert recorder is not None
    if member != recorder.code:
        raise ExchangeError("only the member who recorded this exchange can withdraw it")
    row.move_to(State.REJECTED)
    row.decided_at = now or utcnow()
    row.reason = "withdrawn by the member who recorded it"
    return row


async def cancel_local(
    session: AsyncSession, ref: str, reason: str = "", *, now: datetime | None = None
) -> Exchange:
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
        await post(session, row.uuid, payee, payer, row.amount, kind="reversal", now=now)
    except LedgerError as exc:
        raise ExchangeError(f"cannot cancel now: {exc}") from exc
    row.move_to(State.CANCELLED)
    row.reason = reason.strip()[:500] or None
    return row
