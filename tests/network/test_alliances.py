"""Alliances between real nodes on loopback (issue 11, item 2).

Each test runs real nodes (their own database, their own server, signed
HTTP between them): one asks, the other approves or rejects; either ends;
both asking at once ends accepted; answers forged by any actor other than
the peer's node actor change nothing; requests from non-coopnet actors,
malformed requests and requests from a blocked domain change nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy import select

from models.accounts import OPERATOR
from models.actors import get_local_actor, get_node_actor
from models.follows import Following
from models.inbox import InboxItem, InboxState
from models.mediators import Profile
from models.network.alliance_protocol import offer_activity
from models.network.alliances import (
    Alliance,
    AllianceError,
    AllianceState,
    alliance_with,
    seat_of,
    sections_of,
)
from models.outbox import enqueue, new_uuid
from node import content
from node.network import alliances, blocks
from tests.allies import ally, follows, state_at, wait_for
from tests.conftest import MakeNode, RunningNode
from tests.peers.mastodon import AS_CONTEXT, MastodonLikePeer


async def row_at(node: RunningNode, peer: RunningNode) -> Alliance | None:
    async with node.node.sessions() as session:
        return await alliance_with(session, peer.actor_id)


async def processed(node: RunningNode, activity_id: str) -> InboxItem:
    async def done() -> bool:
        async with node.node.sessions() as session:
            item = await session.scalar(
                select(InboxItem).where(InboxItem.activity_uri == activity_id)
            )
        return item is not None and item.state != InboxState.PENDING

    await wait_for(done, f"{activity_id} processed at {node.acct}")
    async with node.node.sessions() as session:
        item = await session.scalar(select(InboxItem).where(InboxItem.activity_uri == activity_id))
    assert item is not None
    return item


async def send_as(
    sender: RunningNode, username: str | None, target: RunningNode, activity: dict[str, Any]
) -> str:
    """Deliver ``activity`` signed by one of ``sender``'s actors (the node actor if no
    username): a real signature from a real actor, whatever the activity claims."""
    async with sender.node.write() as session:
        actor = (
            await get_node_actor(session)
            if username is None
            else await get_local_actor(session, username)
        )
        assert actor is not None
        activity.setdefault("id", sender.node.urls.activity(new_uuid()))
        activity.setdefault("actor", sender.node.urls.actor(actor.username))
        await enqueue(session, actor, activity, [f"{target.url}/inbox"])
    sender.node.wake_delivery.set()
    return str(activity["id"])


async def test_a_section_asks_the_seat_which_approves(make_node: MakeNode) -> None:
    seat = await make_node("siege", "seat")
    lome = await make_node("lome")
    asked = await alliances.peer_ask(lome.node, seat.acct, "Bonjour", by=OPERATOR)
    assert not asked.accepted and asked.alliance.state == AllianceState.REQUESTED

    async def pending() -> bool:
        return await state_at(seat, lome) == AllianceState.PENDING

    await wait_for(pending, "the request at the seat")
    row = await row_at(seat, lome)
    assert row is not None and row.peer_role == "section" and row.note == "Bonjour"
    assert not row.asked_by_us
    # Not accepted yet: no follows, no seat.
    assert not await follows(lome, seat) and not await follows(seat, lome)
    with pytest.raises(AllianceError, match="no request waiting"):
        await alliances.peer_approve(lome.node, seat.acct, by=OPERATOR)

    await alliances.peer_approve(seat.node, lome.actor_id, by=OPERATOR)

    async def both() -> bool:
        return (
            await state_at(lome, seat) == await state_at(seat, lome) == AllianceState.ACCEPTED
            and await follows(lome, seat)
            and await follows(seat, lome)
        )

    await wait_for(both, "accepted on both sides, each following the other")
    async with lome.node.sessions() as session:
        mine = await seat_of(session)
        assert mine is not None and mine.peer_uri == seat.actor_id
    async with seat.node.sessions() as session:
        assert [s.peer_uri for s in await sections_of(session)] == [lome.actor_id]
        assert await seat_of(session) is None

    # The seat ends it: both sides ended, the follows end both ways.
    await alliances.peer_remove(seat.node, lome.acct, "fin", by=OPERATOR)

    async def ended() -> bool:
        return (
            await state_at(lome, seat) == AllianceState.ENDED
            and await lome.count(Following) == 0
            and await seat.count(Following) == 0
        )

    await wait_for(ended, "the alliance ended on both sides, follows gone")
    row = await row_at(lome, seat)
    assert row is not None and row.note == "fin"


async def test_a_late_end_does_not_undo_a_renewed_alliance(make_node: MakeNode) -> None:
    """A section ends its alliance and asks again; its renewed request reaches the
    seat before its end (a delivery retried later). The late Reject names the old
    request: it changes nothing, both sides stay allied."""
    seat = await make_node("siege", "seat")
    lome = await make_node("lome")
    await ally(lome, seat)
    old = await row_at(seat, lome)
    assert old is not None
    stale_request = old.request_uri
    # The renewed request, as Lomé sends it after ending (its end still on the way).
    renewed = lome.node.urls.activity(new_uuid())
    await send_as(
        lome,
        None,
        seat,
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": renewed,
            "type": "Offer",
            "to": [seat.actor_id],
            "object": {
                "id": f"{renewed}#alliance",
                "type": "Alliance",
                "role": "section",
                "content": "Encore nous",
            },
        },
    )
    item = await processed(seat, renewed)
    assert item.error is None, item.error
    row = await row_at(seat, lome)
    assert row is not None and row.state == AllianceState.ACCEPTED
    assert row.request_uri == renewed and row.other_request_uri == ""
    late = await send_as(
        lome,
        None,
        seat,
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "type": "Reject",
            "to": [seat.actor_id],
            "object": stale_request,
        },
    )
    item = await processed(seat, late)
    assert item.error is not None and "Reject of nothing" in item.error
    assert await state_at(seat, lome) == AllianceState.ACCEPTED
    # A Reject of the current request still ends it.
    ended = await send_as(
        lome,
        None,
        seat,
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "type": "Reject",
            "to": [seat.actor_id],
            "object": renewed,
        },
    )
    await processed(seat, ended)
    assert await state_at(seat, lome) == AllianceState.ENDED


async def test_reject_then_ask_again(make_node: MakeNode) -> None:
    lome = await make_node("lome")
    mars = await make_node("marseille")
    await alliances.peer_ask(mars.node, lome.acct, by=OPERATOR)

    async def pending() -> bool:
        return await state_at(lome, mars) == AllianceState.PENDING

    await wait_for(pending, "the request at lome")
    await alliances.peer_reject(lome.node, mars.acct, "pas encore", by=OPERATOR)

    async def rejected() -> bool:
        return await state_at(mars, lome) == AllianceState.REJECTED

    await wait_for(rejected, "the refusal at marseille")
    row = await row_at(mars, lome)
    assert row is not None and row.note == "pas encore"
    assert await mars.count(Following) == 0
    with pytest.raises(AllianceError, match="no request waiting"):
        await alliances.peer_reject(lome.node, mars.acct, by=OPERATOR)

    # Asked again after the refusal: the real protocol all the way.
    await ally(mars, lome)
    with pytest.raises(AllianceError, match="already an ally"):
        await alliances.peer_ask(mars.node, lome.acct, by=OPERATOR)


async def test_withdrawing_our_request(make_node: MakeNode) -> None:
    lome = await make_node("lome")
    mars = await make_node("marseille")
    await alliances.peer_ask(mars.node, lome.acct, by=OPERATOR)

    async def pending() -> bool:
        return await state_at(lome, mars) == AllianceState.PENDING

    await wait_for(pending, "the request at lome")
    with pytest.raises(AllianceError, match="peer reject"):
        await alliances.peer_remove(lome.node, mars.acct, by=OPERATOR)
    await alliances.peer_remove(mars.node, lome.acct, by=OPERATOR)

    async def withdrawn() -> bool:
        return await state_at(lome, mars) == AllianceState.ENDED

    await wait_for(withdrawn, "the request withdrawn at lome")
    with pytest.raises(AllianceError, match="no request waiting"):
        await alliances.peer_approve(lome.node, mars.acct, by=OPERATOR)


async def test_both_asking_at_once_ends_accepted(make_node: MakeNode) -> None:
    lome = await make_node("lome")
    mars = await make_node("marseille")
    await asyncio.gather(
        alliances.peer_ask(lome.node, mars.acct, by=OPERATOR),
        alliances.peer_ask(mars.node, lome.acct, by=OPERATOR),
    )

    async def both() -> bool:
        return (
            await state_at(lome, mars) == await state_at(mars, lome) == AllianceState.ACCEPTED
            and await follows(lome, mars)
            and await follows(mars, lome)
        )

    await wait_for(both, "both accepted after crossing requests")
    # Either may end it later, naming either request: both sides end.
    await alliances.peer_remove(mars.node, lome.acct, by=OPERATOR)

    async def ended() -> bool:
        return await state_at(lome, mars) == AllianceState.ENDED

    await wait_for(ended, "the crossed alliance ended on both sides")


async def test_answers_from_anyone_but_the_peer_change_nothing(
    make_node: MakeNode, caplog: pytest.LogCaptureFixture
) -> None:
    """A mediator on the peer's own server, and a third node, answer our request."""
    lome = await make_node("lome")
    mars = await make_node("marseille")
    other = await make_node("lille")
    await content.mediator_add(mars.node, "lea", Profile(name="Léa"), by=OPERATOR)
    await alliances.peer_ask(lome.node, mars.acct, by=OPERATOR)
    row = await row_at(lome, mars)
    assert row is not None
    request = row.request_uri
    caplog.set_level(logging.WARNING, "coopnet.alliances")

    for sender, username in ((mars, "lea"), (other, None)):
        ident = await send_as(
            sender, username, lome, {"@context": AS_CONTEXT, "type": "Accept", "object": request}
        )
        item = await processed(lome, ident)
        assert item.state == InboxState.DONE
        assert await state_at(lome, mars) == AllianceState.REQUESTED
    assert sum("not from the peer" in r.getMessage() for r in caplog.records) == 2

    # Once accepted, a forged Reject does not end it either.
    await wait_for(lambda: _is(mars, lome, AllianceState.PENDING), "the request at marseille")  # type: ignore[arg-type]
    await alliances.peer_approve(mars.node, lome.acct, by=OPERATOR)
    await wait_for(lambda: _is(lome, mars, AllianceState.ACCEPTED), "accepted")  # type: ignore[arg-type]
    ident = await send_as(
        other, None, lome, {"@context": AS_CONTEXT, "type": "Reject", "object": request}
    )
    await processed(lome, ident)
    assert await state_at(lome, mars) == AllianceState.ACCEPTED


