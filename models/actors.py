"""Actors: the node's own (with their keys) and remote ones (a cache of
their public documents and keys, refreshed when a signature fails)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from federation.integrity import generate_ed25519_private_pem
from federation.keys import generate_private_key_pem, public_pem_of
from federation.vocab import ACTOR_TYPES, as_list, get_id
from models.base import Base, UTCDateTime, utcnow

USERNAME_PATTERN = r"^[a-z0-9_][a-z0-9_.-]{0,62}$"
#: The roles a coopnet node's actor document states (``role``).
NODE_ROLES = ("seat", "section")


class LocalActor(Base):
    __tablename__ = "local_actors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_key_pem: Mapped[str] = mapped_column(Text)
    is_node: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Ed25519 key for object integrity proofs (FEP-8b32); RSA stays for HTTP signatures.
    integrity_key_pem: Mapped[str | None] = mapped_column(Text)
    # Mediator profile (Person actors); empty for the node actor.
    skills: Mapped[str] = mapped_column(Text, default="[]")
    area: Mapped[str] = mapped_column(String(200), default="")
    contact_url: Mapped[str] = mapped_column(String(2048), default="")
    avatar_url: Mapped[str] = mapped_column(String(2048), default="")
    #: Removed mediators keep their row (the section's records); the actor URL answers 410.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def skill_list(self) -> list[str]:
        import json

        value = json.loads(self.skills or "[]")
        return [str(v) for v in value] if isinstance(value, list) else []


class RemoteActor(Base):
    __tablename__ = "remote_actors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(2048), index=True)
    public_key_pem: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(32))
    preferred_username: Mapped[str] = mapped_column(String(200), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    inbox: Mapped[str] = mapped_column(String(2048))
    shared_inbox: Mapped[str | None] = mapped_column(String(2048))
    url: Mapped[str | None] = mapped_column(String(2048))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A coopnet node's role as its actor document states it (seat, section), else "".
    role: Mapped[str] = mapped_column(String(16), default="")

    @property
    def delivery_inbox(self) -> str:
        """Shared inbox when the server has one: one POST per server, not per follower."""
        return self.shared_inbox or self.inbox

    @property
    def handle(self) -> str:
        from urllib.parse import urlsplit

        host = urlsplit(self.uri).netloc
        return f"{self.preferred_username}@{host}" if self.preferred_username else self.uri


class NoNodeActor(LookupError):
    """The database has no node actor: not a data directory made by 'coopnet init'."""


class ActorDocumentError(ValueError):
    """A remote actor document we cannot use; the message says why."""


async def create_local_actor(
    session: AsyncSession,
    username: str,
    *,
    type_: str,
    name: str = "",
    summary: str = "",
    is_node: bool = False,
) -> LocalActor:
    private_pem = generate_private_key_pem()
    actor = LocalActor(
        integrity_key_pem=generate_ed25519_private_pem(),
        username=username,
        type=type_,
        name=name,
        summary=summary,
        private_key_pem=private_pem,
        public_key_pem=public_pem_of(private_pem),
        is_node=is_node,
    )
    session.add(actor)
    await session.flush()
    return actor


async def get_local_actor(session: AsyncSession, username: str) -> LocalActor | None:
    return (
        await session.execute(select(LocalActor).where(LocalActor.username == username))
    ).scalar_one_or_none()


async def get_node_actor(session: AsyncSession) -> LocalActor:
    actor = (
        await session.execute(select(LocalActor).where(LocalActor.is_node.is_(True)))
    ).scalar_one_or_none()
    if actor is None:
        raise NoNodeActor("this data directory has no node actor: was 'coopnet init' run?")
    return actor


def _pick_key(doc: dict[str, Any], key_id: str | None) -> tuple[str | None, str | None]:
    keys = [k for k in as_list(doc.get("publicKey")) if isinstance(k, dict)]
    for key in keys:
        if key_id is None or key.get("id") == key_id:
            pem = key.get("publicKeyPem")
            kid = key.get("id")
            if isinstance(pem, str) and isinstance(kid, str):
                return kid, pem
    return None, None


async def upsert_remote_actor(
    session: AsyncSession, doc: dict[str, Any], *, key_id: str | None = None
) -> RemoteActor:
    """Store or refresh a remote actor from its fetched document.

    The caller has already checked that ``doc['id']`` is the URL it fetched;
    here we check the shape Mastodon also requires, and raise
    ActorDocumentError instead of storing half an actor.
    """
    uri = doc.get("id")
    if not isinstance(uri, str):
        raise ActorDocumentError("actor document has no id")
    types = [t for t in as_list(doc.get("type")) if isinstance(t, str)]
    type_ = next((t for t in types if t in ACTOR_TYPES), None)
    if type_ is None:
        raise ActorDocumentError(f"{uri} is not an actor (type {types or 'missing'})")
    inbox = get_id(doc.get("inbox"))
    if not inbox:
        raise ActorDocumentError(f"actor {uri} has no inbox")
    endpoints = doc.get("endpoints")
    shared = get_id(endpoints.get("sharedInbox")) if isinstance(endpoints, dict) else None
    kid, pem = _pick_key(doc, key_id)
    owner_ok = True
    for key in as_list(doc.get("publicKey")):
        if isinstance(key, dict) and key.get("id") == kid and key.get("owner") not in (None, uri):
            owner_ok = False
    if not owner_ok:
        raise ActorDocumentError(f"key {kid} of {uri} names another owner")
    name = doc.get("name") if isinstance(doc.get("name"), str) else ""
    username = doc.get("preferredUsername")
    actor = (
        await session.execute(select(RemoteActor).where(RemoteActor.uri == uri))
    ).scalar_one_or_none()
    if actor is None:
        # Two requests may meet the same new actor at once (its Follow and a
        # key fetch): insert in a savepoint and fall back to the winner's row.
        actor = RemoteActor(uri=uri, type=type_, inbox=inbox)
        try:
            async with session.begin_nested():
                session.add(actor)
        except IntegrityError:
            actor = (
                await session.execute(select(RemoteActor).where(RemoteActor.uri == uri))
            ).scalar_one()
    actor.type = type_
    actor.inbox = inbox
    actor.shared_inbox = shared
    actor.preferred_username = username[:200] if isinstance(username, str) else ""
    actor.name = (name or "")[:200]
    url = get_id(doc.get("url"))
    actor.url = url if isinstance(url, str) else None
    actor.key_id = kid
    actor.public_key_pem = pem
    role = doc.get("role")
    actor.role = role if role in NODE_ROLES else ""
    actor.fetched_at = utcnow()
    actor.deleted_at = None
    await session.flush()
    return actor


async def get_remote_actor(session: AsyncSession, uri: str) -> RemoteActor | None:
    return (
        await session.execute(select(RemoteActor).where(RemoteActor.uri == uri))
    ).scalar_one_or_none()


async def get_remote_actor_by_key(session: AsyncSession, key_id: str) -> RemoteActor | None:
    return (
        await session.execute(select(RemoteActor).where(RemoteActor.key_id == key_id).limit(1))
    ).scalar_one_or_none()


__all__ = [
    "ActorDocumentError",
    "LocalActor",
    "RemoteActor",
    "create_local_actor",
    "get_local_actor",
    "get_node_actor",
    "get_remote_actor",
    "get_remote_actor_by_key",
    "upsert_remote_actor",
]
