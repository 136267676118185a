"""Club Aide (seed 002): help requests across the network, the requester never named.

A member asks the network for help with a problem. The request is kept
here with the requester (``requester_id``); what leaves the node is the
problem alone, in a ``Create`` of a ``HelpRequest`` from the node actor,
addressed to the accepted allies' node actors only (never Public, never a
followers collection). Its ids are random (``uuid4``), not derived from the
person; the text is what the member wrote (the form warns them not to sign
it). A peer keeps it (sanitised, bounded) for its members and mediators; a
responder there offers help (``Offer`` of a ``HelpOffer``, node to node,
signed with the responder's name only if they choose: they offer, they do
not ask); the requester accepts one (``Accept`` to the responder's node: the
first meeting is free, and recorded so), may add a message (their choice to
share contact details), then reports the outcome (``Update``). A withdrawn
request is deleted (``Delete``) at every peer; an expired one stops being
listed everywhere (``endTime``). Wire format and reasons: docs/decisions.md.

Every incoming activity is believed only as far as its signature goes: a
request only from an accepted ally, an offer only for a request of ours
still open, an accept only from the node that holds the request, an update
or a delete only from the node that published the request.
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from federation.vocab import AS_CONTEXT, get_id, our_terms, parse_time, same_origin
from models.accounts import Principal
from models.actors import LocalActor, RemoteActor, get_node_actor, get_remote_actor
from models.base import Base, UTCDateTime, utcnow
from models.errors import Forbidden, NotFound, UserError
from models.html import html_to_text, plain_line, sanitize_html, text_to_html
from models.network.alliances import accepted_peers, is_ally
from models.outbox import enqueue, new_uuid
from models.states import check_transition
from models.urls import Urls

HELP_REQUEST = "HelpRequest"
HELP_OFFER = "HelpOffer"

MAX_TITLE = 200
MAX_DESCRIPTION = 4000
MAX_CATEGORY = 80
MAX_AREA = 120
MAX_MESSAGE = 2000
MAX_SIGNATURE = 100
MAX_NOTE = 1000
#: How long a request stays open unless the member says otherwise, and the most a peer may ask.
DEFAULT_DAYS = 30
MAX_DAYS = 90
#: Open requests kept from one ally at a time, and offers on one request: a
#: peer cannot fill our database, a busy request stays readable.
MAX_OPEN_PER_PEER = 200
MAX_OFFERS_PER_REQUEST = 50
#: The raw HTML of a received text may be at most this many times the limit on
#: its plain text (markup is allowed, a megabyte of it is not).
HTML_SLACK = 4

CONTEXT: list[Any] = [
    AS_CONTEXT,
    our_terms(
        "HelpRequest", "HelpOffer", "category", "helpState", "helpOutcome", "firstMeetingFree",
        "signedAs",
    ),
]  # fmt: skip


class HelpError(UserError):
    pass


class RequestState(StrEnum):
    OPEN = "open"
    #: The requester accepted an offer; the outcome is still to come.
    ANSWERED = "answered"
    #: The outcome is reported.
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


REQUEST_TRANSITIONS = {
    RequestState.OPEN: frozenset(
        {RequestState.ANSWERED, RequestState.CLOSED, RequestState.WITHDRAWN}
    ),
    # Several offers may be accepted (several helpers); the outcome closes it.
    RequestState.ANSWERED: frozenset(
        {RequestState.ANSWERED, RequestState.CLOSED, RequestState.WITHDRAWN}
    ),
    RequestState.CLOSED: frozenset(),
    RequestState.WITHDRAWN: frozenset(),
}


class Outcome(StrEnum):
    RESOLVED = "resolved"
    PARTLY = "partly"
    UNRESOLVED = "unresolved"


class OfferState(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"


class HelpRequest(Base):
    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Random: the only reference to the request anywhere outside this node.
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    #: Asked by one of our people (True) or received from an ally (False).
    local: Mapped[bool] = mapped_column(Boolean, index=True)
    #: The person who asked: kept here, never sent.
    requester_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: The node actor that published it (ours for a local request).
    origin_uri: Mapped[str] = mapped_column(String(2048), index=True)
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    #: Plain text, as the member wrote it (a received one: its HTML made text).
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(MAX_CATEGORY), default="")
    area: Mapped[str] = mapped_column(String(MAX_AREA), default="")
    state: Mapped[str] = mapped_column(String(16), default=RequestState.OPEN, index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    #: The requester's note on the outcome: stays on the requester's node.
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def move_to(self, new: RequestState) -> None:
        self.state = check_transition(REQUEST_TRANSITIONS, RequestState(self.state), new)
        self.updated_at = utcnow()

    def shown_state(self, now: datetime) -> str:
        """The state a person sees: an open request past its date is expired."""
        if self.state in (RequestState.OPEN, RequestState.ANSWERED) and self.expires_at <= now:
            return "expired"
        return self.state


class HelpOffer(Base):
    __tablename__ = "help_offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    #: The offer object's id (ours, or the responder's node's).
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("help_requests.id", ondelete="CASCADE"), index=True
    )
    #: Offered by one of our people (True) or received from a peer node (False).
    local: Mapped[bool] = mapped_column(Boolean)
    responder_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: The responder's node actor (ours for a local offer).
    responder_node_uri: Mapped[str] = mapped_column(String(2048))
    #: The name the responder chose to sign with; empty: anonymous.
    signature: Mapped[str] = mapped_column(String(MAX_SIGNATURE), default="")
    message: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=OfferState.OFFERED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Recorded when the requester accepts: the first meeting is without charge.
    first_meeting_free: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The requester's message with the acceptance (contact details, if they chose).
    reply: Mapped[str] = mapped_column(Text, default="")


# ----------------------------------------------------------------------------- checks


def _field(value: str, limit: int, label: str, *, required: bool = False) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if required and not value:
        raise HelpError(f"{label}: this field is required")
    if len(value) > limit:
        raise HelpError(f"{label}: at most {limit} characters")
    if "\x00" in value:
        raise HelpError(f"{label}: contains a control character")
    return value


def _line(value: str, limit: int, label: str, *, required: bool = False) -> str:
    value = _field(value, limit, label, required=required)
    if "\n" in value:
        raise HelpError(f"{label}: a single line is expected")
    return plain_line(value)


def _require_person(by: Principal) -> int:
    if by.user_id is None:
        raise Forbidden("only a person with an account of the section asks for or offers help")
    return int(by.user_id)


# ----------------------------------------------------------------------------- to the wire


async def _ally_inboxes(session: AsyncSession) -> tuple[list[str], list[str]]:
    """The accepted allies' node actors and their inboxes."""
    actors, inboxes = [], []
    for peer in await accepted_peers(session):
        inbox = peer.peer_inbox
        if not inbox:
            remote = await get_remote_actor(session, peer.peer_uri)
            inbox = remote.inbox if remote is not None else ""
        if inbox:
            actors.append(peer.peer_uri)
            inboxes.append(inbox)
    return actors, inboxes


