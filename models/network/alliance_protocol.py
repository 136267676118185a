"""The alliance protocol: how two node actors ask, answer and end an alliance.

Wire format (docs/decisions.md, "Alliances"):

- a request is an ``Offer`` from our node actor to the peer's node actor only
  (``to: [peer]``, never public, never followers), whose embedded object is
  ``{"type": "Alliance", "id": …, "role": "seat"|"section"}`` (our role) with
  the coordinator's note as plain-text ``content``;
- the peer answers ``Accept`` or ``Reject`` whose ``object`` is the Offer
  (its id, or the Offer embedded);
- either side ends an accepted alliance with a ``Reject`` of the same Offer:
  a Reject always leaves the alliance not accepted (refused while it was
  waiting, ended once it was accepted), so one verb covers both and a
  receiver reads the outcome from its own state. Withdrawing our own request
  before it was answered is the same Reject.

Only the peer's node actor (the signer, as the inbox verified) may answer or
end: an Accept or Reject that names our request but comes from any other
actor changes nothing and is logged. A request from an actor whose document
states no coopnet role (``remote_actors.role``) is refused. When both nodes
ask each other at the same time, each side's request meets the other's and
both end up accepted (each answers the other's request with an Accept).

After acceptance each node actor follows the other (``after_accepted``), so
offers and bulletins flow; when the alliance ends the follows end
(``after_ended``). Both run in the transaction that changes the state.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import (
    ALLIANCE,
    AS_CONTEXT,
    PUBLIC_ALIASES,
    as_list,
    get_id,
    has_type,
    our_terms,
    same_origin,
)
from models.actors import NODE_ROLES, LocalActor, RemoteActor, get_node_actor
from models.base import utcnow
from models.follows import Following, FollowingState
from models.html import html_to_text, plain_line
from models.network.alliances import (
    MAX_NOTE,
    Alliance,
    AllianceError,
    AllianceState,
    PeerRole,
    accepted_peers,
    alliance_with,
)
from models.network.directory import want_backfill
from models.outbox import enqueue, new_uuid
from models.to_ap import follow_activity
from models.urls import Urls

log = logging.getLogger("coopnet.alliances")

ALLIANCE_CONTEXT: list[Any] = [AS_CONTEXT, our_terms("role", ALLIANCE)]

WAITING = (AllianceState.REQUESTED, AllianceState.PENDING)


def clean_note(text: str | None) -> str:
    """A coordinator's note or reason as one plain line (remote HTML never kept)."""
    if not text:
        return ""
    return plain_line(html_to_text(text))[:MAX_NOTE]


# --- Converters: our rows to the activities of the protocol -------------------


def offer_activity(
    urls: Urls, actor: LocalActor, peer_uri: str, our_role: str, ident: str, note: str
) -> dict[str, Any]:
    me = urls.actor(actor.username)
    obj: dict[str, Any] = {
        "id": f"{ident}#alliance",
        "type": ALLIANCE,
        "attributedTo": me,
        "role": our_role,
    }
    if note:
        obj["content"] = note
    return {
        "@context": ALLIANCE_CONTEXT,
        "id": ident,
        "type": "Offer",
        "actor": me,
        "to": [peer_uri],
        "object": obj,
    }


def answer_activity(
    urls: Urls, actor: LocalActor, verb: str, peer_uri: str, request_uri: str, note: str = ""
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": ALLIANCE_CONTEXT,
        "id": urls.activity(new_uuid()),
        "type": verb,
        "actor": urls.actor(actor.username),
        "to": [peer_uri],
        "object": request_uri,
    }
    if note:
        doc["content"] = note
    return doc


# --- Role rules --------------------------------------------------------------


