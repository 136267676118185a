"""Polls voted by members in the browser and by Mastodon users from their timeline.

Real nodes on loopback, real HTTP, and the independent Mastodon-like peer
(tests/peers/mastodon.py), which votes as Mastodon does (a Create of a Note
named after the option, in reply to the Question) and verifies the
signature of everything the node sends it. Counts are read back from the
database and from the pages; every refused vote is checked to change
nothing. Run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from sqlalchemy import func, select, update

from models.accounts import OPERATOR
from models.charter.polls import Poll, PollBallot, PollFediVote, PollVoter
from models.replies import FediMessage
from node import sel
from node.charter import polls
from node.worker import MaintenanceWorker
from tests.conftest import MakeNode, RunningNode
from tests.peers.mastodon import MastodonLikePeer, ReceivedActivity
from tests.web.browsing import Visitor, invite_and_log_in


@pytest.fixture
async def peer() -> AsyncIterator[MastodonLikePeer]:
    async with MastodonLikePeer(usernames=("alice", "bob", "carol")) as p:
        yield p


@pytest.fixture
async def visitors() -> AsyncIterator[list[Visitor]]:
    opened: list[Visitor] = []
    yield opened
    for v in opened:
        await v.close()


async def section(make_node: MakeNode) -> RunningNode:
    rn = await make_node("lome")
    for code, label in (("awa", "Awa Diallo"), ("bob", "Bob Martin")):
        await sel.account_open(rn.node, code, label, None, None, by=OPERATOR)
    return rn


async def until(check: Callable[[], Awaitable[bool]], what: str, limit: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def text_of(page: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", page))


def in_an_hour() -> datetime:
    return (datetime.now(UTC) + timedelta(hours=1)).replace(second=0, microsecond=0)


async def open_poll(
    rn: RunningNode, options: list[str], *, multiple: bool = False, audience: str = "public"
) -> Poll:
    return await polls.poll_open(
        rn.node,
        "Quel jour pour l'assemblée générale ?",
        options,
        multiple=multiple,
        closes_at=in_an_hour(),
        audience=audience,
        by=OPERATOR,
    )


def question_of(kind: str, poll: Poll) -> Callable[[ReceivedActivity], bool]:
    def match(r: ReceivedActivity) -> bool:
        obj = r.object
        return (
            r.type == kind
            and isinstance(obj, dict)
            and obj.get("type") == "Question"
            and obj.get("id", "").endswith(f"/polls/{poll.uuid}")
        )

    return match


def updates(peer: MastodonLikePeer, poll: Poll) -> list[dict[str, Any]]:
    match = question_of("Update", poll)
    return [r.object for r in peer.received if match(r)]


def totals(question: dict[str, Any]) -> list[tuple[str, int]]:
    key = "anyOf" if "anyOf" in question else "oneOf"
    return [(o["name"], o["replies"]["totalItems"]) for o in question[key]]


async def fedi_votes(rn: RunningNode, poll: Poll) -> list[tuple[str, int]]:
    async with rn.node.sessions() as session:
        rows = await session.execute(
            select(PollFediVote.actor_uri, PollFediVote.choice)
            .where(PollFediVote.poll_id == poll.id)
            .order_by(PollFediVote.actor_uri, PollFediVote.choice)
        )
        return [(a, c) for a, c in rows.tuples()]


async def processed(rn: RunningNode, activity_ids: list[str]) -> None:
    """The inbox has processed these activities (counted, or ignored with a reason)."""
    from models.inbox import InboxItem, InboxState

    async def done() -> bool:
        async with rn.node.sessions() as session:
            n = await session.scalar(
                select(func.count())
                .select_from(InboxItem)
                .where(
                    InboxItem.activity_uri.in_(activity_ids), InboxItem.state != InboxState.PENDING
                )
            )
        return n == len(activity_ids)

    await until(done, f"the inbox to process {activity_ids}")


async def inbox_lines(rn: RunningNode, activity_ids: list[str]) -> list[str | None]:
    from models.inbox import InboxItem

    async with rn.node.sessions() as session:
        rows = await session.scalars(
            select(InboxItem.error).where(InboxItem.activity_uri.in_(activity_ids))
        )
        return list(rows.all())


async def vote(
    peer: MastodonLikePeer, rn: RunningNode, poll: Poll, names: list[str], who: str
) -> list[str]:
    sent = await peer.vote(rn.node.urls.poll(poll.uuid), rn.actor_id, names, who)
    assert all(d.status == 202 for d in sent), [(d.status, d.error) for d in sent]
    ids = [str(d.activity["id"]) for d in sent]
    await processed(rn, ids)
    return ids


async def let_a_minute_pass(rn: RunningNode, poll: Poll) -> None:
    """As if the last Update had gone out a minute and more ago (the debounce's window)."""
    async with rn.node.write() as session:
        await session.execute(
            update(Poll)
            .where(Poll.id == poll.id)
            .values(last_update_at=datetime.now(UTC) - timedelta(minutes=2))
        )


# ----------------------------------------------------------------------------- the whole path


async def test_a_public_poll_voted_by_members_and_mastodon_counted_apart(
    make_node: MakeNode, peer: MastodonLikePeer, visitors: list[Visitor]
) -> None:
    rn = await section(make_node)
    await peer.follow(rn.acct)
    await peer.wait_for(lambda r: r.type == "Accept")
    chef = await invite_and_log_in(rn, "chef", ["coordinator"])
    awa = await invite_and_log_in(rn, "awa", ["member:awa"])
    bob = await invite_and_log_in(rn, "bob", ["member:bob"])
    visitors += [chef, awa, bob]
    closes = in_an_hour()

    # The coordinator opens the poll from /admin/polls.
    opened = await chef.post(
        "/admin/polls",
        {"question": "Quel jour pour l'assemblée générale ?",
         "options": "Samedi\nDimanche\r\n\nLundi soir\n", "choice": "single",
         "closes_date": closes.strftime("%Y-%m-%d"), "closes_time": closes.strftime("%H:%M"),
         "audience": "public"},
    )  # fmt: skip
    assert opened.status == 303, opened.text
    async with rn.node.sessions() as session:
        poll = (await session.scalars(select(Poll))).one()
    assert poll.options == ["Samedi", "Dimanche", "Lundi soir"] and poll.closes_at == closes

    # Followers receive the Question, signed by the node, shaped as Mastodon's polls.
    create = await peer.wait_for(question_of("Create", poll))
    assert create.key_id == f"{rn.actor_id}#main-key"
    question = create.object
    assert question["id"] == rn.node.urls.poll(poll.uuid)
    assert question["attributedTo"] == rn.actor_id
    assert totals(question) == [("Samedi", 0), ("Dimanche", 0), ("Lundi soir", 0)]
    assert all(o["type"] == "Note" for o in question["oneOf"]) and "anyOf" not in question
    assert question["endTime"] == closes.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert question["votersCount"] == 0 and "closed" not in question
    assert "https://www.w3.org/ns/activitystreams#Public" in create.activity["to"]
    assert create.display is not None and create.display[0], create.display
    # Its id answers with the Question itself, for Mastodon's fetch.
    async with peer._http.get(question["id"], headers={"Accept": "application/activity+json"}) as r:
        assert r.status == 200 and (await r.json())["type"] == "Question"

    # Two members vote from their page; each gets a ballot code.
    home = await awa.get("/me")
    assert "1 ouvert(s), pas encore voté" in text_of(home.text)
    form = await awa.get("/me/polls")
    assert form.status == 200 and 'type="radio" name="choice" value="0"' in form.text
    voted = await awa.post(f"/me/polls/{poll.uuid}/vote", {"choice": "0"}, form_page="/me/polls")
    assert voted.status == 200, voted.text
    awa_code = re.search(r"<code>([2-9A-Z]{5}-[2-9A-Z]{5})</code></strong>", voted.text)
    assert awa_code, voted.text
    assert "pas encore voté" not in text_of((await awa.get("/me")).text)
    voted = await bob.post(f"/me/polls/{poll.uuid}/vote", {"choice": "1"}, form_page="/me/polls")
    assert voted.status == 200, voted.text

    # The first vote's Update goes out at once; the second waits for the minute to pass.
    first = await peer.wait_for(question_of("Update", poll))
    assert first.key_id == f"{rn.actor_id}#main-key"
    assert totals(first.object) == [("Samedi", 1), ("Dimanche", 0), ("Lundi soir", 0)]

    # Two Mastodon users vote from their timeline.
    await vote(peer, rn, poll, ["Samedi"], "alice")
    await vote(peer, rn, poll, ["Lundi soir"], "bob")
    assert await fedi_votes(rn, poll) == [
        (peer.actor_id("alice"), 0),
        (peer.actor_id("bob"), 2),
    ]
    # A vote is no reply: nothing reached the replies inbox.
    assert await rn.count(FediMessage) == 0
    await asyncio.sleep(0.3)
    assert len(updates(peer, poll)) == 1  # debounced: no Update per vote

    # Counted apart: members and fediverse.
    view = await polls.poll_show(rn.node, poll.uuid, by=OPERATOR)
    assert [(o.name, o.members, o.fediverse) for o in view.counts.options] == [
        ("Samedi", 1, 1),
        ("Dimanche", 1, 0),
        ("Lundi soir", 0, 1),
    ]
    assert (view.counts.member_voters, view.counts.fedi_voters) == (2, 2)
    assert len(view.ballots) == 2 and (awa_code[1], ["Samedi"]) in view.ballots
    assert [names for code, names in view.ballots if code != awa_code[1]] == [["Dimanche"]]

    # A minute later the chore sends one Update with the totals of both.
    await let_a_minute_pass(rn, poll)
    assert await polls.poll_chores(rn.node) == (0, 1)

    async def second_update() -> bool:
        return len(updates(peer, poll)) == 2

    await until(second_update, "the debounced Update")
    latest = updates(peer, poll)[-1]
    assert totals(latest) == [("Samedi", 2), ("Dimanche", 1), ("Lundi soir", 1)]
    assert latest["votersCount"] == 4 and "closed" not in latest
    assert await polls.poll_chores(rn.node) == (0, 0)  # nothing new: nothing sent

    # The pages show both counts apart, and every ballot by its code, no name.
    listing = await chef.get("/admin/polls")
    assert listing.status == 200 and "Fédivers" in listing.text and awa_code[1] in listing.text
    # Anyone reads the public page: codes and choices, no member's name.
    async with peer._http.get(rn.node.urls.poll(poll.uuid)) as r:
        assert r.status == 200
        public = await r.text()
    assert awa_code[1] in public and "Samedi" in public
    assert "awa" not in public.lower() and "bob martin" not in public.lower()
    mine = await awa.get("/me/polls")
    assert "Vous avez voté." in text_of(mine.text) and awa_code[1] in mine.text

    # The coordinator closes it early: the final Update says closed.
    closed = await chef.post(f"/admin/polls/{poll.uuid}/close", {}, form_page="/admin/polls")
    assert closed.status == 303, closed.text

    async def final_update() -> bool:
        return any("closed" in q for q in updates(peer, poll))

    await until(final_update, "the final Update")
    final = updates(peer, poll)[-1]
    assert totals(final) == [("Samedi", 2), ("Dimanche", 1), ("Lundi soir", 1)]
    assert final["votersCount"] == 4 and final["closed"]

    # After closing: a Mastodon vote and a member's vote change nothing.
    late = await vote(peer, rn, poll, ["Dimanche"], "carol")
    assert await inbox_lines(rn, late) == ["ignored: a vote on a closed poll"]
    assert len(await fedi_votes(rn, poll)) == 2
    page = await chef.get(f"/polls/{poll.uuid}?lang=en")
    assert "Result" in page.text and "closed" in page.text


async def test_votes_from_the_fediverse_count_once_per_actor_and_option(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    rn = await section(make_node)
    single = await open_poll(rn, ["Oui", "Non"])
    multiple = await open_poll(rn, ["Couture", "Jardinage", "Cuisine"], multiple=True)

    # Single choice: a second vote, for the same option or another, is ignored.
    await vote(peer, rn, single, ["Oui"], "alice")
    again = await vote(peer, rn, single, ["Non"], "alice")
    same = await vote(peer, rn, single, ["Oui"], "alice")
    assert await fedi_votes(rn, single) == [(peer.actor_id("alice"), 0)]
    assert all(line and line.startswith("ignored") for line in await inbox_lines(rn, again + same))
    # An unknown option changes nothing (and is no reply either).
    unknown = await vote(peer, rn, single, ["Peut-être"], "bob")
    assert await inbox_lines(rn, unknown) == [
        "ignored: a vote for an option the poll does not have"
    ]
    assert await fedi_votes(rn, single) == [(peer.actor_id("alice"), 0)]

    # Multiple choice: one Create per option, each counted once.
    await vote(peer, rn, multiple, ["Couture", "Cuisine"], "alice")
    await vote(peer, rn, multiple, ["Cuisine"], "alice")
    await vote(peer, rn, multiple, ["Jardinage"], "bob")
    assert await fedi_votes(rn, multiple) == [
        (peer.actor_id("alice"), 0),
        (peer.actor_id("alice"), 2),
        (peer.actor_id("bob"), 1),
    ]
    view = await polls.poll_show(rn.node, multiple.uuid, by=OPERATOR)
    assert [o.fediverse for o in view.counts.options] == [1, 1, 1]
    assert view.counts.fedi_voters == 2
    assert await rn.count(FediMessage) == 0

    # The same Create delivered twice is one vote (the inbox keeps activity ids).
    activity = next(
        d.activity for d in peer.deliveries if d.activity["object"].get("name") == "Oui"
    )
    assert await peer.sign_and_post(f"{rn.url}/inbox", activity, "alice") == 202
    await asyncio.sleep(0.3)
    assert await fedi_votes(rn, single) == [(peer.actor_id("alice"), 0)]


async def test_a_members_only_poll_refuses_the_fediverse_and_a_second_vote(
    make_node: MakeNode, peer: MastodonLikePeer, visitors: list[Visitor]
) -> None:
    rn = await section(make_node)
    await peer.follow(rn.acct)
    await peer.wait_for(lambda r: r.type == "Accept")
    poll = await open_poll(rn, ["Oui", "Non"], audience="members")
    awa = await invite_and_log_in(rn, "awa", ["member:awa"])
    visitors.append(awa)

    # Not published, not public: no Question went out, its address is not found.
    await asyncio.sleep(0.3)
    assert not [r for r in peer.received if r.type == "Create"]
    page = await awa.get(f"/polls/{poll.uuid}")
    assert page.status == 404
    refused = await vote(peer, rn, poll, ["Oui"], "alice")
    assert await inbox_lines(rn, refused) == ["ignored: a vote on a members-only poll"]
    assert await fedi_votes(rn, poll) == []
    assert await rn.count(FediMessage) == 0

    ok = await awa.post(f"/me/polls/{poll.uuid}/vote", {"choice": "1"}, form_page="/me/polls")
    assert ok.status == 200
    # The page has no form for it any more; a second POST all the same is refused.
    again = await awa.post(f"/me/polls/{poll.uuid}/vote", {"choice": "0"}, form_page="/me/polls")
    assert again.status == 400
    assert "vous avez déjà voté à ce sondage : un membre, une voix" in text_of(again.text)
    async with rn.node.sessions() as session:
        papers = (await session.scalars(select(PollBallot))).all()
        voters = (await session.scalars(select(PollVoter))).all()
    assert [b.choices for b in papers] == [[1]] and len(voters) == 1
    # Members' counts only: no fediverse column on a members-only poll.
    mine = await awa.get("/me/polls")
    assert "Fédivers" not in mine.text and papers[0].code in mine.text
    # No Update for a poll that was never published.
    assert await polls.poll_chores(rn.node) == (0, 0)
    assert not [r for r in peer.received if r.type == "Update"]


async def test_a_poll_closes_at_its_time_with_a_final_update(
    make_node: MakeNode, peer: MastodonLikePeer, visitors: list[Visitor]
) -> None:
    rn = await section(make_node)
    await peer.follow(rn.acct)
    await peer.wait_for(lambda r: r.type == "Accept")
    poll = await open_poll(rn, ["Oui", "Non"])
    await peer.wait_for(question_of("Create", poll))
    await vote(peer, rn, poll, ["Non"], "alice")
    await peer.wait_for(question_of("Update", poll))
    awa = await invite_and_log_in(rn, "awa", ["member:awa"])
    visitors.append(awa)

    # The closing time passes: a member's vote is refused before the chore closes it.
    async with rn.node.write() as session:
        await session.execute(
            update(Poll)
            .where(Poll.id == poll.id)
            .values(closes_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    late = await awa.post(f"/me/polls/{poll.uuid}/vote", {"choice": "0"}, form_page="/me/polls")
    assert late.status == 400 and "ce sondage est clos" in text_of(late.text)
    assert await rn.count(PollBallot) == 0
    # The node's own minute chore (the maintenance worker) closes it.
    assert await MaintenanceWorker(rn.node).run_once() >= 1

    async def closed() -> bool:
        return any("closed" in q for q in updates(peer, poll))

    await until(closed, "the final Update")
    final = updates(peer, poll)[-1]
    assert totals(final) == [("Oui", 0), ("Non", 1)] and final["votersCount"] == 1
    async with rn.node.sessions() as session:
        row = await session.get(Poll, poll.id)
        assert row is not None and row.state == "closed"
    # Closed polls are not closed twice.
    assert await polls.poll_chores(rn.node) == (0, 0)
    result = await awa.get("/me/polls")
    assert "clos" in text_of(result.text) and 'name="choice"' not in result.text


async def test_a_member_voting_twice_at_once_votes_once(make_node: MakeNode) -> None:
    """Five submissions of one member's vote at the same moment: one ballot, four refusals."""
    from models.accounts import Principal
    from models.charter.polls import PollError
    from node import users

    rn = await section(make_node)
    poll = await open_poll(rn, ["Oui", "Non"], audience="members")
    user = (await users.user_add(rn.node, OPERATOR, "awa", ["member:awa"])).user
    awa = Principal(name="awa", user_id=user.id, accounts=frozenset(user_accounts(user)))
    results = await asyncio.gather(
        *(polls.poll_vote(rn.node, poll.uuid, [i % 2], by=awa) for i in range(5)),
        return_exceptions=True,
    )
    codes = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, PollError)]
    assert len(codes) == 1 and len(refused) == 4, results
    assert await rn.count(PollVoter) == 1 and await rn.count(PollBallot) == 1


def user_accounts(user: Any) -> list[int]:
    return [g.sel_account_id for g in user.grants if g.sel_account_id is not None]


def test_ballots_hold_nothing_that_leads_to_the_voter() -> None:
    """No user, no time, no serial number: a ballot is its poll, its code, its choices."""
    assert set(PollBallot.__table__.columns.keys()) == {"poll_id", "code", "choices_json"}
    assert set(PollVoter.__table__.columns.keys()) == {"id", "poll_id", "user_id"}
