"""S2, the payee's section: decide an Offer once, record the decision, answer it.

The decision is recorded before it is announced and never changes: a
repeated Offer for the same agreement gets the recorded answer again. An
agreement is refused after its expiry (this section's clock decides), so a
section that said "not committed" never commits later.

A section may ask its members to confirm what they are paid from another
section (``[sel] confirm_incoming``). The agreement then waits, recorded
as ``awaiting`` with nothing posted and nothing answered, until the member
confirms (commit) or declines (refuse); a repeated Offer past the expiry
finds it still waiting and refuses it as expired. Every rule above holds:
the decision is still taken once, by this section's clock.
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
from models.network.alliances import is_ally
from models.outbox import enqueue, new_uuid
from models.sel.accounts import Account, LedgerError, clearing_account
from models.sel.exchanges import CATEGORIES, Exchange, ExchangeError, Role, State
from models.sel.from_ap import Refusal, Terms, parse_agreement
from models.sel.ledger import post
from models.sel.to_ap import NOT_PEER, answer_doc, not_peer_reject, refusal_content
from models.urls import Urls

EXPIRED = "the agreement expired before this section decided"
DECLINED = "the member declined: this exchange did not happen as described"


async def handle_offer(
    session: AsyncSession,
    urls: Urls,
    node: LocalActor,
    signer: RemoteActor,
    activity: dict[str, Any],
    now: datetime | None = None,
    *,
    member_confirms: bool = False,
) -> str:
    """S2: decide once, record, answer. A repeated Offer gets the recorded answer again.

    With ``member_confirms`` a usable agreement for a known member waits for
    that member instead of being decided now.
    """
    now = now or utcnow()
    clearing = await clearing_account(session, signer.uri)
    obj = activity.get("object")
    uri = get_id(obj)
    # Locked: a repeated Offer past the expiry and the member's answer from the
    # web (another process on PostgreSQL) must not both decide an awaiting row.
    existing = (
        (
            await session.execute(
                select(Exchange)
                .where(Exchange.uri == uri)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if uri
        else None
    )
    if existing is not None:
        if existing.role != Role.RESPONDER or existing.peer_uri != signer.uri:
            return "ignored: an Offer reusing an agreement id that is not this peer's"
        if existing.state == State.AWAITING:
            existing.offer_activity = get_id(activity) or existing.offer_activity
            if existing.expires_at is None or now < existing.expires_at:
                return f"repeated Offer {uri}: still awaiting our member"
            await _refuse_awaiting(session, existing, "expired", EXPIRED, now)
            await _answer_awaiting(session, urls, node, signer, existing, now)
            return f"refused {uri}: expired while awaiting our member"
        await _send(session, node, signer, answer_doc(urls, node, signer, activity, existing, now))
        return f"repeated Offer {uri}: answered again ({existing.state})"
    if clearing is None or not await is_ally(session, signer.uri):
        # No SEL peering, or the alliance under it ended: nothing new is accepted.
        await _refuse_non_peer(session, urls, node, signer, activity, uri, now)
        return f"refused Offer from non-peer {signer.uri}"
    try:
        terms = parse_agreement(urls, signer, obj)
    except Refusal as refusal:
        if not uri or not isinstance(obj, dict):
            return f"ignored: unusable Offer ({refusal})"
        await _refuse_unusable(session, urls, node, signer, activity, clearing, uri, refusal, now)
        return f"refused {uri}: {refusal}"
    if member_confirms:
        waiting = await _await_member(session, signer, clearing, terms, activity, now)
        if waiting is not None:
            return f"awaiting member {terms.code} for {terms.uri}"
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


def _record(
    signer: RemoteActor, clearing: Account, terms: Terms, state: State, now: datetime
) -> Exchange:
    """A responder's record of an agreement, before it is decided or while it waits."""
    return Exchange(
        uuid=new_uuid(),
        uri=terms.uri,
        role=Role.RESPONDER,
        state=state,
        payer_id=clearing.id,
        payee_id=clearing.id,
        peer_uri=signer.uri,
        amount=terms.amount,
        remote_party=terms.remote_party,
        # Peer text gets the same treatment as a member's: one clean line, a known category.
        description=" ".join(plain_line(terms.name).split())[:500],
        category=terms.category if terms.category in CATEGORIES else "other",
        performed_on=now.date().isoformat(),
        created_at=now,
        expires_at=terms.expiry,
    )