async def check_roles(
    session: AsyncSession, our_role: str, peer: Alliance, configured_seat: str
) -> None:
    """Refuse an alliance the network's shape does not allow; nothing changed.

    A seat allies with sections, not another seat. A section has one seat at
    a time: the configured ``[network] seat`` if there is one, and no second
    accepted seat beside the first.
    """
    if peer.peer_role != PeerRole.SEAT:
        return
    if our_role == PeerRole.SEAT:
        raise AllianceError(
            f"{peer.peer_handle or peer.peer_uri} is a seat, and so is this node: a seat "
            "allies with sections"
        )
    if configured_seat and configured_seat != peer.peer_uri:
        raise AllianceError(
            f"this section trusts the seat {configured_seat} ([network] seat in coopnet.toml): "
            f"it cannot ally with another seat ({peer.peer_handle or peer.peer_uri}). Change "
            "[network] seat first if the section moves to that network"
        )
    for other in await accepted_peers(session, PeerRole.SEAT):
        if other.peer_uri != peer.peer_uri:
            raise AllianceError(
                f"this section already has a seat, {other.peer_handle or other.peer_uri}: a "
                f"section has one seat at a time (end that alliance first: coopnet peer "
                f"remove {other.peer_handle or other.peer_uri})"
            )


async def trusted_seat(session: AsyncSession, configured: str) -> str | None:
    """The seat this node trusts: ``[network] seat`` if set, else its allied seat.

    A section set up without ``--seat`` takes the seat its coordinator
    allied with as the anchor of authorisations (the alliance is the
    coordinator's decision, made explicitly); a configured seat always wins,
    and ``check_roles`` keeps the two from disagreeing.
    """
    if configured:
        return configured
    seats = await accepted_peers(session, PeerRole.SEAT)
    return seats[0].peer_uri if seats else None


# --- What happens around acceptance -----------------------------------------


async def after_accepted(
    session: AsyncSession, urls: Urls, actor: LocalActor, row: Alliance
) -> None:
    """Everything an alliance brings once accepted, on this side.

    Our node actor follows the peer's (the existing follow machinery: a
    ``Following`` row, a ``Follow`` that the peer auto-accepts), so its
    offers and bulletins reach us. The peer does the same on its side.
    The offers it already published are read from its offers collection
    once this transaction commits (``want_backfill``).
    """
    want_backfill(session, row.peer_uri)
    remote = (
        await session.execute(select(RemoteActor).where(RemoteActor.uri == row.peer_uri))
    ).scalar_one_or_none()
    if remote is None:
        log.warning("alliance with %s accepted, but its actor is unknown here", row.peer_uri)
        return
    following = (
        await session.execute(
            select(Following).where(
                Following.local_actor_id == actor.id, Following.remote_actor_id == remote.id
            )
        )
    ).scalar_one_or_none()
    if following is not None and following.state == FollowingState.ACCEPTED:
        return
    follow_uri = urls.activity(new_uuid())
    if following is None:
        following = Following(
            local_actor_id=actor.id, remote_actor_id=remote.id, follow_uri=follow_uri
        )
        session.add(following)
    else:
        if following.state == FollowingState.REJECTED:
            following.move_to(FollowingState.PENDING)
        following.follow_uri = follow_uri
    await enqueue(
        session, actor, follow_activity(urls, actor, remote.uri, follow_uri), [remote.inbox]
    )


async def after_ended(session: AsyncSession, urls: Urls, actor: LocalActor, row: Alliance) -> None:
    """The alliance ended: our node actor stops following the peer's (``Undo`` of the Follow).

    The peer does the same on its side; SEL exchanges with it are no longer
    started or accepted (models/sel asks ``is_ally``), while the clearing
    account stays for the books.
    """
    remote = (
        await session.execute(select(RemoteActor).where(RemoteActor.uri == row.peer_uri))
    ).scalar_one_or_none()
    if remote is None:
        return
    following = (
        await session.execute(
            select(Following).where(
                Following.local_actor_id == actor.id, Following.remote_actor_id == remote.id
            )
        )
    ).scalar_one_or_none()
    if following is None:
        return
    me = urls.actor(actor.username)
    undo = {
        "@context": AS_CONTEXT,
        "id": urls.activity(new_uuid()),
        "type": "Undo",
        "actor": me,
        "to": [remote.uri],
        "object": {
            "id": following.follow_uri,
            "type": "Follow",
            "actor": me,
            "object": remote.uri,
        },
    }
    await session.delete(following)
    await enqueue(session, actor, undo, [remote.inbox])


