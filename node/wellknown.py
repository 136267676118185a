"""Discovery: WebFinger, NodeInfo and host-meta."""

from __future__ import annotations

from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import func, select

from federation import nodeinfo
from federation.vocab import (
    CONTEXT_PATH,
    JRD_JSON,
    NODEINFO_21_CONTENT_TYPE,
    XRD_XML,
    context_document,
)
from federation.webfinger import jrd, parse_acct
from models.actors import LocalActor, get_local_actor, get_node_actor
from models.base import utcnow
from models.posts import LocalObject, count_local_posts
from node.web import error, get_node, json_response

routes = web.RouteTableDef()


def software_version() -> str:
    try:
        return version("coopnet")
    except PackageNotFoundError:
        return "0.0.0"


@routes.get("/.well-known/webfinger")
async def webfinger(request: web.Request) -> web.Response:
    node = get_node(request)
    resource = request.query.get("resource", "").strip()
    if not resource:
        return error(400, "missing ?resource=acct:name@host")
    async with node.sessions() as session:
        if resource.rstrip("/") == node.urls.base:
            # FEP-d556: the server itself resolves to its node (application) actor.
            actor = await get_node_actor(session)
            doc = jrd(
                node.urls.base + "/",
                node.urls.actor(actor.username),
                node.urls.actor(actor.username),
            )
            return json_response(doc, JRD_JSON)
        username: str | None = None
        if resource.startswith(("http://", "https://")):
            username = node.urls.local_username(resource)
        else:
            parsed = parse_acct(resource)
            if parsed is not None and parsed[1] == node.urls.host.lower():
                username = parsed[0].lower()
        actor_row = await get_local_actor(session, username) if username else None
    if actor_row is None:
        return error(404, f"no account {resource} here")
    if actor_row.deleted_at is not None:
        return error(410, f"{resource} was removed")
    actor_id = node.urls.actor(actor_row.username)
    doc = jrd(f"acct:{actor_row.username}@{node.urls.host}", actor_id, actor_id)
    return json_response(doc, JRD_JSON)


@routes.get("/.well-known/nodeinfo")
async def nodeinfo_links(request: web.Request) -> web.Response:
    return json_response(nodeinfo.well_known(get_node(request).urls.base))


@routes.get("/nodeinfo/2.1")
async def nodeinfo_document(request: web.Request) -> web.Response:
    node = get_node(request)
    now = utcnow()
    async with node.sessions() as session:
        users = int(
            (await session.execute(select(func.count()).select_from(LocalActor))).scalar_one()
        )

        async def active_since(days: int) -> int:
            q = select(func.count(func.distinct(LocalObject.local_actor_id))).where(
                LocalObject.published >= now - timedelta(days=days)
            )
            return int((await session.execute(q)).scalar_one())

        month, halfyear = await active_since(30), await active_since(180)
        posts = await count_local_posts(session)
        actor = await get_node_actor(session)
    doc = nodeinfo.document(
        version=software_version(),
        users=users,
        active_month=month,
        active_halfyear=halfyear,
        local_posts=posts,
        metadata={
            "nodeName": node.config.title,
            "nodeDescription": actor.summary,
            "coopnetRole": node.config.role,
            "nodeActor": node.urls.actor(actor.username),
            "host": urlsplit(node.urls.base).netloc,
        },
    )
    return json_response(doc, NODEINFO_21_CONTENT_TYPE)


@routes.get("/.well-known/host-meta")
async def host_meta(request: web.Request) -> web.Response:
    base = get_node(request).urls.base
    if "json" in request.headers.get("Accept", ""):
        return json_response(nodeinfo.host_meta_json(base))
    return web.Response(text=nodeinfo.host_meta_xrd(base), content_type=XRD_XML)


@routes.get("/.well-known/host-meta.json")
async def host_meta_json(request: web.Request) -> web.Response:
    return json_response(nodeinfo.host_meta_json(get_node(request).urls.base))


@routes.get(CONTEXT_PATH)
async def namespace_context(request: web.Request) -> web.Response:
    """Our JSON-LD terms, the same document on every node (what w3id.org/coopnet
    redirects to). Our activities carry these terms inline; this is for people and
    JSON-LD processors that want the whole vocabulary in one place."""
    response = json_response(context_document(), content_type="application/ld+json")
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
