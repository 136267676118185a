"""Backfill: when an alliance is accepted, read the peer's current offers.

Offers federate to followers as they are published; a new ally would only
see future ones. So the node reads the peer's offers collection (linked
from its node actor document as ``offers``), page by page, within bounds:
``MAX_PAGES`` pages, ``MAX_ITEMS`` offers, ``MAX_DOCUMENT_BYTES`` per
document, and the fetch client's time budget per request. Each item is
parsed as an inbox offer would be (models/network/directory.py) and kept
if it lives on the peer's origin.

Crash-safe: the alliance row records when its backfill last completed
(``offers_backfilled_at``) and was last tried; the maintenance chore
(node/worker.py) backfills every accepted alliance not yet done, retrying
a failed one after ``RETRY_AFTER``. ``backfill_soon`` asks for it now (the
alliance code calls it when an alliance becomes accepted). A walk that
read the whole collection also drops this peer's offers it no longer
lists (withdrawn while we were not told).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.http import FetchError
from federation.vocab import JsonError, as_list, get_id, parse_json, same_origin
from models.base import utcnow
from models.network.alliances import Alliance, AllianceState, alliance_with
from models.network.directory import (
    OfferRefused,
    RemoteOffer,
    drop_unseen,
    keep_offer,
    parse_offer,
    purge,
)
from node.context import Node

log = logging.getLogger("coopnet.directory")

MAX_PAGES = 50
MAX_ITEMS = 1000
MAX_DOCUMENT_BYTES = 1024 * 1024
RETRY_AFTER = timedelta(minutes=15)
#: Alliances backfilled by one chore run.
PER_RUN = 5


class BackfillError(Exception):
    """The peer's collection could not be read; the message says why."""


async def _get(node: Node, url: str, origin: str) -> dict[str, Any]:
    if not same_origin(url, origin):
        raise BackfillError(f"{url} is not on the peer's server")
    try:
        status, _ctype, body, final = await node.client.get(url, limit=MAX_DOCUMENT_BYTES)
    except FetchError as exc:
        raise BackfillError(str(exc)) from exc
    if status != 200:
        raise BackfillError(f"{url} answered HTTP {status}")
    if not same_origin(final, origin):
        raise BackfillError(f"{url} redirected off the peer's server")
    try:
        doc = parse_json(body)
    except JsonError as exc:
        raise BackfillError(f"{url}: {exc}") from exc
    if not isinstance(doc, dict):
        raise BackfillError(f"{url} is not a JSON object")
    return doc


async def backfill_peer(node: Node, peer_uri: str) -> tuple[int, int]:
    """Read one ally's offers collection; (kept, dropped). BackfillError if it cannot.

    Only an accepted alliance is read. The walk stops at the bounds; only a
    walk that reached the collection's end drops the offers it did not see.
    """
    async with node.sessions() as session:
        peer = await alliance_with(session, peer_uri)
        if peer is None or peer.state != AllianceState.ACCEPTED:
            raise BackfillError(f"{peer_uri} is not an accepted ally")
    actor = await _get(node, peer_uri, peer_uri)
    if actor.get("id") != peer_uri:
        raise BackfillError(f"{peer_uri} returned another actor's document")
    collection_url = get_id(actor.get("offers"))
    if not collection_url:
        raise BackfillError(f"{peer_uri} links no offers collection (an older coopnet?)")
    started = utcnow()
    doc = await _get(node, collection_url, peer_uri)
    page_url = get_id(doc.get("first"))
    items: list[Any] = list(as_list(doc.get("orderedItems")))[:MAX_ITEMS]
    pages, complete = 0, page_url is None and not doc.get("next")
    kept = 0
    while True:
        kept += await _keep_all(node, peer_uri, items, started)
        if page_url is None or pages >= MAX_PAGES:
            break
        page = await _get(node, page_url, peer_uri)
        pages += 1
        items = list(as_list(page.get("orderedItems")))
        page_url = get_id(page.get("next"))
        if page_url is None:
            complete = True
    dropped = 0
    if complete:
        async with node.write() as session:
            dropped = await drop_unseen(session, peer_uri, started)
    async with node.write() as session:
        row = await alliance_with(session, peer_uri)
        if row is not None:
            row.offers_backfilled_at = utcnow()
            row.offers_backfill_tried_at = None  # only a failure waits before the next try
    log.info(
        "backfilled %d offer(s) from %s (%d page(s)%s); %d no longer listed",
        kept,
        peer_uri,
        pages,
        "" if complete else ", stopped at the bounds",
        dropped,
    )
    return kept, dropped