async def _accept(
    session: AsyncSession, urls: Urls, actor: LocalActor, row: Alliance, answered: str
) -> None:
    row.move_to(AllianceState.ACCEPTED)
    await enqueue(
        session,
        actor,
        answer_activity(urls, actor, "Accept", row.peer_uri, answered),
        [row.peer_inbox],
    )
    await after_accepted(session, urls, actor, row)


# --- Our coordinator's side (called by node/network/alliances.py) -----------


async def ask(
    session: AsyncSession,
    urls: Urls,
    peer: RemoteActor,
    our_role: str,
    configured_seat: str,
    note: str = "",
) -> tuple[Alliance, bool]:
    """Ask ``peer`` for an alliance; (the row, True if that accepted their waiting request).

    If the peer has already asked us, asking is saying yes. Refused (nothing
    changed) when already allied or already asked, or when the roles do not fit.
    """
    if peer.role not in NODE_ROLES:
        raise AllianceError(
            f"{peer.handle} is not a coopnet node (its actor states no role seat or section)"
        )
    actor = await get_node_actor(session)
    note = clean_note(note)
    row = await alliance_with(session, peer.uri)
    probe = row or Alliance(peer_uri=peer.uri, peer_handle=peer.handle, peer_role=peer.role)
    probe.peer_role = peer.role
    await check_roles(session, our_role, probe, configured_seat)
    if row is not None and row.state == AllianceState.ACCEPTED:
        raise AllianceError(f"{peer.handle} is already an ally (since {row.accepted_at:%Y-%m-%d})")
    if row is not None and row.state == AllianceState.REQUESTED:
        raise AllianceError(
            f"this node already asked {peer.handle}; its coordinator has not answered yet "
            f"(to withdraw the request: coopnet peer remove {peer.handle})"
        )
    _refresh(row or probe, peer)
    if row is not None and row.state == AllianceState.PENDING:
        await _accept(session, urls, actor, row, row.request_uri)
        return row, True
    ident = urls.activity(new_uuid())
    if row is None:
        row = probe
        row.state = AllianceState.REQUESTED
        session.add(row)
    else:
        row.move_to(AllianceState.REQUESTED)
    row.asked_by_us = True
    row.request_uri = ident
    row.other_request_uri = ""
    row.note = note
    await enqueue(
        session,
        actor,
        offer_activity(urls, actor, peer.uri, our_role, ident, note),
        [row.peer_inbox],
    )
    await session.flush()
    return row, False


def _refresh(row: Alliance, peer: RemoteActor) -> None:
    row.peer_handle = peer.handle[:300]
    row.peer_name = (peer.name or "")[:200]
    row.peer_role = peer.role
    row.peer_inbox = peer.inbox


async def _row_of(session: AsyncSession, peer_uri: str) -> Alliance:
    row = await alliance_with(session, peer_uri)
    if row is None:
        raise AllianceError(f"no alliance with {peer_uri} ('coopnet peer list' lists them)")
    return row


async def approve(
    session: AsyncSession, urls: Urls, peer_uri: str, our_role: str, configured_seat: str
) -> Alliance:
    """Say yes to the request waiting from ``peer_uri``."""
    row = await _row_of(session, peer_uri)
    if row.state != AllianceState.PENDING:
        raise AllianceError(
            f"{row.peer_handle or row.peer_uri} has no request waiting for us (state: "
            f"{row.state}); 'coopnet peer list' shows the requests waiting, and "
            "'coopnet peer add' asks a node"
        )
    await check_roles(session, our_role, row, configured_seat)
    await _accept(session, urls, await get_node_actor(session), row, row.request_uri)
    return row