def _request_object(
    urls: Urls, node: LocalActor, row: HelpRequest, to: list[str]
) -> dict[str, Any]:
    """The request as peers see it: the problem, nothing of the person."""
    obj: dict[str, Any] = {
        "id": row.uri,
        "type": HELP_REQUEST,
        "attributedTo": urls.actor(node.username),
        "name": row.title,
        "content": text_to_html(row.description),
        "mediaType": "text/html",
        "published": row.created_at.isoformat(),
        "endTime": row.expires_at.isoformat(),
        "helpState": row.state,
        "to": to,
    }
    if row.category:
        obj["category"] = row.category
    if row.area:
        obj["location"] = {"type": "Place", "name": row.area}
    if row.outcome:
        obj["helpOutcome"] = row.outcome
    return obj


def _activity(urls: Urls, node: LocalActor, verb: str, obj: Any, to: list[str]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "id": urls.activity(new_uuid()),
        "type": verb,
        "actor": urls.actor(node.username),
        "to": to,
        "object": obj,
    }


async def _tell_allies(
    session: AsyncSession, urls: Urls, verb: str, row: HelpRequest, now: datetime
) -> None:
    node = await get_node_actor(session)
    actors, inboxes = await _ally_inboxes(session)
    if not inboxes:
        return
    if verb == "Delete":
        obj: Any = row.uri
    else:
        obj = _request_object(urls, node, row, actors)
    await enqueue(session, node, _activity(urls, node, verb, obj, actors), inboxes, now=now)


