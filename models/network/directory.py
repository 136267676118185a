"""The shared offer directory: allied sections' offers, stored with their structure.

A peer's offer arrives as the FEP-0837 ``Proposal`` + ``Note`` that
models/offers.py writes (by a ``Create``/``Update`` to followers, or read
from the peer's offers collection when the alliance begins). It is kept
here as columns (price, SEL hours, category, area, validity, the section it
came from), never as the peer's JSON: every field is read defensively
(``parse_offer``), cut to our own limits, HTML sanitised, and a document
that is not an offer we understand is refused with the reason.

Who is taken in: the node actor of an accepted alliance, and any actor on
the same origin as such a node actor (its mediators: a server speaks for
its own origin). The directory's queries only show offers whose section is
allied *now*, so an ended alliance hides its offers at once; the periodic
chore purges them, and the offers past their ``valid_until``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    Text,
    delete,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from federation.vocab import as_list, get_id, has_type, ours, parse_time, same_origin
from models.actors import LocalActor
from models.base import Base, UTCDateTime, insert_or_skip, utcnow
from models.errors import UserError
from models.html import html_to_text, plain_line, sanitize_html
from models.network.alliances import Alliance, AllianceState, accepted_peers
from models.network.search import matches, search_text
from models.offers import CATEGORIES, MAX_TITLE, Offer, OfferError, OfferState, parse_price

#: Characters of a peer's HTML read (before sanitising) and of the text kept.
MAX_CONTENT = 30_000
MAX_SUMMARY = 600
MAX_AREA = 200
MAX_URI = 2048
#: Offers on one page of the directory.
PAGE = 20
#: Longest offer the directory's paging walks to (a bound on OFFSET).
MAX_OFFSET = 10_000


class OfferRefused(UserError):
    """A peer's document that is not an offer we keep; the message says why."""


class RemoteOffer(Base):
    """An allied section's offer, as the directory lists and searches it."""

    __tablename__ = "remote_offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(MAX_URI), unique=True)
    #: Who published it (a mediator, or the section's node actor).
    actor_uri: Mapped[str] = mapped_column(String(MAX_URI), index=True)
    #: The allied node actor it came through, and the section's name then.
    node_uri: Mapped[str] = mapped_column(String(MAX_URI), index=True)
    node_name: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    #: Plain text, for the list.
    summary: Mapped[str] = mapped_column(Text, default="")
    #: Sanitised HTML, as the peer wrote it.
    content: Mapped[str] = mapped_column(Text, default="")
    #: Where a person reads the original (http(s) only).
    url: Mapped[str | None] = mapped_column(String(MAX_URI))
    category: Mapped[str] = mapped_column(String(32), default="other")
    price_amount: Mapped[str | None] = mapped_column(String(32))
    price_currency: Mapped[str | None] = mapped_column(String(3))
    sel_minutes: Mapped[int | None] = mapped_column(Integer)
    area: Mapped[str] = mapped_column(String(MAX_AREA), default="")
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    published: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When a backfill last found it in its section's collection.
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Folded words and stems (models/network/search.py).
    search: Mapped[str] = mapped_column(Text, default=" ")
    area_search: Mapped[str] = mapped_column(Text, default=" ")


# ----------------------------------------------------------------------------- parsing


@dataclass
class ParsedOffer:
    uri: str
    actor_uri: str
    title: str
    summary: str
    content: str
    url: str | None
    category: str
    price_amount: str | None
    price_currency: str | None
    sel_minutes: int | None
    area: str
    valid_from: datetime | None
    valid_until: datetime | None
    published: datetime
    updated_at: datetime | None


def _web(url: Any) -> str | None:
    if isinstance(url, dict):
        url = url.get("href")
    if isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= MAX_URI:
        return url
    return None


def _text(value: Any, limit: int) -> str:
    """A plain line from a peer's string (HTML dropped), or '' for anything else."""
    if not isinstance(value, str):
        return ""
    return " ".join(plain_line(html_to_text(value[: limit * 4])).split())[:limit]


def _number(quantity: Any) -> str | None:
    if not isinstance(quantity, dict):
        return None
    value = quantity.get("hasNumericalValue")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value)
    return text if len(text) <= 24 else None


