"""Actions on polls (models/charter/polls.py), called by the CLI and the pages.

Each is one transaction, and checks who acts before writing: coordinators
(and the operator at the command line) open and close polls; members vote
for themselves, once per poll (``by.accounts``: a person holding a SEL
member account; ``by.user_id``: the person the voter roll records). A
coordinator who is not also a member does not vote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from models.accounts import Principal
from models.actors import get_node_actor
from models.base import utcnow
from models.charter.polls import (
    Audience,
    Counts,
    Poll,
    PollBallot,
    PollState,
    PollVoter,
    ballots,
    cast_ballot,
    check_draft,
    close_poll,
    counts,
    get_poll,
    has_voted,
    list_polls,
    open_poll,
    question_to_ap,
    run_chores,
)
from models.errors import Forbidden, NotFound
from node.context import Node


@dataclass(frozen=True)
class PollView:
    """A poll with its counts (members and fediverse apart) and its ballots."""

    poll: Poll
    counts: Counts
    ballots: list[tuple[str, list[str]]]
    #: For a member's view: this person has voted.
    voted: bool = False

    @property
    def uuid(self) -> str:
        return self.poll.uuid

    @property
    def open(self) -> bool:
        return self.poll.is_open


def _require_voter(by: Principal) -> int:
    if not by.accounts or by.user_id is None:
        raise Forbidden("only members of the section vote (one member, one vote)")
    return by.user_id


async def _view(session: Any, poll: Poll, voted: bool = False) -> PollView:
    names = poll.options
    papers: list[PollBallot] = await ballots(session, poll)
    return PollView(
        poll,
        await counts(session, poll),
        [(b.code, [names[c] for c in b.choices if 0 <= c < len(names)]) for b in papers],
        voted,
    )


async def poll_open(
    node: Node,
    question: str,
    options: list[str],
    *,
    multiple: bool,
    closes_at: datetime,
    audience: str,
    by: Principal,
) -> Poll:
    """Open a poll; a public one goes out as a Question to the node's followers."""
    by.require_coordinator()
    draft = check_draft(question, options, multiple, closes_at, audience, utcnow())
    async with node.write() as session:
        poll = await open_poll(session, node.urls, draft, by.name)
    if poll.is_public:
        node.wake_delivery.set()
    return poll


async def poll_close(node: Node, ref: str, *, by: Principal) -> Poll:
    """Close before the closing time; a public poll's final Update goes out."""
    by.require_coordinator()
    async with node.write() as session:
        poll = await close_poll(session, node.urls, await get_poll(session, ref, lock=True))
    if poll.is_public:
        node.wake_delivery.set()
    return poll


async def poll_list(node: Node, *, by: Principal) -> list[PollView]:
    """Every poll with its counts, newest first (the coordinator's list)."""
    by.require_coordinator()
    async with node.sessions() as session:
        return [await _view(session, p) for p in await list_polls(session)]


async def poll_show(node: Node, ref: str, *, by: Principal) -> PollView:
    by.require_coordinator()
    async with node.sessions() as session:
        return await _view(session, await get_poll(session, ref))


async def poll_vote(node: Node, ref: str, choices: list[int], *, by: Principal) -> str:
    """A member's vote; returns their ballot code (shown to them once)."""
    user_id = _require_voter(by)
    async with node.write() as session:
        poll = await get_poll(session, ref, lock=True)
        code = await cast_ballot(session, node.urls, poll, user_id, choices)
    if poll.is_public:
        node.wake_delivery.set()
    return code


async def member_polls(node: Node, *, by: Principal) -> list[PollView]:
    """The polls a member sees: open ones first, then closed ones, newest first."""
    user_id = _require_voter(by)
    async with node.sessions() as session:
        rows = await list_polls(session)
        views = [await _view(session, p, await has_voted(session, p, user_id)) for p in rows]
    return sorted(views, key=lambda v: not v.open)


async def unvoted_count(node: Node, *, by: Principal) -> int:
    """Open polls this member has not voted in yet (the notice on their dashboard)."""
    if not by.accounts or by.user_id is None:
        return 0
    async with node.sessions() as session:
        voted = select(PollVoter.poll_id).where(PollVoter.user_id == by.user_id)
        n = await session.scalar(
            select(func.count())
            .select_from(Poll)
            .where(
                Poll.state == PollState.OPEN,
                Poll.closes_at > utcnow(),
                Poll.id.not_in(voted),
            )
        )
    return int(n or 0)


async def public_poll(node: Node, ref: str) -> tuple[PollView, dict[str, Any]]:
    """A public poll for anyone: its view and its Question. Members-only: not found."""
    async with node.sessions() as session:
        try:
            poll = await get_poll(session, ref)
        except NotFound:
            poll = None
        if poll is None or poll.audience != Audience.PUBLIC:
            raise NotFound("no such public poll")
        view = await _view(session, poll)
        question = question_to_ap(node.urls, await get_node_actor(session), poll, view.counts)
    return view, question


async def poll_chores(node: Node, now: datetime | None = None) -> tuple[int, int]:
    """Close the polls whose time has come, send the Updates that waited (the chore)."""
    now = now or utcnow()
    # Most minutes there is nothing to do: a read first, so the chore takes no
    # write lock (SQLite's is the whole database) for nothing.
    async with node.sessions() as session:
        due = await session.scalar(
            select(Poll.id)
            .where(
                Poll.state == PollState.OPEN,
                or_(Poll.closes_at <= now, Poll.counts_dirty.is_(True)),
            )
            .limit(1)
        )
    if due is None:
        return 0, 0
    async with node.write() as session:
        closed, sent = await run_chores(session, node.urls, now)
    if closed or sent:
        node.wake_delivery.set()
    return closed, sent
