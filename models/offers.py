"""Offers of service by a section or its mediators.

Published as FEP-0837 ``Proposal`` objects that are also ``Note``s (see
docs/decisions.md): peers read the marketplace structure, Mastodon shows
the Note's ``content`` (title, text, price, link back). Lifecycle:
published → withdrawn (by its author) or expired (validity passed); both
end states federate as a Delete.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from federation.vocab import CONTEXT, COOPNET_NS, PUBLIC, VF_TERMS, our_terms
from models.actors import LocalActor
from models.base import Base, UTCDateTime, utcnow
from models.errors import UserError
from models.markdown import render_markdown
from models.outbox import new_uuid
from models.publishing import publish_activity, tombstone
from models.states import check_transition
from models.to_ap import iso
from models.urls import Urls

CATEGORIES = {
    "hosting": "Hébergement",
    "training": "Formation",
    "website": "Création de site web",
    "telework": "Télétravail",
    "help": "Entraide",
    "other": "Autre",
}
OFFER_VF_TERMS = (
    "vf",
    "Proposal",
    "Intent",
    "purpose",
    "publishes",
    "reciprocal",
    "unitBased",
    "action",
    "resourceConformsTo",
    "resourceQuantity",
    "hasUnit",
    "hasNumericalValue",
)
#: ValueFlows resource for an hour of SEL time, in our namespace.
SEL_HOUR = f"{COOPNET_NS}selHour"
#: FEP-0837 terms. ValueFlows 1.0 puts hasUnit/hasNumericalValue in vf: (Mitra
#: followed in 2026); the FEP text still says om2:. We follow ValueFlows.
OFFER_CONTEXT: list[Any] = CONTEXT + [
    {
        **{k: VF_TERMS[k] for k in OFFER_VF_TERMS},
        **our_terms("selReciprocal", "category", "contact"),
    }
]
MAX_TITLE = 200
MAX_DESCRIPTION = 20_000


class OfferState(StrEnum):
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


OFFER_TRANSITIONS = {
    OfferState.PUBLISHED: frozenset({OfferState.WITHDRAWN, OfferState.EXPIRED}),
    OfferState.WITHDRAWN: frozenset[OfferState](),
    OfferState.EXPIRED: frozenset[OfferState](),
}


class OfferError(UserError):
    pass


class Offer(Base):
    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    price_amount: Mapped[str | None] = mapped_column(String(32))
    price_currency: Mapped[str | None] = mapped_column(String(3))
    sel_minutes: Mapped[int | None] = mapped_column(Integer)
    area: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(2048), default="")
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default=OfferState.PUBLISHED)
    published: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Folded words and stems for the directory's search (models/network/search.py).
    search: Mapped[str] = mapped_column(Text, default=" ")
    #: The area alone, normalised the same way: the directory's area filter.
    area_search: Mapped[str] = mapped_column(Text, default=" ")

    def move_to(self, new: OfferState) -> None:
        self.state = check_transition(OFFER_TRANSITIONS, OfferState(self.state), new)

    @property
    def sel_hours(self) -> str | None:
        if self.sel_minutes is None:
            return None
        return f"{Decimal(self.sel_minutes) / 60:.2f}".rstrip("0").rstrip(".")


@dataclass
class OfferDraft:
    """What a person fills in; every field checked by ``validate``."""

    title: str
    description: str
    category: str = "other"
    price: str | None = None  # "25" or "25.50 EUR"
    sel_hours: str | None = None  # "1.5"
    area: str = ""
    contact: str = ""
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def parse_price(value: str) -> tuple[str, str]:
    """'25', '25.5 EUR', 'XOF 5000' → (amount as text, ISO currency, EUR by default)."""
    parts = value.replace(",", ".").split()
    currency = "EUR"
    numbers = [p for p in parts if not p.isalpha()]
    codes = [p.upper() for p in parts if p.isalpha()]
    if len(numbers) != 1 or len(codes) > 1 or (codes and len(codes[0]) != 3):
        raise OfferError(
            f"price {value!r}: write an amount and an optional currency, e.g. '25 EUR'"
        )
    if codes:
        currency = codes[0]
    try:
        amount = Decimal(numbers[0])
    except InvalidOperation as exc:
        raise OfferError(f"price {value!r} is not a number") from exc
    if not amount.is_finite() or amount < 0 or amount > Decimal("1e9"):
        raise OfferError(f"price {value!r} must be between 0 and 1,000,000,000")
    return f"{amount.quantize(Decimal('0.01'))}", currency


def parse_sel_hours(value: str) -> int:
    try:
        hours = Decimal(value.replace(",", "."))
    except InvalidOperation as exc:
        raise OfferError(f"SEL price {value!r} is not a number of hours") from exc
    if not hours.is_finite() or hours <= 0 or hours > 1000:
        raise OfferError(f"SEL price {value!r}: between 0 and 1000 hours")
    return int((hours * 60).to_integral_value())


def _check_contact(value: str) -> str:
    value = value.strip()
    if value and not value.startswith(("https://", "http://", "mailto:", "tel:")):
        raise OfferError("contact must be a link: https://…, mailto:… or tel:…")
    return value


def _apply(offer: Offer, draft: OfferDraft) -> None:
    title = " ".join(draft.title.split())
    if not title:
        raise OfferError("an offer needs a title")
    if len(title) > MAX_TITLE:
        raise OfferError(f"the title is over {MAX_TITLE} characters")
    if not draft.description.strip():
        raise OfferError("an offer needs a description")
    if len(draft.description) > MAX_DESCRIPTION:
        raise OfferError(f"the description is over {MAX_DESCRIPTION} characters")
    if draft.category not in CATEGORIES:
        raise OfferError(f"category must be one of: {', '.join(CATEGORIES)}")
    if draft.price is None and draft.sel_hours is None:
        raise OfferError("give a price in money (--price) and/or in SEL hours (--sel-hours)")
    if draft.valid_from and draft.valid_until and draft.valid_until <= draft.valid_from:
        raise OfferError("the offer must end after it starts")
    if draft.valid_until and draft.valid_until <= utcnow():
        raise OfferError("the offer's end date has already passed")
    offer.title = title
    offer.description = draft.description
    offer.content = render_markdown(draft.description)
    offer.category = draft.category
    if draft.price is not None:
        offer.price_amount, offer.price_currency = parse_price(draft.price)
    else:
        offer.price_amount = offer.price_currency = None
    offer.sel_minutes = parse_sel_hours(draft.sel_hours) if draft.sel_hours is not None else None
    offer.area = draft.area.strip()[:200]
    offer.contact = _check_contact(draft.contact)
    offer.valid_from = draft.valid_from
    offer.valid_until = draft.valid_until
    offer.search = offer_search_text(offer)
    offer.area_search = area_search_text(offer.area)


def area_search_text(area: str) -> str:
    from models.network.search import search_text

    return search_text(area)


def offer_search_text(offer: Offer) -> str:
    """What the directory searches in one of our offers (models/network/search.py)."""
    from models.network.directory import category_words
    from models.network.search import search_text

    return search_text(offer.title, offer.description, offer.area, category_words(offer.category))


def check_draft(draft: OfferDraft) -> Offer:
    """An unsaved offer filled from ``draft``: every check publishing makes, nothing
    written (a form's preview shows its ``content``, the sanitised HTML)."""
    offer = Offer()
    _apply(offer, draft)
    return offer


def draft_of(offer: Offer) -> OfferDraft:
    return OfferDraft(
        title=offer.title,
        description=offer.description,
        category=offer.category,
        price=f"{offer.price_amount} {offer.price_currency}" if offer.price_amount else None,
        sel_hours=offer.sel_hours,
        area=offer.area,
        contact=offer.contact,
        valid_from=offer.valid_from,
        valid_until=offer.valid_until,
    )


def _quantity(value: str, unit: str = "one") -> dict[str, Any]:
    return {"hasUnit": unit, "hasNumericalValue": value}


def offer_to_ap(urls: Urls, actor: LocalActor, offer: Offer) -> dict[str, Any]:
    """A Proposal (FEP-0837) that is also a Note, so Mastodon shows it (docs/decisions.md)."""
    actor_id = urls.actor(actor.username)
    price_lines = []
    if offer.price_amount:
        price_lines.append(f"{offer.price_amount} {offer.price_currency}")
    if offer.sel_minutes is not None:
        price_lines.append(f"{offer.sel_hours} h SEL")
    header = f"<p><strong>{html.escape(offer.title)}</strong></p>"
    facts = [f"{html.escape(CATEGORIES[offer.category])}", " · ".join(price_lines)]
    if offer.area:
        facts.append(html.escape(offer.area))
    footer = (
        f'<p>{" — ".join(f for f in facts if f)}</p><p><a href="{offer.uri}">{offer.uri}</a></p>'
    )
    doc: dict[str, Any] = {
        "@context": OFFER_CONTEXT,
        "id": offer.uri,
        "type": ["Proposal", "Note"],
        "attributedTo": actor_id,
        "name": offer.title,
        "content": header + offer.content + footer,
        "mediaType": "text/html",
        "source": {"content": offer.description, "mediaType": "text/markdown"},
        "url": offer.uri,
        "published": iso(offer.published),
        "to": [PUBLIC],
        "cc": [urls.followers(actor.username)],
        "purpose": "offer",
        "category": offer.category,
        "publishes": {
            "type": "Intent",
            "action": "deliverService",
            "resourceConformsTo": f"{COOPNET_NS}{offer.category}",
            "resourceQuantity": _quantity("1"),
        },
        "unitBased": False,
    }
    if offer.price_amount:
        doc["reciprocal"] = {
            "type": "Intent",
            "action": "transfer",
            "resourceConformsTo": f"https://www.iso.org/iso-4217-currency-codes#{offer.price_currency}",
            "resourceQuantity": _quantity(offer.price_amount),
        }
    if offer.sel_minutes is not None:
        sel = {
            "type": "Intent",
            "action": "transfer",
            "resourceConformsTo": SEL_HOUR,
            "resourceQuantity": _quantity(offer.sel_hours or "0", "hour"),
        }
        if "reciprocal" in doc:
            doc["selReciprocal"] = sel
        else:
            doc["reciprocal"] = sel
    if offer.area:
        doc["location"] = {"type": "Place", "name": offer.area}
    if offer.contact:
        doc["contact"] = offer.contact
    if offer.valid_from:
        doc["startTime"] = iso(offer.valid_from)
    if offer.valid_until:
        doc["endTime"] = iso(offer.valid_until)
    if offer.updated_at:
        doc["updated"] = iso(offer.updated_at)
    return doc


async def publish_offer(
    session: AsyncSession, urls: Urls, actor: LocalActor, draft: OfferDraft
) -> Offer:
    if actor.deleted_at is not None:
        raise OfferError(f"{actor.username} was removed; it cannot publish offers")
    ident = new_uuid()
    offer = Offer(
        uuid=ident, uri=f"{urls.base}/offers/{ident}", local_actor_id=actor.id, published=utcnow()
    )
    _apply(offer, draft)
    session.add(offer)
    await session.flush()
    await publish_activity(session, urls, actor, "Create", offer_to_ap(urls, actor, offer))
    return offer


async def get_offer(session: AsyncSession, uuid_or_uri: str) -> Offer | None:
    column = Offer.uri if uuid_or_uri.startswith("http") else Offer.uuid
    return (await session.execute(select(Offer).where(column == uuid_or_uri))).scalar_one_or_none()


async def update_offer(
    session: AsyncSession, urls: Urls, offer: Offer, changes: dict[str, Any]
) -> Offer:
    if offer.state != OfferState.PUBLISHED:
        raise OfferError(f"the offer is {offer.state}; only a published offer can be updated")
    draft = draft_of(offer)
    for key, value in changes.items():
        if not hasattr(draft, key):
            raise OfferError(f"unknown offer field {key!r}")
        setattr(draft, key, value)
    _apply(offer, draft)
    offer.updated_at = utcnow()
    actor = await session.get(LocalActor, offer.local_actor_id)
    assert actor is not None
    await publish_activity(session, urls, actor, "Update", offer_to_ap(urls, actor, offer))
    return offer


async def end_offer(
    session: AsyncSession, urls: Urls, offer: Offer, state: OfferState = OfferState.WITHDRAWN
) -> Offer:
    """Withdraw (or expire) an offer: a Delete reaches followers; the row stays for the records."""
    if offer.state != OfferState.PUBLISHED:
        raise OfferError(f"the offer is already {offer.state}")
    actor = await session.get(LocalActor, offer.local_actor_id)
    assert actor is not None
    former = offer_to_ap(urls, actor, offer)
    offer.move_to(state)
    offer.ended_at = utcnow()
    await publish_activity(session, urls, actor, "Delete", tombstone(offer.uri, former))
    return offer


async def expire_due_offers(session: AsyncSession, urls: Urls, now: datetime) -> int:
    rows = (
        (
            await session.execute(
                select(Offer)
                .where(
                    Offer.state == OfferState.PUBLISHED,
                    Offer.valid_until.is_not(None),
                    Offer.valid_until <= now,
                )
                # Two workers' chores never end (and announce) the same offer twice.
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    for offer in rows:
        await end_offer(session, urls, offer, OfferState.EXPIRED)
    return len(rows)


async def list_offers(
    session: AsyncSession, *, actor_id: int | None = None, include_ended: bool = False
) -> list[Offer]:
    """Newest first; without ``include_ended``, only offers still valid now
    (an offer past its end date is out even before the worker expires it)."""
    q = select(Offer).order_by(Offer.published.desc(), Offer.id.desc())
    if actor_id is not None:
        q = q.where(Offer.local_actor_id == actor_id)
    if not include_ended:
        q = q.where(
            Offer.state == OfferState.PUBLISHED,
            or_(Offer.valid_until.is_(None), Offer.valid_until > utcnow()),
        )
    return list((await session.execute(q)).scalars().all())
