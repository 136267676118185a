"""Notes: the node's announcements, and posts received from actors it follows."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.actors import LocalActor
from models.base import Base, UTCDateTime, utcnow
from models.errors import UserError
from models.html import text_to_html
from models.outbox import Activity, new_uuid
from models.publishing import publish_activity
from models.to_ap import note_to_ap
from models.urls import Urls

MAX_NOTE_CHARS = 5000


class LocalObject(Base):
    """An object we published (a Note for now; offers and bulletins later)."""

    __tablename__ = "local_objects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    published: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


class RemoteObject(Base):
    """A post received from a remote actor; content is sanitised before storing."""

    __tablename__ = "remote_objects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    actor_uri: Mapped[str] = mapped_column(String(2048), index=True)
    type: Mapped[str] = mapped_column(String(32))
    #: note, offer or bulletin: how we list it.
    kind: Mapped[str] = mapped_column(String(16), default="note", index=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(2048))
    published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    body: Mapped[str] = mapped_column(Text)


class PostError(UserError):
    pass


async def publish_note(
    session: AsyncSession, urls: Urls, actor: LocalActor, text: str, *, now: datetime | None = None
) -> tuple[LocalObject, Activity]:
    """A public Note from ``actor`` and its Create, queued to every follower inbox."""
    text = text.strip()
    if not text:
        raise PostError("the text is empty: nothing to post")
    if len(text) > MAX_NOTE_CHARS:
        raise PostError(f"the text has {len(text)} characters; the limit is {MAX_NOTE_CHARS}")
    now = now or utcnow()
    ident = new_uuid()
    content = text_to_html(text)
    note = note_to_ap(urls, actor, urls.object(ident), content, now)
    obj = LocalObject(
        uuid=ident,
        uri=note["id"],
        local_actor_id=actor.id,
        type="Note",
        content=content,
        body=json.dumps(note, ensure_ascii=False),
        published=now,
    )
    session.add(obj)
    row = await publish_activity(session, urls, actor, "Create", note)
    return obj, row


async def get_local_object(session: AsyncSession, uuid: str) -> LocalObject | None:
    return (
        await session.execute(select(LocalObject).where(LocalObject.uuid == uuid))
    ).scalar_one_or_none()


async def count_local_posts(session: AsyncSession) -> int:
    return int(
        (
            await session.execute(
                select(func.count())
                .select_from(LocalObject)
                .where(LocalObject.deleted_at.is_(None))
            )
        ).scalar_one()
    )