async def _is(node: RunningNode, peer: RunningNode, state: AllianceState) -> bool:
    return await state_at(node, peer) == state


async def test_a_request_from_a_non_coopnet_actor_is_refused(
    make_node: MakeNode, caplog: pytest.LogCaptureFixture
) -> None:
    lome = await make_node("lome")
    caplog.set_level(logging.WARNING, "coopnet.alliances")
    async with MastodonLikePeer() as peer:
        offer_id = f"{peer.actor_id()}/offers/1"
        offer = {
            "@context": AS_CONTEXT,
            "id": offer_id,
            "type": "Offer",
            "actor": peer.actor_id(),
            "to": [lome.actor_id],
            "object": {"id": f"{offer_id}#a", "type": "Alliance", "role": "section"},
        }
        assert await peer.sign_and_post(f"{lome.url}/inbox", offer) == 202
        await processed(lome, offer["id"])
    assert await lome.count(Alliance) == 0
    assert any("not a coopnet node" in r.getMessage() for r in caplog.records)


def _without(obj: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != key}


MALFORMED: list[tuple[str, Any]] = [
    ("public", lambda o, me: o | {"cc": ["https://www.w3.org/ns/activitystreams#Public"]}),
    ("not to us", lambda o, me: o | {"to": ["https://elsewhere.example/users/x"]}),
    ("no object id", lambda o, me: o | {"object": _without(o["object"], "id")}),
    ("false role", lambda o, me: o | {"object": o["object"] | {"role": "seat"}}),
    ("object by reference", lambda o, me: o | {"object": "https://x.example/a"}),
]  # fmt: skip


