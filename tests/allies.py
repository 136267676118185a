"""``ally(a, b)``: two running nodes become allies through the real protocol.

``a`` asks (an ``Offer`` of an ``Alliance``), ``b``'s coordinator approves
(an ``Accept``), and the helper waits until both sides hold the alliance as
accepted and each node actor follows the other (offers and bulletins flow).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from models.accounts import OPERATOR
from models.actors import RemoteActor
from models.follows import Following, FollowingState
from models.network.alliances import AllianceState, alliance_with
from node.network.alliances import peer_approve, peer_ask
from tests.conftest import RunningNode


async def state_at(node: RunningNode, peer: RunningNode) -> str | None:
    async with node.node.sessions() as session:
        row = await alliance_with(session, peer.actor_id)
        return row.state if row is not None else None


async def follows(node: RunningNode, peer: RunningNode) -> bool:
    async with node.node.sessions() as session:
        state = await session.scalar(
            select(Following.state)
            .join(RemoteActor, RemoteActor.id == Following.remote_actor_id)
            .where(RemoteActor.uri == peer.actor_id)
        )
    return state == FollowingState.ACCEPTED


async def wait_for(check: object, what: str, within: float = 30.0) -> None:
    """Poll an async predicate until true (raises AssertionError with ``what``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def ally(a: RunningNode, b: RunningNode) -> None:
    """a asks b, b approves, both accepted and following each other."""
    asked = await peer_ask(a.node, b.acct, by=OPERATOR)
    if not asked.accepted:

        async def pending() -> bool:
            return await state_at(b, a) == AllianceState.PENDING

        await wait_for(pending, f"{a.acct}'s request to reach {b.acct}")
        await peer_approve(b.node, a.actor_id, by=OPERATOR)

    async def both() -> bool:
        return (
            await state_at(a, b) == AllianceState.ACCEPTED
            and await state_at(b, a) == AllianceState.ACCEPTED
            and await follows(a, b)
            and await follows(b, a)
        )

    await wait_for(both, f"the alliance of {a.acct} and {b.acct} to be accepted both ways")


async def ally_with_fake(node: RunningNode, peer_uri: str, role: str = "section") -> None:
    """An accepted alliance with a test peer that does not run coopnet (the
    Mastodon-like peer or a hostile actor dressed as a section): only this
    side's row, written directly, since such a peer cannot answer the protocol."""
    from models.network.alliances import Alliance

    async with node.node.write() as session:
        row = await alliance_with(session, peer_uri)
        if row is None:
            row = Alliance(peer_uri=peer_uri, peer_role=role, state=AllianceState.REQUESTED)
            session.add(row)
            await session.flush()
        if row.state != AllianceState.ACCEPTED:
            row.move_to(AllianceState.ACCEPTED)


async def ally_rows(a: RunningNode, b: RunningNode) -> None:
    """Accepted rows on both sides, written directly: for nodes whose workers a
    test steps by hand (``run_workers=False``), which cannot run the protocol
    on their own. Everyone else uses ``ally``."""
    await ally_with_fake(a, b.actor_id, b.config.role)
    await ally_with_fake(b, a.actor_id, a.config.role)
