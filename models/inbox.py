"""Incoming activities: stored first, processed by the worker.

The web route only verifies and stores (so it answers quickly and a crash
loses nothing); ``process_item`` applies an activity's effect, dispatching
on its verb. The unique activity id makes a re-delivered activity a no-op.
Every handler trusts only what the signature proved: the activity's
``actor`` is the signer; anything it claims about other actors' objects is
checked against that.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import Integer, String, Table, Text, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from federation.vocab import (
    MEDIATOR_CERTIFICATION,
    SECTION_AUTHORIZATION,
    as_list,
    attributed_to_signer,
    first_type,
    get_id,
    has_type,
    is_public,
    parse_time,
    same_origin,
)
from models.actors import (
    LocalActor,
    RemoteActor,
    get_local_actor,
    get_node_actor,
    get_remote_actor,
    upsert_remote_actor,
)
from models.attestation_checks import queue_check, refuse_pending
from models.attestations import revoke_held
from models.base import Base, UTCDateTime, insert_or_skip, utcnow
from models.charter.polls import receive_vote
from models.follows import (
    Follower,
    Following,
    FollowingState,
    add_follower,
    remove_all_follows_of,
    remove_follower,
)
from models.html import html_to_text, plain_line, sanitize_html
from models.network import alliance_protocol as alliances
from models.network import help as club_aide
from models.network.contact import receive_answer
from models.network.directory import drop_offer, receive_offer
from models.network.report_flow import acknowledge_report, receive_report, report_refused
from models.network.report_wire import REPORT_TYPE
from models.outbox import enqueue, new_uuid
from models.posts import RemoteObject
from models.replies import forget as forget_message
from models.replies import keep_if_for_us
from models.replies import refresh as refresh_message
from models.sel import origin, responder
from models.states import IllegalTransition
from models.to_ap import accept_activity
from models.urls import Urls

log = logging.getLogger("coopnet.inbox")

POST_TYPES = frozenset(
    {"Note", "Article", "Page", "Question", "Event", "Image", "Video", "Proposal"}
)


class InboxState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class InboxItem(Base):
    __tablename__ = "inbox_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_uri: Mapped[str] = mapped_column(String(2048), unique=True)
    actor_uri: Mapped[str] = mapped_column(String(2048))
    type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=InboxState.PENDING, index=True)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def activity_key(activity: dict[str, Any], raw: bytes) -> str:
    """The activity's id, or a digest of its bytes for the rare id-less activity."""
    ident = activity.get("id")
    if isinstance(ident, str) and ident:
        return ident
    return "urn:sha256:" + hashlib.sha256(raw).hexdigest()


async def store_incoming_many(
    session: AsyncSession, items: list[tuple[dict[str, Any], bytes, str]]
) -> list[bool]:
    """Store a batch in one statement; for each item, True if it is new.

    ``INSERT … ON CONFLICT DO NOTHING RETURNING``: an id already stored, by
    this process or another one at the same moment, is skipped by the
    database instead of failing the batch; an id repeated earlier in the
    same batch is not new either.
    """
    now = utcnow()
    rows: dict[str, dict[str, Any]] = {}
    keys = []
    for activity, raw, actor in items:
        key = activity_key(activity, raw)
        keys.append(key)
        rows.setdefault(
            key,
            {
                "activity_uri": key,
                "actor_uri": actor,
                "type": (first_type(activity) or "?")[:64],
                "body": raw.decode("utf-8"),
                "state": InboxState.PENDING,
                "received_at": now,
            },
        )
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(InboxItem)
        .values(list(rows.values()))
        .on_conflict_do_nothing(index_elements=["activity_uri"])
        .returning(InboxItem.activity_uri)
    )
    inserted = set((await session.execute(stmt)).scalars())
    if inserted:
        session.info["stored_inbox"] = True
    new = []
    for key in keys:
        new.append(key in inserted)
        inserted.discard(key)  # a repeat later in the batch is not new
    return new


Handler = Callable[["InboxContext", dict[str, Any]], Awaitable[str]]


