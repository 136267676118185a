"""Exchanges between sections, exactly once over an unreliable federation.

The payer's section (origin, S1) reserves the amount on its member and
asks; the payee's section (responder, S2) decides once, by its own clock,
and answers; S1 then posts or releases. The rules that keep both sides in
agreement whatever is lost, repeated, reordered or restarted:

1. S2's decision is recorded before it is announced and never changes: a
   repeated Offer for the same agreement gets the same answer again.
2. S2 refuses to commit after the agreement's expiry (its clock decides).
   So once S2 has said "not committed", it never commits.
3. S1 posts only on an Accept and releases only on a Reject; a hold whose
   expiry passed without an answer is *not* released: S1 asks again (the
   same Offer, a new activity) until S2 answers, and S2's answer settles it.

Every step is idempotent by the agreement's id. Domain only: the
activities are built here and queued; federation/ carries them.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import AS_CONTEXT, get_id, parse_time, same_origin
from models.actors import LocalActor, RemoteActor
from models.base import utcnow
from models.html import plain_line
from models.outbox import enqueue, new_uuid
from models.sel.accounts import (
    MAX_AMOUNT,
    Account,
    LedgerError,
    check_amount,
    clearing_account,
    get_account,
)
from models.sel.exchanges import (
    CATEGORIES,
    Exchange,
    ExchangeError,
    Role,
    State,
    check_category,
    check_description,
)
from models.sel.ledger import hold, post, release
from models.to_ap import iso
from models.urls import Urls

log = logging.getLogger("coopnet.sel")

UNIT = "minute"
DEFAULT_EXPIRY = timedelta(hours=24)
#: How often S1 asks again about a held exchange whose expiry has passed.
REASK_EVERY = timedelta(minutes=10)
#: A peer's sequence number is stored in a 64-bit signed integer column.
MAX_SEQUENCE = 2**63 - 1
SEL_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "vf": "https://w3id.org/valueflows/ont/vf#",
        "coopnet": "https://coopnet.example/ns#",
        "Agreement": "vf:Agreement",
        "Commitment": "vf:Commitment",
        "stipulates": "vf:stipulates",
        "action": "vf:action",
        "provider": {"@id": "vf:provider", "@type": "@id"},
        "receiver": {"@id": "vf:receiver", "@type": "@id"},
        "resourceQuantity": "vf:resourceQuantity",
        "hasUnit": "vf:hasUnit",
        "hasNumericalValue": "vf:hasNumericalValue",
        "category": "coopnet:category",
        "sequence": "coopnet:sequence",
        "reason": "coopnet:reason",
    },
]


def account_uri(base: str, code: str) -> str:
    return f"{base}/sel/accounts/{code}"


def _host(uri: str) -> str:
    return urlsplit(uri).netloc


async def peer_for_host(session: AsyncSession, host: str) -> tuple[RemoteActor, Account]:
    """The peer section at ``host`` and its clearing account (which is what makes it a peer)."""
    rows = (
        await session.execute(
            select(RemoteActor, Account).join(Account, Account.peer_uri == RemoteActor.uri)
        )
    ).tuples()
    for remote, clearing in rows:
        if _host(remote.uri) == host:
            return remote, clearing
    raise ExchangeError(
        f"{host} is not a SEL peer of this section: the admin adds it with 'coopnet sel peer'"
    )


def agreement_doc(base: str, ex: Exchange, payer_code: str) -> dict[str, Any]:
    code, _, host = (ex.remote_party or "").partition("@")
    scheme = urlsplit(base).scheme
    return {
        "id": ex.uri,
        "type": "Agreement",
        "name": ex.description,
        "category": ex.category,
        "published": iso(ex.created_at),
        "endTime": iso(ex.expires_at) if ex.expires_at else None,
        "stipulates": {
            "type": "Commitment",
            "action": "transfer",
            "provider": account_uri(base, payer_code),
            "receiver": account_uri(f"{scheme}://{host}", code),
            "resourceQuantity": {"hasUnit": UNIT, "hasNumericalValue": str(ex.amount)},
        },
        "coopnet:performedOn": ex.performed_on,
    }


def _offer(
    urls: Urls, node: LocalActor, peer: RemoteActor, agreement: dict[str, Any]
) -> dict[str, Any]:
    return {
        "@context": SEL_CONTEXT,
        "id": urls.activity(new_uuid()),
        "type": "Offer",
        "actor": urls.actor(node.username),
        "to": [peer.uri],
        "object": agreement,
    }


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
    offer = _offer(urls, node, peer, agreement_doc(urls.base, ex, payer_code))
    await enqueue(session, node, offer, [peer.inbox], ordered=True)


async def reask_overdue(session: AsyncSession, urls: Urls, node: LocalActor, now: datetime) -> int:
    """Held exchanges past their expiry: ask the peer again; its answer settles them."""
    rows = (
        (
            await session.execute(
                select(Exchange).where(
                    Exchange.role == Role.ORIGIN,
                    Exchange.state == State.HELD,
                    Exchange.expires_at <= now,
                )
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


# --------------------------------------------------------------------------- responder side


class Refusal(Exception):
    """S2 refuses; ``code`` is machine-readable, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _parse_agreement(
    urls: Urls, signer: RemoteActor, obj: Any
) -> tuple[str, int, str, str, str, str, datetime]:
    """Validate an incoming Agreement; raises Refusal with the reason."""
    if not isinstance(obj, dict) or obj.get("type") != "Agreement":
        raise Refusal("malformed", "the Offer's object is not an Agreement")
    uri = get_id(obj)
    if not uri or not same_origin(uri, signer.uri):
        raise Refusal("malformed", "the agreement's id is not on the offering section's server")
    terms = obj.get("stipulates")
    if not isinstance(terms, dict) or terms.get("action") != "transfer":
        raise Refusal("malformed", "the agreement stipulates no transfer")
    qty = terms.get("resourceQuantity")
    if not isinstance(qty, dict) or qty.get("hasUnit") != UNIT:
        raise Refusal("unit", f"the amount must be in {UNIT}s, the unit of this section")
    raw = str(qty.get("hasNumericalValue", ""))
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise Refusal("amount", f"the amount {raw!r} is not a positive whole number")
    amount = int(raw)
    if amount <= 0 or amount > MAX_AMOUNT:
        raise Refusal("amount", f"the amount must be between 1 and {MAX_AMOUNT} {UNIT}s")
    provider, receiver = get_id(terms.get("provider")), get_id(terms.get("receiver"))
    if not provider or _host(provider) != _host(signer.uri):
        raise Refusal("malformed", "the payer is not a member of the offering section")
    prefix = f"{urls.base}/sel/accounts/"
    if not receiver or not receiver.startswith(prefix):
        raise Refusal("unknown_member", "the payee is not an account of this section")
    code = receiver[len(prefix) :]
    expiry = parse_time(obj.get("endTime"))
    if expiry is None:
        raise Refusal("malformed", "the agreement has no valid expiry (endTime)")
    name = obj.get("name")
    raw_category = obj.get("category")
    category = raw_category if isinstance(raw_category, str) else "other"
    payer_code = provider.rsplit("/", 1)[-1]
    return (
        uri,
        amount,
        code,
        f"{payer_code}@{_host(signer.uri)}",
        name if isinstance(name, str) else "",
        category,
        expiry,
    )


