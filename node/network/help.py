"""Club Aide actions (models/network/help.py), called by the pages and the CLI.

Each is one transaction with the acting person checked there: a person asks
for themselves, acts on their own requests only, and offers in their own
name. Views name a section (never a requester) for each request and offer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from models.accounts import Principal
from models.base import utcnow
from models.network import help as club_aide
from models.network.alliances import Alliance
from models.network.help import HelpOffer, HelpRequest
from node.context import Node


@dataclass(frozen=True)
class OfferView:
    offer: HelpOffer
    #: The section the responder belongs to (ours or an ally's).
    section: str


@dataclass(frozen=True)
class RequestView:
    request: HelpRequest
    state: str
    section: str
    offers: list[OfferView]
    #: For the network list: this person already offered help on it.
    offered: bool = False


async def _sections(node: Node, session: object) -> dict[str, str]:
    rows = (await session.scalars(select(Alliance))).all()  # type: ignore[attr-defined]
    names = {a.peer_uri: a.peer_name or a.peer_handle or a.peer_uri for a in rows}
    names[node.urls.actor(node.node_username)] = node.config.title or node.config.name
    return names


async def ask(
    node: Node,
    by: Principal,
    title: str,
    description: str,
    category: str = "",
    area: str = "",
) -> HelpRequest:
    async with node.write() as session:
        return await club_aide.ask(session, node.urls, by, title, description, category, area)


async def accept(
    node: Node, by: Principal, request_uuid: str, offer_uuid: str, message: str = ""
) -> HelpOffer:
    async with node.write() as session:
        return await club_aide.accept_offer(
            session, node.urls, by, request_uuid, offer_uuid, message
        )


async def outcome(
    node: Node, by: Principal, request_uuid: str, result: str, note: str = ""
) -> HelpRequest:
    async with node.write() as session:
        return await club_aide.report_outcome(session, node.urls, by, request_uuid, result, note)


async def withdraw(node: Node, by: Principal, request_uuid: str) -> HelpRequest:
    async with node.write() as session:
        return await club_aide.withdraw(session, node.urls, by, request_uuid)


async def offer(
    node: Node, by: Principal, request_uuid: str, message: str, signature: str = ""
) -> HelpOffer:
    async with node.write() as session:
        return await club_aide.offer_help(session, node.urls, by, request_uuid, message, signature)


async def my_requests(node: Node, by: Principal) -> list[RequestView]:
    if by.user_id is None:
        return []
    now = utcnow()
    async with node.sessions() as session:
        names = await _sections(node, session)
        rows = await club_aide.my_requests(session, by.user_id)
    return [
        RequestView(
            r.request,
            r.request.shown_state(now),
            names.get(r.request.origin_uri, ""),
            [OfferView(o, names.get(o.responder_node_uri, o.responder_node_uri)) for o in r.offers],
        )
        for r in rows
    ]


async def network_requests(node: Node, by: Principal) -> list[RequestView]:
    now = utcnow()
    async with node.sessions() as session:
        names = await _sections(node, session)
        rows = await club_aide.open_requests(session, by.user_id)
        mine = (
            {r.id for _, r in await club_aide.my_offers(session, by.user_id)}
            if by.user_id is not None
            else set()
        )
    return [
        RequestView(r, r.shown_state(now), names.get(r.origin_uri, r.origin_uri), [], r.id in mine)
        for r in rows
    ]


async def my_offers(node: Node, by: Principal) -> list[tuple[HelpOffer, RequestView]]:
    if by.user_id is None:
        return []
    now = utcnow()
    async with node.sessions() as session:
        names = await _sections(node, session)
        rows = await club_aide.my_offers(session, by.user_id)
    return [
        (o, RequestView(r, r.shown_state(now), names.get(r.origin_uri, r.origin_uri), []))
        for o, r in rows
    ]


async def counts(node: Node, by: Principal) -> dict[str, dict[str, int]]:
    """The coordinator's view: numbers by state, no person named."""
    by.require_coordinator()
    async with node.sessions() as session:
        return await club_aide.state_counts(session)


async def figures(node: Node, by: Principal, first_day: date, last_day: date) -> dict[str, int]:
    by.require_coordinator()
    async with node.sessions() as session:
        return await club_aide.help_figures(session, first_day, last_day)