class BatchCache:
    """What a batch processed in one transaction looks up once (most batches hold
    many activities from the same few servers): signers, and whether we
    follow them. A handler that changes who we follow clears ``followed``."""

    def __init__(self) -> None:
        self.actors: dict[str, RemoteActor | None] = {}
        self.followed: dict[int, bool] = {}
        #: Origins ("https://host/") of the nodes (Organizations) we follow.
        self.followed_nodes: set[str] | None = None

    def forget_follows(self) -> None:
        self.followed.clear()
        self.followed_nodes = None


class InboxContext:
    """What a handler may use: the session, our URLs and the verified signer."""

    def __init__(
        self,
        session: AsyncSession,
        urls: Urls,
        signer: RemoteActor,
        seat: str | None = None,
        batch: BatchCache | None = None,
        *,
        sel_confirm: bool = False,
    ) -> None:
        self.session = session
        #: Exchanges offered by peer sections wait for our member's confirmation.
        self.sel_confirm = sel_confirm
        self.urls = urls
        self.signer = signer
        #: The network's seat (actor URL) this node trusts, if configured.
        self.seat = seat
        self.batch = batch if batch is not None else BatchCache()

    async def local_target(self, ref: Any) -> LocalActor | None:
        uri = get_id(ref)
        username = self.urls.local_username(uri) if uri else None
        return await get_local_actor(self.session, username) if username else None


async def handle_follow(ctx: InboxContext, activity: dict[str, Any]) -> str:
    target = await ctx.local_target(activity.get("object"))
    if target is None:
        return "ignored: Follow of an actor that is not ours"
    follow_uri = activity.get("id")
    if not isinstance(follow_uri, str):
        return "ignored: Follow without an id cannot be accepted"
    await add_follower(ctx.session, target.id, ctx.signer, follow_uri)
    accept = accept_activity(ctx.urls, target, activity, ctx.urls.activity(new_uuid()))
    await enqueue(ctx.session, target, accept, [ctx.signer.inbox])
    return f"{ctx.signer.handle} now follows {target.username}"


async def handle_undo(ctx: InboxContext, activity: dict[str, Any]) -> str:
    inner = activity.get("object")
    if isinstance(inner, str):
        # Undo by reference: find which Follow of ours it was.
        row = (
            await ctx.session.execute(select(Follower).where(Follower.follow_uri == inner))
        ).scalar_one_or_none()
        if row is None or row.remote_actor_id != ctx.signer.id:
            return "ignored: Undo of an unknown activity"
        await ctx.session.delete(row)
        return f"{ctx.signer.handle} unfollowed"
    if not isinstance(inner, dict) or not has_type(inner, "Follow"):
        return "ignored: Undo of something other than a Follow"
    if get_id(inner.get("actor")) != ctx.signer.uri:
        return "ignored: Undo of another actor's Follow"
    target = await ctx.local_target(inner.get("object"))
    if target is None:
        return "ignored: Undo Follow of an actor that is not ours"
    n = await remove_follower(ctx.session, target.id, ctx.signer.id)
    return (
        f"{ctx.signer.handle} unfollowed {target.username}" if n else "ignored: was not following"
    )


async def _our_follow(ctx: InboxContext, ref: Any) -> Following | None:
    """The Following row an Accept/Reject refers to, by id or by embedded content."""
    uri = get_id(ref)
    row = None
    if uri:
        row = (
            await ctx.session.execute(select(Following).where(Following.follow_uri == uri))
        ).scalar_one_or_none()
    if row is None and isinstance(ref, dict) and has_type(ref, "Follow"):
        local = await ctx.local_target(ref.get("actor"))
        if local is not None and get_id(ref.get("object")) == ctx.signer.uri:
            row = (
                await ctx.session.execute(
                    select(Following).where(
                        Following.local_actor_id == local.id,
                        Following.remote_actor_id == ctx.signer.id,
                    )
                )
            ).scalar_one_or_none()
    if row is None or row.remote_actor_id != ctx.signer.id:
        return None
    return row