def _answer(
    urls: Urls, node: LocalActor, peer: RemoteActor, offer: dict[str, Any], ex: Exchange
) -> dict[str, Any]:
    result: dict[str, Any] = {"id": ex.uri, "type": "Agreement"}
    doc: dict[str, Any] = {
        "@context": SEL_CONTEXT,
        "id": urls.activity(new_uuid()),
        "actor": urls.actor(node.username),
        "to": [peer.uri],
        "object": offer.get("id"),
        "result": result,
    }
    if ex.state == State.COMMITTED:
        doc["type"] = "Accept"
        result["sequence"] = ex.peer_seq
        result["published"] = iso(ex.decided_at or utcnow())
    else:
        doc["type"] = "Reject"
        doc["reason"] = (ex.reason or "").split(":", 1)[0]
        doc["content"] = ex.reason or "refused"
    return doc


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
        await enqueue(
            session,
            node,
            _answer(urls, node, signer, activity, existing),
            [signer.inbox],
            ordered=True,
        )
        return f"repeated Offer {uri}: answered again ({existing.state})"
    if clearing is None:
        # Not a peer: refuse, and record the refusal when the agreement is really
        # the signer's, so that a repeat (even after peering) gets the same answer.
        if uri and same_origin(uri, signer.uri):
            refused = Exchange(
                uuid=new_uuid(),
                uri=uri,
                role=Role.RESPONDER,
                state=State.REFUSED,
                peer_uri=signer.uri,
                amount=0,
                performed_on=now.date().isoformat(),
                reason="not_peer: this section does not exchange with yours (not a SEL peer)",
                decided_at=now,
            )
            session.add(refused)
            await session.flush()
        reject = {
            "@context": SEL_CONTEXT,
            "id": urls.activity(new_uuid()),
            "type": "Reject",
            "actor": urls.actor(node.username),
            "to": [signer.uri],
            "object": activity.get("id"),
            "reason": "not_peer",
            "content": "not_peer: this section does not exchange with yours (not a SEL peer)",
        }
        if uri:
            reject["result"] = {"id": uri, "type": "Agreement"}
        await enqueue(session, node, reject, [signer.inbox], ordered=True)
        return f"refused Offer from non-peer {signer.uri}"
    ident = new_uuid()
    try:
        parsed = _parse_agreement(urls, signer, obj)
    except Refusal as refusal:
        if not uri or not isinstance(obj, dict):
            return f"ignored: unusable Offer ({refusal})"
        if not same_origin(uri, signer.uri):
            # Not the signer's agreement: answer, but record nothing under an id
            # that belongs to someone else (it could block their real Offer).
            stub = Exchange(uri=uri, state=State.REFUSED, reason=f"{refusal.code}: {refusal}")
            doc = _answer(urls, node, signer, activity, stub)
            await enqueue(session, node, doc, [signer.inbox], ordered=True)
            return f"refused {uri}: {refusal}"
        ex = Exchange(
            uuid=ident,
            uri=uri,
            role=Role.RESPONDER,
            state=State.REFUSED,
            payer_id=clearing.id,
            payee_id=None,  # an unusable agreement names no member of ours
            peer_uri=signer.uri,
            amount=0,
            performed_on=now.date().isoformat(),
            reason=f"{refusal.code}: {refusal}",
            decided_at=now,
            remote_party=None,
        )
        session.add(ex)
        await session.flush()
        await enqueue(
            session, node, _answer(urls, node, signer, activity, ex), [signer.inbox], ordered=True
        )
        return f"refused {uri}: {refusal}"
    uri, amount, code, remote_party, name, category, expiry = parsed
    # Peer text gets the same treatment as a member's: one clean line, a known category.
    name = " ".join(plain_line(name).split())[:500]
    category = category if category in CATEGORIES else "other"
    ex = Exchange(
        uuid=ident,
        uri=uri,
        role=Role.RESPONDER,
        state=State.REFUSED,
        payer_id=clearing.id,
        payee_id=clearing.id,
        peer_uri=signer.uri,
        amount=amount,
        remote_party=remote_party,
        description=name,
        category=category,
        performed_on=now.date().isoformat(),
        expires_at=expiry,
        decided_at=now,
    )
    member = (
        await session.execute(select(Account).where(Account.code == code))
    ).scalar_one_or_none()
    # The record names the member asked for whatever the decision (a refusal
    # for expiry too); no member, no payee rather than the clearing account.
    ex.payee_id = member.id if member is not None and member.kind == "member" else None
    try:
        if now >= expiry:
            raise Refusal("expired", "the agreement expired before this section decided")
        if member is None or member.kind != "member":
            raise Refusal("unknown_member", f"no member {code!r} in this section")
        try:
            async with session.begin_nested():
                await post(session, ident, clearing, member, amount)
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
        ex.reason = f"{refusal.code}: {refusal}"
    session.add(ex)
    await session.flush()
    await enqueue(
        session, node, _answer(urls, node, signer, activity, ex), [signer.inbox], ordered=True
    )
    return f"{ex.state} {uri}" + (f" ({ex.reason})" if ex.reason else "")