# ----------------------------------------------------------------------------- the requester


async def ask(
    session: AsyncSession,
    urls: Urls,
    by: Principal,
    title: str,
    description: str,
    category: str = "",
    area: str = "",
    *,
    days: int = DEFAULT_DAYS,
) -> HelpRequest:
    """Keep a member's request and send it, anonymous, to every accepted ally."""
    user_id = _require_person(by)
    if not 1 <= days <= MAX_DAYS:
        raise HelpError(f"a request stays open 1 to {MAX_DAYS} days")
    now = utcnow()
    node = await get_node_actor(session)
    ident = str(uuidlib.uuid4())
    row = HelpRequest(
        uuid=ident,
        uri=f"{urls.base}/help/{ident}",
        local=True,
        requester_id=user_id,
        origin_uri=urls.actor(node.username),
        title=_line(title, MAX_TITLE, "Title", required=True),
        description=_field(description, MAX_DESCRIPTION, "Description", required=True),
        category=_line(category, MAX_CATEGORY, "Category"),
        area=_line(area, MAX_AREA, "Area"),
        state=RequestState.OPEN,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(row)
    await session.flush()
    await _tell_allies(session, urls, "Create", row, now)
    return row


async def _own_request(session: AsyncSession, by: Principal, ident: str) -> HelpRequest:
    user_id = _require_person(by)
    row = (
        await session.execute(select(HelpRequest).where(HelpRequest.uuid == ident[:36]))
    ).scalar_one_or_none()
    if row is None or not row.local or row.requester_id != user_id:
        raise NotFound("no such help request of yours")
    return row


async def accept_offer(
    session: AsyncSession,
    urls: Urls,
    by: Principal,
    request_uuid: str,
    offer_uuid: str,
    message: str = "",
) -> HelpOffer:
    """The requester takes up an offer: the first meeting is free, and recorded so.

    The responder's node is told (``Accept``), with the requester's message
    if they wrote one: the only way anything of theirs reaches the helper,
    and only because they chose to write it.
    """
    row = await _own_request(session, by, request_uuid)
    now = utcnow()
    if row.shown_state(now) not in (RequestState.OPEN, RequestState.ANSWERED):
        raise HelpError("this request is closed, withdrawn or expired: no offer can be accepted")
    offer = (
        await session.execute(
            select(HelpOffer).where(
                HelpOffer.uuid == offer_uuid[:36], HelpOffer.request_id == row.id
            )
        )
    ).scalar_one_or_none()
    if offer is None:
        raise NotFound("no such offer on this request")
    if offer.state == OfferState.ACCEPTED:
        raise HelpError("this offer is already accepted")
    text = _field(message, MAX_MESSAGE, "Message")
    offer.state = OfferState.ACCEPTED
    offer.accepted_at = now
    offer.first_meeting_free = True
    offer.reply = text
    row.move_to(RequestState.ANSWERED)
    row.accepted_at = row.accepted_at or now
    if not offer.local:
        node = await get_node_actor(session)
        remote = await get_remote_actor(session, offer.responder_node_uri)
        if remote is not None:
            accept = _activity(urls, node, "Accept", offer.uri, [offer.responder_node_uri])
            accept["inReplyTo"] = row.uri
            accept["firstMeetingFree"] = True
            if text:
                accept["content"] = text_to_html(text)
            await enqueue(session, node, accept, [remote.inbox], now=now)
    await _tell_allies(session, urls, "Update", row, now)
    return offer


async def report_outcome(
    session: AsyncSession,
    urls: Urls,
    by: Principal,
    request_uuid: str,
    outcome: str,
    note: str = "",
) -> HelpRequest:
    """Close the request with its result; the note stays here, the result goes to peers."""
    row = await _own_request(session, by, request_uuid)
    try:
        result = Outcome(outcome)
    except ValueError:
        raise HelpError("the outcome is one of: resolved, partly, unresolved") from None
    if row.state not in (RequestState.OPEN, RequestState.ANSWERED):
        raise HelpError("the outcome of this request is already reported, or it was withdrawn")
    row.outcome_note = _field(note, MAX_NOTE, "Note")
    row.outcome = result
    row.move_to(RequestState.CLOSED)
    row.closed_at = utcnow()
    await _tell_allies(session, urls, "Update", row, row.closed_at)
    return row


async def withdraw(
    session: AsyncSession, urls: Urls, by: Principal, request_uuid: str
) -> HelpRequest:
    row = await _own_request(session, by, request_uuid)
    if row.state not in (RequestState.OPEN, RequestState.ANSWERED):
        raise HelpError("this request is already closed or withdrawn")
    row.move_to(RequestState.WITHDRAWN)
    row.closed_at = utcnow()
    await _tell_allies(session, urls, "Delete", row, row.closed_at)
    return row


# ----------------------------------------------------------------------------- the responder


async def offer_help(
    session: AsyncSession,
    urls: Urls,
    by: Principal,
    request_uuid: str,
    message: str,
    signature: str = "",
) -> HelpOffer:
    """A responder here offers help; to a peer's request, the offer goes to its node."""
    user_id = _require_person(by)
    now = utcnow()
    row = (
        await session.execute(select(HelpRequest).where(HelpRequest.uuid == request_uuid[:36]))
    ).scalar_one_or_none()
    if row is None or row.shown_state(now) not in (RequestState.OPEN, RequestState.ANSWERED):
        raise NotFound("no such open help request")
    if row.local and row.requester_id == user_id:
        raise HelpError("this is your own request")
    text = _field(message, MAX_MESSAGE, "Message", required=True)
    sign = _line(signature, MAX_SIGNATURE, "Signature")
    node = await get_node_actor(session)
    ident = str(uuidlib.uuid4())
    offer = HelpOffer(
        uuid=ident,
        uri=f"{urls.base}/help-offers/{ident}",
        request_id=row.id,
        local=True,
        responder_id=user_id,
        responder_node_uri=urls.actor(node.username),
        signature=sign,
        message=text,
        state=OfferState.OFFERED,
        created_at=now,
    )
    session.add(offer)
    await session.flush()
    if not row.local:
        remote = await get_remote_actor(session, row.origin_uri)
        if remote is None:
            raise HelpError("the section that asked is not reachable from here any more")
        obj: dict[str, Any] = {
            "id": offer.uri,
            "type": HELP_OFFER,
            "attributedTo": urls.actor(node.username),
            "inReplyTo": row.uri,
            "content": text_to_html(text),
            "mediaType": "text/html",
            "published": now.isoformat(),
            "to": [row.origin_uri],
        }
        if sign:
            obj["signedAs"] = sign
        activity = _activity(urls, node, "Offer", obj, [row.origin_uri])
        activity["target"] = row.uri
        await enqueue(session, node, activity, [remote.inbox], now=now)
    return offer


# ----------------------------------------------------------------------------- from the wire


def _text_of(value: Any, limit: int, label: str) -> str:
    """Received HTML (or text) as plain text, bounded; raises HelpError if too long."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise HelpError(f"{label} is not text")
    if len(value) > limit * HTML_SLACK:
        raise HelpError(f"{label} over {limit} characters")
    text = html_to_text(sanitize_html(value)).replace("\x00", "")
    if len(text) > limit:
        raise HelpError(f"{label} over {limit} characters")
    return text


def _line_of(value: Any, limit: int, label: str) -> str:
    return plain_line(" ".join(_text_of(value, limit, label).split()))


async def receive_request(
    session: AsyncSession, signer: RemoteActor, activity: dict[str, Any]
) -> str:
    """A ``Create`` of a HelpRequest: kept if an accepted ally sent it, else refused."""
    obj = activity.get("object")
    if not isinstance(obj, dict):
        return "ignored: help request not embedded"
    if not await is_ally(session, signer.uri):
        return "ignored: help requests are taken only from accepted allies"
    uri = get_id(obj)
    if not uri or not same_origin(uri, signer.uri) or len(uri) > 2048:
        return "ignored: help request id not on the sender's server"
    now = utcnow()
    await session.execute(
        delete(HelpRequest).where(HelpRequest.local.is_(False), HelpRequest.expires_at <= now)
    )
    if await session.scalar(select(HelpRequest.id).where(HelpRequest.uri == uri)) is not None:
        return "ignored: help request already held"
    held = await session.scalar(
        select(func.count())
        .select_from(HelpRequest)
        .where(HelpRequest.origin_uri == signer.uri, HelpRequest.local.is_(False))
    )
    if int(held or 0) >= MAX_OPEN_PER_PEER:
        return f"ignored: already {MAX_OPEN_PER_PEER} help requests held from this section"
    try:
        title = _line_of(obj.get("name"), MAX_TITLE, "title")
        description = _text_of(obj.get("content"), MAX_DESCRIPTION, "description")
        category = _line_of(obj.get("category"), MAX_CATEGORY, "category")
        place = obj.get("location")
        area = _line_of(place.get("name") if isinstance(place, dict) else None, MAX_AREA, "area")
    except HelpError as exc:
        return f"ignored: {exc}"
    if not title or not description:
        return "ignored: a help request needs a title and a description"
    ends = parse_time(obj.get("endTime"))
    latest = now + timedelta(days=MAX_DAYS)
    expires = min(ends, latest) if ends is not None else now + timedelta(days=DEFAULT_DAYS)
    if expires <= now:
        return "ignored: help request already expired"
    session.add(
        HelpRequest(
            uuid=str(uuidlib.uuid4()),
            uri=uri,
            local=False,
            requester_id=None,
            origin_uri=signer.uri,
            title=title,
            description=description,
            category=category,
            area=area,
            state=RequestState.OPEN,
            created_at=now,
            updated_at=now,
            expires_at=expires,
        )
    )
    return f"help request {uri} kept from {signer.handle}"


async def _held_from(session: AsyncSession, signer: RemoteActor, uri: str) -> HelpRequest | None:
    row = (
        await session.execute(select(HelpRequest).where(HelpRequest.uri == uri))
    ).scalar_one_or_none()
    if row is None or row.local or row.origin_uri != signer.uri:
        return None
    return row


async def receive_update(
    session: AsyncSession, signer: RemoteActor, activity: dict[str, Any]
) -> str:
    """The publisher's news of its request: an offer accepted, or the outcome."""
    obj = activity.get("object")
    uri = get_id(obj)
    row = await _held_from(session, signer, uri) if uri and isinstance(obj, dict) else None
    if row is None or not isinstance(obj, dict):
        return "ignored: Update of a help request this sender did not publish to us"
    state = obj.get("helpState")
    outcome = obj.get("helpOutcome")
    if state == RequestState.CLOSED and outcome in {o.value for o in Outcome}:
        if row.state != RequestState.CLOSED:
            row.outcome = str(outcome)
            row.move_to(RequestState.CLOSED)
            row.closed_at = utcnow()
        return f"help request {uri} closed: {outcome}"
    if state == RequestState.ANSWERED and row.state == RequestState.OPEN:
        row.move_to(RequestState.ANSWERED)
        row.accepted_at = utcnow()
        return f"help request {uri} answered"
    return "ignored: nothing new in this help request"


async def receive_delete(session: AsyncSession, signer: RemoteActor, uri: str) -> str | None:
    """A withdrawn request is dropped with its offers; None if ``uri`` is no request of ours."""
    row = await _held_from(session, signer, uri)
    if row is None:
        return None
    await session.execute(delete(HelpOffer).where(HelpOffer.request_id == row.id))
    await session.delete(row)
    return f"help request {uri} withdrawn by {signer.handle}"


async def receive_offer(
    session: AsyncSession, urls: Urls, signer: RemoteActor, activity: dict[str, Any]
) -> str:
    """An ``Offer`` of help for one of our members' requests, from an ally's node."""
    obj = activity.get("object")
    if not isinstance(obj, dict):
        return "ignored: help offer not embedded"
    if not await is_ally(session, signer.uri):
        return "ignored: help offers are taken only from accepted allies"
    uri = get_id(obj)
    if not uri or not same_origin(uri, signer.uri) or len(uri) > 2048:
        return "ignored: help offer id not on the sender's server"
    target = get_id(obj.get("inReplyTo")) or get_id(activity.get("target"))
    row = (
        (
            await session.execute(select(HelpRequest).where(HelpRequest.uri == target))
        ).scalar_one_or_none()
        if target
        else None
    )
    now = utcnow()
    if row is None or not row.local:
        return "ignored: offer for a help request that is not ours"
    if row.shown_state(now) not in (RequestState.OPEN, RequestState.ANSWERED):
        return "ignored: offer for a help request no longer open"
    if await session.scalar(select(HelpOffer.id).where(HelpOffer.uri == uri)) is not None:
        return "ignored: help offer already held"
    held = await session.scalar(
        select(func.count()).select_from(HelpOffer).where(HelpOffer.request_id == row.id)
    )
    if int(held or 0) >= MAX_OFFERS_PER_REQUEST:
        return f"ignored: already {MAX_OFFERS_PER_REQUEST} offers on this request"
    try:
        message = _text_of(obj.get("content"), MAX_MESSAGE, "message")
        signature = _line_of(obj.get("signedAs"), MAX_SIGNATURE, "signature")
    except HelpError as exc:
        return f"ignored: {exc}"
    if not message:
        return "ignored: a help offer needs a message"
    session.add(
        HelpOffer(
            uuid=str(uuidlib.uuid4()),
            uri=uri,
            request_id=row.id,
            local=False,
            responder_id=None,
            responder_node_uri=signer.uri,
            signature=signature,
            message=message,
            state=OfferState.OFFERED,
            created_at=now,
        )
    )
    return f"help offer {uri} kept for request {row.uri}"


def is_help_offer_uri(urls: Urls, uri: str | None) -> bool:
    return bool(uri) and str(uri).startswith(f"{urls.base}/help-offers/")


async def receive_accept(
    session: AsyncSession, urls: Urls, signer: RemoteActor, activity: dict[str, Any]
) -> str | None:
    """The requester's node took up one of our responders' offers; None if the
    Accept is about something else."""
    uri = get_id(activity.get("object"))
    if not is_help_offer_uri(urls, uri):
        return None
    offer = (
        await session.execute(select(HelpOffer).where(HelpOffer.uri == uri))
    ).scalar_one_or_none()
    if offer is None or not offer.local:
        return "ignored: Accept of a help offer we did not make"
    row = await session.get(HelpRequest, offer.request_id)
    if row is None or row.local or row.origin_uri != signer.uri:
        return "ignored: Accept of a help offer from a node that did not ask"
    if offer.state == OfferState.ACCEPTED:
        return "ignored: help offer already accepted"
    try:
        reply = _text_of(activity.get("content"), MAX_MESSAGE, "message")
    except HelpError as exc:
        return f"ignored: {exc}"
    now = utcnow()
    offer.state = OfferState.ACCEPTED
    offer.accepted_at = now
    offer.first_meeting_free = True
    offer.reply = reply
    if row.state == RequestState.OPEN:
        row.move_to(RequestState.ANSWERED)
        row.accepted_at = now
    return f"help offer {uri} accepted by {signer.handle}"


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class RequestWithOffers:
    request: HelpRequest
    offers: list[HelpOffer]


async def my_requests(session: AsyncSession, user_id: int) -> list[RequestWithOffers]:
    rows = (
        await session.scalars(
            select(HelpRequest)
            .where(HelpRequest.local.is_(True), HelpRequest.requester_id == user_id)
            .order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc())
            .limit(100)
        )
    ).all()
    return [RequestWithOffers(r, await _offers_on(session, r.id)) for r in rows]


