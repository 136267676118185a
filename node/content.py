"""Actions on what a node publishes: mediators, offers, bulletins.

Like node.actions, each is one transaction (the change and the deliveries
it causes, or nothing) and is what both the CLI and the web UI call.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select

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
from models.errors import NotFound
from models.mediators import (
    Profile,
    add_mediator,
    get_mediator,
    list_mediators,
    remove_mediator,
    update_mediator,
)
from models.offers import (
    Offer,
    OfferDraft,
    OfferError,
    check_draft,
    end_offer,
    get_offer,
    list_offers,
    publish_offer,
    update_offer,
)
from models.posts import RemoteObject
from models.replies import (
    FediMessage,
    answers_to,
    get_message,
    list_inbox,
    mark_read,
    send_answer,
    subject_of,
    unread_count,
)
from node.context import Node


async def _author(session: Any, username: str | None) -> LocalActor:
    if username is None:
        return await get_node_actor(session)
    actor = await get_local_actor(session, username)
    if actor is None or actor.deleted_at is not None:
        raise OfferError(f"no actor {username!r} on this node (see 'coopnet mediator list')")
    return actor


async def mediator_add(node: Node, username: str, profile: Profile, *, by: Principal) -> LocalActor:
    by.require_coordinator()
    async with node.write() as session:
        return await add_mediator(session, username, profile)


async def mediator_get(node: Node, username: str, *, by: Principal) -> LocalActor:
    """A mediator's actor, for a person who may act for it (its own pages)."""
    async with node.sessions() as session:
        actor = await get_mediator(session, username)
    by.require_mediator(actor.id)
    return actor


async def mediator_update(
    node: Node, username: str, profile: Profile, *, by: Principal
) -> LocalActor:
    async with node.write() as session:
        by.require_mediator((await get_mediator(session, username)).id)
        actor = await update_mediator(session, node.urls, username, profile)
    node.wake_delivery.set()
    return actor


async def mediator_remove(node: Node, username: str, *, by: Principal) -> LocalActor:
    """Revoke its certification (if any), then Delete the actor; its records stay."""
    by.require_coordinator()
    async with node.write() as session:
        live = await live_issued_for(session, node.urls.actor(username))
        if live is not None:
            await revoke(session, node.urls, live)
        actor = await remove_mediator(session, node.urls, username)
    node.wake_delivery.set()
    return actor


async def _speaker(session: Any, username: str, by: Principal) -> LocalActor:
    """An actor ``by`` may speak as: one of the section's mediators, or the node
    actor itself (the section's own offers and the replies sent to it), which is
    the coordinators'."""
    actor = await get_local_actor(session, username)
    if actor is not None and actor.is_node:
        by.require_coordinator()
        return actor
    actor = await get_mediator(session, username)
    by.require_mediator(actor.id)
    return actor


async def speaker_get(node: Node, username: str, *, by: Principal) -> LocalActor:
    """A mediator, or the node actor, for a person who may speak as it."""
    async with node.sessions() as session:
        return await _speaker(session, username, by)


async def mediator_list(node: Node, include_removed: bool = False) -> list[LocalActor]:
    """Public: the same list as the /mediators page."""
    async with node.sessions() as session:
        return await list_mediators(session, include_removed=include_removed)


def _may_author(by: Principal, actor: LocalActor) -> None:
    """The node actor speaks for the section (coordinators); a mediator for itself."""
    if actor.is_node:
        by.require_coordinator()
    else:
        by.require_mediator(actor.id)


async def offer_publish(
    node: Node, draft: OfferDraft, author: str | None = None, *, by: Principal
) -> Offer:
    async with node.write() as session:
        actor = await _author(session, author)
        _may_author(by, actor)
        offer = await publish_offer(session, node.urls, actor, draft)
    node.wake_delivery.set()
    return offer


async def _offer(session: Any, node: Node, ref: str, by: Principal) -> Offer:
    """The offer, once ``by`` is shown to speak for its author (before anything is written)."""
    offer = await get_offer(session, ref)
    if offer is None:
        raise OfferError(f"no offer {ref!r} on this node (see 'coopnet offer list')")
    actor = await session.get(LocalActor, offer.local_actor_id)
    assert actor is not None
    _may_author(by, actor)
    return offer


async def offer_get(node: Node, ref: str, *, by: Principal) -> Offer:
    """An offer in any state, for a person who may edit it."""
    async with node.sessions() as session:
        return await _offer(session, node, ref, by)


