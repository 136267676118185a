"""The certification chain: the seat authorises sections, a section certifies
its mediators.

Each link is an attestation object with its own URL on the issuer's server,
signed with the issuer's Ed25519 key as an object integrity proof
(FEP-8b32, eddsa-jcs-2022), announced with ``Add`` to a collection and
revoked with ``Remove`` (after which its URL answers 410, like FEP-044f's
revocable stamps). The proof lets anyone check a forwarded copy; fetching it
again from its issuer tells whether it still stands.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from federation.integrity import add_proof
from federation.vocab import (
    AS_CONTEXT,
    MEDIATOR_CERTIFICATION,
    SECTION_AUTHORIZATION,
    our_terms,
)
from models.actors import LocalActor
from models.base import Base, UTCDateTime, utcnow
from models.errors import UserError
from models.outbox import new_uuid
from models.publishing import publish_activity
from models.to_ap import iso
from models.urls import Urls

DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"
ATTESTATION_CONTEXT: list[Any] = [
    AS_CONTEXT,
    DATA_INTEGRITY_CONTEXT,
    our_terms(SECTION_AUTHORIZATION, MEDIATOR_CERTIFICATION),
]


class Kind(StrEnum):
    AUTHORIZATION = "authorization"  # seat → section
    CERTIFICATION = "certification"  # section → mediator


AS_TYPE = {Kind.AUTHORIZATION: SECTION_AUTHORIZATION, Kind.CERTIFICATION: MEDIATOR_CERTIFICATION}
KIND_OF_TYPE = {v: k for k, v in AS_TYPE.items()}


class AttestationError(UserError):
    pass


class Attestation(Base):
    """One we issued."""

    __tablename__ = "attestations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    issuer_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    subject_uri: Mapped[str] = mapped_column(String(2048), index=True)
    body: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


class HeldAttestation(Base):
    """One issued elsewhere about one of our actors (a section's authorisation by the seat)."""

    __tablename__ = "held_attestations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    issuer_uri: Mapped[str] = mapped_column(String(2048))
    subject_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def collection_of(urls: Urls, issuer: LocalActor, kind: Kind) -> str:
    name = "authorized-sections" if kind is Kind.AUTHORIZATION else "certified-mediators"
    return f"{urls.actor(issuer.username)}/{name}"


def integrity_key_id(urls: Urls, actor: LocalActor) -> str:
    return f"{urls.actor(actor.username)}#ed25519-key"


async def issue(
    session: AsyncSession,
    urls: Urls,
    issuer: LocalActor,
    kind: Kind,
    subject_uri: str,
    *,
    extra_inboxes: list[str] | None = None,
) -> Attestation:
    """Sign and store an attestation, and announce it with Add to followers (and the subject)."""
    live = (
        await session.execute(
            select(Attestation).where(
                Attestation.issuer_actor_id == issuer.id,
                Attestation.kind == kind,
                Attestation.subject_uri == subject_uri,
                Attestation.revoked_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    if live is not None:
        raise AttestationError(f"{subject_uri} already holds a {kind} from this node: {live.uri}")
    if not issuer.integrity_key_pem:
        raise AttestationError("the issuer has no integrity key")
    now = utcnow()
    ident = new_uuid()
    uri = f"{urls.base}/attestations/{ident}"
    doc = {
        "@context": ATTESTATION_CONTEXT,
        "id": uri,
        "type": AS_TYPE[kind],
        "attributedTo": urls.actor(issuer.username),
        "object": subject_uri,
        "target": collection_of(urls, issuer, kind),
        "published": iso(now),
    }
    signed = add_proof(doc, issuer.integrity_key_pem, integrity_key_id(urls, issuer), now)
    row = Attestation(
        uuid=ident,
        uri=uri,
        kind=kind,
        issuer_actor_id=issuer.id,
        subject_uri=subject_uri,
        body=json.dumps(signed, ensure_ascii=False),
        issued_at=now,
    )
    session.add(row)
    await session.flush()
    activity = await publish_activity(
        session, urls, issuer, "Add", signed, extra={"target": doc["target"]}
    )
    if extra_inboxes:
        await _also_deliver(session, activity.id, extra_inboxes)
    return row


async def announce_again(
    session: AsyncSession, urls: Urls, row: Attestation, inboxes: list[str]
) -> None:
    """Send a new Add of a live attestation (to followers and ``inboxes``)."""
    issuer = await session.get(LocalActor, row.issuer_actor_id)
    assert issuer is not None
    activity = await publish_activity(
        session, urls, issuer, "Add", row.json, extra={"target": row.json["target"]}
    )
    await _also_deliver(session, activity.id, inboxes)


async def revoke(
    session: AsyncSession, urls: Urls, row: Attestation, *, extra_inboxes: list[str] | None = None
) -> Attestation:
    if row.revoked_at is not None:
        raise AttestationError(f"{row.uri} was already revoked on {row.revoked_at:%Y-%m-%d}")
    issuer = await session.get(LocalActor, row.issuer_actor_id)
    assert issuer is not None
    row.revoked_at = utcnow()
    activity = await publish_activity(
        session, urls, issuer, "Remove", row.uri, extra={"target": row.json["target"]}
    )
    if extra_inboxes:
        await _also_deliver(session, activity.id, extra_inboxes)
    return row


async def _also_deliver(session: AsyncSession, activity_id: int, inboxes: list[str]) -> None:
    from models.outbox import Delivery

    have = set(
        (
            await session.execute(select(Delivery.inbox).where(Delivery.activity_id == activity_id))
        ).scalars()
    )
    for inbox in inboxes:
        if inbox not in have:
            session.add(Delivery(activity_id=activity_id, inbox=inbox))
            have.add(inbox)
    await session.flush()


async def find_issued(session: AsyncSession, uuid_or_uri: str) -> Attestation | None:
    column = Attestation.uri if uuid_or_uri.startswith("http") else Attestation.uuid
    return (
        await session.execute(select(Attestation).where(column == uuid_or_uri))
    ).scalar_one_or_none()


async def live_issued_for(session: AsyncSession, subject_uri: str) -> Attestation | None:
    return (
        await session.execute(
            select(Attestation)
            .where(Attestation.subject_uri == subject_uri, Attestation.revoked_at.is_(None))
            .order_by(Attestation.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def live_held_for(
    session: AsyncSession, actor_id: int, seat: str | None
) -> HeldAttestation | None:
    """The authorisation an actor of ours holds from ``seat``; none without a seat."""
    if not seat:
        return None
    return (
        await session.execute(
            select(HeldAttestation)
            .where(
                HeldAttestation.subject_actor_id == actor_id,
                HeldAttestation.issuer_uri == seat,
                HeldAttestation.revoked_at.is_(None),
            )
            .order_by(HeldAttestation.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def actor_links(
    session: AsyncSession, urls: Urls, actor: LocalActor, seat: str | None
) -> dict[str, str]:
    """The attestation an actor points at: its certification or its authorisation.

    The latest one, even when revoked: its URL then answers 410, so a
    verifier can say "revoked" rather than "never certified". Only an
    authorisation from the configured ``seat`` is linked, and only ones
    that were fetched and checked are held at all.
    """
    if actor.type == "Person":
        issued = (
            await session.execute(
                select(Attestation.uri)
                .where(Attestation.subject_uri == urls.actor(actor.username))
                .order_by(Attestation.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        return {"certification": issued} if issued else {}
    if not seat:
        return {}
    held = (
        await session.execute(
            select(HeldAttestation.uri)
            .where(HeldAttestation.subject_actor_id == actor.id, HeldAttestation.issuer_uri == seat)
            .order_by(HeldAttestation.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return {"authorization": held} if held else {}


async def list_issued(session: AsyncSession, issuer_id: int, kind: Kind) -> list[Attestation]:
    q = (
        select(Attestation)
        .where(
            Attestation.issuer_actor_id == issuer_id,
            Attestation.kind == kind,
            Attestation.revoked_at.is_(None),
        )
        .order_by(Attestation.issued_at.desc(), Attestation.id.desc())
    )
    return list((await session.execute(q)).scalars().all())


async def store_held(
    session: AsyncSession, subject: LocalActor, doc: dict[str, Any], issuer_uri: str
) -> HeldAttestation:
    """Hold an authorisation that was fetched from its issuer and checked."""
    uri = doc["id"]
    row = (
        await session.execute(select(HeldAttestation).where(HeldAttestation.uri == uri))
    ).scalar_one_or_none()
    if row is None:
        row = HeldAttestation(
            uri=uri,
            kind=Kind.AUTHORIZATION,
            issuer_uri=issuer_uri,
            subject_actor_id=subject.id,
            body=json.dumps(doc, ensure_ascii=False),
        )
        session.add(row)
        await session.flush()
    return row


async def revoke_held(session: AsyncSession, uri: str, issuer_uri: str) -> bool:
    row = (
        await session.execute(
            select(HeldAttestation).where(
                HeldAttestation.uri == uri, HeldAttestation.issuer_uri == issuer_uri
            )
        )
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True


@dataclass
class Standing:
    """Where an actor of ours stands in the chain, from local records (for its page)."""

    certification: Attestation | None = None
    authorization: HeldAttestation | None = None
    revoked: bool = False


async def standing_of(
    session: AsyncSession, urls: Urls, actor: LocalActor, seat: str | None
) -> Standing:
    if actor.type == "Person":
        live = await live_issued_for(session, urls.actor(actor.username))
        issuer = await session.get(LocalActor, live.issuer_actor_id) if live else None
        revoked = live is None and "certification" in await actor_links(session, urls, actor, seat)
        return Standing(
            certification=live,
            authorization=await live_held_for(session, issuer.id, seat) if issuer else None,
            revoked=revoked,
        )
    return Standing(authorization=await live_held_for(session, actor.id, seat))
