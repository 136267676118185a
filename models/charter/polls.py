"""Polls: one member, one vote; ballots kept apart from the voters; public
polls answered from the fediverse as Mastodon answers a ``Question``.

A coordinator opens a poll (a question, 2 to 20 options, single or
multiple choice, a closing time, an audience). Its lifecycle is
``open → closed``: closed at its closing time by the periodic chore, or
earlier by a coordinator.

Members vote in the browser. Who has voted (``poll_voters``: poll and
person, unique) is kept apart from what was chosen (``poll_ballots``: poll,
a random ballot code, the choices, and nothing that names the voter: no
time, no sequence number). The voter is shown their ballot code once; the
poll's page lists every code with its choices, so each member checks that
their ballot was counted and anyone recounts the total. (Whoever holds
the database file could still match the two tables by their physical row
order; no page or command does.)

A public poll is also a ``Question`` published by the node actor, shaped
as Mastodon writes polls (``oneOf`` / ``anyOf`` of Notes whose ``replies``
count the votes, ``endTime``, ``votersCount``, ``closed`` once closed). A
Mastodon user votes with a ``Create`` of a ``Note`` whose ``name`` is the
option and ``inReplyTo`` the Question (one Create per option chosen).
Those votes are counted apart from the members' (``poll_fedi_votes``), one
per remote actor and option, and never reach the replies inbox. The
Question's counts are the sum of both; an ``Update`` carries them, at most
one per poll per ``UPDATE_EVERY`` (the first change goes out at once, the
next ones are gathered by the chore), and closing sends the final one.
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid as uuidlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from federation.vocab import PUBLIC, QUESTION_CONTEXT, get_id, has_type
from models.actors import LocalActor, RemoteActor, get_node_actor
from models.base import Base, UTCDateTime, utcnow
from models.errors import NotFound, UserError
from models.follows import follower_inboxes
from models.html import text_to_html
from models.outbox import enqueue, new_uuid
from models.states import check_transition
from models.to_ap import iso
from models.urls import Urls

log = logging.getLogger("coopnet.polls")

MIN_OPTIONS = 2
MAX_OPTIONS = 20
MAX_QUESTION = 500
MAX_OPTION = 100
#: A poll closes at least this long after it opens, and at most MAX_DURATION after.
MIN_DURATION = timedelta(minutes=5)
MAX_DURATION = timedelta(days=366)
#: At most one Update of a public poll's Question per this long.
UPDATE_EVERY = timedelta(minutes=1)
#: Ballot codes: no 0/O, 1/I/L, so a code read aloud or copied by hand stays right.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10


class PollError(UserError):
    pass


class PollState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


POLL_TRANSITIONS: dict[PollState, frozenset[PollState]] = {
    PollState.OPEN: frozenset({PollState.CLOSED}),
    PollState.CLOSED: frozenset(),
}


class Audience(StrEnum):
    #: Members of this section only, in the browser.
    MEMBERS = "members"
    #: Members, and the fediverse through the Question.
    PUBLIC = "public"


class Poll(Base):
    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    question: Mapped[str] = mapped_column(String(MAX_QUESTION))
    #: The options' texts, a JSON list; a ballot or a vote names an option by index.
    options_json: Mapped[str] = mapped_column(Text)
    multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    audience: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=PollState.OPEN, index=True)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Counts changed since the last Update of the Question was queued.
    counts_dirty: Mapped[bool] = mapped_column(Boolean, default=False)
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def options(self) -> list[str]:
        data: list[str] = json.loads(self.options_json)
        return data

    @property
    def is_public(self) -> bool:
        return self.audience == Audience.PUBLIC

    @property
    def is_open(self) -> bool:
        return self.state == PollState.OPEN and self.closes_at > utcnow()

    def move_to(self, new: PollState) -> None:
        self.state = check_transition(POLL_TRANSITIONS, PollState(self.state), new)


class PollVoter(Base):
    """The voter roll: this person has voted in this poll (not how)."""

    __tablename__ = "poll_voters"
    __table_args__ = (UniqueConstraint("poll_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class PollBallot(Base):
    """One member's choices under a random code; nothing here names the voter."""

    __tablename__ = "poll_ballots"

    # No serial id: one would number the ballots in the order they were cast,
    # the same order as the voter roll's, and tie each ballot to its voter.
    poll_id: Mapped[int] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    #: Indexes of the options chosen, a JSON list.
    choices_json: Mapped[str] = mapped_column(Text)

    @property
    def choices(self) -> list[int]:
        data: list[int] = json.loads(self.choices_json)
        return data


