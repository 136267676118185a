"""The SEL ledger: double-entry postings between accounts, and holds.

Every posting moves an amount from one account to another, so the sum of
all balances is zero after every commit. Balances are kept on the account
in the same transaction as the posting (cheap to read) and can be
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

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.sel.accounts import Account, LedgerError, check_amount, check_can_move, hours

GENESIS = "0" * 64


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


async def _head(session: AsyncSession) -> LedgerHead:
    head = await session.get(LedgerHead, 1, with_for_update=True)
    if head is None:
        # The first writer ever creates the row; another one doing it at the same
        # moment (another process) waits for it instead of failing on the key.
        dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
        await session.execute(
            dialect.insert(LedgerHead)
            .values(id=1, seq=0, hash=GENESIS)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        head = await session.get(LedgerHead, 1, with_for_update=True)
        assert head is not None
    return head


async def _lock(session: AsyncSession, *accounts: Account) -> LedgerHead:
    """Take the ledger's write lock (the head row), then re-read ``accounts``.

    The callers loaded the accounts earlier in their transaction, maybe before
    another process committed a change to them: on PostgreSQL (READ COMMITTED)
    checking limits and writing a balance computed from that read would undo
    the other change (a lost update). Every change to balances and holds goes
    through here, so under the lock the rows read are the latest.
    """
    head = await _head(session)
    await session.flush()
    for account in accounts:
        await session.refresh(account)
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
    now: datetime | None = None,
) -> Entry:
    """Append one entry and move the balances, in the caller's transaction.

    ``now`` is the entry's time (part of its hash), the caller's clock by default.
    """
    check_amount(amount)
    if payer.id == payee.id:
        raise LedgerError("payer and payee are the same account")
    head = await _lock(session, payer, payee)
    if check_limits_:
        check_can_move(payer, payee, amount, hold_released=hold_released)
    now = now or utcnow()
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
    await _lock(session, payer, payee)
    check_can_move(payer, payee, amount)
    payer.held += amount
    payee.held_in += amount
    await session.flush()


async def release(session: AsyncSession, payer: Account, payee: Account, amount: int) -> None:
    await _lock(session, payer, payee)
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