async def handle_accept(ctx: InboxContext, activity: dict[str, Any]) -> str:
    ctx.batch.forget_follows()
    row = await _our_follow(ctx, activity.get("object"))
    if row is None:
        helped = await club_aide.receive_accept(ctx.session, ctx.urls, ctx.signer, activity)
        if helped is not None:
            return helped
        if (report := await acknowledge_report(ctx.session, ctx.signer, activity)) is not None:
            return report
        ally = await alliances.receive_accept(ctx.session, ctx.urls, ctx.signer, activity)
        if ally is not None:
            return ally
        sel = await origin.handle_accept(ctx.session, ctx.signer, activity)
        return sel if sel is not None else "ignored: Accept of nothing we asked this actor"
    row.move_to(FollowingState.ACCEPTED)
    row.accepted_at = utcnow()
    return f"{ctx.signer.handle} accepted our Follow"


async def handle_reject(ctx: InboxContext, activity: dict[str, Any]) -> str:
    ctx.batch.forget_follows()
    row = await _our_follow(ctx, activity.get("object"))
    if row is None:
        ally = await alliances.receive_reject(ctx.session, ctx.urls, ctx.signer, activity)
        if ally is not None:
            return ally
        if (report := await report_refused(ctx.session, ctx.signer, activity)) is not None:
            return report
        sel = await origin.handle_reject(ctx.session, ctx.signer, activity)
        return sel if sel is not None else "ignored: Reject of nothing we asked this actor"
    row.move_to(FollowingState.REJECTED)
    return f"{ctx.signer.handle} rejected our Follow"


async def _is_followed(ctx: InboxContext) -> bool:
    """We follow the signer, or the node (Organization) of its server: following a
    section is following what its mediators publish."""
    known = ctx.batch.followed.get(ctx.signer.id)
    if known is not None:
        return known
    # Two indexed lookups rather than one OR across a join (which scanned
    # every accepted follow per activity): the nodes we follow are few and
    # read once per batch; the signer itself is one index probe.
    if ctx.batch.followed_nodes is None:
        uris = await ctx.session.scalars(
            select(RemoteActor.uri)
            .join(Following, Following.remote_actor_id == RemoteActor.id)
            .where(Following.state == FollowingState.ACCEPTED, RemoteActor.type == "Organization")
        )
        ctx.batch.followed_nodes = {_origin(uri) for uri in uris}
    found = _origin(ctx.signer.uri) in ctx.batch.followed_nodes
    if not found:
        row = await ctx.session.scalar(
            select(Following.id)
            .where(
                Following.remote_actor_id == ctx.signer.id,
                Following.state == FollowingState.ACCEPTED,
            )
            .limit(1)
        )
        found = row is not None
    ctx.batch.followed[ctx.signer.id] = found
    return found


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}/"


async def handle_create(ctx: InboxContext, activity: dict[str, Any]) -> str:
    obj = activity.get("object")
    if has_type(obj, club_aide.HELP_REQUEST):
        return await club_aide.receive_request(ctx.session, ctx.signer, activity)
    if has_type(obj, REPORT_TYPE):  # a section's report to us, the seat
        return await receive_report(ctx.session, ctx.urls, ctx.signer, activity)
    if not isinstance(obj, dict) or not has_type(obj, POST_TYPES):
        return "ignored: Create of an unsupported object"
    uri = get_id(obj)
    if not uri or not same_origin(uri, ctx.signer.uri):
        return "ignored: object id is not on the signer's server"
    if not attributed_to_signer(obj, ctx.signer.uri):
        return "ignored: object attributed to another actor"
    # An answer to a member's request for contact, and an allied section's
    # offer for the directory (models/network/contact.py, directory.py).
    answered = await receive_answer(ctx.session, ctx.urls, ctx.signer, obj)
    if answered is not None:
        return answered
    listed = await receive_offer(ctx.session, ctx.signer.uri, obj)
    # A vote on one of our polls (a Note named after an option, in reply to
    # the Question) is counted or refused there, never kept as a reply.
    vote = await receive_vote(ctx.session, ctx.urls, ctx.signer, obj)
    if vote is not None:
        return vote
    # A reply to one of our objects, or a mention of one of our actors, is
    # kept for that actor's inbox whoever sends it (models/replies.py).
    kept = await keep_if_for_us(ctx.session, ctx.urls, ctx.signer, activity, obj, uri)
    kept = "; ".join(x for x in (listed, kept) if x) or None
    if kept and not is_public(obj) and not is_public(activity):
        return kept  # a private message is not one of the posts we list
    if not await _is_followed(ctx):
        return kept or "ignored: we do not follow this actor"
    # One statement, and nothing left pending for the next query to flush.
    row = _remote_object(obj, ctx.signer.uri, uri)
    values = {key: getattr(row, key) for key in _REMOTE_OBJECT_COLUMNS}
    values["received_at"] = utcnow()
    conn = await ctx.session.connection()  # Core, not the ORM's bulk-insert machinery
    table = cast(Table, RemoteObject.__table__)
    stored = (await conn.execute(insert_or_skip(ctx.session, table, "uri"), values)).first()
    if stored is None:
        return kept or "ignored: already stored"
    return f"stored {first_type(obj)} {uri}" + (f"; {kept}" if kept else "")


