"""Asking for contact is bounded per person: five requests a day, one open per offer.

The limits are what keep a member's requests from becoming a way to spam a
peer section's mediators; a day later the person may ask again.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models.accounts import OPERATOR, User
from models.actors import RemoteActor, get_node_actor
from models.base import clock
from models.network.alliances import Alliance, AllianceState
from models.network.contact import MAX_PER_DAY, ContactError, ContactRequest, ask_contact
from models.network.directory import RemoteOffer, keep_offer, parse_offer
from node import sel, users
from tests.clock import FakeClock
from tests.conftest import MakeNode

PEER = "https://mars.example/users/marseille"
AUTHOR = "https://mars.example/users/nadia"


async def test_five_requests_a_day_and_one_open_request_per_offer(make_node: MakeNode) -> None:
    rn = await make_node("lome", run_workers=False)
    await sel.account_open(rn.node, "awa", "Awa", None, None, by=OPERATOR)
    await users.user_add(rn.node, OPERATOR, "awa", ["member:awa"], "Awa")
    time = FakeClock()
    with clock(time):
        async with rn.node.write() as session:
            peer = Alliance(
                peer_uri=PEER,
                peer_handle="marseille@mars.example",
                peer_name="Marseille",
                peer_role="section",
                state=AllianceState.ACCEPTED,
            )
            session.add(peer)
            session.add(
                RemoteActor(
                    uri=AUTHOR,
                    type="Person",
                    preferred_username="nadia",
                    inbox=f"{AUTHOR}/inbox",
                )
            )
            await session.flush()
            for n in range(MAX_PER_DAY + 2):
                obj = {
                    "id": f"https://mars.example/offers/{n}",
                    "type": ["Proposal", "Note"],
                    "attributedTo": AUTHOR,
                    "name": f"Offre {n}",
                    "content": "<p>Une offre.</p>",
                }
                await keep_offer(session, peer, parse_offer(obj))

        async def ask(n: int) -> ContactRequest:
            async with rn.node.write() as session:
                user = await session.scalar(select(User).where(User.name == "awa"))
                offer = await session.scalar(
                    select(RemoteOffer).where(RemoteOffer.uri == f"https://mars.example/offers/{n}")
                )
                author = await session.scalar(select(RemoteActor).where(RemoteActor.uri == AUTHOR))
                assert user is not None and offer is not None and author is not None
                node = await get_node_actor(session)
                return await ask_contact(
                    session,
                    rn.node.urls,
                    node,
                    user.id,
                    offer,
                    author,
                    "Bonjour, j'aimerais en savoir plus.",
                )

        await ask(0)
        with pytest.raises(ContactError, match="already asked about this offer"):
            await ask(0)
        for n in range(1, MAX_PER_DAY):
            await ask(n)
        with pytest.raises(ContactError, match="try again tomorrow"):
            await ask(MAX_PER_DAY)
        async with rn.node.sessions() as session:
            assert len((await session.scalars(select(ContactRequest))).all()) == MAX_PER_DAY
        time.advance(timedelta(days=1, minutes=1))
        await ask(MAX_PER_DAY)
        with pytest.raises(ContactError, match="write a short message"):
            async with rn.node.write() as session:
                user = await session.scalar(select(User).where(User.name == "awa"))
                offer = await session.scalar(select(RemoteOffer).limit(1))
                author = await session.scalar(select(RemoteActor).where(RemoteActor.uri == AUTHOR))
                assert user is not None and offer is not None and author is not None
                node = await get_node_actor(session)
                await ask_contact(session, rn.node.urls, node, user.id, offer, author, "   ")
