"""The full document of one of our actors, with its attestation links."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import LocalActor
from models.attestations import actor_links
from models.to_ap import actor_to_ap
from models.urls import Urls


async def actor_document(
    session: AsyncSession,
    urls: Urls,
    actor: LocalActor,
    role: str | None = None,
    seat: str | None = None,
) -> dict[str, Any]:
    """``seat``: the network's seat, whose authorisation (only) a node actor links."""
    links = await actor_links(session, urls, actor, seat)
    return actor_to_ap(urls, actor, role=role, links=links)
