"""S2, the payee's section: decide an Offer once, record the decision, answer it.

The decision is recorded before it is announced and never changes: a
repeated Offer for the same agreement gets the recorded answer again. An
agreement is refused after its expiry (this section's clock decides), so a
section that said "not committed" never commits later.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import get_id, same_origin
from models.actors import LocalActor, RemoteActor
from models.base import utcnow
from models.html import plain_line
from models.outbox import enqueue, new_uuid
from models.sel.accounts import Account, LedgerError, clearing_account
from models.sel.exchanges import CATEGORIES, Exchange, Role, State
from models.sel.from_ap import Refusal, Terms, parse_agreement
from models.sel.ledger import post
from models.sel.to_ap import NOT_PEER, answer_doc, not_peer_reject, refusal_content
from models.urls import Urls


async def handle_offer(
    session: AsyncSession,
    urls: Urls,
    node: LocalActor,
    signer: RemoteActor,
    activity: dict[str, Any],
    now: datetime | None = None,
) -> str:
    """S2: decide once, record, answer. A repeated Offer gets the recorded answer again."""
    now = now or utcnow()
    clearing = await clearing_account(session, signer.uri)
    obj = activity.get("object")
    uri = get_id(obj)
    existing = (
        (await session.execute(select(Exchange).where(Exchange.uri == uri))).scalar_one_or_none()
        if uri
        else None
    )
    if existing is not None:
        if existing.role != Role.RESPONDER or existing.peer_uri != signer.uri:
            return "ignored: an Offer reusing an agreement id that is not this peer's"
        await _send(session, node, signer, answer_doc(urls, node, signer, activity, existing, now))
        return f"repeated Offer {uri}: answered again ({existing.state})"
    if clearing is None:
        await _refuse_non_peer(session, urls, node, signer, activity, uri, now)
        return f"refused Offer from non-peer {signer.uri}"
    try:
        terms = parse_agreement(urls, signer, obj)
    except Refusal as refusal:
        if not uri or not isinstance(obj, dict):
            return f"ignored: unusable Offer ({refusal})"
        await _refuse_unusable(session, urls, node, signer, activity, clearing, uri, refusal, now)
        return f"refused {uri}: {refusal}"
    ex = await _decide(session, signer, clearing, terms, now)
    await _send(session, node, signer, answer_doc(urls, node, signer, activity, ex, now))
    if ex.state == State.COMMITTED:
        return f"{ex.state} {terms.uri}"
    return f"{ex.state} {terms.uri} ({refusal_content(ex.reason_code, ex.reason)})"


async def _send(
    session: AsyncSession, node: LocalActor, signer: RemoteActor, answer: dict[str, Any]
) -> None:
    await enqueue(session, node, answer, [signer.inbox], ordered=True)


async def _refuse_non_peer(
    session: AsyncSession,
    urls: Urls,
    node: LocalActor,
    signer: RemoteActor,
    activity: dict[str, Any],
    uri: str | None,
    now: datetime,
) -> None:
    """Not a peer: refuse, and record the refusal when the agreement is really
    the signer's, so that a repeat (even after peering) gets the same answer."""
    if uri and same_origin(uri, signer.uri):
        refused = Exchange(
            uuid=new_uuid(),
            uri=uri,
            role=Role.RESPONDER,
            state=State.REFUSED,
            peer_uri=signer.uri,
            amount=0,
            performed_on=now.date().isoformat(),
            created_at=now,
            reason_code="not_peer",
            reason=NOT_PEER,
            decided_at=now,
        )
        session.add(refused)
        await session.flush()
    await _send(session, node, signer, not_peer_reject(urls, node, signer, activity, uri))


async def _refuse_unusable(
    session: AsyncSession,
    urls: Urls,
    node: LocalActor,
    signer: RemoteActor,
    activity: dict[str, Any],
    clearing: Account,
    uri: str,
    refusal: Refusal,
    now: datetime,
) -> None:
    """A peer's agreement this section cannot read: refused, recorded if it is the signer's."""
    if not same_origin(uri, signer.uri):
        # Not the signer's agreement: answer, but record nothing under an id
        # that belongs to someone else (it could block their real Offer).
        stub = Exchange(uri=uri, state=State.REFUSED, reason_code=refusal.code, reason=str(refusal))
        await _send(session, node, signer, answer_doc(urls, node, signer, activity, stub, now))
        return
    ex = Exchange(
        uuid=new_uuid(),
        uri=uri,
        role=Role.RESPONDER,
        state=State.REFUSED,
        payer_id=clearing.id,
        payee_id=None,  # an unusable agreement names no member of ours
        peer_uri=signer.uri,
        amount=0,
        performed_on=now.date().isoformat(),
        created_at=now,
        reason_code=refusal.code,
        reason=str(refusal),
        decided_at=now,
        remote_party=None,
    )
    session.add(ex)
    await session.flush()
    await _send(session, node, signer, answer_doc(urls, node, signer, activity, ex, now))


async def _decide(
    session: AsyncSession, signer: RemoteActor, clearing: Account, terms: Terms, now: datetime
) -> Exchange:
    """Commit (post, take the next sequence number) or refuse, and record which."""
    ident = new_uuid()
    # Peer text gets the same treatment as a member's: one clean line, a known category.
    name = " ".join(plain_line(terms.name).split())[:500]
    category = terms.category if terms.category in CATEGORIES else "other"
    ex = Exchange(
        uuid=ident,
        uri=terms.uri,
        role=Role.RESPONDER,
        state=State.REFUSED,
        payer_id=clearing.id,
        payee_id=clearing.id,
        peer_uri=signer.uri,
        amount=terms.amount,
        remote_party=terms.remote_party,
        description=name,
        category=category,
        performed_on=now.date().isoformat(),
        created_at=now,
        expires_at=terms.expiry,
        decided_at=now,
    )
    code = terms.code
    member = (
        await session.execute(select(Account).where(Account.code == code))
    ).scalar_one_or_none()
    # The record names the member asked for whatever the decision (a refusal
    # for expiry too); no member, no payee rather than the clearing account.
    ex.payee_id = member.id if member is not None and member.kind == "member" else None
    try:
        if now >= terms.expiry:
            raise Refusal("expired", "the agreement expired before this section decided")
        if member is None or member.kind != "member":
            raise Refusal("unknown_member", f"no member {code!r} in this section")
        try:
            async with session.begin_nested():
                await post(session, ident, clearing, member, terms.amount, now=now)
        except LedgerError as exc:
            raise Refusal("limit", str(exc)) from exc
        seq = (
            await session.execute(
                select(func.max(Exchange.peer_seq)).where(
                    Exchange.peer_uri == signer.uri,
                    Exchange.role == Role.RESPONDER,
                    Exchange.state == State.COMMITTED,
                )
            )
        ).scalar_one_or_none() or 0
        ex.state, ex.peer_seq = State.COMMITTED, seq + 1
    except Refusal as refusal:
        ex.reason_code, ex.reason = refusal.code, str(refusal)
    session.add(ex)
    await session.flush()
    return ex