# --------------------------------------------------------------------------- origin side


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
    session: AsyncSession, signer: RemoteActor, activity: dict[str, Any]
) -> str | None:
    """S1: the peer committed; turn the hold into the final posting. None: not a SEL answer."""
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
    await post(session, ex.uuid, payer, clearing, ex.amount, check_limits_=False)
    ex.move_to(State.SETTLED)
    ex.decided_at = utcnow()
    seq = activity["result"].get("sequence") if isinstance(activity.get("result"), dict) else None
    if isinstance(seq, int) and not isinstance(seq, bool) and 0 < seq <= MAX_SEQUENCE:
        ex.peer_seq = seq
        return f"settled {ex.uri}"
    # The peer committed, so we post (refusing would leave the two sides
    # disagreeing for good); without a usable sequence, reconciliation will
    # show this exchange as a difference to look into.
    ex.peer_seq = None
    log.warning("peer %s accepted %s with an unusable sequence %.40r", signer.uri, ex.uri, seq)
    return f"settled {ex.uri} (the peer's sequence {str(seq)[:40]} is unusable and was dropped)"


async def handle_reject(
    session: AsyncSession, signer: RemoteActor, activity: dict[str, Any]
) -> str | None:
    ex = await _originated(session, signer, activity)
    if ex is None:
        return None
    if ex.state in (State.REJECTED, State.EXPIRED):
        return f"ignored: {ex.uri} already released (repeated Reject)"
    if ex.state != State.HELD:
        log.error("peer %s rejected %s after accepting it; reconcile with it", signer.uri, ex.uri)
        return f"ignored: Reject of {ex.uri}, which the peer had accepted"
    await _release_hold(session, ex)
    content = activity.get("content")
    reason = content if isinstance(content, str) else "refused"
    expired = activity.get("reason") == "expired"
    ex.move_to(State.EXPIRED if expired else State.REJECTED)
    ex.reason = reason[:500]
    ex.decided_at = utcnow()
    return f"{ex.state} {ex.uri}: {reason[:200]}"


