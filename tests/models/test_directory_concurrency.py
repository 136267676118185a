"""Two workers storing the same peer offer at once (PostgreSQL, several processes).

An inbox batch and a backfill may hold the same offer in two transactions at
the same moment. The second one waits for the first on the offer's unique
id, then refreshes the row instead of failing on a duplicate key.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from models.network.alliances import Alliance, AllianceState
from models.network.directory import RemoteOffer, keep_offer, parse_offer
from tests.conftest import MakeNode

PEER = "https://mars.example/users/marseille"
AUTHOR = "https://mars.example/users/nadia"


def offer(title: str) -> dict[str, object]:
    return {
        "id": "https://mars.example/offers/1",
        "type": ["Proposal", "Note"],
        "attributedTo": AUTHOR,
        "name": title,
        "content": "<p>Une offre.</p>",
    }


@pytest.mark.postgresql_only
async def test_the_same_offer_kept_by_two_transactions_at_once_is_one_row(
    make_node: MakeNode,
) -> None:
    rn = await make_node("lome", run_workers=False)
    async with rn.node.write() as session:
        session.add(
            Alliance(
                peer_uri=PEER,
                peer_handle="marseille@mars.example",
                peer_name="Marseille",
                peer_role="section",
                state=AllianceState.ACCEPTED,
            )
        )
    first_kept = asyncio.Event()

    async def keep(title: str, hold: bool) -> str:
        async with rn.node.sessions() as session, session.begin():
            peer = await session.scalar(select(Alliance).where(Alliance.peer_uri == PEER))
            assert peer is not None
            line = await keep_offer(session, peer, parse_offer(offer(title)))
            if hold:  # the first one keeps its transaction open a moment
                first_kept.set()
                await asyncio.sleep(0.5)
            return line

    async def second() -> str:
        await first_kept.wait()
        return await keep("Offre corrigée", hold=False)

    lines = await asyncio.gather(keep("Offre", hold=True), second())
    assert all(line.startswith("directory: kept offer") for line in lines), lines
    async with rn.node.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RemoteOffer)) == 1
        row = await session.scalar(select(RemoteOffer))
    assert row is not None and row.title == "Offre corrigée"