async def _offers_on(session: AsyncSession, request_id: int) -> list[HelpOffer]:
    return list(
        (
            await session.scalars(
                select(HelpOffer)
                .where(HelpOffer.request_id == request_id)
                .order_by(HelpOffer.created_at, HelpOffer.id)
            )
        ).all()
    )


async def open_requests(
    session: AsyncSession, user_id: int | None, limit: int = 100
) -> list[HelpRequest]:
    """What a responder here may answer: the allies' open requests and our other
    members' (never the person's own), newest first, expired ones left out."""
    now = utcnow()
    query = select(HelpRequest).where(
        HelpRequest.state.in_((RequestState.OPEN, RequestState.ANSWERED)),
        HelpRequest.expires_at > now,
    )
    if user_id is not None:
        query = query.where(
            (HelpRequest.requester_id.is_(None)) | (HelpRequest.requester_id != user_id)
        )
    rows = await session.scalars(
        query.order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc()).limit(limit)
    )
    return list(rows.all())


async def my_offers(session: AsyncSession, user_id: int) -> list[tuple[HelpOffer, HelpRequest]]:
    rows = await session.execute(
        select(HelpOffer, HelpRequest)
        .join(HelpRequest, HelpRequest.id == HelpOffer.request_id)
        .where(HelpOffer.local.is_(True), HelpOffer.responder_id == user_id)
        .order_by(HelpOffer.created_at.desc(), HelpOffer.id.desc())
        .limit(100)
    )
    return [(o, r) for o, r in rows.tuples()]


