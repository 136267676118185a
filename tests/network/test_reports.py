"""Reports to the seat, across three real nodes: a seat and two sections.

A's report reaches the seat and nobody else (a Mastodon follower of A, the
peer section B, A's public outbox, an unsigned fetch of its id); the seat
acknowledges it and A shows it acknowledged; the seat's dashboard shows A's
figures next to B's; reports from a non-ally, from a node allied as
something other than a section, and malformed ones are refused with nothing
stored.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from federation.http import FetchError
from models.accounts import OPERATOR
from models.actors import get_node_actor
from models.charter.hostings import Semester
from models.inbox import InboxItem
from models.network.alliances import Alliance, AllianceState, PeerRole
from models.network.reports import ReportDirection, ReportState, SectionReport
from models.outbox import Activity, Delivery, DeliveryState, enqueue, new_uuid
from node.network import reports
from tests.allies import ally
from tests.conftest import MakeNode, RunningNode
from tests.node.test_sel_exchanges import until
from tests.peers.mastodon import MastodonLikePeer, PeerError
from tests.web.browsing import invite_and_log_in

SEMESTER = Semester.of(reports.today_utc())


async def network(make_node: MakeNode) -> tuple[RunningNode, RunningNode, RunningNode]:
    seat = await make_node("siege", "seat")
    a = await make_node("lome")
    b = await make_node("marseille")
    await ally(seat, a)
    await ally(seat, b)
    await ally(a, b)
    return seat, a, b


async def stored(rn: RunningNode, direction: ReportDirection) -> list[SectionReport]:
    async with rn.node.sessions() as session:
        rows = await session.scalars(
            select(SectionReport).where(SectionReport.direction == direction)
        )
        return list(rows.all())


async def state_of(rn: RunningNode) -> str | None:
    row = await reports.report_of(rn.node, SEMESTER, by=OPERATOR)
    return row.state if row else None


async def processed(rn: RunningNode, activity_id: str) -> InboxItem:
    async def done() -> bool:
        async with rn.node.sessions() as session:
            item = await session.scalar(
                select(InboxItem).where(InboxItem.activity_uri == activity_id)
            )
            return item is not None and item.state != "pending"

    await until(done, f"{activity_id} processed")
    async with rn.node.sessions() as session:
        item = await session.scalar(select(InboxItem).where(InboxItem.activity_uri == activity_id))
        assert item is not None
        return item


async def test_a_report_reaches_the_seat_only_and_is_acknowledged(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    seat, a, b = await network(make_node)
    async with MastodonLikePeer() as peer:
        await peer.follow(a.acct)
        await until(
            lambda: _true(peer.following["alice"].get(a.actor_id) == "accepted"),
            "alice following lome",
        )
        outbox = await (await http.get(f"{a.actor_id}/outbox")).json()

        text = "# Semestre\n\nDes **progrès**.<script>alert(1)</script>"
        await reports.report_compose(a.node, SEMESTER, text, by=OPERATOR)
        sent = await reports.report_send(a.node, SEMESTER, by=OPERATOR)
        assert sent.state == ReportState.SENT and sent.activity_uri

        async def acknowledged() -> bool:
            return await state_of(a) == ReportState.ACKNOWLEDGED

        await until(acknowledged, "the seat's acknowledgement at lome")
        [kept] = await stored(seat, ReportDirection.RECEIVED)
        assert kept.section_uri == a.actor_id and kept.period == str(SEMESTER)
        assert kept.state == ReportState.ACKNOWLEDGED and kept.uri == sent.uri
        assert "<strong>progrès</strong>" in kept.text and "<script" not in kept.text
        assert kept.figures == sent.figures

        # Delivered to one inbox, the seat's; nothing queued anywhere else.
        async def delivered() -> bool:
            return await a.count(Delivery, Delivery.state == DeliveryState.PENDING) == 0

        await until(delivered, "lome's queue drained")
        async with a.node.sessions() as session:
            rows = (
                (
                    await session.execute(
                        select(Delivery).join(Activity).where(Activity.uri == sent.activity_uri)
                    )
                )
                .unique()
                .scalars()
                .all()
            )
        assert [(r.inbox, r.state) for r in rows] == [
            (f"{seat.actor_id}/inbox", DeliveryState.DELIVERED)
        ]
        body = json.loads(rows[0].activity.body)
        assert body["to"] == [seat.actor_id] and "cc" not in body
        assert body["object"]["type"] == "EvaluationReport"

        # The Mastodon follower of A received nothing of it; B nothing either.
        assert not [r for r in peer.received if "EvaluationReport" in json.dumps(r.activity)]
        assert not [r for r in peer.received if r.type == "Accept" and r.actor == seat.actor_id]
        async with b.node.sessions() as session:
            bodies = (await session.scalars(select(InboxItem.body))).all()
        assert not [x for x in bodies if "EvaluationReport" in x or sent.activity_uri in x]
        assert await stored(b, ReportDirection.RECEIVED) == []

        # A's public outbox does not list it; its activity and its id are not served.
        after = await (await http.get(f"{a.actor_id}/outbox")).json()
        assert after["totalItems"] == outbox["totalItems"]
        page = await (await http.get(f"{a.actor_id}/outbox?page=1")).text()
        assert "EvaluationReport" not in page
        activity_path = sent.activity_uri.removeprefix(a.url)
        for path in (activity_path, sent.uri.removeprefix(a.url)):
            for accept in ("application/activity+json", "text/html"):
                async with http.get(a.url + path, headers={"Accept": accept}) as resp:
                    assert resp.status == 404, (path, resp.status)
                    assert "progrès" not in await resp.text()
        # A signed fetch by the Mastodon peer or by B: still 404. By the seat: the report.
        with pytest.raises(PeerError, match="answered 404"):
            await peer.fetch_object(sent.uri)
        with pytest.raises(FetchError, match="HTTP 404"):
            await b.node.client.fetch_object(sent.uri)
        doc = await seat.node.client.fetch_object(sent.uri)
        assert doc["type"] == "EvaluationReport" and doc["semester"] == str(SEMESTER)

    # Sending again replaces the seat's copy (an Update), acknowledged again.
    await reports.report_compose(a.node, SEMESTER, "Corrigé.", by=OPERATOR)
    again = await reports.report_send(a.node, SEMESTER, by=OPERATOR)
    assert again.activity_uri != sent.activity_uri
    await until(acknowledged, "the second acknowledgement")

    async def replaced() -> bool:
        rows = await stored(seat, ReportDirection.RECEIVED)
        return len(rows) == 1 and "Corrigé" in rows[0].text

    await until(replaced, "the seat's copy replaced")
    async with seat.node.sessions() as session:
        item = await session.scalar(
            select(InboxItem).where(InboxItem.activity_uri == again.activity_uri)
        )
    assert item is not None and item.type == "Update"


async def _true(value: bool) -> bool:
    return value


async def test_the_dashboard_shows_each_sections_figures_side_by_side(
    make_node: MakeNode,
) -> None:
    from models.mediators import Profile
    from node import content

    seat, a, b = await network(make_node)
    await content.mediator_add(a.node, "ama", Profile(name="Ama"), by=OPERATOR)
    await content.mediator_add(a.node, "kossi", Profile(name="Kossi"), by=OPERATOR)
    await content.mediator_add(b.node, "lea", Profile(name="Léa"), by=OPERATOR)
    for rn in (a, b):
        await reports.report_send(rn.node, SEMESTER, by=OPERATOR)

    async def both() -> bool:
        return len(await stored(seat, ReportDirection.RECEIVED)) == 2

    await until(both, "both reports at the seat")
    board = await reports.dashboard(seat.node, by=OPERATOR)
    assert board.semester == str(SEMESTER)
    assert board.values["mediators"] == {a.actor_id: 2, b.actor_id: 1}
    assert board.totals["mediators"] == 3
    assert board.totals["hostings_aim"] == 18

    coordinator = await invite_and_log_in(seat, "claire", ["coordinator"])
    try:
        page = await coordinator.get("/admin/dashboard")
        assert page.status == 200
        assert "Lome" in page.text and "Marseille" in page.text
        assert '<svg class="chart" role="img"' in page.text and "<title id=" in page.text
        assert "<script" not in page.text
        # Side by side: one row holds A's 2, B's 1 and the network's 3.
        row = page.text.split("Médiateurs</th>", 1)[1].split("</tr>", 1)[0]
        cells = [c.split("<", 1)[0] for c in row.split("<td")[1:]]
        assert cells == [">2", ">1", ' class="total">3']
        nav = await coordinator.get("/admin/reports")
        assert 'href="/admin/dashboard"' in nav.text
    finally:
        await coordinator.close()
    # A section's coordinator sees the Reports link, not the Dashboard.
    other = await invite_and_log_in(a, "kofi", ["coordinator"])
    try:
        nav = await other.get("/admin/reports")
        assert nav.status == 200 and 'href="/admin/reports"' in nav.text
        assert 'href="/admin/dashboard"' not in nav.text
    finally:
        await other.close()


async def _send_raw(rn: RunningNode, to: RunningNode, activity: dict[str, Any]) -> str:
    """Queue a hand-made activity from ``rn``'s node actor to ``to``'s inbox: the real
    worker signs and delivers it, as a broken or hostile section's node would."""
    async with rn.node.write() as session:
        actor = await get_node_actor(session)
        await enqueue(session, actor, activity, [f"{to.actor_id}/inbox"])
    rn.node.wake_delivery.set()
    return str(activity["id"])


