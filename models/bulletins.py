"""Monthly bulletins: long-form Articles (FEP-b2b8).

Mastodon shows an Article as its name, its summary and a link, ignoring the
content, so the summary must make sense alone: when none is given it is the
first paragraph, cut at about 500 characters.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from federation.vocab import CONTEXT, PUBLIC
from models.actors import LocalActor
from models.base import Base, UTCDateTime, utcnow
from models.errors import UserError
from models.markdown import first_paragraph, render_markdown
from models.outbox import new_uuid
from models.publishing import publish_activity, tombstone
from models.to_ap import iso
from models.urls import Urls

MAX_TITLE = 200
MAX_SUMMARY = 1000
MAX_MARKDOWN = 200_000


class BulletinError(UserError):
    pass


class Bulletin(Base):
    __tablename__ = "bulletins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    markdown: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    published: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def _fill(bulletin: Bulletin, title: str, markdown: str, summary: str | None) -> None:
    title = " ".join(title.split())
    if not title:
        raise BulletinError("a bulletin needs a title")
    if len(title) > MAX_TITLE:
        raise BulletinError(f"the title is over {MAX_TITLE} characters")
    if not markdown.strip():
        raise BulletinError("the bulletin's text is empty")
    if len(markdown) > MAX_MARKDOWN:
        raise BulletinError(f"the bulletin is over {MAX_MARKDOWN} characters")
    content = render_markdown(markdown)
    summary = " ".join((summary or "").split()) or first_paragraph(content)
    if len(summary) > MAX_SUMMARY:
        raise BulletinError(f"the summary is over {MAX_SUMMARY} characters")
    bulletin.title, bulletin.markdown, bulletin.content, bulletin.summary = (
        title,
        markdown,
        content,
        summary,
    )


def draft_bulletin(title: str, markdown: str, summary: str | None = None) -> Bulletin:
    """A bulletin checked and rendered as publishing would, not stored (a preview)."""
    draft = Bulletin()
    _fill(draft, title, markdown, summary)
    return draft


def bulletin_to_ap(urls: Urls, actor: LocalActor, bulletin: Bulletin) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "id": bulletin.uri,
        "type": "Article",
        "attributedTo": urls.actor(actor.username),
        "name": bulletin.title,
        # Stored as plain text (pages and feeds use it so); AS2 summaries are HTML.
        "summary": html.escape(bulletin.summary, quote=False),
        "content": bulletin.content,
        "mediaType": "text/html",
        "source": {"content": bulletin.markdown, "mediaType": "text/markdown"},
        "url": bulletin.uri,
        "published": iso(bulletin.published),
        "to": [PUBLIC],
        "cc": [urls.followers(actor.username)],
    }
    if bulletin.updated_at:
        doc["updated"] = iso(bulletin.updated_at)
    return doc


async def publish_bulletin(
    session: AsyncSession,
    urls: Urls,
    actor: LocalActor,
    title: str,
    markdown: str,
    summary: str | None = None,
) -> Bulletin:
    ident = new_uuid()
    bulletin = Bulletin(
        uuid=ident,
        uri=f"{urls.base}/bulletins/{ident}",
        local_actor_id=actor.id,
        published=utcnow(),
    )
    _fill(bulletin, title, markdown, summary)
    session.add(bulletin)
    await session.flush()
    await publish_activity(session, urls, actor, "Create", bulletin_to_ap(urls, actor, bulletin))
    return bulletin


async def get_bulletin(session: AsyncSession, uuid_or_uri: str) -> Bulletin | None:
    column = Bulletin.uri if uuid_or_uri.startswith("http") else Bulletin.uuid
    return (
        await session.execute(select(Bulletin).where(column == uuid_or_uri))
    ).scalar_one_or_none()


async def update_bulletin(
    session: AsyncSession,
    urls: Urls,
    bulletin: Bulletin,
    *,
    title: str | None = None,
    markdown: str | None = None,
    summary: str | None = None,
) -> Bulletin:
    """Change what is given; the rest stays.

    A summary the author wrote stays when only the text changes; a summary
    that was derived (the first paragraph) follows the new text. A summary
    that differs from the first paragraph of the stored text is the
    author's: that needs no column, and holds for bulletins stored before.
    """
    if bulletin.deleted_at is not None:
        raise BulletinError("this bulletin was deleted")
    if summary is None:
        derived = bulletin.summary == first_paragraph(bulletin.content)
        summary = None if markdown is not None and derived else bulletin.summary
    _fill(
        bulletin,
        title if title is not None else bulletin.title,
        markdown if markdown is not None else bulletin.markdown,
        summary,
    )
    bulletin.updated_at = utcnow()
    actor = await session.get(LocalActor, bulletin.local_actor_id)
    assert actor is not None
    await publish_activity(session, urls, actor, "Update", bulletin_to_ap(urls, actor, bulletin))
    return bulletin


async def delete_bulletin(session: AsyncSession, urls: Urls, bulletin: Bulletin) -> Bulletin:
    if bulletin.deleted_at is not None:
        raise BulletinError("this bulletin was already deleted")
    actor = await session.get(LocalActor, bulletin.local_actor_id)
    assert actor is not None
    former = bulletin_to_ap(urls, actor, bulletin)
    bulletin.deleted_at = utcnow()
    await publish_activity(session, urls, actor, "Delete", tombstone(bulletin.uri, former))
    return bulletin


async def list_bulletins(session: AsyncSession, actor_id: int | None = None) -> list[Bulletin]:
    q = (
        select(Bulletin)
        .where(Bulletin.deleted_at.is_(None))
        .order_by(Bulletin.published.desc(), Bulletin.id.desc())
    )
    if actor_id is not None:
        q = q.where(Bulletin.local_actor_id == actor_id)
    return list((await session.execute(q)).scalars().all())