async def _decide(
    session: AsyncSession, signer: RemoteActor, clearing: Account, terms: Terms, now: datetime
) -> Exchange:
    """Commit (post, take the next sequence number) or refuse, and record which."""
    ex = _record(signer, clearing, terms, State.REFUSED, now)
    ex.decided_at = now
    code = terms.code
    member = (
        await session.execute(select(Account).where(Account.code == code))
    ).scalar_one_or_none()
    # The record names the member asked for whatever the decision (a refusal
    # for expiry too); no member, no payee rather than the clearing account.
    ex.payee_id = member.id if member is not None and member.kind == "member" else None
    try:
        if now >= terms.expiry:
            raise Refusal("expired", EXPIRED)
        if member is None or member.kind != "member":
            raise Refusal("unknown_member", f"no member {code!r} in this section")
        await _commit(session, ex, clearing, member, now)
    except Refusal as refusal:
        ex.reason_code, ex.reason = refusal.code, str(refusal)
    session.add(ex)
    await session.flush()
    return ex


async def _commit(
    session: AsyncSession, ex: Exchange, clearing: Account, member: Account, now: datetime
) -> None:
    """Post and take the peer's next sequence number; a limit refuses instead."""
    try:
        async with session.begin_nested():
            await post(session, ex.uuid, clearing, member, ex.amount, now=now)
    except LedgerError as exc:
        raise Refusal("limit", str(exc)) from exc
    seq = (
        await session.execute(
            select(func.max(Exchange.peer_seq)).where(
                Exchange.peer_uri == ex.peer_uri,
                Exchange.role == Role.RESPONDER,
                Exchange.state == State.COMMITTED,
            )
        )
    ).scalar_one_or_none() or 0
    ex.state, ex.peer_seq = State.COMMITTED, seq + 1
    ex.decided_at = now


async def _await_member(
    session: AsyncSession,
    signer: RemoteActor,
    clearing: Account,
    terms: Terms,
    activity: dict[str, Any],
    now: datetime,
) -> Exchange | None:
    """Record the agreement as waiting for our member; None when it can be
    refused at once (expired, no such member), which ``_decide`` does."""
    member = (
        await session.execute(select(Account).where(Account.code == terms.code))
    ).scalar_one_or_none()
    if now >= terms.expiry or member is None or member.kind != "member":
        return None
    ex = _record(signer, clearing, terms, State.AWAITING, now)
    ex.payee_id = member.id
    ex.offer_activity = get_id(activity)
    session.add(ex)
    await session.flush()
    return ex


async def _refuse_awaiting(
    session: AsyncSession, ex: Exchange, code: str, reason: str, now: datetime
) -> None:
    ex.move_to(State.REFUSED)
    ex.reason_code, ex.reason, ex.decided_at = code, reason, now
    await session.flush()


async def _answer_awaiting(
    session: AsyncSession,
    urls: Urls,
    node: LocalActor,
    signer: RemoteActor,
    ex: Exchange,
    now: datetime,
) -> None:
    offer = {"id": ex.offer_activity}
    await _send(session, node, signer, answer_doc(urls, node, signer, offer, ex, now))


async def answer_awaiting(
    session: AsyncSession,
    urls: Urls,
    node: LocalActor,
    ex: Exchange,
    member: str,
    *,
    confirm: bool,
    now: datetime | None = None,
) -> Exchange:
    """Our member confirms or declines an agreement a peer section offered.

    A confirmation after the expiry refuses it as expired (this section's
    clock decides), one past a limit refuses it for the limit: the member
    sees which, and the peer gets the same answer as for any refusal.
    """
    now = now or utcnow()
    # Read again under the row's lock (see handle_offer): whoever comes second
    # finds it decided.
    ex = (
        await session.execute(
            select(Exchange)
            .where(Exchange.id == ex.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    if ex.role != Role.RESPONDER or ex.state != State.AWAITING:
        raise ExchangeError(f"this exchange is {ex.state}; only an awaiting one can be answered")
    payee = await session.get(Account, ex.payee_id) if ex.payee_id else None
    if payee is None or payee.code != member:
        raise ExchangeError("only the member who is paid can answer this exchange")
    clearing = await session.get(Account, ex.payer_id) if ex.payer_id else None
    signer = (
        await session.execute(select(RemoteActor).where(RemoteActor.uri == ex.peer_uri))
    ).scalar_one_or_none()
    if clearing is None or signer is None:
        raise ExchangeError("the peer section of this exchange is not known any more")
    if not confirm:
        await _refuse_awaiting(session, ex, "declined", DECLINED, now)
    elif ex.expires_at is not None and now >= ex.expires_at:
        await _refuse_awaiting(session, ex, "expired", EXPIRED, now)
    else:
        try:
            await _commit(session, ex, clearing, payee, now)
        except Refusal as refusal:
            await _refuse_awaiting(session, ex, refusal.code, str(refusal), now)
    await session.flush()
    await _answer_awaiting(session, urls, node, signer, ex, now)
    return ex
