"""Create, Update and Delete of our objects, queued to the author's followers.

One function for every kind of object (notes, offers, bulletins, actors),
so addressing, the activity's shape and delivery are decided once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import CONTEXT, PUBLIC, first_type
from models.actors import LocalActor
from models.base import utcnow
from models.follows import follower_inboxes
from models.outbox import Activity, enqueue, new_uuid
from models.to_ap import iso
from models.urls import Urls


def strip_context(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "@context"}


async def publish_activity(
    session: AsyncSession,
    urls: Urls,
    actor: LocalActor,
    verb: str,
    obj: dict[str, Any] | str,
    *,
    extra: dict[str, Any] | None = None,
) -> Activity:
    """A public activity by ``actor`` about ``obj``, to every follower inbox.

    A mediator's activities also go to the followers of its section's node
    actor: following a section means receiving what its mediators publish
    (peer sections learn their offers that way).
    """
    now = utcnow()
    actor_id = urls.actor(actor.username)
    # The object's own terms (FEP-0837's for an offer) must be defined where
    # it travels: inside the activity, whose @context is the only one that counts.
    context = obj.get("@context", CONTEXT) if isinstance(obj, dict) else CONTEXT
    activity: dict[str, Any] = {
        "@context": context,
        "id": urls.activity(new_uuid()),
        "type": verb,
        "actor": actor_id,
        "published": iso(now),
        "to": [PUBLIC],
        "cc": [urls.followers(actor.username)],
        "object": strip_context(obj) if isinstance(obj, dict) else obj,
    }
    if extra:
        activity.update(extra)
    inboxes = await follower_inboxes(session, actor.id)
    if not actor.is_node:
        node = (
            await session.execute(select(LocalActor).where(LocalActor.is_node.is_(True)))
        ).scalar_one_or_none()
        if node is not None:
            activity["cc"].append(urls.followers(node.username))
            inboxes += await follower_inboxes(session, node.id)
    return await enqueue(session, actor, activity, inboxes, public=True, now=now)


def tombstone(uri: str, former: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": uri, "type": "Tombstone", "deleted": iso(utcnow())}
    kind = first_type(former) if former else None
    if kind:
        doc["formerType"] = kind
    return doc