async def offer_update(node: Node, ref: str, changes: dict[str, Any], *, by: Principal) -> Offer:
    async with node.write() as session:
        offer = await update_offer(
            session, node.urls, await _offer(session, node, ref, by), changes
        )
    node.wake_delivery.set()
    return offer


async def offer_withdraw(node: Node, ref: str, *, by: Principal) -> Offer:
    async with node.write() as session:
        offer = await end_offer(session, node.urls, await _offer(session, node, ref, by))
    node.wake_delivery.set()
    return offer


def offer_preview(draft: OfferDraft) -> Offer:
    """What publishing ``draft`` would show (``content`` is the sanitised HTML);
    raises the same OfferError publishing would. Nothing is written."""
    return check_draft(draft)


async def mediator_offers(
    node: Node, username: str, *, by: Principal, offset: int = 0, limit: int = 30
) -> tuple[list[Offer], int]:
    """A mediator's (or the section's own) offers in every state, newest first,
    and how many in all."""
    actor = await speaker_get(node, username, by=by)
    async with node.sessions() as session:
        where = Offer.local_actor_id == actor.id
        total = await session.scalar(select(func.count()).select_from(Offer).where(where))
        rows = await session.scalars(
            select(Offer)
            .where(where)
            .order_by(Offer.published.desc(), Offer.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows.all()), int(total or 0)


async def offer_list(node: Node, *, include_ended: bool = False) -> list[Offer]:
    async with node.sessions() as session:
        return await list_offers(session, include_ended=include_ended)


# ----------------------------------------------------------------------------- a mediator's inbox
# Replies and mentions from the fediverse (models/replies.py), read and
# answered by whoever may act for the mediator they were sent to.


async def inbox_unread(node: Node, *, by: Principal) -> dict[str, int]:
    """Unread messages per actor this person speaks for: their mediators and, for a
    coordinator, the section's own actor (not every mediator's mail: a coordinator
    may read it, but it is not theirs to answer first)."""
    if not by.mediators and not by.coordinator:
        return {}
    async with node.sessions() as session:
        mine = [LocalActor.id.in_(sorted(by.mediators))]
        if by.coordinator:
            mine.append(LocalActor.is_node.is_(True))
        actors = await session.scalars(
            select(LocalActor)
            .where(or_(*mine), LocalActor.deleted_at.is_(None))
            .order_by(LocalActor.username)
        )
        return {a.username: await unread_count(session, [a.id]) for a in actors}


async def mediator_overview(node: Node, username: str, *, by: Principal) -> tuple[LocalActor, int]:
    """A mediator's (or the node's) actor and its unread messages, for a person
    who may speak as it."""
    actor = await speaker_get(node, username, by=by)
    async with node.sessions() as session:
        return actor, await unread_count(session, [actor.id])


async def inbox_list(
    node: Node, username: str, *, by: Principal, offset: int = 0, limit: int = 20
) -> tuple[list[FediMessage], int, int]:
    """(messages newest first, how many in all, how many unread)."""
    actor = await speaker_get(node, username, by=by)
    async with node.sessions() as session:
        rows, total = await list_inbox(session, actor.id, offset=offset, limit=limit)
        return rows, total, await unread_count(session, [actor.id])


async def _message(session: Any, node: Node, username: str, ref: int, by: Principal) -> FediMessage:
    actor = await _speaker(session, username, by)
    message = await get_message(session, ref)
    if message.local_actor_id != actor.id:
        # Someone else's message: as if it did not exist for this mediator.
        by.require_mediator(message.local_actor_id)
        raise NotFound("no such message in this inbox")
    return message


async def inbox_read(
    node: Node, username: str, ref: int, *, by: Principal
) -> tuple[FediMessage, list[FediMessage], str | None]:
    """One message, the answers already sent to it and the title of the offer or
    bulletin it answers (if any); reading it marks it read."""
    async with node.write() as session:
        message = await _message(session, node, username, ref, by)
        await mark_read(session, message.local_actor_id, message.id)
        await session.refresh(message)
        answers = await answers_to(session, message)
        return message, answers, await subject_of(session, message.in_reply_to)


async def inbox_mark_all_read(node: Node, username: str, *, by: Principal) -> int:
    async with node.write() as session:
        actor = await _speaker(session, username, by)
        return await mark_read(session, actor.id)


async def inbox_answer(
    node: Node, username: str, ref: int, text: str, *, by: Principal
) -> FediMessage:
    """A Note back to the message's author, in reply to it, through the delivery queue."""
    async with node.write() as session:
        message = await _message(session, node, username, ref, by)
        answer = await send_answer(session, node.urls, message, text)
    node.wake_delivery.set()
    return answer


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