async def test_malformed_alliance_offers_are_refused(
    make_node: MakeNode, caplog: pytest.LogCaptureFixture
) -> None:
    lome = await make_node("lome")
    mars = await make_node("marseille")
    caplog.set_level(logging.WARNING, "coopnet.alliances")
    async with mars.node.sessions() as session:
        actor = await get_node_actor(session)
    for what, spoil in MALFORMED:
        ident = mars.node.urls.activity(new_uuid())
        good = offer_activity(mars.node.urls, actor, lome.actor_id, "section", ident, "")
        before = len(caplog.records)
        await send_as(mars, None, lome, spoil(good, lome.actor_id))
        item = await processed(lome, ident)
        assert item.state == InboxState.DONE, what
        assert await lome.count(Alliance) == 0, what
        if what != "object by reference":  # no Alliance type to see: the SEL handler's line
            assert any("alliance request" in r.getMessage() for r in caplog.records[before:]), what


async def test_a_blocked_domain_cannot_ask(make_node: MakeNode) -> None:
    lome = await make_node("lome")
    mars = await make_node("marseille")
    await blocks.domain_block(lome.node, mars.url, "spam", by=OPERATOR)
    await alliances.peer_ask(mars.node, lome.actor_id, by=OPERATOR)

    async def tried() -> bool:
        from models.outbox import Delivery

        async with mars.node.sessions() as session:
            rows = (await session.execute(select(Delivery))).scalars().all()
        return any(d.last_status == 403 or d.attempts > 0 for d in rows)

    await wait_for(tried, "marseille's delivery tried and refused")
    assert await lome.count(Alliance) == 0
    assert await lome.count(InboxItem) == 0
    # And lome cannot ask a blocked node either.
    with pytest.raises(Exception, match="blocked|cannot reach"):
        await alliances.peer_ask(lome.node, mars.acct, by=OPERATOR)