# --------------------------------------------------------------------------- reconciliation


def chain_hash(items: list[tuple[int, str, int]]) -> str:
    """Hash chain over (sequence, agreement id, amount), in the responder's commit order.

    Both sides compute it from their own records: equal heads mean the same
    exchanges, same amounts, same order.
    """
    import hashlib

    digest = "0" * 64
    for seq, uri, amount in sorted(items):
        digest = hashlib.sha256(f"{digest}|{seq}|{uri}|{amount}".encode()).hexdigest()
    return digest


async def clearing_view(session: AsyncSession, peer_uri: str) -> dict[str, Any]:
    """This node's view of its exchanges with one peer, as the peer may see it."""
    clearing = await clearing_account(session, peer_uri)
    rows = (
        (await session.execute(select(Exchange).where(Exchange.peer_uri == peer_uri)))
        .scalars()
        .all()
    )
    paid = [
        (e.peer_seq or 0, e.uri, e.amount)
        for e in rows
        if e.role == Role.ORIGIN and e.state == State.SETTLED
    ]
    received = [
        (e.peer_seq or 0, e.uri, e.amount)
        for e in rows
        if e.role == Role.RESPONDER and e.state == State.COMMITTED
    ]
    return {
        "peer": peer_uri,
        "unit": UNIT,
        "balance": clearing.balance if clearing else 0,
        "paid": sorted(uri for _, uri, _ in paid),
        "received": sorted(uri for _, uri, _ in received),
        "held": sorted(e.uri for e in rows if e.role == Role.ORIGIN and e.state == State.HELD),
        "chains": {"paid": chain_hash(paid), "received": chain_hash(received)},
    }


def compare_views(ours: dict[str, Any], theirs: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(differences, in-flight notes). What we paid is what they received, and back."""
    diffs: list[str] = []
    flight: list[str] = []
    our_held = set(ours["held"])
    their_held = set(theirs["held"])
    missing_here = set(theirs["received"]) - set(ours["paid"])
    for uri in sorted(missing_here):
        (flight if uri in our_held else diffs).append(
            f"{uri}: committed by the peer, "
            + (
                "settling here (Accept in flight)"
                if uri in our_held
                else "unknown or not settled here"
            )
        )
    for uri in sorted(set(ours["paid"]) - set(theirs["received"])):
        diffs.append(f"{uri}: settled here, not committed by the peer")
    for uri in sorted(set(theirs["paid"]) - set(ours["received"])):
        diffs.append(f"{uri}: settled by the peer, not committed here")
    for uri in sorted(set(ours["received"]) - set(theirs["paid"])):
        (flight if uri in their_held else diffs).append(
            f"{uri}: committed here, "
            + (
                "settling at the peer"
                if uri in their_held
                else "unknown or not settled at the peer"
            )
        )
    if not flight:
        if ours["balance"] != -theirs["balance"]:
            diffs.append(
                f"clearing balances are not opposite: {ours['balance']} here, "
                f"{theirs['balance']} at the peer"
            )
        if ours["chains"]["paid"] != theirs["chains"]["received"]:
            diffs.append("the chain of exchanges paid from here differs from the peer's")
        if ours["chains"]["received"] != theirs["chains"]["paid"]:
            diffs.append("the chain of exchanges received here differs from the peer's")
    return diffs, flight