_REMOTE_OBJECT_COLUMNS = (
    "uri", "actor_uri", "type", "kind", "name", "summary", "content", "url", "published", "body",
)  # fmt: skip


def _remote_object(obj: dict[str, Any], actor_uri: str, uri: str) -> RemoteObject:
    content = obj.get("content")
    if not isinstance(content, str):
        # Some servers send only the language map (Mastodon reads its first entry too).
        mapping = obj.get("contentMap")
        if isinstance(mapping, dict):
            content = next((v for v in mapping.values() if isinstance(v, str)), None)
    first_url = next(iter(as_list(obj.get("url"))), None)
    # A bare IRI, or a Link object (Funkwhale, PeerTube) whose address is its href.
    href = first_url.get("href") if isinstance(first_url, dict) else None
    url = href if isinstance(href, str) else get_id(first_url)
    published = parse_time(obj.get("published"))
    clean = dict(obj)
    # Every HTML-bearing field is cleaned before storing, not only the one we
    # show today: whatever later reads the stored body must find it safe.
    clean["content"] = sanitize_html(content) if isinstance(content, str) else ""
    for key in ("summary", "name"):
        if isinstance(clean.get(key), str):
            clean[key] = sanitize_html(clean[key])
    for key in ("contentMap", "summaryMap", "nameMap"):
        mapping = clean.get(key)
        if isinstance(mapping, dict):
            clean[key] = {
                str(lang): sanitize_html(v) for lang, v in mapping.items() if isinstance(v, str)
            }
        elif mapping is not None:
            del clean[key]
    source = clean.get("source")
    if isinstance(source, dict) and isinstance(source.get("content"), str):
        clean["source"] = {"content": source["content"], "mediaType": "text/plain"}
    name, summary = obj.get("name"), obj.get("summary")
    kind = (
        "offer" if has_type(obj, "Proposal") else "bulletin" if has_type(obj, "Article") else "note"
    )
    return RemoteObject(
        uri=uri,
        actor_uri=actor_uri,
        type=first_type(obj) or "Note",
        kind=kind,
        name=plain_line(html_to_text(name))[:300] if isinstance(name, str) else "",
        summary=plain_line(html_to_text(summary))[:2000] if isinstance(summary, str) else "",
        content=clean["content"],
        url=url if url and url.startswith(("http://", "https://")) else None,
        published=published,
        body=json.dumps(clean, ensure_ascii=False),
    )