async def reject(session: AsyncSession, urls: Urls, peer_uri: str, reason: str = "") -> Alliance:
    """Say no to the request waiting from ``peer_uri`` (with an optional reason)."""
    row = await _row_of(session, peer_uri)
    if row.state != AllianceState.PENDING:
        what = (
            "to end an alliance or withdraw our request, use 'coopnet peer remove'"
            if row.state in (AllianceState.ACCEPTED, AllianceState.REQUESTED)
            else "nothing to answer"
        )
        raise AllianceError(
            f"{row.peer_handle or row.peer_uri} has no request waiting for us (state: "
            f"{row.state}): {what}"
        )
    reason = clean_note(reason)
    row.move_to(AllianceState.REJECTED)
    row.note = reason
    actor = await get_node_actor(session)
    await enqueue(
        session,
        actor,
        answer_activity(urls, actor, "Reject", row.peer_uri, row.request_uri, reason),
        [row.peer_inbox],
    )
    return row


async def remove(session: AsyncSession, urls: Urls, peer_uri: str, note: str = "") -> Alliance:
    """End an accepted alliance, or withdraw our request still waiting."""
    row = await _row_of(session, peer_uri)
    if row.state not in (AllianceState.ACCEPTED, AllianceState.REQUESTED):
        hint = (
            "it is their request: answer it with 'coopnet peer reject'"
            if row.state == AllianceState.PENDING
            else "nothing to remove"
        )
        raise AllianceError(
            f"{row.peer_handle or row.peer_uri} is not an ally (state: {row.state}): {hint}"
        )
    was_accepted = row.state == AllianceState.ACCEPTED
    row.move_to(AllianceState.ENDED)
    row.note = clean_note(note)
    actor = await get_node_actor(session)
    await enqueue(
        session,
        actor,
        answer_activity(urls, actor, "Reject", row.peer_uri, row.request_uri, row.note),
        [row.peer_inbox],
    )
    if was_accepted:
        await after_ended(session, urls, actor, row)
    return row


# --- The peer's side: what the inbox hands us --------------------------------


def _refuse(signer: RemoteActor, why: str) -> str:
    log.warning("alliance request from %s refused: %s", signer.uri, why)
    return f"refused: alliance request from {signer.handle}: {why}"


async def receive_offer(
    session: AsyncSession, urls: Urls, signer: RemoteActor, activity: dict[str, Any]
) -> str:
    """An alliance request from ``signer`` (the inbox checked the type is ``Alliance``)."""
    obj = activity.get("object")
    if not isinstance(obj, dict):
        return _refuse(signer, "the Alliance is not embedded")
    offer_uri = activity.get("id")
    if not isinstance(offer_uri, str) or not same_origin(offer_uri, signer.uri):
        return _refuse(signer, "the Offer has no id on the signer's server")
    if not isinstance(obj.get("id"), str):
        return _refuse(signer, "the Alliance has no id")
    if get_id(activity.get("actor")) != signer.uri:
        return _refuse(signer, "the Offer's actor is not its signer")
    actor = await get_node_actor(session)
    me = urls.actor(actor.username)
    audience = [get_id(v) for key in ("to", "cc", "bto", "bcc") for v in as_list(activity.get(key))]
    if any(a in PUBLIC_ALIASES for a in audience):
        return _refuse(signer, "it is addressed to the public (a request goes to the peer only)")
    if me not in [get_id(v) for v in as_list(activity.get("to"))]:
        return _refuse(signer, "it is not addressed to this node")
    if signer.role not in NODE_ROLES:
        return _refuse(signer, "its actor is not a coopnet node (no role seat or section)")
    claimed = obj.get("role")
    if claimed != signer.role:
        return _refuse(signer, f"it claims the role {claimed!r}; its actor states {signer.role}")
    note = clean_note(obj.get("content") if isinstance(obj.get("content"), str) else "")
    row = await alliance_with(session, signer.uri)
    if row is None:
        row = Alliance(peer_uri=signer.uri, state=AllianceState.PENDING)
        _refresh(row, signer)
        row.asked_by_us, row.request_uri, row.note = False, offer_uri, note
        session.add(row)
        await session.flush()
        return f"alliance requested by {signer.handle}; waiting for our coordinator"
    _refresh(row, signer)
    state = AllianceState(row.state)
    if offer_uri in (row.request_uri, row.other_request_uri):
        return f"ignored: alliance request {offer_uri} already known"
    if state == AllianceState.REQUESTED:
        # Both asked at once: their request meets ours; each side accepts the other's.
        row.other_request_uri, row.request_uri = row.request_uri, offer_uri
        await _accept(session, urls, actor, row, offer_uri)
        return f"alliance with {signer.handle} accepted (both asked)"
    if state == AllianceState.ACCEPTED:
        # Already allies: they asked again (they ended it and their end has not
        # reached us yet, or they lost track). Their new request is the one that
        # counts: a late Reject of the old one must not end what they just renewed.
        row.other_request_uri, row.request_uri = "", offer_uri
        await enqueue(
            session,
            actor,
            answer_activity(urls, actor, "Accept", row.peer_uri, offer_uri),
            [row.peer_inbox],
        )
        return f"alliance with {signer.handle} confirmed (asked again while allied)"
    if state != AllianceState.PENDING:
        row.move_to(AllianceState.PENDING)
    row.asked_by_us, row.request_uri, row.other_request_uri = False, offer_uri, ""
    row.note = note
    return f"alliance requested by {signer.handle}; waiting for our coordinator"


