"""Hosting contracts between a mediator and a client, signed through a link.

The client needs no account. When the mediator makes the client's link
(their own acceptance), the contract is fixed on the current versions of
the two documents; the client reads exactly the text they will sign, gives
their contact details and the counterpart, types their name and signs. The
node then stores the exact Markdown signed, its SHA-256, both acceptance
times and the client's details, and signs a JSON document holding them with
its Ed25519 key (FEP-8b32 ``eddsa-jcs-2022``). ``verify`` recomputes all of
it from the stored rows: a change made in the database afterwards shows.

Links are random tokens stored as SHA-256 digests (a copy of the database
opens nothing). The signing link works once; after signing the client gets
a second, read-only link to their copy.

Lifecycle: draft → awaiting (a link exists) → signed → handed_in (to the
section, with its share); cancelled before signature, ended after it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from federation.integrity import (
    ProofError,
    add_proof,
    ed25519_public_multibase,
    public_key_from_multibase,
    verify_proof,
)
from federation.vocab import AS_CONTEXT
from models.accounts import digest
from models.actors import LocalActor
from models.attestations import DATA_INTEGRITY_CONTEXT, integrity_key_id
from models.base import Base, UTCDateTime, utcnow
from models.charter.contract_models import ModelVersion, current_versions, fill, get_version
from models.charter.money import format_money, parse_money
from models.errors import NotFound, UserError
from models.outbox import new_uuid
from models.states import check_transition
from models.to_ap import iso
from models.urls import Urls

LINK_LIFETIME = timedelta(days=30)
MAX_LINE = 200
MAX_ADDRESS = 500
MAX_DETAIL = 2000
CONTRACT_CONTEXT: list[Any] = [
    AS_CONTEXT,
    DATA_INTEGRITY_CONTEXT,
    {"coopnet": "https://coopnet.example/ns#", "HostingContract": "coopnet:HostingContract"},
]
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


@dataclass
class ClientDetails:
    """What the client gives on the signing page (the charter asks for full details)."""

    full_name: str
    address: str
    email: str
    phone: str
    organisation: str = ""
    counterpart: str = ""
    counterpart_detail: str = ""
    typed_name: str = ""
    consent: bool = False


def _line(value: str, what: str, limit: int = MAX_LINE, required: bool = True) -> str:
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
    contract.client_name = _line(draft.client, "the client's name")
    contract.service = _line(draft.service, "the service")
    contract.price_minor, contract.currency = parse_money(draft.price, "the price")
    contract.duration = _line(draft.duration, "the duration", 100)
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


def check_details(details: ClientDetails) -> ClientDetails:
    """Every field the charter asks for, or a refusal that names the missing one."""
    from models.accounts import check_email

    out = ClientDetails(
        full_name=_line(details.full_name, "your full name"),
        address=_line(details.address, "your postal address", MAX_ADDRESS),
        email=_line(details.email, "your e-mail address", 254),
        phone=_line(details.phone, "your phone number", 40),
        organisation=_line(details.organisation, "the organisation", required=False),
        counterpart=details.counterpart,
        counterpart_detail=details.counterpart_detail.strip(),
        typed_name=_line(details.typed_name, "your name typed as signature"),
        consent=details.consent,
    )
    try:
        check_email(out.email)
    except UserError:
        raise ContractError("your e-mail address: write it as name@example.org") from None
    if sum(c.isdigit() for c in out.phone) < 6:
        raise ContractError("your phone number: at least 6 digits")
    if out.counterpart not in (Counterpart.MONEY, Counterpart.ARTICLE):
        raise ContractError(
            "choose the counterpart: money, or an article about your volunteer commitment"
        )
    if len(out.counterpart_detail) > MAX_DETAIL:
        raise ContractError(f"the counterpart's detail: at most {MAX_DETAIL} characters")
    if out.counterpart == Counterpart.ARTICLE and not out.counterpart_detail:
        raise ContractError("say what the article will be about (the counterpart's detail)")
    if " ".join(out.typed_name.lower().split()) != " ".join(out.full_name.lower().split()):
        raise ContractError("type your full name exactly as above to sign")
    if not out.consent:
        raise ContractError("tick the box to say you accept the contract and the conditions")
    return out


def _document(
    urls: Urls, contract: Contract, mediator: LocalActor, node: LocalActor
) -> dict[str, Any]:
    """The JSON the node signs: what was signed, by whom, when, on which versions."""
    assert contract.signed_at and contract.mediator_accepted_at
    return {
        "@context": CONTRACT_CONTEXT,
        "id": f"urn:uuid:{contract.uuid}",
        "type": "HostingContract",
        "attributedTo": urls.actor(node.username),
        "mediator": urls.actor(mediator.username),
        "contractModelVersion": contract.contract_version_id,
        "conditionsVersion": contract.conditions_version_id,
        "sha256": contract.signed_sha256,
        "mediatorAcceptedAt": iso(contract.mediator_accepted_at),
        "clientAcceptedAt": iso(contract.signed_at),
        "client": {
            "name": contract.client_full_name,
            "organisation": contract.client_organisation or "",
            "address": contract.client_address,
            "email": contract.client_email,
            "phone": contract.client_phone,
        },
        "typedName": contract.typed_name,
        "counterpart": {"kind": contract.counterpart, "detail": contract.counterpart_detail or ""},
        "price": {"minor": str(contract.price_minor), "currency": contract.currency},
        "share": {"minor": str(contract.share_minor), "currency": contract.currency},
    }


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def sign(
    session: AsyncSession,
    urls: Urls,
    token: str,
    details: ClientDetails,
    mediator: LocalActor,
    node: LocalActor,
) -> tuple[Contract, str]:
    """Sign through the link, once: (the contract, the token of the client's copy link).

    The link row is read under a row lock (PostgreSQL) and the state moves in
    the same transaction, so two submissions of one link sign once.
    """
    contract = await by_link(session, token, for_update=True)
    checked = check_details(details)
    if not node.integrity_key_pem:
        raise ContractError("the node has no signing key")
    body, conditions = await text_to_sign(session, contract, mediator)
    now = utcnow()
    contract.signed_text = body + SEPARATOR + conditions
    contract.signed_sha256 = text_hash(contract.signed_text)
    contract.signed_at = now
    contract.client_full_name = checked.full_name
    contract.client_organisation = checked.organisation or None
    contract.client_address = checked.address
    contract.client_email = checked.email
    contract.client_phone = checked.phone
    contract.counterpart = checked.counterpart
    contract.counterpart_detail = checked.counterpart_detail or None
    contract.typed_name = checked.typed_name
    doc = _document(urls, contract, mediator, node)
    signed = add_proof(doc, node.integrity_key_pem, integrity_key_id(urls, node), now)
    contract.signed_document = json.dumps(signed, ensure_ascii=False, sort_keys=True)
    copy = secrets.token_urlsafe(32)
    contract.copy_hash = digest(copy)
    contract.move_to(ContractState.SIGNED)
    await session.flush()
    return contract, copy


@dataclass(frozen=True)
class Verification:
    ok: bool
    problems: tuple[str, ...]


def verify(urls: Urls, contract: Contract, mediator: LocalActor, node: LocalActor) -> Verification:
    """Recompute the hash from the stored text and check the node's proof over the stored rows.

    Any change after signing to the text, its hash, the client's details,
    the counterpart or the sums is reported (the signed document no longer
    matches, or its proof no longer verifies).
    """
    if not contract.is_signed:
        return Verification(False, ("not signed yet",))
    problems: list[str] = []
    text = contract.signed_text or ""
    if text_hash(text) != contract.signed_sha256:
        problems.append("the stored text does not match its SHA-256: the text was altered")
    try:
        stored = json.loads(contract.signed_document or "")
    except ValueError:
        stored = None
    if not isinstance(stored, dict):
        return Verification(False, (*problems, "the signed document is unreadable"))
    expected = _document(urls, contract, mediator, node)
    for key, value in expected.items():
        if stored.get(key) != value:
            problems.append(f"the signed document's {key!r} differs from what is stored now")
    if stored.get("sha256") != text_hash(text):
        problems.append("the text is not the one the node signed")
    pem = node.integrity_key_pem
    try:
        if not pem:
            raise ProofError("the node has no signing key")
        public = public_key_from_multibase(ed25519_public_multibase(pem))
        method = verify_proof(stored, lambda _: public)
        if method != integrity_key_id(urls, node):
            problems.append("the proof was not made with this node's key")
    except ProofError as exc:
        problems.append(f"the node's signature does not verify: {exc}")
    return Verification(not problems, tuple(dict.fromkeys(problems)))


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