async def _keep_all(node: Node, peer_uri: str, items: list[Any], seen: datetime) -> int:
    kept = 0
    async with node.write() as session:
        peer = await alliance_with(session, peer_uri)
        if peer is None or peer.state != AllianceState.ACCEPTED:
            return 0
        count = await _count_kept(session, peer_uri, seen)
        for item in items:
            if count + kept >= MAX_ITEMS:
                break
            if not isinstance(item, dict):
                continue  # a bare id: we do not fetch offers one by one
            try:
                parsed = parse_offer(item)
            except OfferRefused as exc:
                log.info("backfill from %s: %s refused (%s)", peer_uri, get_id(item), exc)
                continue
            if not same_origin(parsed.actor_uri, peer_uri):
                continue
            line = await keep_offer(session, peer, parsed, seen=seen)
            kept += line.startswith("directory: kept")
    return kept


async def _count_kept(session: AsyncSession, peer_uri: str, seen: datetime) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(RemoteOffer)
        .where(RemoteOffer.node_uri == peer_uri, RemoteOffer.seen_at >= seen)
    )
    return int(found or 0)


async def backfill_due(node: Node, now: datetime | None = None) -> int:
    """The chore: backfill accepted alliances not yet done (failed ones after a while)."""
    now = now or utcnow()
    async with node.sessions() as session:
        rows = await session.scalars(
            select(Alliance.peer_uri)
            .where(
                Alliance.state == AllianceState.ACCEPTED,
                Alliance.offers_backfilled_at.is_(None),
                or_(
                    Alliance.offers_backfill_tried_at.is_(None),
                    Alliance.offers_backfill_tried_at <= now - RETRY_AFTER,
                ),
            )
            .order_by(Alliance.id)
            .limit(PER_RUN)
        )
        due = list(rows.all())
    done = 0
    for peer_uri in due:
        try:
            await backfill_peer(node, peer_uri)
            done += 1
        except BackfillError as exc:
            log.warning("cannot read the offers of %s yet (%s); trying again later", peer_uri, exc)
            async with node.write() as session:
                row = await alliance_with(session, peer_uri)
                if row is not None:
                    row.offers_backfill_tried_at = utcnow()
    return done


#: Backfills running in the background (a task nobody holds may be collected).
_RUNNING: set[asyncio.Task[None]] = set()


def backfill_soon(node: Node, peer_uri: str) -> asyncio.Task[None]:
    """Ask for a peer's backfill now, in the background (the alliance code calls it
    once an alliance is accepted). If it fails or the process stops, the chore
    does it later: the alliance row says it is not done."""

    async def run() -> None:
        try:
            await backfill_peer(node, peer_uri)
        except BackfillError as exc:
            log.warning("cannot read the offers of %s yet (%s); the chore retries", peer_uri, exc)
            async with node.write() as session:
                row = await alliance_with(session, peer_uri)
                if row is not None:
                    row.offers_backfill_tried_at = utcnow()
        except Exception:
            log.exception("backfill of %s failed; the chore retries", peer_uri)

    task = asyncio.create_task(run(), name=f"backfill {peer_uri}")
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    return task


async def directory_chores(node: Node, now: datetime) -> int:
    """The maintenance worker's step: purge what ended, backfill new allies."""
    async with node.write() as session:
        purged = await purge(session, now)
    if purged:
        log.info("%d offer(s) of allied sections ended or lost their alliance; removed", purged)
    return purged + await backfill_due(node, now)
