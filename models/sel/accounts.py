"""SEL accounts: members' and peers' clearing accounts, their limits and room.

Amounts are integers in the section's unit (minutes by default, shown as
hours). A member account belongs to someone of this section; a clearing
account stands for a peer section (what our members paid there minus what
its members paid here). Limits bound every balance, holds (reserved, not
yet posted) included; the postings themselves are in ``models.sel.ledger``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.errors import UserError

#: Default limits, in minutes: −20 h / +20 h.
DEFAULT_LOWER = -20 * 60
DEFAULT_UPPER = 20 * 60
#: Largest single amount accepted (in minutes): 1,000 hours.
MAX_AMOUNT = 1000 * 60


class AccountKind(StrEnum):
    MEMBER = "member"
    CLEARING = "clearing"


class AccountStatus(StrEnum):
    REQUESTED = "requested"
    OPEN = "open"
    CLOSED = "closed"


class LedgerError(UserError):
    """A refusal a person can understand; nothing was written."""


class Account(Base):
    __tablename__ = "sel_accounts"
    __table_args__ = (CheckConstraint("lower_limit <= 0 AND upper_limit >= 0", name="limits"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Member code ("alice"), or "clearing:<peer actor URI>" for a peer section.
    code: Mapped[str] = mapped_column(String(2100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=AccountStatus.OPEN)
    #: The local actor holding this account, when it is one (a mediator).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("local_actors.id"))
    #: For a clearing account: the peer section's actor URI.
    peer_uri: Mapped[str | None] = mapped_column(String(2048), unique=True)
    lower_limit: Mapped[int] = mapped_column(Integer, default=DEFAULT_LOWER)
    upper_limit: Mapped[int] = mapped_column(Integer, default=DEFAULT_UPPER)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    #: Sum of active holds going out of this account (reserved, not yet posted).
    held: Mapped[int] = mapped_column(Integer, default=0)
    #: Sum of active holds coming into this account: room reserved below the upper limit.
    held_in: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def check_amount(amount: int) -> int:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise LedgerError("an amount must be a whole number of minutes")
    if amount <= 0:
        raise LedgerError("an amount must be positive")
    if amount > MAX_AMOUNT:
        raise LedgerError(f"an amount over {MAX_AMOUNT // 60} hours is refused")
    return amount


def hours(minutes: int) -> str:
    """Minutes shown as hours: 90 → '1.5 h', -20 → '-0.33 h'."""
    text = f"{minutes / 60:.2f}".rstrip("0").rstrip(".")
    return f"{text} h"


async def get_account(session: AsyncSession, code: str) -> Account:
    row = (await session.execute(select(Account).where(Account.code == code))).scalar_one_or_none()
    if row is None:
        raise LedgerError(f"no SEL account {code!r} (see 'coopnet sel balances')")
    return row


async def open_account(
    session: AsyncSession,
    code: str,
    name: str = "",
    *,
    lower: int = DEFAULT_LOWER,
    upper: int = DEFAULT_UPPER,
    status: AccountStatus = AccountStatus.OPEN,
    actor_id: int | None = None,
) -> Account:
    import re

    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,62}", code):
        raise LedgerError(f"{code!r}: an account code is lowercase letters, digits, '.', '-', '_'")
    if (await session.execute(select(Account.id).where(Account.code == code))).first():
        raise LedgerError(f"the account {code!r} already exists")
    check_limits(lower, upper)
    row = Account(
        code=code,
        kind=AccountKind.MEMBER,
        name=name.strip()[:200],
        status=status,
        lower_limit=lower,
        upper_limit=upper,
        actor_id=actor_id,
    )
    session.add(row)
    await session.flush()
    return row


def check_limits(lower: int, upper: int) -> None:
    if lower > 0 or upper < 0:
        raise LedgerError("the lower limit must be ≤ 0 and the upper limit ≥ 0")
    if lower < -100 * MAX_AMOUNT or upper > 100 * MAX_AMOUNT:
        raise LedgerError("limits beyond 100,000 hours are refused")


async def clearing_account(session: AsyncSession, peer_uri: str) -> Account | None:
    return (
        await session.execute(select(Account).where(Account.peer_uri == peer_uri))
    ).scalar_one_or_none()


async def open_clearing(
    session: AsyncSession, peer_uri: str, name: str, *, max_deficit: int, max_surplus: int
) -> Account:
    """The clearing account of a peer section; its limits are the trade-balance limits."""
    check_limits(-max_deficit, max_surplus)
    row = await clearing_account(session, peer_uri)
    if row is None:
        row = Account(
            code=f"clearing:{peer_uri}",
            kind=AccountKind.CLEARING,
            name=name[:200],
            peer_uri=peer_uri,
            status=AccountStatus.OPEN,
            lower_limit=-max_deficit,
            upper_limit=max_surplus,
        )
        session.add(row)
    else:
        row.lower_limit, row.upper_limit, row.status = -max_deficit, max_surplus, AccountStatus.OPEN
    await session.flush()
    return row


def room_to_pay(account: Account) -> int:
    """How much the account can still pay out, holds included."""
    return account.balance - account.held - account.lower_limit


def room_to_receive(account: Account) -> int:
    """Room below the upper limit, holds on their way in included."""
    return account.upper_limit - account.balance - account.held_in


def check_can_move(payer: Account, payee: Account, amount: int, *, hold_released: int = 0) -> None:
    """Refuse a move that would take either account past its limits (holds count as spent)."""
    for acc in (payer, payee):
        if acc.status != AccountStatus.OPEN:
            raise LedgerError(f"the account {acc.code!r} is {acc.status}")
    if room_to_pay(payer) + hold_released < amount:
        raise LedgerError(
            f"{payer.code!r} would go below its limit of {hours(payer.lower_limit)} "
            f"(balance {hours(payer.balance)}, reserved {hours(payer.held - hold_released)})"
        )
    if room_to_receive(payee) + hold_released < amount:
        raise LedgerError(
            f"{payee.code!r} would go above its limit of {hours(payee.upper_limit)} "
            f"(balance {hours(payee.balance)})"
        )


def near_limit_warnings(accounts: list[Account], margin: int = 120) -> list[str]:
    """Warn when an account is within ``margin`` (2 h) of a limit."""
    out = []
    for acc in accounts:
        if acc.kind != AccountKind.MEMBER:
            continue
        if room_to_pay(acc) <= margin:
            out.append(f"warning: {acc.code} is {hours(room_to_pay(acc))} from its lower limit")
        if room_to_receive(acc) <= margin:
            out.append(f"warning: {acc.code} is {hours(room_to_receive(acc))} from its upper limit")
    return out
