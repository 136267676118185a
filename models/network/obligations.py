"""The charter's obligations, computed per period from the node's data.

The charter (seed 000, Lomé 2004) binds four relations: seat → section,
section → seat, section → mediator, mediator → section (and mediator →
client, whose receipts the section also sees). Each "must" it lists is in
``CATALOGUE`` below. Where the node's own tables show whether it was kept,
the state is computed from them; where nothing does (a coordination
attended, a training given), a coordinator records it by hand
(models/network/obligation_records.py) and the record is what counts.

States, per obligation, subject and period, as seen on ``today``:

- **done**: the data (or a record) shows it for that period;
- **due**: not shown yet, but the period runs (or the deadline is ahead);
- **late**: the period is over (or the deadline passed) and it is not shown;
- **not applicable**: nothing is owed (e.g. no seat allied yet, a contract
  paid with an article rather than money).

The deadlines we chose, where the charter gives none:

- the **semi-annual report** is due by the last day of the month after its
  semester (31 July for S1, 31 January for S2): a month to gather the
  figures, the habit of associations' activity reports;
- a **signed contract** is handed in within ``HAND_IN_DELAY`` (30 days) of
  its signature: the charter asks for it with the section's share, and the
  mediator comes to the monthly coordination at least once in that time;
- a **receipt** names every contract whose share was handed in with money
  as the counterpart: the share comes from a sum the client paid, and the
  charter wants a receipt "for every sum received", so no delay is granted;
- **one hosting a month**: a mediator is *behind* (late) when they bought
  fewer hostings than months of the semester that have ended; the month in
  progress is only due;
- **the list of mediators** is current when every listed mediator holds a
  certification that stands and no removed one keeps one; a mediator added
  less than ``HAND_IN_DELAY`` ago may still wait for theirs (due).

What is shown: monthly obligations for this month and the last one,
semi-annual ones for this semester and the last one, one-time ones once;
every contract not handed in or paid without a receipt whatever its age,
and the others of the months shown. ``--as-of`` (CLI) looks at another day.

On the seat, each allied section gets the same from what the seat holds
about it: the bulletins it received from the section's node actor, the
reports it received (and the hostings per mediator inside them), and the
records the seat keeps (the section at the network's coordination).

Nothing here imports aiohttp; the clock is ``today``, passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.actors import LocalActor, get_node_actor
from models.attestations import Attestation, Kind, live_held_for, live_issued_for
from models.bulletins import Bulletin
from models.charter.contracts import Contract, ContractState, Counterpart
from models.charter.hostings import PER_MONTH, PER_SEMESTER, Semester, purchases, tally
from models.charter.receipts import Receipt
from models.errors import UserError
from models.network.alliances import Alliance, seat_of, sections_of
from models.network.obligation_records import (
    ObligationError,
    ObligationRecord,
    add_record,
    list_records,
)
from models.network.reports import ReportDirection, SectionReport, delivered, reports_for
from models.posts import RemoteObject
from models.urls import Urls

HAND_IN_DELAY = timedelta(days=30)
ONCE = "once"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class Relation(StrEnum):
    SEAT_TO_SECTION = "seat-section"
    SECTION_TO_SEAT = "section-seat"
    SECTION_TO_MEDIATOR = "section-mediator"
    MEDIATOR_TO_SECTION = "mediator-section"
    MEDIATOR_TO_CLIENT = "mediator-client"


#: How people read a relation (English message ids; the pages translate them).
RELATION_LABELS = {
    Relation.SEAT_TO_SECTION: "Seat → section",
    Relation.SECTION_TO_SEAT: "Section → seat",
    Relation.SECTION_TO_MEDIATOR: "Section → mediator",
    Relation.MEDIATOR_TO_SECTION: "Mediator → section",
    Relation.MEDIATOR_TO_CLIENT: "Mediator → client",
}


class State(StrEnum):
    LATE = "late"
    DUE = "due"
    DONE = "done"
    NOT_APPLICABLE = "not applicable"


#: Late first: what needs doing is read before what is done.
STATE_ORDER = {State.LATE: 0, State.DUE: 1, State.DONE: 2, State.NOT_APPLICABLE: 3}


class Cadence(StrEnum):
    MONTH = "month"
    SEMESTER = "semester"
    ONCE = "once"


class Subject(StrEnum):
    """Whom an obligation concerns, on the node that tracks it."""

    #: This node (the section on a section's node, the seat on the seat's).
    NODE = "node"
    #: The seat, as a section sees it.
    SEAT = "seat"
    #: Each allied section, as the seat sees it.
    SECTION = "section"
    #: Each current mediator of this section.
    MEDIATOR = "mediator"


@dataclass(frozen=True)
class Obligation:
    key: str
    relation: Relation
    cadence: Cadence
    #: What is owed, in English (a message id).
    title: str
    #: The charter's words.
    charter: str
    #: Recorded by hand (no data shows it).
    manual: bool
    #: Per node role ("section", "seat"): whom it concerns there.
    tracked: Mapping[str, Subject]


def _ob(
    key: str,
    relation: Relation,
    cadence: Cadence,
    title: str,
    charter: str,
    *,
    manual: bool = False,
    section: Subject | None = None,
    seat: Subject | None = None,
) -> Obligation:
    tracked = {r: s for r, s in (("section", section), ("seat", seat)) if s is not None}
    return Obligation(key, relation, cadence, title, charter, manual, tracked)


S, M = Subject, Cadence
CATALOGUE: dict[str, Obligation] = {
    o.key: o
    for o in (
        # Seat → section.
        _ob("seat.bulletin", Relation.SEAT_TO_SECTION, M.MONTH,
            "Monthly bulletin to the whole network",
            "Envoyer un bulletin mensuel aux membres de la CoVi intersection",
            section=S.SEAT, seat=S.NODE),
        _ob("seat.authorisation", Relation.SEAT_TO_SECTION, M.ONCE,
            "Authorisation to certify mediators",
            "Accorder l'autorisation de certifier des « médiateurs Cooperation.net »",
            section=S.SEAT, seat=S.SECTION),
        _ob("seat.documentation", Relation.SEAT_TO_SECTION, M.ONCE,
            "Online documentation delivered",
            "Livrer des ressources documentaires en ligne",
            manual=True, section=S.SEAT, seat=S.NODE),
        _ob("seat.delegates", Relation.SEAT_TO_SECTION, M.SEMESTER,
            "Two delegates at the periodic evaluation meeting",
            "Déléguer 2 dirigeants compétents pour une rencontre périodique d'évaluation",
            manual=True, seat=S.NODE),
        # Section → seat.
        _ob("section.bulletin", Relation.SECTION_TO_SEAT, M.MONTH,
            "Monthly bulletin to the section's members",
            "Envoyer un bulletin mensuel aux membres de la CoVi de la section",
            section=S.NODE, seat=S.SECTION),
        _ob("section.report", Relation.SECTION_TO_SEAT, M.SEMESTER,
            "Semi-annual evaluation report delivered to the seat",
            "Livrer un rapport semestriel d'évaluation",
            section=S.NODE, seat=S.SECTION),
        _ob("section.hostings_reported", Relation.SECTION_TO_SEAT, M.SEMESTER,
            "Hostings per mediator, as the report gives them",
            "Acheter 1 hébergement par mois (rapport semestriel)",
            seat=S.SECTION),
        _ob("section.mediators_listed", Relation.SECTION_TO_SEAT, M.MONTH,
            "List of mediators kept up to date",
            "Tenir à jour l'article de la liste des médiateurs",
            section=S.NODE),
        _ob("section.moderation", Relation.SECTION_TO_SEAT, M.MONTH,
            "Moderation of the community's requests followed up",
            "Assurer un suivi dans la modération des requêtes de la CoVi",
            manual=True, section=S.NODE),
        _ob("section.access_conditions", Relation.SECTION_TO_SEAT, M.ONCE,
            "The section's access conditions defined and delivered",
            "Définir et livrer les conditions spécifiques d'accès aux services de la section",
            manual=True, section=S.NODE),
        _ob("section.hosting_conditions", Relation.SECTION_TO_SEAT, M.ONCE,
            "General hosting conditions accepted",
            "Accepter des conditions générales d'hébergement",
            manual=True, section=S.NODE),
        _ob("section.coordination", Relation.SECTION_TO_SEAT, M.MONTH,
            "Took part in the network's monthly coordination",
            "Coordonner les activités entre les différentes sections",
            manual=True, seat=S.SECTION),
        # Section → mediator.
        _ob("section.office", Relation.SECTION_TO_MEDIATOR, M.ONCE,
            "An accessible office for the mediators",
            "Mettre à disposition une structure administrative accessible",
            manual=True, section=S.NODE),
        _ob("section.training", Relation.SECTION_TO_MEDIATOR, M.ONCE,
            "Basic training and a starter kit given",
            "Fournir une formation de base et livrer un kit de démarrage complet",
            manual=True, section=S.MEDIATOR),
        _ob("section.pricing", Relation.SECTION_TO_MEDIATOR, M.ONCE,
            "Pricing policy published",
            "Définir et publier (article) une politique tarifaire",
            manual=True, section=S.NODE),
        # Mediator → section.
        _ob("mediator.hosting", Relation.MEDIATOR_TO_SECTION, M.SEMESTER,
            "One hosting bought a month (six a semester)",
            "Acheter 1 hébergement par mois, pour un objectif de 6 par semestre",
            section=S.MEDIATOR),
        _ob("mediator.contract_handed_in", Relation.MEDIATOR_TO_SECTION, M.MONTH,
            "Signed contract handed in with the section's share",
            "Remettre chaque contrat d'hébergement signé accompagné du montant de la section",
            section=S.MEDIATOR),
        _ob("mediator.coordination", Relation.MEDIATOR_TO_SECTION, M.MONTH,
            "Attended the monthly coordination",
            "Se rendre disponible au moins une fois par mois pour les séances de coordination",
            manual=True, section=S.MEDIATOR),
        # Mediator → client (the section sees its receipts).
        _ob("mediator.receipt", Relation.MEDIATOR_TO_CLIENT, M.MONTH,
            "A receipt for every contract paid",
            "Une pièce justificative (reçu) rédigée et signée pour toute somme perçue",
            section=S.MEDIATOR),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Detail:
    """A piece of explanation: an English message id and its values, so that the pages
    translate it and the CLI prints it as is."""

    msgid: str
    args: tuple[tuple[str, str], ...] = ()

    def render(self, translate: Callable[[str], str] | None = None) -> str:
        text = translate(self.msgid) if translate else self.msgid
        return text.format(**dict(self.args))

    def __str__(self) -> str:
        return self.render()


def note(msgid: str, **args: object) -> Detail:
    return Detail(msgid, tuple((k, str(v)) for k, v in args.items()))


NO_SEAT = Detail("no seat allied")


@dataclass(frozen=True)
class Item:
    """One obligation of one subject for one period, and its state."""

    key: str
    relation: Relation
    period: str
    #: Who owes it, for people.
    who: str
    #: Who owes it, as records name it: "" (this node), a username, a peer actor URI.
    subject: str
    state: State
    details: tuple[Detail, ...] = ()
    manual: bool = False
    #: On the seat: the allied section this item belongs to ("" for the node's own).
    section: str = ""
    #: The manual record that makes it done, if any.
    record_id: int | None = None

    @property
    def title(self) -> str:
        return CATALOGUE[self.key].title

    @property
    def detail(self) -> str:
        return "; ".join(str(d) for d in self.details)

    @property
    def sort_key(self) -> tuple[Any, ...]:
        order = list(Relation).index(self.relation)
        return (STATE_ORDER[self.state], order, self.key, self.who, _desc(self.period))


def _desc(period: str) -> str:
    """Newest period first inside one obligation."""
    return "".join(chr(0x10FFFF - ord(c)) for c in period)


# ----------------------------------------------------------------------------- periods


def month_of(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def previous_month(month: str) -> str:
    year, m = int(month[:4]), int(month[5:])
    return f"{year - 1}-12" if m == 1 else f"{year}-{m - 1:02d}"


def months_shown(today: date) -> list[str]:
    this = month_of(today)
    return [this, previous_month(this)]


def semesters_shown(today: date) -> list[Semester]:
    this = Semester.of(today)
    return [this, this.previous()]


def report_deadline(semester: Semester) -> date:
    """The last day of the month after the semester: 31 July, 31 January."""
    return date(semester.year, 7, 31) if semester.half == 1 else date(semester.year + 1, 1, 31)


def month_end(month: str) -> date:
    year, m = int(month[:4]), int(month[5:])
    first_next = date(year + 1, 1, 1) if m == 12 else date(year, m + 1, 1)
    return first_next - timedelta(days=1)


def owed(period: str, since: date) -> bool:
    """Whether a period ends on or after ``since`` (a node, a mediator, an alliance's start):
    nothing is owed, so nothing is late, for a time before the one who owes it was there."""
    end = period_end(period)
    return end is None or end >= since


def period_end(period: str) -> date | None:
    if period == ONCE:
        return None
    if _MONTH.match(period):
        return month_end(period)
    return Semester.parse(period).last_day


def parse_period(cadence: Cadence, text: str, today: date) -> str:
    """A period written for ``cadence``, checked (not in the future); refusals say how."""
    raw = text.strip()
    if cadence is Cadence.ONCE:
        if raw.lower() not in ("", ONCE):
            raise ObligationError("this obligation is done once: give no period (or 'once')")
        return ONCE
    if cadence is Cadence.MONTH:
        m = _MONTH.match(raw)
        if m is None or not 1 <= int(m[2]) <= 12 or not 2000 <= int(m[1]) <= 2100:
            raise ObligationError(f"{raw[:20]!r} is not a month: write it as 2026-09")
        if raw > month_of(today):
            raise ObligationError("that month has not begun: an obligation is recorded when done")
        return raw
    try:
        semester = Semester.parse(raw)
    except UserError:
        raise ObligationError(f"{raw[:20]!r} is not a semester: write it as 2026-S2") from None
    if semester > Semester.of(today):
        raise ObligationError("that semester has not begun: an obligation is recorded when done")
    return str(semester)


# ----------------------------------------------------------------------------- pure states


def monthly_state(months_done: Iterable[str], month: str, today: date) -> State:
    """Done if shown for ``month``; else due while it runs, late once it is over."""
    if month in set(months_done):
        return State.DONE
    return State.DUE if month >= month_of(today) else State.LATE


def record_state(done: bool, period: str, today: date) -> State:
    """A manual obligation: done if recorded; a one-time one is never late (no deadline)."""
    if done:
        return State.DONE
    end = period_end(period)
    return State.DUE if end is None or end >= today else State.LATE


def report_state(is_delivered: bool, semester: Semester, today: date) -> State:
    if is_delivered:
        return State.DONE
    return State.DUE if today <= report_deadline(semester) else State.LATE


def hosting_state(
    days: list[date], semester: Semester, today: date, since: date | None = None
) -> tuple[State, Detail]:
    """Behind (late) when fewer hostings than months of the semester ended.

    Months before ``since`` (the mediator joined) ask nothing: a mediator
    certified in October owes three hostings in S2, not six.
    """
    t = tally(days, semester, today)
    this_month = month_of(today)
    first = month_of(since) if since else ""
    owed_months = [m for m in semester.months if m >= first]
    ended = sum(1 for m in owed_months if m < this_month)
    aim = len(owed_months) * PER_MONTH
    if t.total < ended * PER_MONTH:
        return State.LATE, note(
            "behind: {bought} bought, {ended} month(s) ended", bought=t.total, ended=ended
        )
    if t.total >= aim or semester.last_day < today:
        return State.DONE, note("{bought} of {aim}", bought=t.total, aim=aim)
    due = sum(1 for m in owed_months if m <= this_month) * PER_MONTH
    return State.DUE, note(
        "{bought} bought, {due} due by the end of this month", bought=t.total, due=due
    )


def hand_in_state(signed_on: date, handed_in: bool, today: date) -> State:
    if handed_in:
        return State.DONE
    return State.LATE if today > signed_on + HAND_IN_DELAY else State.DUE


def receipt_state(counterpart: str | None, has_receipt: bool) -> State:
    """A contract whose share was handed in: paid; money asks for a receipt."""
    if has_receipt:
        return State.DONE
    if counterpart == Counterpart.ARTICLE:
        return State.NOT_APPLICABLE
    return State.LATE


# ----------------------------------------------------------------------------- from data


@dataclass
class _Context:
    session: AsyncSession
    urls: Urls
    role: str
    today: date
    node: LocalActor
    #: (key, period, subject) → live record id.
    records: dict[tuple[str, str, str], int] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)

    def add(self, key: str, period: str, who: str, subject: str, state: State, **kw: Any) -> None:
        ob = CATALOGUE[key]
        self.items.append(
            Item(key, ob.relation, period, who, subject, state, manual=ob.manual, **kw)
        )

    def periods(self, cadence: Cadence) -> list[str]:
        if cadence is Cadence.MONTH:
            return months_shown(self.today)
        if cadence is Cadence.SEMESTER:
            return [str(s) for s in semesters_shown(self.today)]
        return [ONCE]

    def manual(self, key: str, who: str, subject: str, since: date, section: str = "") -> None:
        for period in self.periods(CATALOGUE[key].cadence):
            if not owed(period, since):
                continue
            record = self.records.get((key, period, subject))
            state = record_state(record is not None, period, self.today)
            self.add(key, period, who, subject, state, section=section, record_id=record)


def _name(actor: LocalActor) -> str:
    return actor.name or actor.username


def _since(peer: Alliance) -> date:
    """When the alliance began: before it, the peer owed us nothing we could see."""
    return (peer.accepted_at or peer.created_at).date()


def _peer_name(peer: Alliance) -> str:
    return peer.peer_name or peer.peer_handle or peer.peer_uri


async def compute(session: AsyncSession, urls: Urls, role: str, today: date) -> list[Item]:
    """Every obligation this node tracks, as seen on ``today``, late ones first."""
    node = await get_node_actor(session)
    ctx = _Context(session, urls, role, today, node)
    for r in await list_records(session, include_cancelled=False):
        ctx.records[(r.key, r.period, r.subject)] = r.id
    if role == "seat":
        await _seat(ctx)
    else:
        await _section(ctx)
    for key, ob in CATALOGUE.items():
        if ob.manual and ob.tracked.get(role) is Subject.NODE:
            ctx.manual(key, _name(node), "", node.created_at.date())
    return sorted(ctx.items, key=lambda i: (i.section, *i.sort_key))


async def _own_bulletin_months(ctx: _Context) -> set[str]:
    rows = await ctx.session.scalars(
        select(Bulletin.published).where(
            Bulletin.local_actor_id == ctx.node.id, Bulletin.deleted_at.is_(None)
        )
    )
    return {month_of(p.date()) for p in rows.all()}


async def _received_bulletin_months(ctx: _Context, actor_uri: str) -> set[str]:
    rows = await ctx.session.execute(
        select(RemoteObject.published, RemoteObject.received_at).where(
            RemoteObject.actor_uri == actor_uri, RemoteObject.kind == "bulletin"
        )
    )
    # A peer's "published" is its word; never later than when it reached us.
    return {month_of(min(p or r, r).date()) for p, r in rows.all()}


async def _section(ctx: _Context) -> None:
    session, today, node = ctx.session, ctx.today, ctx.node
    who = _name(node)
    # Seat → section, as the section sees it.
    seat = await seat_of(session)
    start = node.created_at.date()
    seat_start = max(start, _since(seat)) if seat else start
    for month in months_shown(today):
        if not owed(month, seat_start):
            continue
        if seat is None:
            ctx.add("seat.bulletin", month, "-", "", State.NOT_APPLICABLE, details=(NO_SEAT,))
        else:
            got = await _received_bulletin_months(ctx, seat.peer_uri)
            ctx.add("seat.bulletin", month, _peer_name(seat), seat.peer_uri,
                    monthly_state(got, month, today))  # fmt: skip
    if seat is None:
        ctx.add("seat.authorisation", ONCE, "-", "", State.NOT_APPLICABLE, details=(NO_SEAT,))
    else:
        held = await live_held_for(session, node.id, seat.peer_uri)
        ctx.add("seat.authorisation", ONCE, _peer_name(seat), seat.peer_uri,
                State.DONE if held else State.DUE)  # fmt: skip
        ctx.manual("seat.documentation", _peer_name(seat), seat.peer_uri, seat_start)
    # Section → seat.
    months = await _own_bulletin_months(ctx)
    for month in [m for m in months_shown(today) if owed(m, start)]:
        ctx.add("section.bulletin", month, who, "", monthly_state(months, month, today))
    for semester in semesters_shown(today):
        if not owed(str(semester), start):
            continue
        sent = await reports_for(session, period=str(semester), direction=ReportDirection.SENT)
        done = any(r.state in ("sent", "acknowledged") for r in sent)
        ctx.add("section.report", str(semester), who, "", report_state(done, semester, today),
                details=(note("deadline {day}", day=report_deadline(semester)),))  # fmt: skip
    await _mediators_listed(ctx)
    # Mediator → section, section → mediator, mediator → client.
    mediators = list(
        await session.scalars(
            select(LocalActor)
            .where(LocalActor.type == "Person", LocalActor.deleted_at.is_(None))
            .order_by(LocalActor.username)
        )
    )
    for semester in semesters_shown(today):
        rows = [r for r in await purchases(session, semester) if r.cancelled_at is None]
        for m in mediators:
            if m.created_at.date() > semester.last_day:
                continue
            days = [r.bought_on for r in rows if r.actor_id == m.id]
            state, detail = hosting_state(days, semester, today, m.created_at.date())
            ctx.add(
                "mediator.hosting", str(semester), _name(m), m.username, state, details=(detail,)
            )
    for m in mediators:
        ctx.manual("section.training", _name(m), m.username, m.created_at.date())
        for month in months_shown(today):
            if m.created_at.date() > month_end(month):
                continue
            record = ctx.records.get(("mediator.coordination", month, m.username))
            ctx.add("mediator.coordination", month, _name(m), m.username,
                    record_state(record is not None, month, today), record_id=record)  # fmt: skip
    await _contracts(ctx)


async def _mediators_listed(ctx: _Context) -> None:
    session, today = ctx.session, ctx.today
    everyone = await session.scalars(select(LocalActor).where(LocalActor.type == "Person"))
    late: list[Detail] = []
    waiting: list[Detail] = []
    for m in everyone.all():
        live = await live_issued_for(session, ctx.urls.actor(m.username))
        if m.deleted_at is not None:
            if live is not None:
                late.append(note("{name} (removed, still certified)", name=m.username))
        elif live is None:
            revoked = await session.scalar(
                select(Attestation.id).where(
                    Attestation.subject_uri == ctx.urls.actor(m.username),
                    Attestation.kind == Kind.CERTIFICATION,
                )
            )
            why = "{name} (certification revoked)" if revoked else "{name} (not certified)"
            if revoked is None and m.created_at.date() + HAND_IN_DELAY >= today:
                waiting.append(note(why, name=m.username))
            else:
                late.append(note(why, name=m.username))
    state = State.LATE if late else State.DUE if waiting else State.DONE
    ctx.add("section.mediators_listed", month_of(today), _name(ctx.node), "", state,
            details=tuple(late + waiting))  # fmt: skip


async def _contracts(ctx: _Context) -> None:
    session, today = ctx.session, ctx.today
    shown = set(months_shown(today))
    signed = list(
        await session.scalars(
            select(Contract)
            .where(
                Contract.signed_at.is_not(None),
                Contract.state.in_(
                    (ContractState.SIGNED, ContractState.HANDED_IN, ContractState.ENDED)
                ),
            )
            .order_by(Contract.signed_at)
        )
    )
    if not signed:
        return
    actors = {
        a.id: a
        for a in await session.scalars(
            select(LocalActor).where(LocalActor.id.in_({c.actor_id for c in signed}))
        )
    }
    cancelled = select(Receipt.cancels_id).where(Receipt.cancels_id.is_not(None))
    with_receipt = set(
        await session.scalars(
            select(Receipt.contract_ref).where(
                Receipt.contract_ref.in_([c.uuid for c in signed]),
                Receipt.cancels_id.is_(None),
                Receipt.id.not_in(cancelled.scalar_subquery()),
            )
        )
    )
    for c in signed:
        assert c.signed_at is not None
        actor = actors[c.actor_id]
        who, label = _name(actor), f"{c.client_name}: {c.service}"
        signed_on = c.signed_at.date()
        state = hand_in_state(signed_on, c.handed_in_at is not None, today)
        shown_month = month_of(c.handed_in_at.date()) if c.handed_in_at else month_of(signed_on)
        if state is not State.DONE or shown_month in shown:
            detail = note("{contract} (signed {day})", contract=label, day=signed_on)
            ctx.add("mediator.contract_handed_in", month_of(signed_on), who, actor.username,
                    state, details=(detail,))  # fmt: skip
        if c.handed_in_at is None:
            continue
        paid = month_of(c.handed_in_at.date())
        state = receipt_state(c.counterpart, c.uuid in with_receipt)
        if state is State.LATE or paid in shown:
            article = state is State.NOT_APPLICABLE
            detail = note("{contract} (paid with an article)" if article else "{contract}",
                          contract=label)  # fmt: skip
            ctx.add("mediator.receipt", paid, who, actor.username, state, details=(detail,))


async def _seat(ctx: _Context) -> None:
    session, today, node = ctx.session, ctx.today, ctx.node
    months = await _own_bulletin_months(ctx)
    for month in [m for m in months_shown(today) if owed(m, node.created_at.date())]:
        ctx.add("seat.bulletin", month, _name(node), "", monthly_state(months, month, today))
    for peer in await sections_of(session):
        await section_seen_by_seat(ctx, peer)


async def section_seen_by_seat(ctx: _Context, peer: Alliance) -> None:
    """What the seat's own data shows of one allied section."""
    session, today = ctx.session, ctx.today
    who, uri = _peer_name(peer), peer.peer_uri
    got = await _received_bulletin_months(ctx, uri)
    start = max(ctx.node.created_at.date(), _since(peer))
    for month in [m for m in months_shown(today) if owed(m, start)]:
        ctx.add("section.bulletin", month, who, uri, monthly_state(got, month, today),
                section=who)  # fmt: skip
    for semester in semesters_shown(today):
        if not owed(str(semester), start):
            continue
        report = await delivered(session, uri, str(semester))
        deadline = report_deadline(semester).isoformat()
        ctx.add("section.report", str(semester), who, uri,
                report_state(report is not None, semester, today),
                details=(note("deadline {day}", day=deadline),), section=who)  # fmt: skip
        if report is not None:
            state, detail = reported_hostings(report)
            ctx.add("section.hostings_reported", str(semester), who, uri, state,
                    details=(detail,), section=who)  # fmt: skip
    issued = await session.scalar(
        select(Attestation.id).where(
            Attestation.subject_uri == uri,
            Attestation.kind == Kind.AUTHORIZATION,
            Attestation.revoked_at.is_(None),
        )
    )
    ctx.add("seat.authorisation", ONCE, who, uri, State.DONE if issued else State.DUE,
            section=who)  # fmt: skip
    ctx.manual("section.coordination", who, uri, start, section=who)


def hostings_behind(figures: Mapping[str, Any]) -> dict[str, int] | None:
    """The mediators behind on hostings, as the section counted them for its report
    (``hostings_behind``, models/network/report_figures.py: the section knows when
    each mediator joined, the seat does not); None when the report has no such
    figure (an older section) or it is not a map of counts: the report comes from
    another node, so that is "not in the report", never an error."""
    raw = figures.get("hostings_behind")
    if not isinstance(raw, Mapping):
        return None
    return {
        str(name)[:64]: count
        for name, count in raw.items()
        if isinstance(count, int) and not isinstance(count, bool)
    }


def reported_hostings(report: SectionReport) -> tuple[State, Detail]:
    try:
        figures = report.figures
    except ValueError:
        figures = {}
    behind = hostings_behind(figures) if isinstance(figures, Mapping) else None
    if behind is None:
        return State.NOT_APPLICABLE, note("not in the report")
    if behind:
        return State.LATE, note(
            "behind: {names} ({counts}; aim {aim})",
            names=", ".join(sorted(behind)),
            counts=", ".join(f"{n} {c}" for n, c in sorted(behind.items())),
            aim=PER_SEMESTER,
        )
    return State.DONE, note("every mediator on aim (report of {day})", day=str(report.as_of or ""))


# ----------------------------------------------------------------------------- recording


def recordable(role: str) -> list[Obligation]:
    """The obligations a coordinator records by hand on a node of ``role``."""
    return [o for o in CATALOGUE.values() if o.manual and role in o.tracked]


async def subjects_for(session: AsyncSession, role: str, key: str) -> list[tuple[str, str]]:
    """(subject, name) a record of ``key`` may name on this node."""
    ob = CATALOGUE[key]
    kind = ob.tracked[role]
    if kind is Subject.NODE:
        node = await get_node_actor(session)
        return [("", _name(node))]
    if kind is Subject.MEDIATOR:
        rows = await session.scalars(
            select(LocalActor)
            .where(LocalActor.type == "Person", LocalActor.deleted_at.is_(None))
            .order_by(LocalActor.username)
        )
        return [(m.username, _name(m)) for m in rows.all()]
    if kind is Subject.SEAT:
        seat = await seat_of(session)
        return [(seat.peer_uri, _peer_name(seat))] if seat else []
    return [(p.peer_uri, _peer_name(p)) for p in await sections_of(session)]


async def record(
    session: AsyncSession,
    role: str,
    *,
    key: str,
    period: str,
    who: str,
    done_on: date,
    note: str,
    recorded_by: str,
    today: date,
) -> ObligationRecord:
    """Record a manual obligation as done; every field is checked against the catalogue.

    ``who`` names the subject: nothing for the node itself, a mediator's
    username, or an allied section's (or the seat's) handle or actor URI.
    """
    ob = CATALOGUE.get(key.strip())
    if ob is None or not ob.manual or role not in ob.tracked:
        keys = ", ".join(o.key for o in recordable(role))
        raise ObligationError(f"{key[:64]!r} is not recorded by hand here; one of: {keys}")
    checked = parse_period(ob.cadence, period, today)
    if done_on > today:
        raise ObligationError("the day it was done cannot be in the future: check the date")
    if done_on.year < 2000:
        raise ObligationError("that date is too far in the past: check the date")
    subjects = await subjects_for(session, role, ob.key)
    wanted = who.strip()
    subject = next(
        (
            s
            for s, name in subjects
            if wanted in (s, name) or (wanted and _handle_matches(wanted, s))
        ),
        None,
    )
    if ob.tracked[role] is Subject.NODE:
        subject = ""
    elif not wanted and len(subjects) == 1:
        subject = subjects[0][0]
    elif subject is None or (not wanted and len(subjects) != 1):
        names = ", ".join(s for s, _ in subjects) or "none yet"
        raise ObligationError(f"say whom it concerns (--who): one of {names}")
    return await add_record(
        session,
        key=ob.key,
        period=checked,
        subject=subject,
        done_on=done_on,
        note=note,
        recorded_by=recorded_by,
    )


def _handle_matches(wanted: str, uri: str) -> bool:
    """name@host names the actor https://host/users/name (the form people type)."""
    name, _, host = wanted.lstrip("@").partition("@")
    return bool(host) and uri.rstrip("/").endswith(f"//{host}/users/{name}")