async def handle_update(ctx: InboxContext, activity: dict[str, Any]) -> str:
    obj = activity.get("object")
    if has_type(obj, REPORT_TYPE):  # a section's corrected report
        return await receive_report(ctx.session, ctx.urls, ctx.signer, activity)
    uri = get_id(obj)
    if not isinstance(obj, dict) or not uri:
        return "ignored: Update without an embedded object"
    if uri == ctx.signer.uri:
        await upsert_remote_actor(ctx.session, obj, key_id=ctx.signer.key_id)
        return f"refreshed actor {uri}"
    if has_type(obj, club_aide.HELP_REQUEST):
        return await club_aide.receive_update(ctx.session, ctx.signer, activity)
    edited = await refresh_message(ctx.session, ctx.signer, obj)
    listed = None
    if same_origin(uri, ctx.signer.uri) and attributed_to_signer(obj, ctx.signer.uri):
        listed = await receive_offer(ctx.session, ctx.signer.uri, obj)
    row = (
        await ctx.session.execute(select(RemoteObject).where(RemoteObject.uri == uri))
    ).scalar_one_or_none()
    if row is None or row.actor_uri != ctx.signer.uri:
        if edited:
            return f"updated {uri} in {edited} inbox(es)"
        return listed or "ignored: Update of an object we do not hold from this actor"
    fresh = _remote_object(obj, ctx.signer.uri, uri)
    for column in ("content", "body", "type", "kind", "name", "summary", "url"):
        setattr(row, column, getattr(fresh, column))
    return f"updated {uri}"


async def handle_delete(ctx: InboxContext, activity: dict[str, Any]) -> str:
    ctx.batch.forget_follows()
    uri = get_id(activity.get("object"))
    if not uri:
        return "ignored: Delete without an object"
    if uri == ctx.signer.uri:
        ctx.signer.deleted_at = utcnow()
        n = await remove_all_follows_of(ctx.session, ctx.signer.id)
        await ctx.session.execute(
            delete(RemoteObject).where(RemoteObject.actor_uri == ctx.signer.uri)
        )
        await forget_message(ctx.session, ctx.signer, uri)
        await drop_offer(ctx.session, ctx.signer.uri, uri)
        return f"actor {uri} deleted; {n} follow relations removed"
    if withdrawn := await club_aide.receive_delete(ctx.session, ctx.signer, uri):
        return withdrawn
    result = await ctx.session.execute(
        delete(RemoteObject).where(
            RemoteObject.uri == uri, RemoteObject.actor_uri == ctx.signer.uri
        )
    )
    forgotten = await forget_message(ctx.session, ctx.signer, uri)
    unlisted = await drop_offer(ctx.session, ctx.signer.uri, uri)
    done = result.rowcount or forgotten or unlisted  # type: ignore[attr-defined]
    return f"deleted {uri}" if done else "ignored: nothing to delete"


async def handle_add(ctx: InboxContext, activity: dict[str, Any]) -> str:
    """The seat announcing this section's authorisation: a notification, nothing more.

    Nothing in the activity is believed. If the announcer is the seat this
    node was configured with, a check is queued: the node fetches the
    attestation from the seat, checks its proof and issuer, and only then
    holds it. Anyone else's Add is ignored without fetching anything.
    """
    obj = activity.get("object")
    uri = get_id(obj)
    if not uri:
        return "ignored: Add without an object"
    if isinstance(obj, dict) and not has_type(obj, SECTION_AUTHORIZATION):
        if has_type(obj, MEDIATOR_CERTIFICATION):
            return "ignored: our mediators are certified here, not by another server"
        return "ignored: Add of something other than an attestation"
    if not ctx.seat:
        log.warning(
            "%s announced an authorisation, but this node has no seat configured: set "
            "[network] seat in coopnet.toml, then ask the seat to authorise again",
            ctx.signer.uri,
        )
        return "ignored: no seat configured ([network] seat), so no authorisation can be checked"
    if ctx.signer.uri != ctx.seat:
        return f"ignored: only this network's seat ({ctx.seat}) authorises sections"
    if not same_origin(uri, ctx.signer.uri):
        return "ignored: attestation not hosted by the seat"
    node = await get_node_actor(ctx.session)
    if isinstance(obj, dict) and get_id(obj.get("object")) != ctx.urls.actor(node.username):
        # The seat announces every authorisation to all its followers; an embedded
        # subject is only a hint (the fetched document decides), but enough to skip
        # fetching another section's.
        return "ignored: the seat's authorisation of another section"
    await queue_check(ctx.session, uri, node.id, ctx.signer.uri)
    ctx.session.info["queued_checks"] = True
    return f"authorisation {uri} announced by the seat; fetching it to check"


