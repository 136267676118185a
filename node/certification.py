"""The certification chain, issued and checked over the network.

Issuing: the seat authorises a section (``authorize``), a section certifies
one of its own mediators (``certify``); either can be revoked. Checking
(``verify``): given an actor URL, fetch its attestation from where it
claims to live, check the issuer's integrity proof with the key the issuer
publishes, check who may attest what, and go up one link to the seat. Every
refusal says which link failed and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from federation.http import FetchError
from federation.integrity import ProofError, find_assertion_key, verify_proof
from federation.vocab import get_id
from models.actors import RemoteActor, get_node_actor
from models.attestations import (
    AS_TYPE,
    Attestation,
    AttestationError,
    Kind,
    find_issued,
    issue,
    live_issued_for,
    revoke,
)
from models.mediators import get_mediator
from node.actions import ActionError, resolve_actor_doc
from node.context import Node


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


async def authorize(node: Node, target: str) -> Attestation:
    """The seat authorises a section (name@host or actor URL) to certify mediators."""
    if node.config.role != "seat":
        raise AttestationError("only the seat authorises sections; this node is a section")
    remote, doc = await resolve_actor_doc(node, target)
    if doc.get("role") != "section":
        raise AttestationError(
            f"{remote.handle} is not a coopnet section (role {doc.get('role')!r})"
        )
    async with node.write() as session:
        seat = await get_node_actor(session)
        row = await issue(
            session, node.urls, seat, Kind.AUTHORIZATION, remote.uri, extra_inboxes=[remote.inbox]
        )
    node.wake_delivery.set()
    return row


async def certify(node: Node, mediator: str) -> Attestation:
    """A section certifies one of its own mediators (by username)."""
    if node.config.role != "section":
        raise AttestationError("only a section certifies mediators; this node is the seat")
    async with node.write() as session:
        actor = await get_mediator(session, mediator)
        section = await get_node_actor(session)
        row = await issue(
            session, node.urls, section, Kind.CERTIFICATION, node.urls.actor(actor.username)
        )
    node.wake_delivery.set()
    return row


async def revoke_attestation(node: Node, ref: str) -> Attestation:
    """Revoke by attestation URL/uuid, by mediator name, or by the subject's actor URL."""
    async with node.write() as session:
        row = await find_issued(session, ref)
        if row is None:
            subject = ref if ref.startswith("http") else node.urls.actor(ref)
            row = await live_issued_for(session, subject)
        if row is None:
            raise AttestationError(f"no live attestation issued here for {ref!r}")
        inboxes: list[str] = []
        if row.kind == Kind.AUTHORIZATION:
            remote = (
                await session.execute(select(RemoteActor).where(RemoteActor.uri == row.subject_uri))
            ).scalar_one_or_none()
            if remote is not None:
                inboxes.append(remote.inbox)
        await revoke(session, node.urls, row, extra_inboxes=inboxes)
    node.wake_delivery.set()
    return row


@dataclass
class Link:
    kind: str
    attestation: str
    issuer: str
    subject: str
    since: str


@dataclass
class Report:
    actor: str
    links: list[Link] = field(default_factory=list)
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None

    def lines(self) -> list[str]:
        out = []
        for link in self.links:
            verb = "certified by" if link.kind == Kind.CERTIFICATION else "authorised by"
            out.append(
                f"{link.subject} {verb} {link.issuer} since {link.since} ({link.attestation})"
            )
        out.append("chain verified" if self.ok else f"NOT VERIFIED: {self.reason}")
        return out


class ChainError(Exception):
    pass


async def _fetch(node: Node, url: str, what: str) -> dict[str, Any]:
    try:
        return await node.client.fetch_object(url)
    except FetchError as exc:
        if exc.status == 410:
            raise ChainError(f"{what} {url} has been revoked (HTTP 410)") from exc
        raise ChainError(f"cannot fetch {what} {url}: {exc}") from exc


async def _check_link(
    node: Node, subject: dict[str, Any], prop: str, kind: Kind
) -> tuple[Link, dict[str, Any]]:
    """Check the attestation ``subject[prop]``; return the link and the issuer's actor document."""
    subject_id = str(subject.get("id"))
    url = get_id(subject.get(prop))
    label = "certification" if kind is Kind.CERTIFICATION else "authorisation"
    if not url:
        raise ChainError(f"{subject_id} has no {label}")
    att = await _fetch(node, url, label)
    if att.get("type") != AS_TYPE[kind]:
        raise ChainError(f"{url} is a {att.get('type')!r}, not a {AS_TYPE[kind]}")
    if get_id(att.get("object")) != subject_id:
        raise ChainError(f"{url} attests {get_id(att.get('object'))}, not {subject_id}")
    issuer_id = get_id(att.get("attributedTo"))
    if not issuer_id:
        raise ChainError(f"{url} names no issuer")
    if _origin(url) != _origin(issuer_id):
        raise ChainError(f"{url} is not hosted by its issuer {issuer_id}")
    issuer = await _fetch(node, issuer_id, "issuer")
    proof = att.get("proof")
    method = get_id(proof.get("verificationMethod")) if isinstance(proof, dict) else None
    if method and find_assertion_key(issuer, method) is None:
        raise ChainError(f"{url} is signed with {method}, which is not a key of {issuer_id}")
    try:
        verify_proof(att, lambda key_id: find_assertion_key(issuer, key_id))
    except ProofError as exc:
        raise ChainError(f"{url}: {exc}") from exc
    since = str(att.get("published") or "?")
    return Link(kind, url, issuer_id, subject_id, since), issuer


async def verify(node: Node, actor_url: str, seat: str | None = None) -> Report:
    """Check the chain above an actor: mediator → section → seat, or section → seat."""
    report = Report(actor_url)
    try:
        try:
            _, subject = await resolve_actor_doc(node, actor_url)
        except ActionError as exc:
            raise ChainError(str(exc)) from exc
        if subject.get("type") == "Person":
            link, section = await _check_link(node, subject, "certification", Kind.CERTIFICATION)
            report.links.append(link)
            if section.get("role") != "section":
                raise ChainError(f"{link.issuer} is not a coopnet section")
            if _origin(link.issuer) != _origin(str(subject.get("id"))):
                raise ChainError(
                    f"{link.issuer} certified {subject.get('id')}, which is not one of its own "
                    "mediators (a section can only certify mediators on its own server)"
                )
            subject = section
        if subject.get("role") == "seat":
            return report
        link, seat_doc = await _check_link(node, subject, "authorization", Kind.AUTHORIZATION)
        report.links.append(link)
        if seat_doc.get("role") != "seat":
            raise ChainError(
                f"{link.issuer} is not the network's seat (role {seat_doc.get('role')!r})"
            )
        anchor = (
            seat
            or node.config.network_seat
            or (node.urls.actor(node.node_username) if node.config.role == "seat" else None)
        )
        if anchor and link.issuer != anchor:
            raise ChainError(f"authorised by {link.issuer}, but this network's seat is {anchor}")
    except ChainError as exc:
        report.reason = str(exc)
    return report