async def test_role_rules(make_node: MakeNode) -> None:
    seat = await make_node("siege", "seat")
    seat2 = await make_node("autre", "seat")
    lome = await make_node("lome")
    with pytest.raises(AllianceError, match="a seat allies with sections"):
        await alliances.peer_ask(seat.node, seat2.acct, by=OPERATOR)
    await ally(lome, seat)
    # A second seat is refused, whoever asks.
    with pytest.raises(AllianceError, match="already has a seat"):
        await alliances.peer_ask(lome.node, seat2.acct, by=OPERATOR)
    await alliances.peer_ask(seat2.node, lome.acct, by=OPERATOR)
    await wait_for(lambda: _is(lome, seat2, AllianceState.PENDING), "seat2's request")  # type: ignore[arg-type]
    with pytest.raises(AllianceError, match="already has a seat"):
        await alliances.peer_approve(lome.node, seat2.acct, by=OPERATOR)
    # A section configured with a seat allies with that seat only.
    mars = await make_node("marseille", network_seat=seat.actor_id)
    with pytest.raises(AllianceError, match="trusts the seat"):
        await alliances.peer_ask(mars.node, seat2.acct, by=OPERATOR)
    await ally(mars, seat)
    # Unknown peers and non-coopnet targets give errors that say what to do.
    with pytest.raises(Exception, match="peer list"):
        await alliances.peer_approve(lome.node, "nobody@nowhere.example", by=OPERATOR)
