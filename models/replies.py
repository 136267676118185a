"""Replies and mentions from the fediverse to our actors, and the answers sent back.

A Mastodon user who answers a mediator's offer, or mentions a mediator,
does not need to be followed for the mediator to see it: a ``Create`` of
a post that is ``inReplyTo`` one of our objects (offer, bulletin, note,
an earlier answer) or that mentions or addresses one of our actors is
kept here, linked to the local actor it is for (the author of the object
answered, and every actor mentioned). Everything else unsolicited is
still ignored by the inbox.

A hostile server gets little out of it: the content is cut and sanitised
with the same allowlist as every remote post (models/html.py), a post
counts for at most ``MAX_RECIPIENTS`` of our actors, and an author cannot
hold more than ``MAX_UNREAD_PER_AUTHOR`` unread messages in one actor's
inbox (the rest is dropped until the person reads them).

The answers are Notes ``inReplyTo`` the message, addressed to its author
and mentioning them (a ``Mention`` tag and an @-link, as Mastodon writes
it), queued to their inbox through the delivery queue; they are stored
here too (``direction = out``) so that a reply to an answer continues the
conversation in the same inbox.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from federation.vocab import (
    CONTEXT,
    PUBLIC,
    as_list,
    get_id,
    get_ids,
    has_type,
    is_public,
    parse_time,
)
from models.actors import LocalActor, RemoteActor
from models.base import Base, UTCDateTime, utcnow
from models.bulletins import Bulletin
from models.errors import NotFound, UserError
from models.follows import follower_inboxes
from models.html import html_to_text, plain_line, sanitize_html, text_to_html
from models.offers import Offer
from models.outbox import enqueue, new_uuid
from models.posts import LocalObject
from models.to_ap import iso
from models.urls import Urls

#: Our actors one post may reach (the rest of its mentions are not kept).
MAX_RECIPIENTS = 5
#: Unread messages one author may hold in one actor's inbox.
MAX_UNREAD_PER_AUTHOR = 20
#: Characters of remote HTML kept (before sanitising; a Mastodon post is 500).
MAX_CONTENT = 10_000
#: Characters of sanitised HTML stored (a page shows it whole).
MAX_STORED = 15_000
#: Tags and addressees looked at in one post.
MAX_REFS = 50
#: Characters of an answer.
MAX_ANSWER = 5_000


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class MessageError(UserError):
    pass


class FediMessage(Base):
    """A post from the fediverse to one of our actors (``in``), or our answer (``out``)."""

    __tablename__ = "fedi_messages"
    __table_args__ = (
        UniqueConstraint("local_actor_id", "direction", "uri"),
        Index("ix_fedi_messages_inbox", "local_actor_id", "direction", "read_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"))
    direction: Mapped[str] = mapped_column(String(3))
    #: The post's id (theirs for ``in``, ours for ``out``).
    uri: Mapped[str] = mapped_column(String(2048), index=True)
    #: The author of an ``in`` message, the addressee of an ``out`` one.
    remote_actor_uri: Mapped[str] = mapped_column(String(2048), index=True)
    #: user@host, as text.
    remote_handle: Mapped[str] = mapped_column(String(300), default="")
    remote_name: Mapped[str] = mapped_column(String(200), default="")
    in_reply_to: Mapped[str | None] = mapped_column(String(2048))
    #: Sanitised HTML.
    content: Mapped[str] = mapped_column(Text, default="")
    #: Where a person reads the original (http(s) only).
    url: Mapped[str | None] = mapped_column(String(2048))
    #: False for a private mention (Mastodon's "direct"); the answer stays private too.
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def link(self) -> str | None:
        target = self.url or self.uri
        return target if _web(target) else None


def _web(url: str) -> bool:
    """Only http(s) addresses of a sane length become links."""
    return url.startswith(("https://", "http://")) and len(url) <= 2048


# ----------------------------------------------------------------------------- receiving


@dataclass(frozen=True)
class LocalRefs:
    """What in a post points at us: the object it answers, the actors it names."""

    reply_to: str | None
    usernames: frozenset[str]

    def __bool__(self) -> bool:
        return self.reply_to is not None or bool(self.usernames)


def local_refs(urls: Urls, activity: dict[str, Any], obj: dict[str, Any]) -> LocalRefs:
    """Pure and cheap: most posts a node receives point at nothing of ours."""
    reply_to = get_id(obj.get("inReplyTo"))
    if reply_to is not None and (len(reply_to) > 2048 or not urls.is_local(reply_to)):
        reply_to = None
    names: set[str] = set()
    refs: list[str] = []
    for tag in as_list(obj.get("tag"))[:MAX_REFS]:
        if has_type(tag, "Mention"):
            href = get_id(tag.get("href"))
            if href:
                refs.append(href)
    for source in (obj, activity):
        for key in ("to", "cc"):
            refs.extend(get_ids(source.get(key))[:MAX_REFS])
    for ref in refs:
        username = urls.local_username(ref)
        if username:
            names.add(username[:64])
    return LocalRefs(reply_to, frozenset(names))


async def _owner_of(session: AsyncSession, uri: str) -> int | None:
    """The local actor that published ``uri`` (an offer, bulletin, note or answer)."""
    for column, owner in (
        (Offer.uri, Offer.local_actor_id),
        (Bulletin.uri, Bulletin.local_actor_id),
        (LocalObject.uri, LocalObject.local_actor_id),
    ):
        found = await session.scalar(select(owner).where(column == uri).limit(1))
        if found is not None:
            return int(found)
    found = await session.scalar(
        select(FediMessage.local_actor_id)
        .where(FediMessage.uri == uri, FediMessage.direction == Direction.OUT)
        .limit(1)
    )
    return int(found) if found is not None else None


def _content_of(obj: dict[str, Any]) -> str:
    content = obj.get("content")
    if not isinstance(content, str):
        mapping = obj.get("contentMap")
        if isinstance(mapping, dict):
            content = next((v for v in mapping.values() if isinstance(v, str)), None)
    if not isinstance(content, str):
        return ""
    warning = obj.get("summary")
    text = sanitize_html(content[:MAX_CONTENT])
    if len(text) > MAX_STORED:
        # Escaping can swell hostile text several times over: keep its words only.
        text = text_to_html(html_to_text(text)[: MAX_CONTENT // 4] + "…")
    if isinstance(warning, str) and warning.strip():
        # A content warning: shown as the first line, never hidden text.
        text = f"<p><strong>{html.escape(plain_line(warning)[:300])}</strong></p>" + text
    return text


def _insert(session: AsyncSession) -> Any:
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    return (
        dialect.insert(FediMessage)
        .on_conflict_do_nothing(index_elements=["local_actor_id", "direction", "uri"])
        .returning(FediMessage.id)
    )


async def keep_if_for_us(
    session: AsyncSession,
    urls: Urls,
    signer: RemoteActor,
    activity: dict[str, Any],
    obj: dict[str, Any],
    uri: str,
) -> str | None:
    """Keep a post that answers or names one of our actors; None if it does neither.

    The caller has checked that ``obj`` is the signer's (same origin,
    attributed to it). Returns a line for the inbox log.
    """
    refs = local_refs(urls, activity, obj)
    if not refs:
        return None
    if len(uri) > 2048:
        return "ignored: a reply whose id is over 2048 characters"
    targets: list[int] = []
    if refs.reply_to is not None:
        owner = await _owner_of(session, refs.reply_to)
        if owner is not None:
            targets.append(owner)
    if refs.usernames:
        rows = await session.scalars(
            select(LocalActor.id)
            .where(LocalActor.username.in_(sorted(refs.usernames)))
            .order_by(LocalActor.id)
        )
        targets.extend(i for i in rows if i not in targets)
    if not targets:
        return None
    live = set(
        await session.scalars(
            select(LocalActor.id).where(LocalActor.id.in_(targets), LocalActor.deleted_at.is_(None))
        )
    )
    targets = [t for t in targets if t in live][:MAX_RECIPIENTS]
    if not targets:
        return "ignored: a reply to a removed actor"
    url = next(iter(as_list(obj.get("url"))), None)
    href = url.get("href") if isinstance(url, dict) else url
    now = utcnow()
    values = {
        "direction": Direction.IN,
        "uri": uri,
        "remote_actor_uri": signer.uri,
        "remote_handle": plain_line(signer.handle)[:300],
        "remote_name": plain_line(signer.name)[:200],
        "in_reply_to": refs.reply_to,
        "content": _content_of(obj),
        "url": href if isinstance(href, str) and _web(href) else None,
        "public": is_public(obj) or is_public(activity),
        "published": _published(obj),
        "created_at": now,
    }
    kept = 0
    for target in targets:
        unread = await session.scalar(
            select(func.count())
            .select_from(FediMessage)
            .where(
                FediMessage.local_actor_id == target,
                FediMessage.direction == Direction.IN,
                FediMessage.remote_actor_uri == signer.uri,
                FediMessage.read_at.is_(None),
            )
        )
        if (unread or 0) >= MAX_UNREAD_PER_AUTHOR:
            continue
        row = (
            await session.execute(_insert(session), {**values, "local_actor_id": target})
        ).first()
        kept += row is not None
    if not kept:
        return "ignored: already kept, or too many unread messages from this actor"
    return f"kept {uri} for {kept} of our actors"


def _published(obj: dict[str, Any]) -> datetime | None:
    """Its date as claimed, but never in the future (it would sort first for ever)."""
    when = parse_time(obj.get("published"))
    now = utcnow()
    return when if when is not None and when <= now else now


async def refresh(session: AsyncSession, signer: RemoteActor, obj: dict[str, Any]) -> int:
    """An author edited a post we kept: the new text replaces the old one."""
    uri = get_id(obj)
    if uri is None:
        return 0
    result = await session.execute(
        update(FediMessage)
        .where(
            FediMessage.uri == uri,
            FediMessage.direction == Direction.IN,
            FediMessage.remote_actor_uri == signer.uri,
        )
        .values(content=_content_of(obj))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def forget(session: AsyncSession, signer: RemoteActor, uri: str) -> int:
    """The author deleted a post (or their account, ``uri`` = the actor): it goes."""
    where = [FediMessage.direction == Direction.IN, FediMessage.remote_actor_uri == signer.uri]
    if uri != signer.uri:
        where.append(FediMessage.uri == uri)
    result = await session.execute(delete(FediMessage).where(*where))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- reading


async def unread_count(session: AsyncSession, actor_ids: list[int]) -> int:
    if not actor_ids:
        return 0
    found = await session.scalar(
        select(func.count())
        .select_from(FediMessage)
        .where(
            FediMessage.local_actor_id.in_(actor_ids),
            FediMessage.direction == Direction.IN,
            FediMessage.read_at.is_(None),
        )
    )
    return int(found or 0)


async def list_inbox(
    session: AsyncSession, actor_id: int, *, offset: int = 0, limit: int = 20
) -> tuple[list[FediMessage], int]:
    """Received messages, newest first, and how many there are in all."""
    where = (FediMessage.local_actor_id == actor_id, FediMessage.direction == Direction.IN)
    total = await session.scalar(select(func.count()).select_from(FediMessage).where(*where))
    rows = await session.scalars(
        select(FediMessage)
        .where(*where)
        .order_by(FediMessage.created_at.desc(), FediMessage.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows.all()), int(total or 0)


async def get_message(session: AsyncSession, message_id: int) -> FediMessage:
    row = await session.get(FediMessage, message_id)
    if row is None or row.direction != Direction.IN:
        raise NotFound("no such message (deleted by its author?)")
    return row


async def subject_of(session: AsyncSession, uri: str | None) -> str | None:
    """The title of our offer or bulletin a message answers, if it answers one."""
    if not uri:
        return None
    for column, title in ((Offer.uri, Offer.title), (Bulletin.uri, Bulletin.title)):
        found = await session.scalar(select(title).where(column == uri).limit(1))
        if found is not None:
            return str(found)
    return None


async def answers_to(session: AsyncSession, message: FediMessage) -> list[FediMessage]:
    rows = await session.scalars(
        select(FediMessage)
        .where(
            FediMessage.local_actor_id == message.local_actor_id,
            FediMessage.direction == Direction.OUT,
            FediMessage.in_reply_to == message.uri,
        )
        .order_by(FediMessage.created_at, FediMessage.id)
        .limit(50)
    )
    return list(rows.all())


async def mark_read(session: AsyncSession, actor_id: int, message_id: int | None = None) -> int:
    """One message, or every unread one of an actor, as read."""
    where = [
        FediMessage.local_actor_id == actor_id,
        FediMessage.direction == Direction.IN,
        FediMessage.read_at.is_(None),
    ]
    if message_id is not None:
        where.append(FediMessage.id == message_id)
    result = await session.execute(update(FediMessage).where(*where).values(read_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- answering


def _mention(remote: RemoteActor) -> tuple[str, str]:
    """('@alice@host', the link a person follows to their profile)."""
    host = urlsplit(remote.uri).netloc
    user = remote.preferred_username or "someone"
    href = remote.url if remote.url and remote.url.startswith(("https://", "http://")) else None
    return f"@{user}@{host}", href or remote.uri


def answer_to_ap(
    urls: Urls,
    actor: LocalActor,
    ident: str,
    message: FediMessage,
    remote: RemoteActor,
    text: str,
    published: datetime,
) -> dict[str, Any]:
    """A Note in reply to ``message``, to its author, mentioning them as Mastodon does."""
    name, href = _mention(remote)
    user = name.split("@")[1]
    card = (
        f'<span class="h-card"><a href="{html.escape(href)}" class="u-url mention">'
        f"@<span>{html.escape(user)}</span></a></span> "
    )
    body = text_to_html(text)
    content = sanitize_html(
        body.replace("<p>", "<p>" + card, 1) if body.startswith("<p>") else f"<p>{card}</p>"
    )
    to = [remote.uri]
    cc = [PUBLIC, urls.followers(actor.username)] if message.public else []
    return {
        "@context": CONTEXT,
        "id": ident,
        "type": "Note",
        "attributedTo": urls.actor(actor.username),
        "inReplyTo": message.uri,
        "content": content,
        "url": ident,
        "published": iso(published),
        "to": to,
        "cc": cc,
        "tag": [{"type": "Mention", "href": remote.uri, "name": name}],
    }


async def send_answer(
    session: AsyncSession, urls: Urls, message: FediMessage, text: str
) -> FediMessage:
    """Queue a Note answering ``message`` to its author (and our followers if it was public)."""
    text = text.strip()
    if not text:
        raise MessageError("the answer is empty")
    if len(text) > MAX_ANSWER:
        raise MessageError(f"the answer is over {MAX_ANSWER} characters")
    actor = await session.get(LocalActor, message.local_actor_id)
    if actor is None or actor.deleted_at is not None:
        raise MessageError("this mediator was removed; it cannot answer")
    remote = await session.scalar(
        select(RemoteActor).where(RemoteActor.uri == message.remote_actor_uri)
    )
    if remote is None or remote.deleted_at is not None:
        raise MessageError("this person's account is gone: the answer cannot be delivered")
    now = utcnow()
    uuid = new_uuid()
    ident = urls.object(uuid)
    note = answer_to_ap(urls, actor, ident, message, remote, text, now)
    if message.public:
        # A public answer is one of our posts: its id resolves (a server that
        # receives a reply to it fetches it to thread the conversation). A
        # private one is not served to anyone: we do not check who fetches.
        session.add(
            LocalObject(
                uuid=uuid,
                uri=ident,
                local_actor_id=actor.id,
                type="Note",
                content=note["content"],
                body=json.dumps(note, ensure_ascii=False),
                published=now,
            )
        )
    activity = {
        "@context": CONTEXT,
        "id": urls.activity(new_uuid()),
        "type": "Create",
        "actor": urls.actor(actor.username),
        "published": iso(now),
        "to": note["to"],
        "cc": note["cc"],
        "object": {k: v for k, v in note.items() if k != "@context"},
    }
    # A private mention is answered to the person's own inbox only; a public
    # answer also reaches our followers (their shared inboxes collapse).
    inboxes = [remote.inbox]
    if message.public:
        inboxes = [remote.delivery_inbox, *await follower_inboxes(session, actor.id)]
    await enqueue(session, actor, activity, inboxes, public=message.public, now=now)
    answer = FediMessage(
        local_actor_id=actor.id,
        direction=Direction.OUT,
        uri=ident,
        remote_actor_uri=remote.uri,
        remote_handle=message.remote_handle,
        remote_name=message.remote_name,
        in_reply_to=message.uri,
        content=note["content"],
        url=None,
        public=message.public,
        published=now,
        created_at=now,
        read_at=now,
    )
    session.add(answer)
    message.read_at = message.read_at or now
    message.answered_at = now
    await session.flush()
    return answer
