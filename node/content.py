"""Actions on what a node publishes: mediators, offers, bulletins.

Like node.actions, each is one transaction (the change and the deliveries
it causes, or nothing) and is what both the CLI and the web UI call.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from models.accounts import Principal
from models.actors import LocalActor, get_local_actor, get_node_actor
from models.attestations import live_issued_for, revoke
from models.base import utcnow
from models.bulletins import (
    Bulletin,
    delete_bulletin,
    draft_bulletin,
    get_bulletin,
    list_bulletins,
    publish_bulletin,
    update_bulletin,
)
from models.mediators import (
    Profile,
    add_mediator,
    list_mediators,
    remove_mediator,
    update_mediator,
)
from models.offers import (
    Offer,
    OfferDraft,
    OfferError,
    end_offer,
    get_offer,
    list_offers,
    publish_offer,
    update_offer,
)
from models.posts import RemoteObject
from node.context import Node


async def _author(session: Any, username: str | None) -> LocalActor:
    if username is None:
        return await get_node_actor(session)
    actor = await get_local_actor(session, username)
    if actor is None or actor.deleted_at is not None:
        raise OfferError(f"no actor {username!r} on this node (see 'coopnet mediator list')")
    return actor


async def mediator_add(node: Node, username: str, profile: Profile) -> LocalActor:
    async with node.write() as session:
        return await add_mediator(session, username, profile)


async def mediator_update(node: Node, username: str, profile: Profile) -> LocalActor:
    async with node.write() as session:
        actor = await update_mediator(session, node.urls, username, profile)
    node.wake_delivery.set()
    return actor


async def mediator_remove(node: Node, username: str) -> LocalActor:
    """Revoke its certification (if any), then Delete the actor; its records stay."""
    async with node.write() as session:
        live = await live_issued_for(session, node.urls.actor(username))
        if live is not None:
            await revoke(session, node.urls, live)
        actor = await remove_mediator(session, node.urls, username)
    node.wake_delivery.set()
    return actor


async def mediator_list(node: Node, include_removed: bool = False) -> list[LocalActor]:
    async with node.sessions() as session:
        return await list_mediators(session, include_removed=include_removed)


async def offer_publish(node: Node, draft: OfferDraft, author: str | None = None) -> Offer:
    async with node.write() as session:
        actor = await _author(session, author)
        offer = await publish_offer(session, node.urls, actor, draft)
    node.wake_delivery.set()
    return offer


async def _offer(session: Any, node: Node, ref: str) -> Offer:
    offer = await get_offer(session, ref)
    if offer is None:
        raise OfferError(f"no offer {ref!r} on this node (see 'coopnet offer list')")
    return offer


async def offer_update(node: Node, ref: str, changes: dict[str, Any]) -> Offer:
    async with node.write() as session:
        offer = await update_offer(session, node.urls, await _offer(session, node, ref), changes)
    node.wake_delivery.set()
    return offer


async def offer_withdraw(node: Node, ref: str) -> Offer:
    async with node.write() as session:
        offer = await end_offer(session, node.urls, await _offer(session, node, ref))
    node.wake_delivery.set()
    return offer


async def offer_list(node: Node, *, include_ended: bool = False) -> list[Offer]:
    async with node.sessions() as session:
        return await list_offers(session, include_ended=include_ended)


async def remote_list(node: Node, kind: str) -> list[RemoteObject]:
    async with node.sessions() as session:
        rows = await session.execute(
            select(RemoteObject)
            .where(RemoteObject.kind == kind)
            .order_by(RemoteObject.received_at.desc(), RemoteObject.id.desc())
        )
        return list(rows.scalars().all())


async def bulletin_publish(
    node: Node,
    title: str,
    markdown: str,
    summary: str | None = None,
    author: str | None = None,
    *,
    by: Principal,
    once_within: timedelta | None = None,
) -> Bulletin:
    """Publish a bulletin (Create to followers): the section's, or a mediator's with ``author``.

    With ``once_within``, the same title and text by the same author
    published that recently is returned instead of published again: a form
    sent twice (a double-click, a reload) reaches followers once. The check
    holds under concurrency: on PostgreSQL the author's row is locked first,
    and SQLite has one writer at a time.
    """
    by.require_coordinator()
    async with node.write() as session:
        actor = await _author(session, author)
        if once_within is not None:
            await session.execute(
                select(LocalActor.id).where(LocalActor.id == actor.id).with_for_update()
            )
            same = await session.scalar(
                select(Bulletin)
                .where(
                    Bulletin.local_actor_id == actor.id,
                    Bulletin.deleted_at.is_(None),
                    Bulletin.title == " ".join(title.split()),
                    Bulletin.markdown == markdown,
                    Bulletin.published >= utcnow() - once_within,
                )
                .limit(1)
            )
            if same is not None:
                return same
        bulletin = await publish_bulletin(session, node.urls, actor, title, markdown, summary)
    node.wake_delivery.set()
    return bulletin


async def _bulletin(session: Any, ref: str) -> Bulletin:
    from models.bulletins import BulletinError

    bulletin = await get_bulletin(session, ref)
    if bulletin is None:
        raise BulletinError(f"no bulletin {ref!r} on this node (see 'coopnet bulletin list')")
    return bulletin


async def bulletin_update(
    node: Node,
    ref: str,
    *,
    title: str | None = None,
    markdown: str | None = None,
    summary: str | None = None,
    by: Principal,
) -> Bulletin:
    by.require_coordinator()
    async with node.write() as session:
        bulletin = await update_bulletin(
            session,
            node.urls,
            await _bulletin(session, ref),
            title=title,
            markdown=markdown,
            summary=summary,
        )
    node.wake_delivery.set()
    return bulletin


async def bulletin_delete(node: Node, ref: str, *, by: Principal) -> Bulletin:
    by.require_coordinator()
    async with node.write() as session:
        bulletin = await delete_bulletin(session, node.urls, await _bulletin(session, ref))
    node.wake_delivery.set()
    return bulletin


async def bulletin_list(node: Node, *, by: Principal) -> list[Bulletin]:
    by.require_coordinator()
    async with node.sessions() as session:
        return await list_bulletins(session)


async def bulletin_get(node: Node, ref: str, *, by: Principal) -> Bulletin:
    """One live bulletin by uuid or URL, to edit it."""
    by.require_coordinator()
    async with node.sessions() as session:
        bulletin = await _bulletin(session, ref)
    if bulletin.deleted_at is not None:
        from models.bulletins import BulletinError

        raise BulletinError("this bulletin was deleted")
    return bulletin


def bulletin_preview(
    title: str, markdown: str, summary: str | None = None, *, by: Principal
) -> Bulletin:
    """What publishing would store (same checks, same sanitised HTML), stored nowhere."""
    by.require_coordinator()
    return draft_bulletin(title, markdown, summary)


def content_errors() -> tuple[type[Exception], ...]:
    """The domain errors a person can cause; the CLI prints them as one line."""
    from models.attestations import AttestationError
    from models.bulletins import BulletinError
    from models.mediators import MediatorError

    return (OfferError, BulletinError, MediatorError, AttestationError)
