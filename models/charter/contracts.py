"""Hosting contracts between a mediator and a client, signed through a link.

The client needs no account. When the mediator makes the client's link
(their own acceptance), the contract is fixed on the current versions of
the two documents; the client reads exactly the text they will sign, gives
their contact details and the counterpart, types their name and signs
(models/charter/signing.py: what is stored and signed, and ``verify``).

Links are random tokens stored as SHA-256 digests (a copy of the database
opens nothing). The signing link works once; after signing the client gets
a second, read-only link to their copy.

Lifecycle: draft → awaiting (a link exists) → signed → handed_in (to the
section, with its share); cancelled before signature, ended after it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.accounts import digest
from models.actors import LocalActor
from models.base import Base, UTCDateTime, utcnow
from models.charter.contract_models import ModelVersion, current_versions, fill, get_version
from models.charter.money import format_money, parse_money
from models.errors import NotFound, UserError
from models.outbox import new_uuid
from models.states import check_transition

LINK_LIFETIME = timedelta(days=30)
MAX_LINE = 200
MAX_ADDRESS = 500
MAX_DETAIL = 2000
#: Between the contract and the general conditions in the text signed.
SEPARATOR = "\n\n---\n\n"


class ContractState(StrEnum):
    DRAFT = "draft"
    AWAITING = "awaiting"
    SIGNED = "signed"
    HANDED_IN = "handed_in"
    CANCELLED = "cancelled"
    ENDED = "ended"


CONTRACT_TRANSITIONS = {
    ContractState.DRAFT: frozenset({ContractState.AWAITING, ContractState.CANCELLED}),
    ContractState.AWAITING: frozenset({ContractState.SIGNED, ContractState.CANCELLED}),
    ContractState.SIGNED: frozenset({ContractState.HANDED_IN, ContractState.ENDED}),
    ContractState.HANDED_IN: frozenset({ContractState.ENDED}),
    ContractState.CANCELLED: frozenset[ContractState](),
    ContractState.ENDED: frozenset[ContractState](),
}


class Counterpart(StrEnum):
    MONEY = "money"
    ARTICLE = "article"


class ContractError(UserError):
    pass


class LinkGone(ContractError):
    """The client's link is used, replaced, expired or unknown (a 410 page)."""