def _prices(obj: dict[str, Any]) -> tuple[str | None, str | None, int | None]:
    """(amount, currency, SEL minutes) from the ``reciprocal`` and ``selReciprocal`` Intents."""
    amount = currency = None
    minutes = None
    for key in ("reciprocal", "selReciprocal"):
        for intent in as_list(obj.get(key))[:4]:
            if not isinstance(intent, dict):
                continue
            conforms = get_id(intent.get("resourceConformsTo")) or ""
            value = _number(intent.get("resourceQuantity"))
            if value is None:
                continue
            if ours(conforms) == "selHour" and minutes is None:
                try:
                    hours = Decimal(value)
                except InvalidOperation:
                    continue
                if hours.is_finite() and 0 < hours <= 1000:
                    minutes = int((hours * 60).to_integral_value())
            elif "#" in conforms and amount is None and len(conforms) <= 200:
                code = conforms.rsplit("#", 1)[1]
                if len(code) == 3 and code.isascii() and code.isalpha():
                    try:
                        amount, currency = parse_price(f"{value} {code.upper()}")
                    except OfferError:
                        continue
    return amount, currency, minutes


def _category(obj: dict[str, Any]) -> str:
    value = obj.get("category")
    if isinstance(value, str) and value in CATEGORIES:
        return value
    publishes = obj.get("publishes")
    if isinstance(publishes, dict):
        local = ours(get_id(publishes.get("resourceConformsTo")))
        if local in CATEGORIES:
            return local
    return "other"


def _area(obj: dict[str, Any]) -> str:
    for place in as_list(obj.get("location"))[:3]:
        name = place.get("name") if isinstance(place, dict) else place
        text = _text(name, MAX_AREA)
        if text:
            return text
    return ""


def parse_offer(obj: Any, now: datetime | None = None) -> ParsedOffer:
    """A peer's Proposal as columns; OfferRefused if it is not an offer we can keep.

    Anything optional that is missing, of the wrong type or out of bounds is
    dropped; what an offer cannot be without (an id, an author, a title) is
    refused. Dates in the future are not believed for ``published``.
    """
    now = now or utcnow()
    if not isinstance(obj, dict):
        raise OfferRefused("not an object")
    if not has_type(obj, "Proposal"):
        raise OfferRefused("not a Proposal")
    uri = get_id(obj)
    if not uri or not _web(uri):
        raise OfferRefused("no usable id")
    authors = [a for a in (get_id(x) for x in as_list(obj.get("attributedTo"))[:4]) if a]
    if not authors or not _web(authors[0]) or not same_origin(authors[0], uri):
        raise OfferRefused("no author on the offer's own server")
    title = _text(obj.get("name"), MAX_TITLE)
    if not title:
        raise OfferRefused("no title")
    raw = obj.get("content")
    content = sanitize_html(raw[:MAX_CONTENT]) if isinstance(raw, str) else ""
    if len(content) > MAX_CONTENT:
        content = ""  # escaping swelled hostile text: keep the summary only
    source = obj.get("source")
    text = source.get("content") if isinstance(source, dict) else None
    summary = _text(text if isinstance(text, str) else raw, MAX_SUMMARY)
    amount, currency, minutes = _prices(obj)
    published = parse_time(obj.get("published"))
    if published is None or published > now:
        published = now
    updated = parse_time(obj.get("updated"))
    return ParsedOffer(
        uri=uri,
        actor_uri=authors[0],
        title=title,
        summary=summary,
        content=content,
        url=_web(next(iter(as_list(obj.get("url"))), None)),
        category=_category(obj),
        price_amount=amount,
        price_currency=currency,
        sel_minutes=minutes,
        area=_area(obj),
        valid_from=parse_time(obj.get("startTime")),
        valid_until=parse_time(obj.get("endTime")),
        published=published,
        updated_at=updated if updated is not None and updated <= now else None,
    )


# ----------------------------------------------------------------------------- who is taken in


async def allied_node_for(session: AsyncSession, actor_uri: str) -> Alliance | None:
    """The accepted alliance that vouches for ``actor_uri``: its own, or that of the
    allied node actor on the same origin (a section's mediators)."""
    peers = await accepted_peers(session)
    for peer in peers:
        if peer.peer_uri == actor_uri:
            return peer
    for peer in peers:
        if same_origin(peer.peer_uri, actor_uri):
            return peer
    return None


