"""The certification chain, issued and checked over the network.

Issuing: the seat authorises a section (``authorize``), a section certifies
one of its own mediators (``certify``); either can be revoked. Checking
(``verify``) and holding what the seat announced (``check_announced``) use
the trust rules of federation/certification.py, with this node's client as
the fetch and its configured seat as the anchor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from federation.certification import (
    NO_ANCHOR,
    ChainError,
    Report,
    check_authorization,
    verify_chain,
)
from models.accounts import Principal
from models.actors import LocalActor, RemoteActor, get_node_actor
from models.attestation_checks import AttestationCheck, claim_due, record, record_unreachable
from models.attestations import (
    Attestation,
    AttestationError,
    Kind,
    announce_again,
    find_issued,
    issue,
    list_issued,
    live_issued_for,
    revoke,
    store_held,
)
from models.base import utcnow
from models.mediators import get_mediator, list_mediators
from models.network.alliance_protocol import trusted_seat
from node.actions import ActionError, resolve_actor, resolve_actor_doc
from node.context import Node

log = logging.getLogger("coopnet.certification")


async def authorize(node: Node, target: str, *, by: Principal) -> Attestation:
    """The seat authorises a section (name@host or actor URL) to certify mediators."""
    by.require_coordinator()
    if node.config.role != "seat":
        raise AttestationError("only the seat authorises sections; this node is a section")
    remote, doc = await resolve_actor_doc(node, target)
    if doc.get("role") != "section":
        raise AttestationError(
            f"{remote.handle} is not a coopnet section (role {doc.get('role')!r})"
        )
    async with node.write() as session:
        seat = await get_node_actor(session)
        row = await live_issued_for(session, remote.uri)
        if row is None:
            row = await issue(
                session,
                node.urls,
                seat,
                Kind.AUTHORIZATION,
                remote.uri,
                extra_inboxes=[remote.inbox],
            )
        else:
            # Already authorised: announce it again (the section may have
            # missed it, or set its seat only now).
            await announce_again(session, node.urls, row, [remote.inbox])
    node.wake_delivery.set()
    return row


async def certify(node: Node, mediator: str, *, by: Principal) -> Attestation:
    """A section certifies one of its own mediators (by username)."""
    by.require_coordinator()
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


async def revoke_attestation(node: Node, ref: str, *, by: Principal) -> Attestation:
    """Revoke by attestation URL/uuid, by mediator name, or by the subject's actor URL."""
    by.require_coordinator()
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


@dataclass(frozen=True)
class MediatorStanding:
    """A mediator of this section and its live certification, if any."""

    username: str
    name: str
    certification: Attestation | None


async def mediator_standings(node: Node, *, by: Principal) -> list[MediatorStanding]:
    """Every active mediator of the section with its live certification (for its coordinator)."""
    by.require_coordinator()
    async with node.sessions() as session:
        out = []
        for actor in await list_mediators(session):
            live = await live_issued_for(session, node.urls.actor(actor.username))
            out.append(MediatorStanding(actor.username, actor.name or actor.username, live))
    return out


async def authorizations(node: Node, *, by: Principal) -> list[Attestation]:
    """(Seat) The live authorisations this node issued, newest first."""
    by.require_coordinator()
    async with node.sessions() as session:
        seat = await get_node_actor(session)
        return await list_issued(session, seat.id, Kind.AUTHORIZATION)


def anchor_of(node: Node, seat: str | None = None) -> str | None:
    """The actor this node trusts as the network's seat: given, configured, or itself."""
    if seat:
        return seat
    if node.config.network_seat:
        return node.config.network_seat
    if node.config.role == "seat":
        return node.urls.actor(node.node_username)
    return None


async def _allied_seat(node: Node) -> str | None:
    """No seat configured: the seat this section allied with is its anchor
    (models/network/alliance_protocol.py ``trusted_seat``)."""
    async with node.sessions() as session:
        return await trusted_seat(session, "")


async def verify(node: Node, actor_url: str, seat: str | None = None) -> Report:
    """Check the chain above an actor (name@host or URL): mediator → section → seat.

    Trust ends at the anchor (``seat``, else ``[network] seat``, else this
    node if it is the seat); with none, nothing verifies.
    """
    anchor = anchor_of(node, seat) or await _allied_seat(node)
    if anchor and not anchor.startswith(("https://", "http://")):
        try:
            anchor = (await resolve_actor(node, anchor)).uri
        except ActionError as exc:
            return Report(actor_url, reason=f"the seat given: {exc}")
    try:
        _, subject = await resolve_actor_doc(node, actor_url)
    except ActionError as exc:
        return Report(actor_url, reason=str(exc))
    return await verify_chain(node.client.fetch_object, subject, anchor)


#: A check being fetched is ours for this long; a crash releases it by expiry.
CHECK_LEASE = timedelta(minutes=2)


async def check_announced(node: Node, *, limit: int = 20) -> int:
    """Fetch and check the authorisations the seat announced; hold those that pass.

    The fetches happen outside any transaction. Returns how many checks were
    settled or rescheduled.
    """
    now = utcnow()
    async with node.write() as session:
        due = await claim_due(session, now, limit, CHECK_LEASE)
        subjects = {
            row.id: node.urls.actor(actor.username)
            for row in due
            if (actor := await session.get(LocalActor, row.subject_actor_id)) is not None
        }
    anchor = node.config.network_seat or await _allied_seat(node)
    outcomes: dict[int, tuple[dict[str, Any] | None, ChainError | None]] = {}
    for claimed in due:
        try:
            if not anchor:
                raise ChainError(NO_ANCHOR)
            _, held = await check_authorization(
                node.client.fetch_object, claimed.uri, subjects[claimed.id], anchor
            )
            outcomes[claimed.id] = (held, None)
        except ChainError as exc:
            outcomes[claimed.id] = (None, exc)
    now = utcnow()
    async with node.write() as session:
        for row_id, (doc, problem) in outcomes.items():
            row = await session.get(AttestationCheck, row_id)
            if row is None:
                continue
            if problem is not None and problem.transient:
                again = record_unreachable(row, now, str(problem))
                log.warning(
                    "authorisation %s: %s; %s",
                    row.uri,
                    problem,
                    "will retry" if again else "gave up",
                )
            elif problem is not None:
                record(row, now, held=False, reason=str(problem))
                log.warning("authorisation %s refused: %s", row.uri, problem)
            elif doc is not None and anchor:
                subject = await session.get(LocalActor, row.subject_actor_id)
                assert subject is not None
                await store_held(session, subject, doc, anchor)
                record(row, now, held=True, reason=None)
                log.info("holding authorisation %s from %s", row.uri, anchor)
    return len(outcomes)