async def _answered(session: AsyncSession, signer: RemoteActor, ref: Any) -> Alliance | str | None:
    """The alliance an Accept/Reject names, a refusal line if forged, None if not ours."""
    uri = get_id(ref)
    if not uri:
        return None
    row = (
        await session.execute(
            select(Alliance).where(
                or_(Alliance.request_uri == uri, Alliance.other_request_uri == uri)
            )
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    if row.peer_uri != signer.uri:
        log.warning(
            "answer to the alliance request %s refused: it comes from %s, not from the peer %s",
            uri,
            signer.uri,
            row.peer_uri,
        )
        return f"refused: {signer.handle} answered an alliance request it was not asked"
    return row


async def receive_accept(
    session: AsyncSession, urls: Urls, signer: RemoteActor, activity: dict[str, Any]
) -> str | None:
    """The peer accepted our request; None if the Accept is not about an alliance."""
    found = await _answered(session, signer, activity.get("object"))
    if not isinstance(found, Alliance):
        return found
    row = found
    if row.state == AllianceState.ACCEPTED:
        return f"ignored: the alliance with {signer.handle} is already accepted"
    if row.state != AllianceState.REQUESTED:
        return f"ignored: Accept of an alliance request that is {row.state}"
    row.move_to(AllianceState.ACCEPTED)
    await after_accepted(session, urls, await get_node_actor(session), row)
    return f"alliance with {signer.handle} accepted"


async def receive_reject(
    session: AsyncSession, urls: Urls, signer: RemoteActor, activity: dict[str, Any]
) -> str | None:
    """The peer refused, withdrew or ended; None if the Reject is not about an alliance."""
    found = await _answered(session, signer, activity.get("object"))
    if not isinstance(found, Alliance):
        return found
    row = found
    content = activity.get("content")
    reason = clean_note(content if isinstance(content, str) else "")
    if row.state == AllianceState.ACCEPTED:
        row.move_to(AllianceState.ENDED)
        row.note = reason
        await after_ended(session, urls, await get_node_actor(session), row)
        return f"alliance with {signer.handle} ended by them"
    if row.state == AllianceState.REQUESTED:
        row.move_to(AllianceState.REJECTED)
        row.note = reason
        return f"{signer.handle} refused our alliance request"
    if row.state == AllianceState.PENDING:
        row.move_to(AllianceState.ENDED)
        row.note = reason
        return f"{signer.handle} withdrew its alliance request"
    return f"ignored: Reject of an alliance that is already {row.state}"


def is_alliance_offer(activity: dict[str, Any]) -> bool:
    return has_type(activity.get("object"), ALLIANCE)


def since(row: Alliance) -> str:
    when = row.accepted_at if row.state == AllianceState.ACCEPTED else row.updated_at
    return (when or utcnow()).isoformat(timespec="seconds")
