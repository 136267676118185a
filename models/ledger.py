"""The SEL ledger: mutual-credit accounts and double-entry postings.

Amounts are integers in the section's unit (minutes by default, shown as
hours). Every posting moves an amount from one account to another, so the
sum of all balances is zero after every commit. Balances are kept on the
account in the same transaction as the posting (cheap to read) and can be
re-derived from the postings (``verify_ledger``).

The journal is append-only and tamper-evident: each entry carries the hash
of the previous one, and the head of the chain lives in ``ledger_head``,
updated in the same transaction (its row is what serialises writers).
Nothing is ever edited or deleted: a cancellation is a reversing entry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow

GENESIS = "0" * 64
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


class LedgerError(ValueError):
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


class Entry(Base):
    """One posting: ``amount`` moves from ``debit`` (payer) to ``credit`` (payee)."""

    __tablename__ = "sel_entries"
    __table_args__ = (CheckConstraint("amount > 0", name="positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    exchange_uuid: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # exchange | reversal
    debit_id: Mapped[int] = mapped_column(ForeignKey("sel_accounts.id"), index=True)
    credit_id: Mapped[int] = mapped_column(ForeignKey("sel_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class LedgerHead(Base):
    __tablename__ = "sel_ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


def entry_hash(
    prev: str,
    seq: int,
    exchange: str,
    kind: str,
    debit: str,
    credit: str,
    amount: int,
    created: datetime,
) -> str:
    """Hash of one entry over everything that gives it meaning, chained to the previous."""
    line = "\x1f".join(
        [prev, str(seq), exchange, kind, debit, credit, str(amount), created.isoformat()]
    )
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


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


async def _head(session: AsyncSession) -> LedgerHead:
    head = await session.get(LedgerHead, 1, with_for_update=True)
    if head is None:
        head = LedgerHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
        await session.flush()
    return head


async def post(
    session: AsyncSession,
    exchange_uuid: str,
    payer: Account,
    payee: Account,
    amount: int,
    *,
    kind: str = "exchange",
    hold_released: int = 0,
    check_limits_: bool = True,
) -> Entry:
    """Append one entry and move the balances, in the caller's transaction."""
    check_amount(amount)
    if payer.id == payee.id:
        raise LedgerError("payer and payee are the same account")
    if check_limits_:
        check_can_move(payer, payee, amount, hold_released=hold_released)
    head = await _head(session)
    now = utcnow()
    seq = head.seq + 1
    digest = entry_hash(head.hash, seq, exchange_uuid, kind, payer.code, payee.code, amount, now)
    entry = Entry(
        seq=seq,
        exchange_uuid=exchange_uuid,
        kind=kind,
        debit_id=payer.id,
        credit_id=payee.id,
        amount=amount,
        created_at=now,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(entry)
    payer.balance -= amount
    payee.balance += amount
    head.seq, head.hash = seq, digest
    await session.flush()
    return entry


async def hold(session: AsyncSession, payer: Account, payee: Account, amount: int) -> None:
    """Reserve ``amount`` on the payer (and room on the payee) without posting."""
    check_amount(amount)
    check_can_move(payer, payee, amount)
    payer.held += amount
    payee.held_in += amount
    await session.flush()


async def release(session: AsyncSession, payer: Account, payee: Account, amount: int) -> None:
    if payer.held < amount or payee.held_in < amount:
        raise LedgerError("cannot release more than is held")
    payer.held -= amount
    payee.held_in -= amount
    await session.flush()


@dataclass
class LedgerReport:
    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def verify_ledger(session: AsyncSession) -> LedgerReport:
    """Re-walk the hash chain, re-derive every balance, check zero-sum and limits."""
    report = LedgerReport()
    accounts = {a.id: a for a in (await session.execute(select(Account))).scalars()}
    derived = dict.fromkeys(accounts, 0)
    prev, seq = GENESIS, 0
    rows = await session.stream_scalars(select(Entry).order_by(Entry.seq))
    async for e in rows:
        seq += 1
        report.entries += 1
        if e.seq != seq:
            report.problems.append(f"entry {e.id}: sequence {e.seq}, expected {seq}")
        if e.prev_hash != prev:
            report.problems.append(f"entry {e.seq}: does not follow the previous entry's hash")
        debit, credit = accounts.get(e.debit_id), accounts.get(e.credit_id)
        if debit is None or credit is None:
            report.problems.append(f"entry {e.seq}: unknown account")
            continue
        expected = entry_hash(
            e.prev_hash,
            e.seq,
            e.exchange_uuid,
            e.kind,
            debit.code,
            credit.code,
            e.amount,
            e.created_at,
        )
        if e.hash != expected:
            report.problems.append(f"entry {e.seq}: hash does not match its content (altered)")
        prev = e.hash
        derived[e.debit_id] -= e.amount
        derived[e.credit_id] += e.amount
    head = await session.get(LedgerHead, 1)
    if (head.hash if head else GENESIS) != prev or (head.seq if head else 0) != seq:
        report.problems.append("the ledger head does not match the last entry (entries removed?)")
    for acc_id, acc in accounts.items():
        if acc.balance != derived[acc_id]:
            report.problems.append(
                f"{acc.code}: balance {acc.balance} but postings add up to {derived[acc_id]}"
            )
        if not acc.lower_limit <= acc.balance <= acc.upper_limit:
            report.problems.append(f"{acc.code}: balance {hours(acc.balance)} is past its limits")
        if acc.held < 0 or acc.held_in < 0:
            report.problems.append(f"{acc.code}: negative hold")
    total = sum(a.balance for a in accounts.values())
    if total != 0:
        report.problems.append(f"the accounts add up to {total}, not zero")
    return report