def want_backfill(session: AsyncSession, peer_uri: str) -> None:
    """Ask for ``peer_uri``'s offers to be read once this transaction commits.

    For code that accepts an alliance inside a transaction (the inbox, the
    alliance protocol's ``after_accepted``): the inbox worker starts the
    backfill after its commit (node/network/backfill.py ``backfill_soon``).
    Should that never happen, the alliance row (``offers_backfilled_at`` is
    None once accepted) makes the periodic chore do it.
    """
    wanted: set[str] = session.info.setdefault("backfill_peers", set())
    wanted.add(peer_uri)


# ----------------------------------------------------------------------------- keeping current


async def keep_offer(
    session: AsyncSession, peer: Alliance, offer: ParsedOffer, *, seen: datetime | None = None
) -> str:
    """Insert or refresh a peer's offer; a line for the log.

    The offer must live on the allied node's origin. One already held under
    another author or section is left alone (an id does not change hands).
    An offer already past its end is not kept (and dropped if held).
    """
    if not same_origin(offer.uri, peer.peer_uri):
        return "ignored: an offer not hosted by the allied section"
    now = utcnow()
    if offer.valid_until is not None and offer.valid_until <= now:
        await session.execute(
            delete(RemoteOffer).where(
                RemoteOffer.uri == offer.uri,
                RemoteOffer.actor_uri == offer.actor_uri,
                RemoteOffer.node_uri == peer.peer_uri,
            )
        )
        return f"ignored: offer {offer.uri} has already ended"
    values: dict[str, Any] = {
        "actor_uri": offer.actor_uri,
        "node_uri": peer.peer_uri,
        "node_name": plain_line(peer.peer_name or peer.peer_handle or peer.peer_uri)[:200],
        **{
            key: getattr(offer, key)
            for key in (
                "title",
                "summary",
                "content",
                "url",
                "category",
                "price_amount",
                "price_currency",
                "sel_minutes",
                "area",
                "valid_from",
                "valid_until",
                "published",
                "updated_at",
            )
        },  # fmt: skip
        "search": search_text(
            offer.title, offer.summary, offer.area, category_words(offer.category)
        ),
        "area_search": search_text(offer.area),
    }
    if seen is not None:
        values["seen_at"] = seen
    # Insert, or refresh under the row's lock: two workers (an inbox batch and a
    # backfill, on PostgreSQL) may store the same offer at the same moment.
    table = cast(Table, RemoteOffer.__table__)
    conn = await session.connection()
    insert = insert_or_skip(session, table, "uri")
    added = (await conn.execute(insert, {"uri": offer.uri, "received_at": now, **values})).first()
    if added is None:
        row = await session.scalar(
            select(RemoteOffer).where(RemoteOffer.uri == offer.uri).with_for_update()
        )
        if row is None or row.actor_uri != offer.actor_uri or row.node_uri != peer.peer_uri:
            return "ignored: this offer is held from another author"
        for key, value in values.items():
            setattr(row, key, value)
        await session.flush()
    return f"directory: kept offer {offer.uri} of {values['node_name']}"


#: English names of the categories (French ones are models.offers.CATEGORIES).
_ENGLISH = {
    "hosting": "hosting",
    "training": "training",
    "website": "website building",
    "telework": "telework",
    "help": "mutual help",
    "other": "other",
}


def category_words(key: str) -> str:
    """Both languages' names of a category, so 'formation' and 'training' find it."""
    return f"{CATEGORIES.get(key, '')} {_ENGLISH.get(key, '')}"


async def receive_offer(session: AsyncSession, signer_uri: str, obj: dict[str, Any]) -> str | None:
    """A Create/Update of a Proposal from ``signer_uri``: kept if an ally vouches for it.

    None when it is not for the directory (not a Proposal, not from an ally);
    a log line otherwise. The caller has checked the object is the signer's.
    """
    if not has_type(obj, "Proposal"):
        return None
    peer = await allied_node_for(session, signer_uri)
    if peer is None:
        return None
    try:
        parsed = parse_offer(obj)
    except OfferRefused as exc:
        return f"ignored by the directory: {exc}"
    if parsed.actor_uri != signer_uri:
        return "ignored by the directory: an offer attributed to another actor"
    return await keep_offer(session, peer, parsed)