def _crafted(rn: RunningNode, seat: RunningNode, **changes: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": f"{rn.url}/reports/{new_uuid()}",
        "type": "EvaluationReport",
        "attributedTo": rn.actor_id,
        "to": [seat.actor_id],
        "semester": str(SEMESTER),
        "figures": {"mediators": 1},
        "content": "<p>ok</p>",
    }
    activity: dict[str, Any] = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{rn.url}/activities/{new_uuid()}",
        "type": "Create",
        "actor": rn.actor_id,
        "to": [seat.actor_id],
    }
    for key, value in changes.items():
        target = activity if key in ("to", "cc", "type") else obj
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    activity["object"] = obj
    return activity


async def test_reports_from_non_allies_non_sections_and_malformed_ones_are_refused(
    make_node: MakeNode,
) -> None:
    seat, a, b = await network(make_node)
    refused: list[tuple[str, str]] = []

    async def accepts_sent() -> list[str]:
        async with seat.node.sessions() as session:
            rows = await session.scalars(select(Activity.uri).where(Activity.type == "Accept"))
            return list(rows.all())

    before = await accepts_sent()  # the seat's Accepts of alliances

    async def expect(rn: RunningNode, activity: dict[str, Any], says: str) -> None:
        item = await processed(seat, await _send_raw(rn, seat, activity))
        assert item.error and says in item.error, (says, item.error)
        refused.append((says, item.error))

    # Malformed, from an accepted section.
    malformed = [
        ({"figures": {"mediators": "ten"}}, "expected a whole number"),
        ({"figures": {"mediators": True}}, "expected a whole number"),
        ({"figures": {"mediators": -1}}, "out of range"),
        ({"figures": {"hostings_per_mediator": "1.5"}}, "expected a number"),
        ({"figures": {"sel_peer_exchanges": {"x.example": 1.5}}}, "expected a whole number"),
        ({"figures": {"sel_peer_exchanges": [1]}}, "expected an object"),
        ({"figures": {"Bad Key": 1}}, "lower-case identifier"),
        ({"figures": {f"k{i}": 1 for i in range(101)}}, "more than 100 figures"),
        ({"figures": {"new_figure": "text"}}, "expected a whole number, a number"),
        ({"figures": [1, 2]}, "must be a JSON object"),
        ({"semester": "2026-S3"}, "is not a semester"),
        ({"semester": None}, "has no semester"),
        ({"id": "https://elsewhere.example/reports/1"}, "not on the sender's server"),
        ({"attributedTo": seat.actor_id}, "not attributed to its sender"),
        ({"cc": ["https://www.w3.org/ns/activitystreams#Public"]}, "never publicly"),
        ({"to": [b.actor_id]}, "not addressed to this node"),
        ({"source": {"content": "x" * 20_001, "mediaType": "text/markdown"}}, "over 20000"),
        ({"content": 5, "source": None}, "must be a string"),
        ({"asOf": "yesterday"}, "asOf must be a date"),
    ]
    for changes, says in malformed:
        await expect(a, _crafted(a, seat, **changes), says)
    assert await stored(seat, ReportDirection.RECEIVED) == []
    # The seat tells an ally why: a sending A knows as its own comes back refused,
    # with the reason, and A's coordinator sees it.
    bad = _crafted(a, seat, figures={"mediators": -1})
    async with a.node.write() as session:
        session.add(
            SectionReport(
                uuid=new_uuid(),
                uri=bad["object"]["id"],
                section_uri=a.actor_id,
                period=str(SEMESTER),
                direction=ReportDirection.SENT,
                state=ReportState.SENT,
                activity_uri=bad["id"],
            )
        )
    await expect(a, bad, "out of range")

    async def refused_at_a() -> bool:
        return await state_of(a) == ReportState.REFUSED

    await until(refused_at_a, "the seat's refusal at the section")
    row = await reports.report_of(a.node, SEMESTER, by=OPERATOR)
    assert row is not None and row.refusal is not None and "out of range" in row.refusal
    coordinator = await invite_and_log_in(a, "kofi", ["coordinator"])
    try:
        page = await coordinator.get("/admin/reports")
        assert "refusé par le siège" in page.text and "out of range" in page.text
    finally:
        await coordinator.close()

    # From a node allied as a seat, not a section.
    async with seat.node.write() as session:
        row = await session.scalar(select(Alliance).where(Alliance.peer_uri == b.actor_id))
        assert row is not None
        row.peer_role = PeerRole.SEAT
    await expect(b, _crafted(b, seat), "allied as seat, not a section")
    # From a node whose alliance is not accepted (asked only), and from no ally at all.
    async with seat.node.write() as session:
        row = await session.scalar(select(Alliance).where(Alliance.peer_uri == b.actor_id))
        assert row is not None
        row.peer_role, row.state = PeerRole.SECTION, AllianceState.PENDING
    await expect(b, _crafted(b, seat), "not an accepted ally")
    async with MastodonLikePeer() as peer:
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{peer.actor_id()}#reports/1",
            "type": "Create",
            "actor": peer.actor_id(),
            "to": [seat.actor_id],
            "object": {
                "id": f"{peer.actor_id()}/reports/1",
                "type": "EvaluationReport",
                "attributedTo": peer.actor_id(),
                "semester": str(SEMESTER),
                "figures": {"mediators": 1},
            },
        }
        assert await peer.sign_and_post(f"{seat.actor_id}/inbox", activity) == 202
        item = await processed(seat, activity["id"])
        assert item.error and "not an accepted ally" in item.error
    assert await stored(seat, ReportDirection.RECEIVED) == []
    # No acknowledgement went anywhere.
    assert await accepts_sent() == before

    # A well-formed one from the accepted section is kept, unknown figures included.
    good = _crafted(a, seat, figures={"mediators": 2, "help_requests": 3, "new_map": {"x": 1}})
    item = await processed(seat, await _send_raw(a, seat, good))
    assert item.error is None
    [kept] = await stored(seat, ReportDirection.RECEIVED)
    assert kept.figures == {"mediators": 2, "help_requests": 3, "new_map": {"x": 1}}


async def test_sending_without_a_seat_says_to_ally_first(make_node: MakeNode) -> None:
    from models.network.reports import ReportError

    alone = await make_node("lome")
    try:
        await reports.report_send(alone.node, SEMESTER, by=OPERATOR)
        raise AssertionError("sent without a seat")
    except ReportError as exc:
        assert "ally with the seat first" in str(exc)
    assert await stored(alone, ReportDirection.SENT) == []
