"""S1, the payer's section: start an exchange with a peer's member, and settle it.

The amount is held on our member and the Offer queued; the peer's Accept
turns the hold into a posting, its Reject releases it. A hold whose expiry
passed without an answer stays: the peer is asked again until it answers.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import get_id
from models.actors import LocalActor, RemoteActor
from models.base import utcnow
from models.network.alliances import is_ally
from models.outbox import enqueue, new_uuid
from models.sel.accounts import Account, check_amount, get_account
from models.sel.exchanges import (
    Exchange,
    ExchangeError,
    Role,
    State,
    check_category,
    check_description,
)
from models.sel.from_ap import accepted_sequence, host_of, refusal_of
from models.sel.ledger import hold, post, release
from models.sel.to_ap import agreement_doc, offer_doc, refusal_content
from models.urls import Urls

log = logging.getLogger("coopnet.sel")

DEFAULT_EXPIRY = timedelta(hours=24)
#: How often S1 asks again about a held exchange whose expiry has passed.
REASK_EVERY = timedelta(minutes=10)


async def peer_for_host(session: AsyncSession, host: str) -> tuple[RemoteActor, Account]:
    """The peer section at ``host`` and its clearing account (which is what makes it a peer)."""
    rows = (
        await session.execute(
            select(RemoteActor, Account).join(Account, Account.peer_uri == RemoteActor.uri)
        )
    ).tuples()
    for remote, clearing in rows:
        if host_of(remote.uri) == host:
            return remote, clearing
    raise ExchangeError(
        f"{host} is not a SEL peer of this section: the admin adds it with 'coopnet sel peer'"
    )


async def start(
    session: AsyncSession,
    urls: Urls,
    node: LocalActor,
    *,
    payer: str,
    payee: str,
    amount: int,
    description: str,
    category: str = "other",
    expires_in: timedelta = DEFAULT_EXPIRY,
    now: datetime | None = None,
) -> Exchange:
    """Our member ``payer`` pays ``payee`` ("code@host" of a peer section's member)."""
    now = now or utcnow()
    check_amount(amount)
    match = re.fullmatch(r"([a-z0-9][a-z0-9_.-]{0,62})@([A-Za-z0-9.\-:\[\]]+)", payee)
    if match is None:
        raise ExchangeError(f"{payee!r}: name the other member as code@section-host")
    if not timedelta(minutes=1) <= expires_in <= timedelta(days=30):
        raise ExchangeError("the expiry must be between one minute and 30 days")
    peer, clearing = await peer_for_host(session, match[2])
    if not await is_ally(session, peer.uri):
        raise ExchangeError(
            f"{host_of(peer.uri)} is no longer an ally of this section: no new exchange "
            "with it (its clearing account stays for the books; 'coopnet peer add' asks again)"
        )
    member = await get_account(session, payer)
    if member.kind != "member":
        raise ExchangeError("the payer must be a member account")
    await hold(session, member, clearing, amount)
    ident = new_uuid()
    ex = Exchange(
        uuid=ident,
        uri=f"{urls.base}/sel/exchanges/{ident}",
        role=Role.ORIGIN,
        state=State.HELD,
        payer_id=member.id,
        payee_id=clearing.id,
        remote_party=payee,
        peer_uri=peer.uri,
        amount=amount,
        description=check_description(description),
        category=check_category(category),
        performed_on=now.date().isoformat(),
        created_at=now,
        expires_at=now + expires_in,
        asked_at=now,
    )
    session.add(ex)
    await session.flush()
    await _ask(session, urls, node, peer, ex, member.code)
    return ex


async def _ask(
    session: AsyncSession,
    urls: Urls,
    node: LocalActor,
    peer: RemoteActor,
    ex: Exchange,
    payer_code: str,
) -> None:
    offer = offer_doc(urls, node, peer, agreement_doc(urls.base, ex, payer_code))
    await enqueue(session, node, offer, [peer.inbox], ordered=True)


async def reask_overdue(session: AsyncSession, urls: Urls, node: LocalActor, now: datetime) -> int:
    """Held exchanges past their expiry: ask the peer again; its answer settles them."""
    rows = (
        (
            await session.execute(
                select(Exchange)
                .where(
                    Exchange.role == Role.ORIGIN,
                    Exchange.state == State.HELD,
                    Exchange.expires_at <= now,
                )
                # Several workers' chores: each overdue exchange asked by one of them.
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    asked = 0
    for ex in rows:
        expires = ex.expires_at or now
        if ex.asked_at and ex.asked_at > expires and now - ex.asked_at < REASK_EVERY:
            continue
        peer = (
            await session.execute(select(RemoteActor).where(RemoteActor.uri == ex.peer_uri))
        ).scalar_one()
        payer = await session.get(Account, ex.payer_id)
        assert payer is not None
        await _ask(session, urls, node, peer, ex, payer.code)
        ex.asked_at = now
        asked += 1
    return asked


async def _originated(
    session: AsyncSession, signer: RemoteActor, activity: dict[str, Any]
) -> Exchange | None:
    result = activity.get("result")
    uri = get_id(result)
    if not uri:
        return None
    ex = (await session.execute(select(Exchange).where(Exchange.uri == uri))).scalar_one_or_none()
    if ex is None or ex.role != Role.ORIGIN or ex.peer_uri != signer.uri:
        return None
    return ex


async def _release_hold(session: AsyncSession, ex: Exchange) -> tuple[Account, Account]:
    payer = await session.get(Account, ex.payer_id)
    clearing = await session.get(Account, ex.payee_id)
    assert payer is not None and clearing is not None
    await release(session, payer, clearing, ex.amount)
    return payer, clearing


async def handle_accept(
    session: AsyncSession,
    signer: RemoteActor,
    activity: dict[str, Any],
    now: datetime | None = None,
) -> str | None:
    """S1: the peer committed; turn the hold into the final posting. None: not a SEL answer."""
    now = now or utcnow()
    ex = await _originated(session, signer, activity)
    if ex is None:
        return None
    if ex.state == State.SETTLED:
        return f"ignored: {ex.uri} already settled (repeated Accept)"
    if ex.state != State.HELD:
        # Cannot happen with a peer that follows the protocol: it refused first.
        log.error("peer %s accepted %s after refusing it; reconcile with it", signer.uri, ex.uri)
        return f"ignored: Accept of {ex.uri}, which the peer had refused ({ex.state})"
    payer, clearing = await _release_hold(session, ex)
    # The hold reserved the room: the posting cannot fail on limits it already passed.
    await post(session, ex.uuid, payer, clearing, ex.amount, check_limits_=False, now=now)
    ex.move_to(State.SETTLED)
    ex.decided_at = now
    seq, sent = accepted_sequence(activity)
    ex.peer_seq = seq
    if seq is not None:
        return f"settled {ex.uri}"
    # The peer committed, so we post (refusing would leave the two sides
    # disagreeing for good); without a usable sequence, reconciliation will
    # show this exchange as a difference to look into.
    log.warning("peer %s accepted %s with an unusable sequence %.40r", signer.uri, ex.uri, sent)
    return f"settled {ex.uri} (the peer's sequence {str(sent)[:40]} is unusable and was dropped)"


async def handle_reject(
    session: AsyncSession,
    signer: RemoteActor,
    activity: dict[str, Any],
    now: datetime | None = None,
) -> str | None:
    """S1: the peer refused; release the hold. None: not a SEL answer."""
    now = now or utcnow()
    ex = await _originated(session, signer, activity)
    if ex is None:
        return None
    if ex.state in (State.REJECTED, State.EXPIRED):
        return f"ignored: {ex.uri} already released (repeated Reject)"
    if ex.state != State.HELD:
        log.error("peer %s rejected %s after accepting it; reconcile with it", signer.uri, ex.uri)
        return f"ignored: Reject of {ex.uri}, which the peer had accepted"
    await _release_hold(session, ex)
    code, message = refusal_of(activity)
    ex.move_to(State.EXPIRED if code == "expired" else State.REJECTED)
    ex.reason_code, ex.reason = code, message[:500]
    ex.decided_at = now
    return f"{ex.state} {ex.uri}: {refusal_content(code, message)[:200]}"