class PollFediVote(Base):
    """One fediverse actor's vote for one option (a multiple-choice poll has several)."""

    __tablename__ = "poll_fedi_votes"
    __table_args__ = (UniqueConstraint("poll_id", "actor_uri", "choice"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    actor_uri: Mapped[str] = mapped_column(String(2048))
    choice: Mapped[int] = mapped_column(Integer)
    #: The voter's Note (for the log; Mastodon's votes are not fetchable).
    note_uri: Mapped[str] = mapped_column(String(2048), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# ----------------------------------------------------------------------------- opening


@dataclass(frozen=True)
class PollDraft:
    question: str
    options: list[str]
    multiple: bool
    closes_at: datetime
    audience: Audience


def _line(text: str, what: str, limit: int) -> str:
    value = " ".join(text.split())
    if not value:
        raise PollError(f"{what}: this field is required")
    if len(value) > limit:
        raise PollError(f"{what}: at most {limit} characters")
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
        raise PollError(f"{what}: contains a control character")
    return value


def check_draft(
    question: str,
    options: list[str],
    multiple: bool,
    closes_at: datetime,
    audience: str,
    now: datetime,
) -> PollDraft:
    """The poll as it will be stored, or a refusal that says what to change."""
    q = _line(question, "question", MAX_QUESTION)
    opts = [" ".join(o.split()) for o in options]
    opts = [o for o in opts if o]
    if len(opts) < MIN_OPTIONS:
        raise PollError(f"give at least {MIN_OPTIONS} options, one per line")
    if len(opts) > MAX_OPTIONS:
        raise PollError(f"at most {MAX_OPTIONS} options")
    opts = [_line(o, "option", MAX_OPTION) for o in opts]
    # A fediverse vote names its option by its text: two equal texts could not be told apart.
    if len({o.casefold() for o in opts}) != len(opts):
        raise PollError("two options have the same text")
    if audience not in (Audience.MEMBERS, Audience.PUBLIC):
        raise PollError("audience: members or public")
    if closes_at.tzinfo is None:
        raise PollError("closing time: give it in UTC")
    if closes_at < now + MIN_DURATION:
        raise PollError("the closing time must be at least 5 minutes from now")
    if closes_at > now + MAX_DURATION:
        raise PollError("the closing time must be within a year")
    return PollDraft(q, opts, multiple, closes_at, Audience(audience))


async def open_poll(
    session: AsyncSession, urls: Urls, draft: PollDraft, created_by: str = ""
) -> Poll:
    """A new open poll; a public one is published to the node's followers at once."""
    now = utcnow()
    poll = Poll(
        uuid=str(uuidlib.uuid4()),
        question=draft.question,
        options_json=json.dumps(draft.options, ensure_ascii=False),
        multiple=draft.multiple,
        audience=draft.audience,
        state=PollState.OPEN,
        closes_at=draft.closes_at,
        created_at=now,
        created_by=created_by[:64],
        counts_dirty=False,
    )
    session.add(poll)
    await session.flush()
    if poll.is_public:
        await _send(session, urls, poll, "Create")
    return poll


async def get_poll(session: AsyncSession, ref: str, *, lock: bool = False) -> Poll:
    query = select(Poll).where(Poll.uuid == ref[:36])
    if lock:
        # Votes and closing of one poll take turns (PostgreSQL; SQLite writes one at a time).
        query = query.with_for_update()
    poll = await session.scalar(query)
    if poll is None:
        raise NotFound(f"no poll {ref!r} ('coopnet poll list' shows them)")
    return poll


async def list_polls(session: AsyncSession, *, open_only: bool = False) -> list[Poll]:
    query = select(Poll).order_by(Poll.created_at.desc(), Poll.id.desc())
    if open_only:
        query = query.where(Poll.state == PollState.OPEN)
    return list((await session.scalars(query)).all())


# ----------------------------------------------------------------------------- members' votes


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def check_choices(poll: Poll, choices: list[int]) -> list[int]:
    chosen = sorted(set(choices))
    if not chosen:
        raise PollError("choose an option")
    if any(c < 0 or c >= len(poll.options) for c in chosen):
        raise PollError("this option is not one of the poll's")
    if not poll.multiple and len(chosen) > 1:
        raise PollError("this poll takes one choice only")
    return chosen


async def has_voted(session: AsyncSession, poll: Poll, user_id: int) -> bool:
    found = await session.scalar(
        select(PollVoter.id).where(PollVoter.poll_id == poll.id, PollVoter.user_id == user_id)
    )
    return found is not None


async def cast_ballot(
    session: AsyncSession, urls: Urls, poll: Poll, user_id: int, choices: list[int]
) -> str:
    """Record a member's vote; returns the ballot code. The caller holds the poll locked."""
    if not poll.is_open:
        raise PollError("this poll is closed")
    chosen = check_choices(poll, choices)
    if await has_voted(session, poll, user_id):
        raise PollError("you have already voted in this poll: one member, one vote")
    session.add(PollVoter(poll_id=poll.id, user_id=user_id))
    code = new_code()
    while await session.get(PollBallot, (poll.id, code)) is not None:
        code = new_code()  # pragma: no cover - 31^10 codes
    session.add(PollBallot(poll_id=poll.id, code=code, choices_json=json.dumps(chosen)))
    await session.flush()
    await _counts_changed(session, urls, poll)
    return code


# ----------------------------------------------------------------------------- fediverse votes


async def receive_vote(
    session: AsyncSession,
    urls: Urls,
    signer: RemoteActor,
    obj: dict[str, Any],
) -> str | None:
    """A Note answering one of our polls, counted or refused; None if it is no vote.

    A vote is a Note with a ``name`` in reply to one of our polls (what
    Mastodon sends). The caller checked that the Note is the signer's.
    Refusals change nothing and return the reason, for the inbox's log.
    """
    if not has_type(obj, "Note"):
        return None
    target = get_id(obj.get("inReplyTo"))
    name = obj.get("name")
    if target is None or not isinstance(name, str) or not urls.is_local(target):
        return None
    ref = urls.poll_uuid(target)
    if ref is None:
        return None
    poll = await session.scalar(select(Poll).where(Poll.uuid == ref).with_for_update())
    if poll is None:
        return "ignored: a vote for a poll we do not have"
    what = f"{signer.uri} on poll {poll.uuid}"
    if not poll.is_public:
        log.info("refused a fediverse vote by %s: the poll is for members only", what)
        return "ignored: a vote on a members-only poll"
    if not poll.is_open:
        log.info("refused a fediverse vote by %s: the poll is closed", what)
        return "ignored: a vote on a closed poll"
    options = poll.options
    if name not in options:
        log.info("refused a fediverse vote by %s: no option %r", what, name[:100])
        return "ignored: a vote for an option the poll does not have"
    choice = options.index(name)
    earlier = set(
        await session.scalars(
            select(PollFediVote.choice).where(
                PollFediVote.poll_id == poll.id, PollFediVote.actor_uri == signer.uri
            )
        )
    )
    if choice in earlier or (earlier and not poll.multiple):
        return "ignored: this actor has already voted for this option, or in this poll"
    note = get_id(obj) or ""
    session.add(
        PollFediVote(
            poll_id=poll.id,
            actor_uri=signer.uri,
            choice=choice,
            note_uri=note[:2048],
            received_at=utcnow(),
        )
    )
    await session.flush()
    await _counts_changed(session, urls, poll)
    return f"counted a vote by {signer.uri} for option {choice + 1} of poll {poll.uuid}"


# ----------------------------------------------------------------------------- counts


@dataclass(frozen=True)
class OptionCount:
    name: str
    members: int
    fediverse: int

    @property
    def total(self) -> int:
        return self.members + self.fediverse


@dataclass(frozen=True)
class Counts:
    options: list[OptionCount]
    #: Members who voted (= ballots).
    member_voters: int
    #: Distinct fediverse actors who voted.
    fedi_voters: int

    @property
    def voters(self) -> int:
        return self.member_voters + self.fedi_voters


async def ballots(session: AsyncSession, poll: Poll) -> list[PollBallot]:
    """Every ballot, in code order (never in the order they were cast)."""
    rows = await session.scalars(
        select(PollBallot).where(PollBallot.poll_id == poll.id).order_by(PollBallot.code)
    )
    return list(rows.all())


async def counts(session: AsyncSession, poll: Poll) -> Counts:
    members = [0] * len(poll.options)
    papers = await ballots(session, poll)
    for ballot in papers:
        for c in ballot.choices:
            if 0 <= c < len(members):
                members[c] += 1
    fedi = [0] * len(poll.options)
    rows = await session.execute(
        select(PollFediVote.choice, func.count())
        .where(PollFediVote.poll_id == poll.id)
        .group_by(PollFediVote.choice)
    )
    for choice, n in rows.tuples():
        if 0 <= choice < len(fedi):
            fedi[choice] = n
    fedi_voters = await session.scalar(
        select(func.count(func.distinct(PollFediVote.actor_uri))).where(
            PollFediVote.poll_id == poll.id
        )
    )
    return Counts(
        [OptionCount(name, m, f) for name, m, f in zip(poll.options, members, fedi, strict=True)],
        len(papers),
        int(fedi_voters or 0),
    )


# ----------------------------------------------------------------------------- the Question


def question_to_ap(urls: Urls, node: LocalActor, poll: Poll, tally: Counts) -> dict[str, Any]:
    """The poll as Mastodon writes a poll: totals of members and fediverse together."""
    ident = urls.poll(poll.uuid)
    doc: dict[str, Any] = {
        "@context": QUESTION_CONTEXT,
        "id": ident,
        "type": "Question",
        "attributedTo": urls.actor(node.username),
        "content": text_to_html(poll.question),
        "url": ident,
        "published": iso(poll.created_at),
        "to": [PUBLIC],
        "cc": [urls.followers(node.username)],
        "endTime": iso(poll.closes_at),
        "votersCount": tally.voters,
        "anyOf" if poll.multiple else "oneOf": [
            {
                "type": "Note",
                "name": option.name,
                "replies": {"type": "Collection", "totalItems": option.total},
            }
            for option in tally.options
        ],
    }
    if poll.state == PollState.CLOSED and poll.closed_at is not None:
        doc["closed"] = iso(poll.closed_at)
    return doc


async def _voter_inboxes(session: AsyncSession, poll: Poll) -> list[str]:
    """Fediverse voters hear of the counts too (Mastodon tells its poll's voters)."""
    rows = await session.execute(
        select(RemoteActor.inbox, RemoteActor.shared_inbox)
        .join(PollFediVote, PollFediVote.actor_uri == RemoteActor.uri)
        .where(PollFediVote.poll_id == poll.id, RemoteActor.deleted_at.is_(None))
        .distinct()
    )
    return [shared or inbox for inbox, shared in rows.tuples()]


async def _send(session: AsyncSession, urls: Urls, poll: Poll, verb: str) -> None:
    node = await get_node_actor(session)
    now = utcnow()
    question = question_to_ap(urls, node, poll, await counts(session, poll))
    activity: dict[str, Any] = {
        "@context": QUESTION_CONTEXT,
        "id": urls.activity(new_uuid()),
        "type": verb,
        "actor": urls.actor(node.username),
        "published": iso(now),
        "to": [PUBLIC],
        "cc": [urls.followers(node.username)],
        "object": {k: v for k, v in question.items() if k != "@context"},
    }
    # No ``updated`` in the Question: Mastodon reads an Update without a newer
    # ``updated`` as a refresh of the poll's counts (an implicit update), not an edit.
    inboxes = await follower_inboxes(session, node.id)
    if verb == "Update":
        inboxes += await _voter_inboxes(session, poll)
        poll.last_update_at = now
        poll.counts_dirty = False
    await enqueue(session, node, activity, inboxes, public=True, now=now)


async def _counts_changed(session: AsyncSession, urls: Urls, poll: Poll) -> None:
    """The first change in a while goes out now; the next ones wait for the chore."""
    if not poll.is_public:
        return
    poll.counts_dirty = True
    last = poll.last_update_at
    if last is None or last + UPDATE_EVERY <= utcnow():
        await _send(session, urls, poll, "Update")


async def close_poll(session: AsyncSession, urls: Urls, poll: Poll) -> Poll:
    """Close now (early, or at its time); a public poll's final Update says ``closed``."""
    if poll.state == PollState.CLOSED:
        raise PollError("this poll is already closed")
    poll.move_to(PollState.CLOSED)
    poll.closed_at = min(utcnow(), poll.closes_at)
    if poll.is_public:
        await _send(session, urls, poll, "Update")
    return poll


async def run_chores(session: AsyncSession, urls: Urls, now: datetime) -> tuple[int, int]:
    """Close the polls whose time has come; send the Updates that waited.

    Returns (polls closed, updates sent).
    """
    due = (
        await session.scalars(
            select(Poll)
            .where(Poll.state == PollState.OPEN, Poll.closes_at <= now)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for poll in due:
        await close_poll(session, urls, poll)
    waiting = (
        await session.scalars(
            select(Poll)
            .where(
                Poll.state == PollState.OPEN,
                Poll.audience == Audience.PUBLIC,
                Poll.counts_dirty.is_(True),
            )
            .with_for_update(skip_locked=True)
        )
    ).all()
    sent = 0
    for poll in waiting:
        if poll.last_update_at is None or poll.last_update_at + UPDATE_EVERY <= now:
            await _send(session, urls, poll, "Update")
            sent += 1
    return len(due), sent


__all__ = [
    "Audience",
    "Counts",
    "OptionCount",
    "Poll",
    "PollBallot",
    "PollError",
    "PollFediVote",
    "PollState",
    "PollVoter",
]