async def handle_remove(ctx: InboxContext, activity: dict[str, Any]) -> str:
    uri = get_id(activity.get("object"))
    if not uri:
        return "ignored: Remove without an object"
    await refuse_pending(ctx.session, uri, ctx.signer.uri, "withdrawn before it was checked")
    if await revoke_held(ctx.session, uri, ctx.signer.uri):
        return f"attestation {uri} revoked by {ctx.signer.handle}"
    return "ignored: Remove of nothing we hold from this actor"


async def handle_offer(ctx: InboxContext, activity: dict[str, Any]) -> str:
    """An alliance asked by a peer node, or an inter-section SEL exchange offered."""
    if alliances.is_alliance_offer(activity):
        return await alliances.receive_offer(ctx.session, ctx.urls, ctx.signer, activity)
    node = await get_node_actor(ctx.session)
    if not isinstance(activity.get("object"), dict):
        return "ignored: Offer without an embedded object"
    if get_id(activity.get("object")) is None:
        return "ignored: Offer of an object without an id"
    obj = activity["object"]
    if has_type(obj, club_aide.HELP_OFFER):
        return await club_aide.receive_offer(ctx.session, ctx.urls, ctx.signer, activity)
    if obj.get("type") != "Agreement":
        return "ignored: Offer of something other than an Agreement"
    return await responder.handle_offer(
        ctx.session, ctx.urls, node, ctx.signer, activity, member_confirms=ctx.sel_confirm
    )


HANDLERS: dict[str, Handler] = {
    "Follow": handle_follow,
    "Undo": handle_undo,
    "Accept": handle_accept,
    "Reject": handle_reject,
    "Create": handle_create,
    "Update": handle_update,
    "Delete": handle_delete,
    "Add": handle_add,
    "Remove": handle_remove,
    "Offer": handle_offer,
}


async def process_item(
    session: AsyncSession,
    urls: Urls,
    item: InboxItem,
    batch: BatchCache | None = None,
    seat: str | None = None,
    *,
    sel_confirm: bool = False,
) -> str:
    """Apply one stored activity; returns a line for the log. Raises on a bug only.

    ``batch`` caches lookups across a batch processed in one session.
    """
    batch = batch if batch is not None else BatchCache()
    activity = json.loads(item.body)
    if item.actor_uri in batch.actors:
        signer = batch.actors[item.actor_uri]
    else:
        signer = await get_remote_actor(session, item.actor_uri)
        batch.actors[item.actor_uri] = signer
    if signer is None:
        return "ignored: signer unknown (deleted?)"
    verb = activity.get("type")
    if signer.deleted_at is not None and signer.deleted_at <= item.received_at:
        # A key may still be cached after its actor was deleted: nothing it
        # signs afterwards counts (a re-created account is refetched fresh).
        return f"ignored: {verb} from a deleted actor"
    handler = HANDLERS.get(verb) if isinstance(verb, str) else None
    if handler is None:
        return f"ignored: {verb!r} is not an activity we act on"
    try:
        ctx = InboxContext(session, urls, signer, seat, batch, sel_confirm=sel_confirm)
        return await handler(ctx, activity)
    except IllegalTransition as exc:
        return f"ignored: {exc}"


async def claim_pending(session: AsyncSession, limit: int) -> list[InboxItem]:
    """Pending items, oldest first, for a worker that processes them in this transaction.

    On PostgreSQL the rows stay locked (``FOR UPDATE SKIP LOCKED``) until the
    transaction that marks them done commits: another worker skips them, and
    a worker killed half-way releases them by its rollback, so each item's
    effect commits exactly once. On SQLite one process writes at a time.
    """
    rows = await session.execute(
        select(InboxItem)
        .where(InboxItem.state == InboxState.PENDING)
        .order_by(InboxItem.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows.scalars().all())
