"""Mediators: Person actors of a section, each with its own keys and followers.

A removed mediator keeps its row (the section's records, and its key so the
Delete can be signed); its actor URL then answers 410 Gone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.actor_doc import actor_document
from models.actors import LocalActor, create_local_actor, get_local_actor
from models.base import utcnow
from models.errors import UserError
from models.publishing import publish_activity
from models.urls import Urls

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,29}$")
MAX_SKILLS = 20


class MediatorError(UserError):
    pass


@dataclass
class Profile:
    name: str | None = None
    summary: str | None = None
    skills: list[str] | None = None
    area: str | None = None
    contact: str | None = None
    avatar: str | None = None
    unknown: dict[str, str] = field(default_factory=dict)


def _check_url(value: str, what: str, schemes: tuple[str, ...]) -> str:
    value = value.strip()
    if value and not value.startswith(schemes):
        raise MediatorError(f"{what} must start with {' or '.join(schemes)}")
    if len(value) > 2048:
        raise MediatorError(f"{what} is too long")
    return value


def _apply(actor: LocalActor, profile: Profile) -> None:
    if profile.name is not None:
        name = " ".join(profile.name.split())
        if not name or len(name) > 100:
            raise MediatorError("the name must have 1 to 100 characters")
        actor.name = name
    if profile.summary is not None:
        if len(profile.summary) > 2000:
            raise MediatorError("the summary is over 2000 characters")
        actor.summary = profile.summary.strip()
    if profile.skills is not None:
        skills = [s.strip() for s in profile.skills if s.strip()]
        if len(skills) > MAX_SKILLS or any(len(s) > 60 for s in skills):
            raise MediatorError(f"at most {MAX_SKILLS} skills of up to 60 characters each")
        actor.skills = json.dumps(skills, ensure_ascii=False)
    if profile.area is not None:
        if len(profile.area) > 200:
            raise MediatorError("the area is over 200 characters")
        actor.area = profile.area.strip()
    if profile.contact is not None:
        actor.contact_url = _check_url(
            profile.contact, "the contact", ("https://", "http://", "mailto:", "tel:")
        )
    if profile.avatar is not None:
        actor.avatar_url = _check_url(profile.avatar, "the avatar", ("https://", "http://"))


async def add_mediator(session: AsyncSession, username: str, profile: Profile) -> LocalActor:
    if not USERNAME.match(username):
        raise MediatorError(
            f"{username!r}: a mediator's name is 1-30 lowercase letters, digits or '_'"
        )
    if await get_local_actor(session, username) is not None:
        raise MediatorError(f"the name {username!r} is already taken on this node")
    actor = await create_local_actor(session, username, type_="Person", name=username)
    _apply(actor, profile)
    await session.flush()
    return actor


async def get_mediator(session: AsyncSession, username: str) -> LocalActor:
    actor = await get_local_actor(session, username)
    if actor is None or actor.type != "Person":
        raise MediatorError(f"no mediator {username!r} on this node")
    if actor.deleted_at is not None:
        raise MediatorError(f"mediator {username!r} was removed")
    return actor


async def update_mediator(
    session: AsyncSession, urls: Urls, username: str, profile: Profile
) -> LocalActor:
    """Change the profile and send Update(Person) so followers' servers refresh it."""
    actor = await get_mediator(session, username)
    _apply(actor, profile)
    actor.updated_at = utcnow()
    await session.flush()
    doc = await actor_document(session, urls, actor)
    await publish_activity(session, urls, actor, "Update", doc)
    return actor


async def remove_mediator(session: AsyncSession, urls: Urls, username: str) -> LocalActor:
    """Delete{actor, object: actor} to its followers; the row stays, marked removed."""
    actor = await get_mediator(session, username)
    actor_id = urls.actor(actor.username)
    await publish_activity(session, urls, actor, "Delete", actor_id)
    actor.deleted_at = utcnow()
    # Its offers end with it (the actor's Delete already removes them from
    # Mastodon; no separate Delete is sent). The rows stay for the records.
    from models.offers import Offer, OfferState

    await session.execute(
        update(Offer)
        .where(Offer.local_actor_id == actor.id, Offer.state == OfferState.PUBLISHED)
        .values(state=OfferState.WITHDRAWN, ended_at=actor.deleted_at)
    )
    return actor


async def list_mediators(
    session: AsyncSession, *, include_removed: bool = False
) -> list[LocalActor]:
    q = select(LocalActor).where(LocalActor.type == "Person").order_by(LocalActor.username)
    if not include_removed:
        q = q.where(LocalActor.deleted_at.is_(None))
    return list((await session.execute(q)).scalars().all())