class Contract(Base):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    #: The mediator (a local actor).
    actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    state: Mapped[str] = mapped_column(String(16), default=ContractState.DRAFT, index=True)
    client_name: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(200))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    duration: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    #: The section's share, in the contract's currency.
    share_minor: Mapped[int] = mapped_column(BigInteger)
    contract_version_id: Mapped[int] = mapped_column(ForeignKey("contract_model_versions.id"))
    conditions_version_id: Mapped[int] = mapped_column(ForeignKey("contract_model_versions.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the mediator made the client's link: their acceptance of the text.
    mediator_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    link_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The client's read-only link to their copy, given after signing.
    copy_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # What signing stores (all None before).
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_text: Mapped[str | None] = mapped_column(Text)
    signed_sha256: Mapped[str | None] = mapped_column(String(64))
    signed_document: Mapped[str | None] = mapped_column(Text)
    client_full_name: Mapped[str | None] = mapped_column(String(200))
    client_organisation: Mapped[str | None] = mapped_column(String(200))
    client_address: Mapped[str | None] = mapped_column(String(500))
    client_email: Mapped[str | None] = mapped_column(String(254))
    client_phone: Mapped[str | None] = mapped_column(String(40))
    counterpart: Mapped[str | None] = mapped_column(String(16))
    counterpart_detail: Mapped[str | None] = mapped_column(Text)
    typed_name: Mapped[str | None] = mapped_column(String(200))
    handed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    share_paid_minor: Mapped[int | None] = mapped_column(BigInteger)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def move_to(self, new: ContractState) -> None:
        self.state = check_transition(CONTRACT_TRANSITIONS, ContractState(self.state), new)

    @property
    def price(self) -> str:
        return format_money(self.price_minor, self.currency)

    @property
    def share(self) -> str:
        return format_money(self.share_minor, self.currency)

    @property
    def share_paid(self) -> str | None:
        if self.share_paid_minor is None:
            return None
        return format_money(self.share_paid_minor, self.currency)

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


@dataclass
class ContractDraft:
    """What the mediator fills in; ``check`` turns it into stored values or refuses."""

    client: str
    service: str
    price: str
    duration: str
    start: str
    end: str
    share: str


def text_line(value: str, what: str, limit: int = MAX_LINE, required: bool = True) -> str:
    """One line of text, spaces collapsed, within ``limit``; a refusal names ``what``."""
    value = " ".join(value.split())
    if required and not value:
        raise ContractError(f"{what} is required")
    if len(value) > limit:
        raise ContractError(f"{what}: at most {limit} characters")
    return value


def _day(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ContractError(f"the {what} date must be written YYYY-MM-DD") from None


def apply_draft(contract: Contract, draft: ContractDraft) -> None:
    contract.client_name = text_line(draft.client, "the client's name")
    contract.service = text_line(draft.service, "the service")
    contract.price_minor, contract.currency = parse_money(draft.price, "the price")
    contract.duration = text_line(draft.duration, "the duration", 100)
    contract.start_date = _day(draft.start, "start")
    contract.end_date = _day(draft.end, "end")
    if contract.end_date < contract.start_date:
        raise ContractError("the contract must end on or after the day it starts")
    share, share_currency = parse_money(
        draft.share, "the section's share", default=contract.currency
    )
    if share_currency != contract.currency:
        raise ContractError(
            f"the section's share must be in the contract's currency ({contract.currency})"
        )
    if share > contract.price_minor:
        raise ContractError("the section's share cannot be more than the price")
    contract.share_minor = share


def values_of(contract: Contract, mediator: LocalActor) -> dict[str, str]:
    return {
        "client": contract.client_name,
        "mediator": mediator.name or mediator.username,
        "service": contract.service,
        "price": contract.price,
        "duration": contract.duration,
        "start": contract.start_date.isoformat(),
        "end": contract.end_date.isoformat(),
        "share": contract.share,
    }


async def new_contract(
    session: AsyncSession,
    mediator: LocalActor,
    draft: ContractDraft,
    created_by: str,
    offer_id: int | None = None,
) -> Contract:
    """A draft on the current versions of the documents (refused if none is written)."""
    model, conditions = await current_versions(session)
    contract = Contract(
        uuid=new_uuid(),
        actor_id=mediator.id,
        offer_id=offer_id,
        state=ContractState.DRAFT,
        contract_version_id=model.id,
        conditions_version_id=conditions.id,
        created_by=created_by[:64],
        created_at=utcnow(),
    )
    apply_draft(contract, draft)
    session.add(contract)
    await session.flush()
    return contract


async def text_to_sign(
    session: AsyncSession, contract: Contract, mediator: LocalActor
) -> tuple[str, str]:
    """(contract, conditions) as the client reads and signs them: the recorded versions, filled."""
    values = values_of(contract, mediator)
    model = await get_version(session, contract.contract_version_id)
    conditions = await get_version(session, contract.conditions_version_id)
    return fill(model.text, values), fill(conditions.text, values)


async def versions_of(
    session: AsyncSession, contract: Contract
) -> tuple[ModelVersion, ModelVersion]:
    return (
        await get_version(session, contract.contract_version_id),
        await get_version(session, contract.conditions_version_id),
    )


async def make_link(session: AsyncSession, contract: Contract) -> str:
    """A new one-time client link (the earlier one stops); the mediator accepts the text now.

    Before signature the contract moves to the documents' newest versions:
    the client signs what the section's model says today.
    """
    if contract.state not in (ContractState.DRAFT, ContractState.AWAITING):
        raise ContractError(f"this contract is {contract.state}: no new signing link")
    model, conditions = await current_versions(session)
    contract.contract_version_id = model.id
    contract.conditions_version_id = conditions.id
    token = secrets.token_urlsafe(32)
    now = utcnow()
    contract.link_hash = digest(token)
    contract.link_expires_at = now + LINK_LIFETIME
    contract.mediator_accepted_at = now
    contract.move_to(ContractState.AWAITING)
    await session.flush()
    return token


async def by_link(session: AsyncSession, token: str, *, for_update: bool = False) -> Contract:
    """The contract a still-valid signing link is for, or LinkGone."""
    query = select(Contract).where(Contract.link_hash == digest(token[:128]))
    if for_update:
        # Re-read under the lock even if this session loaded the row before: a
        # second signer waits here, then sees the first one's signature.
        query = query.with_for_update().execution_options(populate_existing=True)
    contract = await session.scalar(query)
    if contract is None:
        raise LinkGone(
            "this link is not valid (replaced or unknown): ask your mediator for a new one"
        )
    if contract.state != ContractState.AWAITING:
        raise LinkGone(
            "this contract was already signed with this link, or cancelled: the link works "
            "only once. Your copy is at the read-only link you were given after signing."
        )
    if contract.link_expires_at is None or contract.link_expires_at <= utcnow():
        raise LinkGone("this link is older than 30 days: ask your mediator for a new one")
    return contract


async def by_copy_link(session: AsyncSession, token: str) -> Contract:
    contract = await session.scalar(
        select(Contract).where(Contract.copy_hash == digest(token[:128]))
    )
    if contract is None or not contract.is_signed:
        raise NotFound("no contract at this link")
    return contract


def new_copy_link(contract: Contract) -> str:
    """A new read-only link to the client's copy; the earlier one stops working.

    The copy link is shown once, after signing: a client who lost it (or a link
    that leaked) is given a new one by the mediator.
    """
    if not contract.is_signed:
        raise ContractError(f"only a signed contract has a copy (this one is {contract.state})")
    token = secrets.token_urlsafe(32)
    contract.copy_hash = digest(token)
    return token


def hand_in(contract: Contract, share_minor: int) -> None:
    if contract.state != ContractState.SIGNED:
        raise ContractError(
            "only a signed contract not yet handed in can be handed in "
            f"(this one is {contract.state})"
        )
    contract.move_to(ContractState.HANDED_IN)
    contract.handed_in_at = utcnow()
    contract.share_paid_minor = share_minor


def end(contract: Contract) -> None:
    if contract.state not in (ContractState.SIGNED, ContractState.HANDED_IN):
        raise ContractError(f"only a signed contract can end (this one is {contract.state})")
    contract.move_to(ContractState.ENDED)
    contract.ended_at = utcnow()


def cancel(contract: Contract) -> None:
    if contract.state not in (ContractState.DRAFT, ContractState.AWAITING):
        raise ContractError(
            f"only a contract not yet signed can be cancelled (this one is {contract.state})"
        )
    contract.move_to(ContractState.CANCELLED)
    contract.cancelled_at = utcnow()
    contract.link_hash = None


async def get_contract(session: AsyncSession, ref: str) -> Contract:
    contract = await session.scalar(select(Contract).where(Contract.uuid == ref.strip()[:36]))
    if contract is None:
        raise NotFound(f"no contract {ref!r} ('coopnet contract list' shows them)")
    return contract


async def list_contracts(session: AsyncSession, actor_id: int | None = None) -> list[Contract]:
    query = select(Contract).order_by(Contract.created_at.desc(), Contract.id.desc())
    if actor_id is not None:
        query = query.where(Contract.actor_id == actor_id)
    return list((await session.scalars(query)).all())


def shares_due(contracts: list[Contract]) -> dict[str, int]:
    """Per currency: the shares of contracts signed and not yet handed in."""
    due: dict[str, int] = {}
    for c in contracts:
        if c.signed_at is not None and c.handed_in_at is None:
            due[c.currency] = due.get(c.currency, 0) + c.share_minor
    return due


def shares_paid(contracts: list[Contract]) -> dict[str, int]:
    paid: dict[str, int] = {}
    for c in contracts:
        if c.share_paid_minor is not None:
            paid[c.currency] = paid.get(c.currency, 0) + c.share_paid_minor
    return paid
