"""Peer sections receive what a section's mediators publish."""

from __future__ import annotations

from sqlalchemy import select

from models.accounts import OPERATOR
from node.actions import follow, list_following
from tests.conftest import MakeNode
from tests.node.test_sel_exchanges import until


async def test_following_a_section_brings_its_mediators_offers(make_node: MakeNode) -> None:
    """A peer section follows the node actor only, and still lists the offers of
    that section's mediators (they reach the node's followers too)."""
    from models.mediators import Profile
    from models.offers import OfferDraft
    from models.posts import RemoteObject
    from node.content import mediator_add, offer_publish

    lome = await make_node("lome")
    mars = await make_node("marseille")
    await follow(mars.node, lome.acct, by=OPERATOR)

    async def accepted() -> bool:
        return any(r.state == "accepted" for r in await list_following(mars.node, by=OPERATOR))

    await until(accepted, "marseille following lome")
    await mediator_add(lome.node, "kossi", Profile(name="Kossi"), by=OPERATOR)
    offer = await offer_publish(
        lome.node,
        OfferDraft(title="Formation", description="Une formation.", price="5"),
        author="kossi",
        by=OPERATOR,
    )

    async def arrived() -> bool:
        return await mars.count(RemoteObject, RemoteObject.uri == offer.uri) == 1

    await until(arrived, "the mediator's offer at the peer section")
    async with mars.node.sessions() as session:
        row = (await session.execute(select(RemoteObject))).scalar_one()
    assert row.kind == "offer" and row.actor_uri == f"{lome.url}/users/kossi"
