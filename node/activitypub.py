"""ActivityPub routes: actors, inboxes, outbox and collections, objects.

Actors and objects answer ActivityStreams JSON to clients that ask for it
and an HTML page to browsers (same URL, ``Vary: Accept``); the outbox, the
follower and following collections and activities are JSON only. We serve
our actors and objects to unsigned requests: other servers need our keys to
verify us.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import func, select

from federation.inbox import (
    InboxError,
    KeyGone,
    check_signer_is_actor,
    parse_activity,
    verify_request,
)
from federation.vocab import AS_CONTEXT, get_id
from models.actor_doc import actor_document
from models.actors import LocalActor, RemoteActor, get_local_actor
from models.attestations import standing_of
from models.bulletins import list_bulletins
from models.follows import Follower, Following, FollowingState
from models.mediators import list_mediators
from models.offers import list_offers
from models.outbox import Activity
from models.posts import LocalObject, get_local_object
from node.actions import key_resolver
from node.charter.contracts import public_indicator
from node.collections import PAGE_SIZE, collection, page, page_number
from node.web import ap_response, error, get_node, target_uri, wants_ap

log = logging.getLogger("coopnet.http")

ACCEPTED_BODY_TYPES = ("application/activity+json", "application/ld+json", "application/json")

routes = web.RouteTableDef()


async def _actor_or_404(request: web.Request) -> LocalActor:
    node = get_node(request)
    async with node.sessions() as session:
        actor = await get_local_actor(session, request.match_info["username"])
    if actor is None:
        raise web.HTTPNotFound(text="no such actor")
    return actor


@routes.get("/users/{username}")
async def actor_view(request: web.Request) -> web.StreamResponse:
    node = get_node(request)
    actor = await _actor_or_404(request)
    if actor.deleted_at is not None:
        # A removed mediator: gone for good (Mastodon treats 410 as deleted).
        return _gone(node.urls.actor(actor.username), actor.type, request)
    role = node.config.role if actor.is_node else None
    async with node.sessions() as session:
        doc = await actor_document(session, node.urls, actor, role, node.config.network_seat)
    if wants_ap(request):
        return ap_response(doc)
    async with node.sessions() as session:
        offers = await list_offers(session, actor_id=actor.id)
        bulletins = await list_bulletins(session, actor.id)
        mediators = await list_mediators(session) if actor.is_node else []
        standing = await standing_of(session, node.urls, actor, node.config.network_seat)
        notes = (
            (
                await session.execute(
                    select(LocalObject)
                    .where(LocalObject.local_actor_id == actor.id, LocalObject.deleted_at.is_(None))
                    .order_by(LocalObject.published.desc(), LocalObject.id.desc())
                    .limit(PAGE_SIZE)
                )
            )
            .scalars()
            .all()
        )
        followers = await _count(session, Follower, actor.id)
        following = await _count_following(session, actor.id)
    # Shown only when the mediator agreed (off by default): see models/charter/satisfaction.py.
    satisfaction = None if actor.is_node else await public_indicator(node, actor.id)
    return _page(
        "actor.html",
        request,
        {
            "actor": actor,
            "doc": doc,
            "handle": f"@{actor.username}@{node.urls.host}",
            "role": node.config.role if actor.is_node else "mediator",
            "notes": notes,
            "followers": followers,
            "following": following,
            "offers": offers,
            "bulletins": bulletins,
            "mediators": mediators,
            "standing": standing,
            "satisfaction": satisfaction,
        },
    )


def _gone(uri: str, former_type: str, request: web.Request) -> web.Response:
    if wants_ap(request):
        return ap_response(
            {"@context": AS_CONTEXT, "id": uri, "type": "Tombstone", "formerType": former_type},
            status=410,
        )
    raise web.HTTPGone(text="this actor was removed")


def _page(template: str, request: web.Request, context: dict[str, Any]) -> web.Response:
    """An HTML page that shares its URL with a JSON document: caches must key on Accept."""
    resp = aiohttp_jinja2.render_template(template, request, context)
    resp.headers["Vary"] = "Accept"
    return resp


async def _count(session: Any, model: Any, actor_id: int) -> int:
    return int(
        (
            await session.execute(
                select(func.count()).select_from(model).where(model.local_actor_id == actor_id)
            )
        ).scalar_one()
    )


async def _count_following(session: Any, actor_id: int) -> int:
    return int(
        (
            await session.execute(
                select(func.count())
                .select_from(Following)
                .where(
                    Following.local_actor_id == actor_id,
                    Following.state == FollowingState.ACCEPTED,
                )
            )
        ).scalar_one()
    )


@routes.get("/users/{username}/outbox")
async def outbox_view(request: web.Request) -> web.StreamResponse:
    node = get_node(request)
    actor = await _actor_or_404(request)
    ident = node.urls.outbox(actor.username)
    where = (Activity.local_actor_id == actor.id, Activity.public.is_(True))
    async with node.sessions() as session:
        total = int(
            (
                await session.execute(select(func.count()).select_from(Activity).where(*where))
            ).scalar_one()
        )
        number = page_number(request.query.get("page"))
        if number is None:
            return ap_response(collection(ident, total))
        rows = (
            (
                await session.execute(
                    select(Activity)
                    .where(*where)
                    .order_by(Activity.published.desc(), Activity.id.desc())
                    .offset((number - 1) * PAGE_SIZE)
                    .limit(PAGE_SIZE)
                )
            )
            .unique()
            .scalars()
            .all()
        )
    items = [{k: v for k, v in row.json.items() if k != "@context"} for row in rows]
    return ap_response(page(ident, number, total, items))


async def _relation_collection(request: web.Request, followers: bool) -> web.StreamResponse:
    node = get_node(request)
    actor = await _actor_or_404(request)
    model: Any = Follower if followers else Following
    ident = (node.urls.followers if followers else node.urls.following)(actor.username)
    where = [model.local_actor_id == actor.id]
    if not followers:
        where.append(Following.state == FollowingState.ACCEPTED)
    async with node.sessions() as session:
        total = int(
            (
                await session.execute(select(func.count()).select_from(model).where(*where))
            ).scalar_one()
        )
        number = page_number(request.query.get("page"))
        if number is None:
            return ap_response(collection(ident, total))
        uris = (
            (
                await session.execute(
                    select(RemoteActor.uri)
                    .join(model, model.remote_actor_id == RemoteActor.id)
                    .where(*where)
                    .order_by(model.created_at.desc(), model.id.desc())
                    .offset((number - 1) * PAGE_SIZE)
                    .limit(PAGE_SIZE)
                )
            )
            .scalars()
            .all()
        )
    return ap_response(page(ident, number, total, list(uris)))


@routes.get("/users/{username}/followers")
async def followers_view(request: web.Request) -> web.StreamResponse:
    return await _relation_collection(request, followers=True)


@routes.get("/users/{username}/following")
async def following_view(request: web.Request) -> web.StreamResponse:
    return await _relation_collection(request, followers=False)


@routes.get("/objects/{uuid}")
async def object_view(request: web.Request) -> web.StreamResponse:
    node = get_node(request)
    async with node.sessions() as session:
        obj = await get_local_object(session, request.match_info["uuid"])
        if obj is None:
            raise web.HTTPNotFound(text="no such object")
        if obj.deleted_at is not None:
            return error(410, "this object was deleted")
        actor = await session.get(LocalActor, obj.local_actor_id)
    if wants_ap(request):
        return ap_response(obj.json)
    assert actor is not None
    return _page(
        "note.html",
        request,
        {"obj": obj, "actor": actor, "handle": f"@{actor.username}@{node.urls.host}"},
    )


@routes.get("/activities/{uuid}")
async def activity_view(request: web.Request) -> web.StreamResponse:
    node = get_node(request)
    uri = node.urls.activity(request.match_info["uuid"])
    async with node.sessions() as session:
        row = (
            (await session.execute(select(Activity).where(Activity.uri == uri)))
            .unique()
            .scalar_one_or_none()
        )
    if row is None or not row.public:
        raise web.HTTPNotFound(text="no such public activity")
    return ap_response(row.json)


@routes.post("/inbox")
async def shared_inbox(request: web.Request) -> web.StreamResponse:
    return await _receive(request)


@routes.post("/users/{username}/inbox")
async def actor_inbox(request: web.Request) -> web.StreamResponse:
    await _actor_or_404(request)
    return await _receive(request)


async def _receive(request: web.Request) -> web.StreamResponse:
    """Verify, store, answer 202. Processing happens in the inbox worker.

    The checks go from cheapest to dearest, and nothing is written before
    every one has passed.
    """
    node = get_node(request)
    ctype = (request.content_type or "").lower()
    if ctype not in ACCEPTED_BODY_TYPES:
        return _refuse(
            request, 415, f"content type {ctype or 'missing'} is not ActivityStreams JSON"
        )
    limit = node.config.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return _refuse(request, 413, f"body over {limit} bytes")
    try:
        async with asyncio.timeout(node.config.body_timeout_seconds):
            body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _refuse(request, 413, f"body over {limit} bytes")
    except TimeoutError:
        # A sender trickling its body must not hold a connection for long:
        # answer and close, without reading (lingering on) the rest.
        resp = _refuse(
            request, 408, f"body not received within {node.config.body_timeout_seconds:g} s"
        )
        resp.force_close()
        return resp
    try:
        activity = parse_activity(body)
        # A blocked domain is refused before its signature is checked: no key
        # is fetched from it (the signer must be the actor, checked below).
        await node.refresh_blocks()
        refused = node.refuses(get_id(activity.get("actor")) or "")
        if refused:
            raise InboxError(403, refused)
        try:
            key = await verify_request(
                request.method,
                target_uri(request),
                request.headers,
                body,
                key_resolver(node),
                datetime.now(UTC),
                node.config.signature_window_seconds,
                actor=get_id(activity.get("actor")),
            )
        except KeyGone:
            if activity.get("type") == "Delete" and get_id(activity.get("object")) == get_id(
                activity.get("actor")
            ):
                # A deleted account we never knew: nothing to remove (Mastodon does the same).
                return web.Response(status=202)
            raise InboxError(401, "signature: the signing actor is gone") from None
        actor = check_signer_is_actor(activity, key)
    except InboxError as exc:
        return _refuse(request, exc.status, exc.reason)
    new = await node.inbox_writer.store(activity, body, actor)
    if new:
        node.wake_inbox.set()
    return web.Response(status=202)


def _refuse(request: web.Request, status: int, reason: str) -> web.Response:
    log.info(
        "refused %s %s from %s: %d %s", request.method, request.path, request.remote, status, reason
    )
    return error(status, reason)