def _bounds(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first_day, time(), tzinfo=UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=UTC)
    return start, end


async def help_figures(session: AsyncSession, first_day: date, last_day: date) -> dict[str, int]:
    """The section's Club Aide figures for its report (days inclusive, UTC).

    Requests are counted by the day they were asked: ``asked`` by our
    members, ``answered`` (at least one offer), ``accepted`` (an offer taken
    up, so a free first meeting), ``resolved`` / ``partly`` / ``unresolved``
    (the outcome reported), ``withdrawn``; and what our people gave the
    network: ``offers_made`` (to any section's request, ours included) and
    ``offers_accepted`` of them. Counts only, never who.
    """
    start, end = _bounds(first_day, last_day)
    in_period = (
        HelpRequest.local.is_(True),
        HelpRequest.created_at >= start,
        HelpRequest.created_at < end,
    )

    async def count(*where: Any) -> int:
        return int(
            await session.scalar(select(func.count()).select_from(HelpRequest).where(*where)) or 0
        )

    answered = select(HelpOffer.request_id).distinct()
    figures = {
        "asked": await count(*in_period),
        "answered": await count(*in_period, HelpRequest.id.in_(answered)),
        "accepted": await count(*in_period, HelpRequest.accepted_at.is_not(None)),
        "withdrawn": await count(*in_period, HelpRequest.state == RequestState.WITHDRAWN),
    }
    for outcome in Outcome:
        figures[outcome.value] = await count(*in_period, HelpRequest.outcome == outcome)
    offered = (
        HelpOffer.local.is_(True),
        HelpOffer.created_at >= start,
        HelpOffer.created_at < end,
    )
    figures["offers_made"] = int(
        await session.scalar(select(func.count()).select_from(HelpOffer).where(*offered)) or 0
    )
    figures["offers_accepted"] = int(
        await session.scalar(
            select(func.count())
            .select_from(HelpOffer)
            .where(*offered, HelpOffer.state == OfferState.ACCEPTED)
        )
        or 0
    )
    return figures


async def state_counts(session: AsyncSession) -> dict[str, dict[str, int]]:
    """Requests by origin (ours, received) and state as people see it; offers by state."""
    now = utcnow()
    out: dict[str, dict[str, int]] = {"ours": {}, "received": {}, "offers": {}}
    rows = await session.execute(
        select(HelpRequest.local, HelpRequest.state, HelpRequest.expires_at)
    )
    for local, state, expires in rows.tuples():
        shown = "expired" if state in ("open", "answered") and expires <= now else state
        bucket = out["ours" if local else "received"]
        bucket[shown] = bucket.get(shown, 0) + 1
    offers = await session.execute(
        select(HelpOffer.local, HelpOffer.state, func.count()).group_by(
            HelpOffer.local, HelpOffer.state
        )
    )
    for local, state, n in offers.tuples():
        key = f"{'made' if local else 'received'} {state}"
        out["offers"][key] = int(n)
    return out
