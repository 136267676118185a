"""Receipts: a signed, numbered, immutable record of every sum a mediator receives.

The charter asks a mediator for "a signed receipt for every sum". A receipt
here is:

- **numbered without gaps** per section and per year of issue
  (``LOME-2026-0007``): the year's counter row is incremented by one atomic
  ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` in the transaction that
  inserts the receipt, so the counter row stays locked (PostgreSQL) until
  that transaction ends and a rolled-back issue gives its number back; on
  SQLite the node's writers are serialised already. ``(year, number)`` is
  unique in the schema too;
- **immutable**: nothing here changes a stored receipt, and the ORM refuses
  it (``ImmutableReceipt``) whether through a loaded object or an
  ``update()``/``delete()`` statement, so a bug cannot rewrite one. A mistake
  is corrected by a **cancelling receipt**: the next number, pointing at the
  one it cancels, with a reason. ``cancels_id`` is unique, so a receipt is
  cancelled at most once, and a cancelling receipt cannot itself be
  cancelled;
- **signed**: its JSON document (fields, number, issuer = the node actor,
  verification URL) carries an FEP-8b32 ``eddsa-jcs-2022`` proof made with
  the node actor's Ed25519 key, stored exactly as signed. Anyone holding it
  checks the proof against the issuer's published key and asks the node's
  URL whether it still stands (``check_document`` here; the fetching is in
  node/charter/receipts.py).

The issuing form carries a one-time key (``submission``, unique): the same
form sent twice issues one receipt, not a second one to cancel.

Amounts are integers in the currency's minor unit (cents; francs CFA have
none) with the ISO 4217 code: never a float.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    select,
)
from sqlalchemy import (
    inspect as orm_inspect,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from federation.integrity import ProofError, add_proof, find_assertion_key, verify_proof
from federation.vocab import COOPNET_NS
from models.actors import LocalActor
from models.attestations import DATA_INTEGRITY_CONTEXT, integrity_key_id
from models.base import Base, UTCDateTime, utcnow
from models.errors import NotFound, UserError
from models.outbox import new_uuid
from models.to_ap import iso
from models.urls import Urls

#: The vocabulary of our own terms (receipts are no ActivityStreams objects).
RECEIPT_CONTEXT: list[Any] = [
    DATA_INTEGRITY_CONTEXT,
    {"@vocab": COOPNET_NS, "coopnet": COOPNET_NS},
]
RECEIPT_TYPE = "Receipt"

MAX_PAYER = 200
MAX_CONTACT = 300
MAX_PURPOSE = 1000
MAX_REASON = 500
MAX_CONTRACT = 64
#: Largest sum a receipt may carry, in major units (a mediator's client pays
#: hosting, a website, a training: more than this is a typing mistake).
MAX_MAJOR = 100_000_000
#: How far back a payment may be dated (a receipt is written when paid).
MAX_AGE_DAYS = 366
PATH = "/receipts/"

#: ISO 4217 codes accepted, with their number of minor-unit digits.
CURRENCIES: dict[str, int] = {
    "EUR": 2,
    "XOF": 0,
    "XAF": 0,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "CAD": 2,
    "GHS": 2,
    "NGN": 2,
    "MAD": 2,
    "TND": 3,
    "DZD": 2,
    "GNF": 0,
    "KMF": 0,
    "MGA": 2,
    "CDF": 2,
    "RWF": 0,
    "BIF": 0,
    "DJF": 0,
    "HTG": 2,
}
#: What people write instead of the code.
SYMBOLS = {
    "€": "EUR",
    "$": "USD",
    "£": "GBP",
    "FCFA": "XOF",
    "CFA": "XOF",
    "F": "XOF",
    "EUROS": "EUR",
    "EURO": "EUR",
}


class Method(StrEnum):
    CASH = "cash"
    TRANSFER = "transfer"
    MOBILE_MONEY = "mobile_money"
    CHEQUE = "cheque"
    OTHER = "other"


#: English message ids of the payment methods (translated by the pages).
METHOD_LABELS = {
    Method.CASH: "Cash",
    Method.TRANSFER: "Bank transfer",
    Method.MOBILE_MONEY: "Mobile money",
    Method.CHEQUE: "Cheque",
    Method.OTHER: "Other means",
}


class ReceiptError(UserError):
    """A receipt that cannot be issued or cancelled as asked; nothing was written."""


class ImmutableReceipt(RuntimeError):
    """A bug tried to change or delete a stored receipt (never a user's mistake)."""


class ReceiptCounter(Base):
    """The last number given in a year; one row per year, incremented atomically."""

    __tablename__ = "receipt_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class Receipt(Base):
    __tablename__ = "receipts"
    __table_args__ = (UniqueConstraint("year", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    #: The issuing mediator (a local Person actor).
    mediator_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    payer_name: Mapped[str] = mapped_column(String(MAX_PAYER))
    payer_contact: Mapped[str | None] = mapped_column(String(MAX_CONTACT))
    #: In the currency's minor unit (cents), exactly.
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    purpose: Mapped[str] = mapped_column(Text)
    received_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(16))
    #: A contract's uuid as given (contracts live elsewhere; not checked here).
    contract_ref: Mapped[str | None] = mapped_column(String(MAX_CONTRACT))
    #: For a cancelling receipt: the one it cancels (at most one cancels a receipt).
    cancels_id: Mapped[int | None] = mapped_column(ForeignKey("receipts.id"), unique=True)
    reason: Mapped[str | None] = mapped_column(Text)
    #: The issuing form's one-time key: the same form sent twice (a double
    #: click, a reload) issues one receipt, not two to cancel.
    submission: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: The signed JSON document, byte for byte as signed and served.
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def document(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data

    @property
    def amount_text(self) -> str:
        return format_amount(self.amount_minor, self.currency)


# ----------------------------------------------------------------------------- immutability


@event.listens_for(Receipt, "before_update")
def _refuse_update(mapper: Any, connection: Any, target: Receipt) -> None:
    state = orm_inspect(target)
    changed = [a.key for a in state.attrs if a.history.has_changes()]
    if changed:
        raise ImmutableReceipt(
            f"receipt {target.uuid} is immutable (tried to change {', '.join(changed)}); "
            "issue a cancelling receipt instead"
        )


@event.listens_for(Receipt, "before_delete")
def _refuse_delete(mapper: Any, connection: Any, target: Receipt) -> None:
    raise ImmutableReceipt(f"receipt {target.uuid} cannot be deleted; cancel it instead")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk(state: ORMExecuteState) -> None:
    """``update(Receipt)`` / ``delete(Receipt)`` statements bypass the object events."""
    if (state.is_update or state.is_delete) and any(m.class_ is Receipt for m in state.all_mappers):
        raise ImmutableReceipt("receipts are immutable: no UPDATE or DELETE statement on them")


# ----------------------------------------------------------------------------- amounts


_NUMBER = re.compile(r"[0-9][0-9 \u00a0\u202f'.,]*")


def parse_amount(value: str, default_currency: str = "EUR") -> tuple[int, str]:
    """'120 EUR', '120,50 €', 'EUR 1 200.50', '5000 FCFA' → (minor units, ISO code).

    The decimal mark is a comma or a point; spaces group thousands, and so
    does a mark that repeats ('1.200.000'); '1.200 EUR' is refused as
    ambiguous (1200 or 1.20?) with a suggestion, '5.000 XOF' is 5000.
    Refuses zero, negative, more decimals than the currency has, an
    unknown currency and absurd sums, saying how to write it.
    """
    raw = value.strip()
    if not raw:
        raise ReceiptError("the amount is required, e.g. '120 EUR' or '120,50 €'")
    if len(raw) > 40:
        raise ReceiptError("the amount is too long: write it as '120 EUR' or '120,50 €'")
    if raw.startswith("-") or "-" in raw:
        raise ReceiptError("the amount must be positive: a receipt records a sum received")
    numbers = _NUMBER.findall(raw)
    if len(numbers) != 1:
        raise ReceiptError(f"cannot read the amount {raw!r}: write it as '120 EUR' or '120,50 €'")
    number = numbers[0].strip(" \u00a0\u202f'")
    rest = raw.replace(numbers[0], " ", 1).strip().upper()
    currency = default_currency
    if rest:
        currency = SYMBOLS.get(rest, rest)
    if currency not in CURRENCIES:
        known = ", ".join(sorted(CURRENCIES))
        raise ReceiptError(f"unknown currency {rest!r}: use an ISO code ({known}) or €, $, £")
    digits = CURRENCIES[currency]
    compact = re.sub(r"[ \u00a0\u202f']", "", number)
    units_text, fraction = _split_decimal(compact, digits)
    if not units_text.isdigit() or (fraction and not fraction.isdigit()):
        raise ReceiptError(f"cannot read the amount {raw!r}: write it as '120 EUR' or '120,50 €'")
    if len(fraction) > digits:
        if digits == 0:
            raise ReceiptError(
                f"{currency} has no cents: write a whole amount, e.g. '5000 {currency}'"
            )
        raise ReceiptError(
            f"{currency} has {digits} decimal places: write e.g. '120,50 {currency}'"
        )
    units = int(units_text)
    minor = units * 10**digits + (int(fraction.ljust(digits, "0")) if digits else 0)
    if minor <= 0:
        raise ReceiptError("the amount must be more than zero")
    if units >= MAX_MAJOR:
        raise ReceiptError(
            f"{format_amount(minor, currency)} is not a plausible sum for a receipt "
            f"(at most {MAX_MAJOR:,} {currency}): check the amount"
        )
    return minor, currency


def _split_decimal(compact: str, digits: int) -> tuple[str, str]:
    """Whole units and decimals of '1.200,50' / '1,200.50' / '120,5' / '5.000' XOF.

    A thousands mark must be followed by groups of three digits, and the
    decimal mark appear once, last: anything else comes back unreadable.
    """
    marks = {c for c in compact if c in ".,"}
    if not marks:
        return compact, ""
    if len(marks) == 2:
        at = max(compact.rfind("."), compact.rfind(","))
        decimal, whole, tail = compact[at], compact[:at], compact[at + 1 :]
        if decimal in whole:
            return "?", ""
        return _grouped(whole, "," if decimal == "." else "."), tail
    (sep,) = marks
    whole, _, tail = compact.rpartition(sep)
    if compact.count(sep) > 1 or (len(tail) == 3 and digits == 0):
        return _grouped(compact, sep), ""  # thousands: '1.200.000', '5.000 XOF'
    if len(tail) == 3 and digits < 3:
        raise ReceiptError(
            f"'{compact}' could be read two ways: write {whole}{tail} without a mark, or the "
            f"cents after the comma ({whole},{tail[:2]})"
        )
    return whole, tail


def _grouped(text: str, sep: str) -> str:
    """'1.200.000' → '1200000'; '12.34' → '?' (not thousands)."""
    parts = text.split(sep)
    if len(parts) > 1 and (not 1 <= len(parts[0]) <= 3 or any(len(p) != 3 for p in parts[1:])):
        return "?"
    return "".join(parts)


def format_amount(minor: int, currency: str) -> str:
    """'120.00 EUR', '5000 XOF': the exact stored value, no rounding."""
    digits = CURRENCIES.get(currency, 2)
    if digits == 0:
        return f"{minor} {currency}"
    units, cents = divmod(minor, 10**digits)
    return f"{units}.{cents:0{digits}d} {currency}"


# ----------------------------------------------------------------------------- drafts


@dataclass(frozen=True)
class ReceiptDraft:
    """What a person types; ``check_draft`` turns it into stored values or refuses."""

    payer: str
    amount: str
    purpose: str
    contact: str = ""
    method: str = Method.CASH.value
    received: str = ""
    contract: str = ""


@dataclass(frozen=True)
class Checked:
    payer: str
    contact: str | None
    amount_minor: int
    currency: str
    purpose: str
    method: Method
    received: date
    contract: str | None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTRACT = re.compile(r"[A-Za-z0-9-]{1,64}")


def _line(value: str, what: str, limit: int, *, required: bool) -> str:
    value = value.strip()
    if required and not value:
        raise ReceiptError(f"the {what} is required")
    if len(value) > limit:
        raise ReceiptError(f"the {what} is too long (at most {limit} characters)")
    if _CONTROL.search(value):
        raise ReceiptError(f"the {what} holds a control character")
    return value


def parse_day(value: str, today: date) -> date:
    value = value.strip()
    if not value:
        return today
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ReceiptError(
            f"the date received {value!r} is not a date: write it YYYY-MM-DD, e.g. 2026-11-30"
        ) from None
    if day > today:
        raise ReceiptError("the date received is in the future: a receipt is written once paid")
    if (today - day).days > MAX_AGE_DAYS:
        raise ReceiptError("the date received is more than a year ago: check the year")
    return day


def check_draft(draft: ReceiptDraft, today: date) -> Checked:
    payer = _line(draft.payer, "payer's name", MAX_PAYER, required=True)
    contact = _line(draft.contact, "payer's contact", MAX_CONTACT, required=False) or None
    purpose = _line(draft.purpose.replace("\r\n", "\n"), "purpose", MAX_PURPOSE, required=True)
    minor, currency = parse_amount(draft.amount)
    try:
        method = Method(draft.method.strip() or Method.CASH.value)
    except ValueError:
        known = ", ".join(m.value for m in Method)
        raise ReceiptError(f"unknown payment method {draft.method!r}: use one of {known}") from None
    contract = draft.contract.strip() or None
    if contract is not None and not _CONTRACT.fullmatch(contract):
        raise ReceiptError("the contract reference must be a contract's id (letters, digits, '-')")
    return Checked(
        payer=payer,
        contact=contact,
        amount_minor=minor,
        currency=currency,
        purpose=purpose,
        method=method,
        received=parse_day(draft.received, today),
        contract=contract,
    )


# ----------------------------------------------------------------------------- numbering


def display_number(prefix: str, year: int, number: int) -> str:
    return f"{prefix.upper()}-{year}-{number:04d}"


_NUMBER_REF = re.compile(r"(?:(?P<prefix>[A-Za-z0-9_.-]+?)-)?(?P<year>\d{4})-(?P<n>\d{1,9})")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def next_number(session: AsyncSession, year: int) -> int:
    """The year's next number, taken in the caller's transaction.

    One statement inserts the year's row or increments it and returns the
    value: on PostgreSQL the row stays locked until the transaction ends,
    so concurrent issuers queue and a rollback gives the number back.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(ReceiptCounter)
        .values(year=year, last=1)
        .on_conflict_do_update(
            index_elements=[ReceiptCounter.year], set_={"last": ReceiptCounter.last + 1}
        )
        .returning(ReceiptCounter.last)
    )
    return int((await session.execute(stmt)).scalar_one())


# ----------------------------------------------------------------------------- issuing


def receipt_url(urls: Urls, uuid: str) -> str:
    return f"{urls.base}{PATH}{uuid}"


async def issue_receipt(
    session: AsyncSession,
    urls: Urls,
    node_actor: LocalActor,
    mediator: LocalActor,
    checked: Checked,
    *,
    cancels: Receipt | None = None,
    reason: str | None = None,
    submission: str | None = None,
) -> Receipt:
    """Number, sign and store a receipt in the caller's transaction."""
    if not node_actor.integrity_key_pem:
        raise ReceiptError("the node actor has no signing key: run 'coopnet migrate'")
    now = utcnow()
    year = now.year
    number = await next_number(session, year)
    ident = new_uuid()
    url = receipt_url(urls, ident)
    label = display_number(node_actor.username, year, number)
    doc: dict[str, Any] = {
        "@context": RECEIPT_CONTEXT,
        "type": RECEIPT_TYPE,
        "id": url,
        "number": label,
        "year": year,
        "sequence": number,
        "issuer": urls.actor(node_actor.username),
        "mediator": {
            "id": urls.actor(mediator.username),
            "name": mediator.name or mediator.username,
        },
        "payer": {
            "name": checked.payer,
            **({"contact": checked.contact} if checked.contact else {}),
        },
        "amount": {
            "value": format_amount(checked.amount_minor, checked.currency).split(" ")[0],
            "currency": checked.currency,
            "minorUnits": checked.amount_minor,
        },
        "purpose": checked.purpose,
        "received": checked.received.isoformat(),
        "method": checked.method.value,
        "issued": iso(now),
        "verification": url,
    }
    if checked.contract:
        doc["contract"] = checked.contract
    if cancels is not None:
        doc["cancels"] = {
            "id": receipt_url(urls, cancels.uuid),
            "number": number_of(node_actor, cancels),
        }
        doc["reason"] = reason or ""
    signed = add_proof(doc, node_actor.integrity_key_pem, integrity_key_id(urls, node_actor), now)
    row = Receipt(
        uuid=ident,
        year=year,
        number=number,
        mediator_actor_id=mediator.id,
        payer_name=checked.payer,
        payer_contact=checked.contact,
        amount_minor=checked.amount_minor,
        currency=checked.currency,
        purpose=checked.purpose,
        received_on=checked.received,
        method=checked.method.value,
        contract_ref=checked.contract,
        cancels_id=cancels.id if cancels is not None else None,
        reason=reason,
        submission=submission,
        body=json.dumps(signed, ensure_ascii=False),
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


def number_of(node_actor: LocalActor, receipt: Receipt) -> str:
    return display_number(node_actor.username, receipt.year, receipt.number)


async def cancel_receipt(
    session: AsyncSession,
    urls: Urls,
    node_actor: LocalActor,
    target: Receipt,
    reason: str,
) -> Receipt:
    """Issue the receipt that cancels ``target`` (read under its row lock by the caller)."""
    reason = _line(reason, "reason", MAX_REASON, required=True)
    label = number_of(node_actor, target)
    if target.cancels_id is not None:
        raise ReceiptError(
            f"{label} is itself a cancelling receipt and cannot be cancelled: "
            "issue a new receipt for the right sum"
        )
    already = await cancelled_by(session, target)
    if already is not None:
        raise ReceiptError(f"{label} was already cancelled by {number_of(node_actor, already)}")
    mediator = await session.get(LocalActor, target.mediator_actor_id)
    assert mediator is not None
    checked = Checked(
        payer=target.payer_name,
        contact=target.payer_contact,
        amount_minor=target.amount_minor,
        currency=target.currency,
        purpose=target.purpose,
        method=Method(target.method),
        received=target.received_on,
        contract=target.contract_ref,
    )
    return await issue_receipt(
        session, urls, node_actor, mediator, checked, cancels=target, reason=reason
    )


# ----------------------------------------------------------------------------- reading

_SUBMISSION = re.compile(r"[A-Za-z0-9_-]{16,64}")


def check_submission(value: str | None) -> str | None:
    """A form's one-time key as stored, or None when it is missing or malformed."""
    return value if value and _SUBMISSION.fullmatch(value) else None


async def by_submission(session: AsyncSession, submission: str) -> Receipt | None:
    return (
        await session.execute(select(Receipt).where(Receipt.submission == submission))
    ).scalar_one_or_none()


async def cancelled_by(session: AsyncSession, receipt: Receipt) -> Receipt | None:
    return (
        await session.execute(select(Receipt).where(Receipt.cancels_id == receipt.id))
    ).scalar_one_or_none()


async def find_receipt(session: AsyncSession, ref: str, *, for_update: bool = False) -> Receipt:
    """By uuid, verification URL or number ('LOME-2026-0007', '2026-7'); NotFound otherwise."""
    ref = ref.strip()
    if PATH in ref:
        ref = ref.rsplit(PATH, 1)[1].split("?")[0].strip("/")
    q = select(Receipt)
    if _UUID.fullmatch(ref.lower()):
        q = q.where(Receipt.uuid == ref.lower())
    elif (m := _NUMBER_REF.fullmatch(ref)) is not None:
        q = q.where(Receipt.year == int(m["year"]), Receipt.number == int(m["n"]))
    else:
        raise NotFound(f"{ref!r} is neither a receipt number (LOME-2026-0007) nor a receipt id")
    if for_update:
        q = q.with_for_update()
    row = (await session.execute(q)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no receipt {ref!r} on this node")
    return row


async def list_receipts(
    session: AsyncSession,
    *,
    year: int | None = None,
    mediator_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Receipt]:
    q = select(Receipt)
    if year is not None:
        q = q.where(Receipt.year == year)
    if mediator_id is not None:
        q = q.where(Receipt.mediator_actor_id == mediator_id)
    q = q.order_by(Receipt.year.desc(), Receipt.number.desc()).offset(offset)
    if limit is not None:
        q = q.limit(limit)
    return list((await session.execute(q)).scalars().all())


async def cancelled_ids(session: AsyncSession, ids: list[int]) -> dict[int, Receipt]:
    """For each of ``ids`` that was cancelled: the receipt that cancels it."""
    if not ids:
        return {}
    rows = (await session.execute(select(Receipt).where(Receipt.cancels_id.in_(ids)))).scalars()
    return {r.cancels_id: r for r in rows if r.cancels_id is not None}


async def years(session: AsyncSession) -> list[int]:
    rows = await session.execute(select(Receipt.year).distinct().order_by(Receipt.year.desc()))
    return [int(y) for y in rows.scalars()]


async def totals(
    session: AsyncSession, year: int, mediator_id: int | None = None
) -> list[tuple[int, str, int, int]]:
    """(mediator id, currency, count, sum in minor units) of the year's standing receipts.

    A cancelled receipt and the one that cancels it count for nothing.
    """
    cancelled = select(Receipt.cancels_id).where(Receipt.cancels_id.is_not(None))
    q = (
        select(
            Receipt.mediator_actor_id,
            Receipt.currency,
            func.count(),
            func.sum(Receipt.amount_minor),
        )
        .where(
            Receipt.year == year,
            Receipt.cancels_id.is_(None),
            Receipt.id.not_in(cancelled.scalar_subquery()),
        )
        .group_by(Receipt.mediator_actor_id, Receipt.currency)
        .order_by(Receipt.mediator_actor_id, Receipt.currency)
    )
    if mediator_id is not None:
        q = q.where(Receipt.mediator_actor_id == mediator_id)
    return [(int(a), str(c), int(n), int(s)) for a, c, n, s in (await session.execute(q)).all()]


# ----------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class Verified:
    number: str
    amount: str
    received: str
    payer: str
    purpose: str
    issuer: str
    cancels: str | None


def origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def unwrap(data: Any) -> dict[str, Any]:
    """The signed receipt of what the node serves ({"receipt": …, "state": …}) or a bare one."""
    if isinstance(data, Mapping) and isinstance(data.get("receipt"), Mapping):
        data = data["receipt"]
    if not isinstance(data, Mapping) or data.get("type") != RECEIPT_TYPE:
        raise ReceiptError("this is not a coopnet receipt (no JSON object of type Receipt)")
    return dict(data)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def check_document(doc: Mapping[str, Any], issuer_actor: Mapping[str, Any]) -> Verified:
    """Check a receipt's proof against its issuer's actor document (already fetched).

    The issuer must be on the receipt's own server, the actor fetched must be
    that issuer, and the proof must be made with one of its assertion keys.
    Raises ReceiptError saying why not.
    """
    url, issuer = doc.get("id"), doc.get("issuer")
    if not isinstance(url, str) or not isinstance(issuer, str):
        raise ReceiptError("not genuine: the receipt names no id or no issuer")
    if origin(url) != origin(issuer):
        raise ReceiptError("not genuine: the issuer is not on the server of the receipt's URL")
    if issuer_actor.get("id") != issuer:
        raise ReceiptError("not genuine: the issuer's actor document is another actor")
    try:
        method = verify_proof(doc, lambda kid: find_assertion_key(issuer_actor, kid))
    except ProofError as exc:
        raise ReceiptError(f"not genuine: {exc.reason}") from exc
    if not method.startswith(issuer + "#"):
        raise ReceiptError("not genuine: signed with a key that is not the issuer's")
    amount = _mapping(doc.get("amount"))
    payer = _mapping(doc.get("payer"))
    cancels = doc.get("cancels")
    return Verified(
        number=str(doc.get("number", "?")),
        amount=f"{amount.get('value', '?')} {amount.get('currency', '?')}",
        received=str(doc.get("received", "?")),
        payer=str(payer.get("name", "?")),
        purpose=str(doc.get("purpose", "")),
        issuer=issuer,
        cancels=str(cancels.get("number")) if isinstance(cancels, Mapping) else None,
    )
