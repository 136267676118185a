"""Signing a contract through the client's link, and checking it afterwards.

On signing, the node stores the exact Markdown signed (contract and general
conditions, filled in), its SHA-256, both acceptance times, the client's
details and the counterpart, and signs a JSON document holding them with its
Ed25519 key (FEP-8b32 ``eddsa-jcs-2022``, federation/integrity.py).
``verify`` rebuilds that document from the rows as they are now and checks
the hash and the proof: any change made in the database afterwards shows.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.integrity import (
    ProofError,
    add_proof,
    ed25519_public_multibase,
    public_key_from_multibase,
    verify_proof,
)
from federation.vocab import AS_CONTEXT, our_terms
from models.accounts import check_email, digest
from models.actors import LocalActor
from models.attestations import DATA_INTEGRITY_CONTEXT, integrity_key_id
from models.base import utcnow
from models.charter.contracts import (
    MAX_ADDRESS,
    MAX_DETAIL,
    SEPARATOR,
    Contract,
    ContractError,
    ContractState,
    Counterpart,
    by_link,
    text_line,
    text_to_sign,
)
from models.errors import UserError
from models.to_ap import iso
from models.urls import Urls

CONTRACT_CONTEXT: list[Any] = [
    AS_CONTEXT,
    DATA_INTEGRITY_CONTEXT,
    our_terms("HostingContract"),
]


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


def check_details(details: ClientDetails) -> ClientDetails:
    """Every field the charter asks for, or a refusal that names the missing one."""
    out = ClientDetails(
        full_name=text_line(details.full_name, "your full name"),
        address=text_line(details.address, "your postal address", MAX_ADDRESS),
        email=text_line(details.email, "your e-mail address", 254),
        phone=text_line(details.phone, "your phone number", 40),
        organisation=text_line(details.organisation, "the organisation", required=False),
        counterpart=details.counterpart,
        counterpart_detail=details.counterpart_detail.strip(),
        typed_name=text_line(details.typed_name, "your name typed as signature"),
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