async def drop_offer(session: AsyncSession, actor_uri: str, uri: str) -> int:
    """A Delete: the offer goes (only its author's word counts); ``uri`` = the
    actor itself drops every offer of that actor."""
    where = [RemoteOffer.actor_uri == actor_uri]
    if uri != actor_uri:
        where.append(RemoteOffer.uri == uri)
    result = await session.execute(delete(RemoteOffer).where(*where))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def purge(session: AsyncSession, now: datetime) -> int:
    """Offers past their end, and those of sections no longer allied, are removed."""
    allied = select(Alliance.peer_uri).where(Alliance.state == AllianceState.ACCEPTED)
    result = await session.execute(
        delete(RemoteOffer).where(
            or_(
                RemoteOffer.valid_until <= now,
                RemoteOffer.node_uri.not_in(allied),
            )
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def drop_unseen(session: AsyncSession, node_uri: str, since: datetime) -> int:
    """After a complete backfill: the peer's offers its collection no longer lists."""
    result = await session.execute(
        delete(RemoteOffer).where(
            RemoteOffer.node_uri == node_uri,
            or_(RemoteOffer.seen_at.is_(None), RemoteOffer.seen_at < since),
            RemoteOffer.received_at < since,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- our own offers


def live_local() -> Select[tuple[Offer]]:
    """Our offers still on offer now (published, not past their end, author not removed)."""
    now = utcnow()
    return (
        select(Offer)
        .join(LocalActor, LocalActor.id == Offer.local_actor_id)
        .where(
            Offer.state == OfferState.PUBLISHED,
            or_(Offer.valid_until.is_(None), Offer.valid_until > now),
            LocalActor.deleted_at.is_(None),
        )
    )


async def local_page(session: AsyncSession, offset: int, limit: int) -> tuple[list[Offer], int]:
    """One page of our live offers, newest first, and how many there are (the offers
    collection)."""
    total = await session.scalar(select(func.count()).select_from(live_local().subquery()))
    rows = await session.scalars(
        live_local().order_by(Offer.published.desc(), Offer.id.desc()).offset(offset).limit(limit)
    )
    return list(rows.all()), int(total or 0)


# ----------------------------------------------------------------------------- the directory


@dataclass
class DirectoryQuery:
    text: str = ""
    category: str = ""
    area: str = ""
    #: "money", "sel" or "".
    unit: str = ""
    #: "" for every section, "local" for ours, or an allied node actor's URI.
    section: str = ""
    page: int = 1


@dataclass
class DirectoryEntry:
    uri: str
    href: str
    title: str
    summary: str
    category: str
    price_amount: str | None
    price_currency: str | None
    sel_minutes: int | None
    area: str
    valid_until: datetime | None
    published: datetime
    local: bool
    #: A local offer: its author's username; a remote one: the author's URI.
    author: str
    origin_uri: str
    origin_name: str

    @property
    def sel_hours(self) -> str | None:
        if self.sel_minutes is None:
            return None
        return f"{Decimal(self.sel_minutes) / 60:.2f}".rstrip("0").rstrip(".")


def _filters(
    q: DirectoryQuery, search: Any, area: Any, category: Any, price: Any, sel: Any
) -> list[ColumnElement[bool]]:
    """The text is looked for in everything searchable; the area in the area only."""
    where: list[ColumnElement[bool]] = []
    for column, text in ((search, q.text), (area, q.area)):
        clause = matches(column, text)
        if clause is not None:
            where.append(clause)
    if q.category in CATEGORIES:
        where.append(category == q.category)
    if q.unit == "money":
        where.append(price.is_not(None))
    elif q.unit == "sel":
        where.append(sel.is_not(None))
    return where


async def search_directory(
    session: AsyncSession, q: DirectoryQuery, *, node_uri: str, node_name: str
) -> tuple[list[DirectoryEntry], int]:
    """One page of our own and our allies' live offers matching ``q``, newest first,
    and how many match in all. The same SQL on SQLite and PostgreSQL."""
    now = utcnow()
    parts = []
    if q.section in ("", "local"):
        local = (
            live_local()
            .with_only_columns(
                Offer.uri.label("uri"),
                Offer.uri.label("href"),
                Offer.title.label("title"),
                Offer.description.label("summary"),
                Offer.category.label("category"),
                Offer.price_amount.label("price_amount"),
                Offer.price_currency.label("price_currency"),
                Offer.sel_minutes.label("sel_minutes"),
                Offer.area.label("area"),
                Offer.valid_until.label("valid_until"),
                Offer.published.label("published"),
                literal(1).label("local"),
                LocalActor.username.label("author"),
                literal(node_uri).label("origin_uri"),
                literal(node_name).label("origin_name"),
            )
            .where(
                *_filters(
                    q,
                    Offer.search,
                    Offer.area_search,
                    Offer.category,
                    Offer.price_amount,
                    Offer.sel_minutes,
                )
            )
        )
        parts.append(local)
    if q.section != "local":
        allied = select(Alliance.peer_uri).where(Alliance.state == AllianceState.ACCEPTED)
        remote = select(
            RemoteOffer.uri.label("uri"),
            func.coalesce(RemoteOffer.url, RemoteOffer.uri).label("href"),
            RemoteOffer.title.label("title"),
            RemoteOffer.summary.label("summary"),
            RemoteOffer.category.label("category"),
            RemoteOffer.price_amount.label("price_amount"),
            RemoteOffer.price_currency.label("price_currency"),
            RemoteOffer.sel_minutes.label("sel_minutes"),
            RemoteOffer.area.label("area"),
            RemoteOffer.valid_until.label("valid_until"),
            RemoteOffer.published.label("published"),
            literal(0).label("local"),
            RemoteOffer.actor_uri.label("author"),
            RemoteOffer.node_uri.label("origin_uri"),
            RemoteOffer.node_name.label("origin_name"),
        ).where(
            RemoteOffer.node_uri.in_(allied),
            or_(RemoteOffer.valid_until.is_(None), RemoteOffer.valid_until > now),
            *_filters(
                q,
                RemoteOffer.search,
                RemoteOffer.area_search,
                RemoteOffer.category,
                RemoteOffer.price_amount,
                RemoteOffer.sel_minutes,
            ),
        )
        if q.section:
            remote = remote.where(RemoteOffer.node_uri == q.section)
        parts.append(remote)
    both = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    total = int(await session.scalar(select(func.count()).select_from(both)) or 0)
    offset = min(max(q.page - 1, 0) * PAGE, MAX_OFFSET)
    rows = await session.execute(
        select(both).order_by(both.c.published.desc(), both.c.uri).offset(offset).limit(PAGE)
    )
    entries = []
    for r in rows.mappings():
        published = r["published"]
        until = r["valid_until"]
        entries.append(
            DirectoryEntry(
                uri=r["uri"],
                href=r["href"],
                title=r["title"],
                summary=_excerpt(r["summary"] or "", bool(r["local"])),
                category=r["category"],
                price_amount=r["price_amount"],
                price_currency=r["price_currency"],
                sel_minutes=r["sel_minutes"],
                area=r["area"] or "",
                valid_until=_aware(until),
                published=_aware(published) or now,
                local=bool(r["local"]),
                author=r["author"],
                origin_uri=r["origin_uri"],
                origin_name=r["origin_name"],
            )
        )
    return entries, total


def _aware(value: Any) -> datetime | None:
    """A union's datetime loses the UTCDateTime decorator on SQLite: put UTC back."""
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if isinstance(value, datetime) else None


def _excerpt(text: str, markdown: bool) -> str:
    """The first few hundred characters, as plain text."""
    if markdown:
        text = " ".join(text.replace("#", " ").replace("*", " ").split())
    return text if len(text) <= 300 else text[:299].rsplit(" ", 1)[0] + "…"


async def sections_in_directory(session: AsyncSession) -> list[tuple[str, str]]:
    """(node actor URI, name) of every allied section, for the section filter."""
    return [
        (p.peer_uri, p.peer_name or p.peer_handle or p.peer_uri)
        for p in await accepted_peers(session)
    ]
