"""Ask for contact: a member of this section writes to the author of an allied section's offer.

What crosses the network carries no one's private details. The request
goes out as a ``Create`` of a direct ``Note`` from *our node actor* (never
from the member) to the offer's author, ``inReplyTo`` the offer, mentioning
the author as Mastodon does: the peer keeps it in the mediator's inbox like
any reply to their offer (models/replies.py), and the mediator answers from
that page. The Note's id is an opaque reference (``/contact/<random>``) that
only this node can tie to the member; its content is the member's message,
escaped, with nothing added. The mediator's answer is a Note ``inReplyTo``
that reference, addressed to our node actor; it is shown to the member who
asked (``/me/contacts``), and is refused if it answers a reference that is
not ours, or comes from anyone but the actor we asked. The member's name
and address reach the mediator only if the member writes them, and the
mediator's only when they choose to put them in their answer.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from federation.vocab import CONTEXT, get_id
from models.actors import LocalActor, RemoteActor
from models.base import Base, UTCDateTime, utcnow
from models.errors import UserError
from models.html import html_to_text, sanitize_html, text_to_html
from models.network.directory import RemoteOffer, allied_node_for
from models.outbox import enqueue, new_uuid
from models.to_ap import iso
from models.urls import Urls

#: Characters of a member's message.
MAX_MESSAGE = 1000
#: Requests one person may send in a day.
MAX_PER_DAY = 5
#: Characters of an answer's HTML kept.
MAX_ANSWER_HTML = 15_000
#: Where the opaque references live under our base URL.
CONTACT_PATH = "/contact/"


class ContactError(UserError):
    pass


class ContactRequest(Base):
    """A member's request to an allied section's offer author, and the answer."""

    __tablename__ = "contact_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The Note's id: an opaque reference, nothing of the member in it.
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    offer_uri: Mapped[str] = mapped_column(String(2048))
    offer_title: Mapped[str] = mapped_column(String(200), default="")
    #: Who was asked (the offer's author), and the section they belong to.
    author_uri: Mapped[str] = mapped_column(String(2048))
    node_name: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: Sanitised HTML of the latest answer.
    answer: Mapped[str | None] = mapped_column(Text)
    answer_uri: Mapped[str | None] = mapped_column(String(2048))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def request_to_ap(
    urls: Urls, node: LocalActor, ident: str, author: RemoteActor, message: str, offer_uri: str
) -> dict[str, Any]:
    """The direct Note from our node actor: the mention card and the member's words only."""
    user = author.preferred_username or "someone"
    host = author.uri.split("://", 1)[-1].split("/", 1)[0]
    card = (
        f'<span class="h-card"><a href="{html.escape(author.uri)}" class="u-url mention">'
        f"@<span>{html.escape(user)}</span></a></span> "
    )
    body = text_to_html(message)
    content = sanitize_html(body.replace("<p>", "<p>" + card, 1))
    return {
        "id": ident,
        "type": "Note",
        "attributedTo": urls.actor(node.username),
        "inReplyTo": offer_uri,
        "content": content,
        "published": iso(utcnow()),
        "to": [author.uri],
        "cc": [],
        "tag": [{"type": "Mention", "href": author.uri, "name": f"@{user}@{host}"}],
    }


async def ask_contact(
    session: AsyncSession,
    urls: Urls,
    node: LocalActor,
    user_id: int,
    offer: RemoteOffer,
    author: RemoteActor,
    message: str,
) -> ContactRequest:
    """Queue the request to the offer's author; ContactError when it may not go."""
    message = message.strip()
    if not message:
        raise ContactError("write a short message for the mediator")
    if len(message) > MAX_MESSAGE:
        raise ContactError(f"the message is over {MAX_MESSAGE} characters")
    if author.uri != offer.actor_uri or author.deleted_at is not None:
        raise ContactError("the author of this offer cannot be reached")
    if await allied_node_for(session, author.uri) is None:
        raise ContactError("this offer's section is no longer allied with ours")
    now = utcnow()
    recent = await session.scalar(
        select(func.count())
        .select_from(ContactRequest)
        .where(
            ContactRequest.user_id == user_id, ContactRequest.created_at > now - timedelta(days=1)
        )
    )
    if (recent or 0) >= MAX_PER_DAY:
        raise ContactError(
            f"you have sent {MAX_PER_DAY} requests in the last 24 hours; try again tomorrow"
        )
    waiting = await session.scalar(
        select(ContactRequest.id).where(
            ContactRequest.user_id == user_id,
            ContactRequest.offer_uri == offer.uri,
            ContactRequest.answered_at.is_(None),
        )
    )
    if waiting is not None:
        raise ContactError("you already asked about this offer; wait for the answer")
    ident = f"{urls.base}{CONTACT_PATH}{new_uuid()}"
    note = request_to_ap(urls, node, ident, author, message, offer.uri)
    activity = {
        "@context": CONTEXT,
        "id": urls.activity(new_uuid()),
        "type": "Create",
        "actor": urls.actor(node.username),
        "published": note["published"],
        "to": note["to"],
        "cc": [],
        "object": note,
    }
    await enqueue(session, node, activity, [author.inbox], now=now)
    row = ContactRequest(
        uri=ident,
        user_id=user_id,
        offer_uri=offer.uri,
        offer_title=offer.title,
        author_uri=author.uri,
        node_name=offer.node_name,
        message=message,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def receive_answer(
    session: AsyncSession, urls: Urls, signer: RemoteActor, obj: dict[str, Any]
) -> str | None:
    """A Note answering one of our references; None if it answers none of ours.

    Refused (a log line, nothing kept) when the reference is not one we sent
    or the signer is not the actor we asked.
    """
    reply_to = get_id(obj.get("inReplyTo"))
    if not reply_to or not reply_to.startswith(urls.base + CONTACT_PATH):
        return None
    row = await session.scalar(select(ContactRequest).where(ContactRequest.uri == reply_to))
    if row is None:
        return "ignored: an answer to a contact request we never sent"
    if row.author_uri != signer.uri:
        return "ignored: an answer from an actor who was not asked"
    content = obj.get("content")
    if not isinstance(content, str) or not content.strip():
        return "ignored: an empty answer"
    clean = sanitize_html(content[:MAX_ANSWER_HTML])
    if len(clean) > MAX_ANSWER_HTML:
        clean = text_to_html(html_to_text(clean)[: MAX_ANSWER_HTML // 4] + "…")
    row.answer = clean
    row.answer_uri = get_id(obj)
    row.answered_at = utcnow()
    row.read_at = None
    return f"answer to contact request {row.id} kept for its member"


async def requests_of(session: AsyncSession, user_id: int, limit: int = 50) -> list[ContactRequest]:
    rows = await session.scalars(
        select(ContactRequest)
        .where(ContactRequest.user_id == user_id)
        .order_by(ContactRequest.created_at.desc(), ContactRequest.id.desc())
        .limit(limit)
    )
    return list(rows.all())
