"""Payloads recorded from real servers, fed to a real node.

Every JSON file under ``tests/fixtures/real/<host>/<path>.json`` is a document some
real server produced (Mastodon, GoToSocial, Misskey, Pixelfed, Mitra, Pleroma,
Lemmy, PeerTube, ...; ``README.md`` there says where each one comes from). The
tests are parametrised by file, so a new recording is one file away from being
tested:

* an **actor document** is served from a loopback server and must pass the
  node's key fetch and actor parsing: a signed ``Follow`` from that actor is
  accepted and processed into a follower, and the stored actor matches the
  document;
* an **activity** is POSTed, signed as its actor, to the node's shared inbox and
  to its actor inbox, and must have the effect its verb calls for (or be stored
  and then ignored).

Only what cannot be recorded is changed, when the test runs: each original
origin (``https://mastodon.social``) becomes a loopback server's
``http://127.0.0.1:PORT`` (paths are kept), every ``publicKeyPem`` of an actor
we serve becomes a key the test generates (we do not have the servers' private
keys), and the actor the recorded activity was addressed to (the object of a
``Follow``...) becomes the node's actor. An activity whose actor has no recorded
document is signed by a *stand-in*: a recorded actor of the same software with
its id replaced (see ``STAND_IN_TEMPLATES``). Requests the servers would have
sent around the recorded one (the ``Accept`` of the node's own ``Follow``, the
``Follow`` an actor test sends) are written here, Mastodon-style, as scaffolding.
"""

from __future__ import annotations

import asyncio
import copy
import html
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from models.accounts import OPERATOR
from models.actors import RemoteActor
from models.follows import Follower, Following, FollowingState
from models.html import sanitize_html
from models.inbox import POST_TYPES, InboxItem, InboxState
from models.posts import RemoteObject
from node.actions import follow
from tests.conftest import MakeNode, RunningNode, bound_socket
from tests.peers.mastodon import AS_CONTEXT, sign_cavage

REAL = Path(__file__).resolve().parent.parent / "fixtures" / "real"
AP = "application/activity+json"
ACTOR_TYPES = frozenset({"Application", "Group", "Organization", "Person", "Service"})
INBOX_KINDS = ("shared", "actor")
TIMEOUT = 8.0

#: Content types the servers were recorded answering with (others: application/activity+json).
RECORDED_CONTENT_TYPES = {
    "ap.example.com/users/foo.json": "application/activity+json; charset=utf-8",
    "ap.example.com/users/foo@individual.json": "application/activity+json; charset=utf-8",
}

#: Host of an actor that signs a recorded activity but whose own document was not
#: recorded -> a recorded actor document of the same software to derive it from.
STAND_IN_TEMPLATES = {
    "mastodon": "mastodon.social/users/Gargron.json",  # bovine's anonymised Mastodon host
    "mastodon.social": "mastodon.social/users/Gargron.json",
    "misskey.usbharu.dev": "misskey.usbharu.dev/users/9ghwhv9zgg.json",
    "pleroma.site": "stereophonic.space/users/karolat.json",
    "local.example": "mitra.social/users/silverpill.json",
}

#: The shape GoToSocial serves at a key id that is not a fragment of the actor id.
GTS_KEY_STUB = "gts.superseriousbusiness.org/users/dumpsterqueer/main-key.json"


# ----------------------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class Recorded:
    rel: str
    doc: dict[str, Any]

    @property
    def kind(self) -> str:
        types = [t for t in as_list(self.doc.get("type")) if isinstance(t, str)]
        if any(t in ACTOR_TYPES for t in types) and "inbox" in self.doc:
            return "actor"
        if "actor" in self.doc:
            return "activity"
        return "other"


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def get_id(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@cache
def all_recorded() -> tuple[Recorded, ...]:
    out = []
    for path in sorted(REAL.rglob("*.json")):
        out.append(Recorded(str(path.relative_to(REAL)), json.loads(path.read_text())))
    return tuple(out)


def recorded(rel: str) -> Recorded:
    for r in all_recorded():
        if r.rel == rel:
            return r
    raise KeyError(rel)


ACTORS = [r for r in all_recorded() if r.kind == "actor"]
ACTIVITIES = [r for r in all_recorded() if r.kind == "activity"]


def recorded_actor(actor_id: str) -> Recorded | None:
    """The plain recording of an actor (not a variant such as ``foo@individual.json``)."""
    for r in ACTORS:
        if r.doc["id"] == actor_id and "@" not in Path(r.rel).name:
            return r
    return None


# ----------------------------------------------------------------------------- rewriting


def origin_pattern(origin: str) -> re.Pattern[str]:
    # "https://mastodon" must not match inside "https://mastodon.social".
    return re.compile(re.escape(origin) + r"(?![\w.:\-])")


def map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [map_strings(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: map_strings(v, fn) for k, v in value.items()}
    return value


def replace_whole(value: Any, old: str, new: str) -> Any:
    """Replace string values equal to ``old`` (an actor id used as a reference)."""
    return map_strings(value, lambda s: new if s == old else s)


@cache
def generated_key(actor_id: str, bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def recorded_key_bits(doc: dict[str, Any]) -> int:
    """Use the size the server used (Misskey: 4096) when the recorded PEM says it."""
    for key in as_list(doc.get("publicKey")):
        pem = key.get("publicKeyPem") if isinstance(key, dict) else None
        if isinstance(pem, str):
            try:
                public = serialization.load_pem_public_key(pem.encode())
            except ValueError:
                continue
            if isinstance(public, rsa.RSAPublicKey) and public.key_size in (2048, 3072, 4096):
                return public.key_size
    return 2048


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


# ----------------------------------------------------------------------------- loopback servers


@dataclass
class Origin:
    """One recorded origin, served on 127.0.0.1: documents by path, inbox POSTs recorded."""

    original: str
    base: str = ""
    docs: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._get)
        app.router.add_route("POST", "/{tail:.*}", self._post)
        sock = bound_socket()
        self.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.SockSite(self.runner, sock).start()

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def serve(self, url: str, doc: dict[str, Any], content_type: str = AP) -> None:
        self.docs[urlsplit(url).path] = (json.dumps(doc).encode(), content_type)

    async def _get(self, request: web.Request) -> web.Response:
        if request.path in self.gone:
            return web.json_response({"error": "Gone"}, status=410)
        hit = self.docs.get(request.path)
        if hit is None:
            return web.json_response({"error": "Record not found"}, status=404)
        body, ctype = hit
        return web.Response(body=body, headers={"Content-Type": ctype})

    async def _post(self, request: web.Request) -> web.Response:
        self.received.append((request.path, json.loads(await request.read())))
        return web.Response(status=202)


@dataclass
class Actor:
    """An actor we serve: its (rewritten) document and the key that signs for it."""

    id: str
    doc: dict[str, Any]
    key: rsa.RSAPrivateKey
    key_id: str
    origin: Origin


class World:
    """The loopback stand-ins for the recorded servers of one test."""

    def __init__(self) -> None:
        self.origins: dict[str, Origin] = {}
        self.actors: dict[str, Actor] = {}  # by original actor id

    async def close(self) -> None:
        for o in self.origins.values():
            await o.close()

    async def origin(self, original: str) -> Origin:
        if original not in self.origins:
            o = Origin(original)
            await o.start()
            self.origins[original] = o
        return self.origins[original]

    def rewrite(self, value: Any) -> Any:
        """Every served original origin -> its loopback base; paths kept."""
        pats = [(origin_pattern(o.original), o.base) for o in self.origins.values()]

        def fn(s: str) -> str:
            for pat, base in pats:
                s = pat.sub(base, s)
            return s

        return map_strings(value, fn)

    def with_our_keys(self, value: Any) -> Any:
        """Every ``publicKeyPem`` of an actor we serve -> the test's key for it."""
        if isinstance(value, list):
            return [self.with_our_keys(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {k: self.with_our_keys(v) for k, v in value.items()}
        if isinstance(out.get("publicKeyPem"), str):
            owner = out.get("owner") or (out.get("id") or "").split("#", 1)[0]
            for actor in self.actors.values():
                if owner == actor.id:
                    out["publicKeyPem"] = public_pem(actor.key)
        return out

    def localise(self, doc: dict[str, Any]) -> dict[str, Any]:
        return self.with_our_keys(self.rewrite(doc))

    async def serve_actor(self, original_doc: dict[str, Any], content_type: str = AP) -> Actor:
        original_id = original_doc["id"]
        o = await self.origin(origin_of(original_id))
        actor_id = self.rewrite(original_id)
        key = generated_key(original_id, recorded_key_bits(original_doc))
        # Register first so that with_our_keys knows whose key this is.
        actor = Actor(actor_id, {}, key, "", o)
        self.actors[original_id] = actor
        actor.doc = self.localise(original_doc)
        key_ids = [k.get("id") for k in as_list(actor.doc.get("publicKey")) if isinstance(k, dict)]
        assert key_ids and isinstance(key_ids[0], str), f"{original_id} publishes no key id"
        actor.key_id = key_ids[0]
        o.serve(actor_id, actor.doc, content_type)
        key_doc_url = actor.key_id.split("#", 1)[0]
        if key_doc_url != actor_id:
            # GoToSocial: the key id is its own URL, answering a stub of the actor.
            stub_shape = recorded(GTS_KEY_STUB).doc
            stub = {k: actor.doc[k] for k in stub_shape if k != "@context" and k in actor.doc}
            o.serve(key_doc_url, {"@context": stub_shape["@context"], **stub}, AP)
        return actor

    async def serve_signer(self, original_actor_id: str) -> Actor:
        """The recorded document of the activity's actor, or a stand-in derived from one."""
        if original_actor_id in self.actors:
            return self.actors[original_actor_id]
        rec = recorded_actor(original_actor_id)
        if rec is not None:
            return await self.serve_actor(rec.doc, RECORDED_CONTENT_TYPES.get(rec.rel, AP))
        return await self.serve_actor(stand_in(original_actor_id))


def stand_in(actor_id: str) -> dict[str, Any]:
    # A recorded Update of this actor carries its whole document.
    for r in ACTIVITIES:
        obj = r.doc.get("object")
        if r.doc.get("type") == "Update" and isinstance(obj, dict) and obj.get("id") == actor_id:
            return {"@context": r.doc.get("@context", AS_CONTEXT), **obj}
    host = urlsplit(actor_id).netloc
    assert host in STAND_IN_TEMPLATES, f"no recorded actor and no stand-in template for {actor_id}"
    template = recorded(STAND_IN_TEMPLATES[host]).doc
    text = json.dumps(template).replace(json.dumps(template["id"])[1:-1], actor_id)
    doc = json.loads(text)
    old, new = origin_of(template["id"]), origin_of(actor_id)
    doc = map_strings(doc, lambda s: origin_pattern(old).sub(new, s))
    username = urlsplit(actor_id).path.rstrip("/").rsplit("/", 1)[-1]
    doc["preferredUsername"] = username
    doc["name"] = username
    return doc


# ----------------------------------------------------------------------------- node helpers


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = World()
    yield w
    await w.close()


def inbox_url(rn: RunningNode, kind: str) -> str:
    return f"{rn.url}/inbox" if kind == "shared" else f"{rn.actor_id}/inbox"


async def post_signed(
    http: aiohttp.ClientSession, url: str, actor: Actor, activity: dict[str, Any]
) -> tuple[int, str]:
    body = json.dumps(activity).encode()
    headers = sign_cavage("POST", url, actor.key_id, actor.key, body)
    async with http.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.text()


async def items(rn: RunningNode) -> list[InboxItem]:
    async with rn.node.sessions() as session:
        return list((await session.execute(select(InboxItem))).scalars().all())


async def until(
    check: Callable[[], Awaitable[bool]],
    rn: RunningNode,
    what: str,
    timeout: float = TIMEOUT,  # noqa: ASYNC109
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() >= deadline:
            seen = [(i.type, i.state, i.error) for i in await items(rn)]
            raise AssertionError(f"timed out waiting for {what}; inbox items: {seen}")
        await asyncio.sleep(0.02)


async def processed(rn: RunningNode, activity_id: str) -> InboxItem:
    async def done() -> bool:
        async with rn.node.sessions() as session:
            item = (
                await session.execute(
                    select(InboxItem).where(InboxItem.activity_uri == activity_id)
                )
            ).scalar_one_or_none()
        return item is not None and item.state != InboxState.PENDING

    await until(done, rn, f"{activity_id} to be processed")
    async with rn.node.sessions() as session:
        return (
            await session.execute(select(InboxItem).where(InboxItem.activity_uri == activity_id))
        ).scalar_one()


async def remote_actor(rn: RunningNode, uri: str) -> RemoteActor | None:
    async with rn.node.sessions() as session:
        return (
            await session.execute(select(RemoteActor).where(RemoteActor.uri == uri))
        ).scalar_one_or_none()


async def remote_object(rn: RunningNode, uri: str) -> RemoteObject | None:
    async with rn.node.sessions() as session:
        return (
            await session.execute(select(RemoteObject).where(RemoteObject.uri == uri))
        ).scalar_one_or_none()


async def follower_count(rn: RunningNode, actor_uri: str) -> int:
    return await rn.count(
        Follower,
        Follower.remote_actor_id.in_(select(RemoteActor.id).where(RemoteActor.uri == actor_uri)),
    )


async def send_and_expect_202(
    http: aiohttp.ClientSession, rn: RunningNode, kind: str, actor: Actor, activity: dict[str, Any]
) -> None:
    status, body = await post_signed(http, inbox_url(rn, kind), actor, activity)
    assert status == 202, f"{activity.get('type')} {activity.get('id')} refused: {status} {body}"


async def make_follower(
    http: aiohttp.ClientSession, rn: RunningNode, actor: Actor, follow_doc: dict[str, Any]
) -> None:
    """Send a Follow of the node's actor and wait until the node counts the follower."""
    await send_and_expect_202(http, rn, "shared", actor, follow_doc)

    async def followed() -> bool:
        return await follower_count(rn, actor.id) == 1

    await until(followed, rn, f"{actor.id} to become a follower")


def scaffold_follow(actor: Actor, rn: RunningNode) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": f"{actor.id}#follows/{uuid.uuid4()}",
        "type": "Follow",
        "actor": actor.id,
        "object": rn.actor_id,
    }


async def make_followed(http: aiohttp.ClientSession, rn: RunningNode, actor: Actor) -> None:
    """The node follows the actor (fetching its document) and the actor accepts."""
    seen = len(actor.origin.received)
    await follow(rn.node, actor.id, by=OPERATOR)
    inbox_path = urlsplit(str(actor.doc["inbox"])).path

    async def follow_arrived() -> bool:
        return any(
            path == inbox_path and doc.get("type") == "Follow"
            for path, doc in actor.origin.received[seen:]
        )

    await until(follow_arrived, rn, f"the node's Follow to reach {inbox_path}")
    sent = next(
        doc
        for path, doc in actor.origin.received[seen:]
        if path == inbox_path and doc.get("type") == "Follow"
    )
    accept = {
        "@context": AS_CONTEXT,
        "id": f"{actor.id}#accepts/follows/{uuid.uuid4()}",
        "type": "Accept",
        "actor": actor.id,
        "object": sent,
    }
    await send_and_expect_202(http, rn, "shared", actor, accept)

    async def accepted() -> bool:
        n = await rn.count(
            Following,
            Following.remote_actor_id.in_(
                select(RemoteActor.id).where(RemoteActor.uri == actor.id)
            ),
            Following.state == FollowingState.ACCEPTED,
        )
        return n == 1

    await until(accepted, rn, f"the Accept from {actor.id}")


# ----------------------------------------------------------------------------- fixture sanity


@pytest.mark.parametrize("rec", ACTIVITIES, ids=[r.rel for r in ACTIVITIES])
def test_recorded_activity_is_self_consistent(rec: Recorded) -> None:
    """The two rules the node enforces: id on the actor's origin; attributedTo only the actor."""
    actor = get_id(rec.doc.get("actor"))
    assert actor, rec.rel
    if isinstance(rec.doc.get("id"), str):
        assert origin_of(rec.doc["id"]) == origin_of(actor), rec.rel
    obj = rec.doc.get("object")
    if isinstance(obj, dict) and "attributedTo" in obj:
        assert [get_id(a) for a in as_list(obj["attributedTo"])] == [actor], rec.rel


def test_there_is_a_recorded_actor_per_server() -> None:
    hosts = {urlsplit(r.doc["id"]).netloc for r in ACTORS}
    for needed in (
        "mastodon.social",  # Mastodon
        "localhost:8080",  # GoToSocial (its test host)
        "misskey.io",  # Misskey
        "pixelfed.social",  # Pixelfed
        "mitra.social",  # Mitra
    ):
        assert needed in hosts, needed


# ----------------------------------------------------------------------------- actor documents


@pytest.mark.parametrize("rec", ACTORS, ids=[r.rel for r in ACTORS])
async def test_recorded_actor_can_follow_the_node(
    rec: Recorded, make_node: MakeNode, http: aiohttp.ClientSession, world: World
) -> None:
    rn = await make_node(run_workers=True)
    actor = await world.serve_actor(rec.doc, RECORDED_CONTENT_TYPES.get(rec.rel, AP))
    follow_doc = scaffold_follow(actor, rn)

    await make_follower(http, rn, actor, follow_doc)

    # The node accepted, at the inbox the document names.
    inbox_path = urlsplit(str(actor.doc["inbox"])).path

    async def accept_arrived() -> bool:
        return any(
            path == inbox_path
            and doc.get("type") == "Accept"
            and get_id(doc.get("object")) == follow_doc["id"]
            for path, doc in actor.origin.received
        )

    await until(accept_arrived, rn, f"the node's Accept at {inbox_path}")

    # What the node stored is what the document says.
    stored = await remote_actor(rn, actor.id)
    assert stored is not None
    doc = actor.doc
    endpoints = doc.get("endpoints") if isinstance(doc.get("endpoints"), dict) else {}
    key = next(k for k in as_list(doc["publicKey"]) if k.get("id") == actor.key_id)
    expected_type = next(t for t in as_list(doc["type"]) if t in ACTOR_TYPES)
    assert stored.type == expected_type
    assert stored.preferred_username == doc["preferredUsername"]
    assert stored.name == (doc.get("name") or "")
    assert stored.inbox == doc["inbox"]
    assert stored.shared_inbox == get_id(endpoints.get("sharedInbox"))
    assert stored.key_id == actor.key_id
    assert stored.public_key_pem == key["publicKeyPem"]
    assert stored.handle == f"{doc['preferredUsername']}@{urlsplit(actor.id).netloc}"


# ----------------------------------------------------------------------------- activities


def recipient_of(doc: dict[str, Any]) -> list[str]:
    """The actor(s) of the recorded server the activity was addressed to."""
    kind = doc.get("type")
    obj = doc.get("object")
    if kind == "Follow":
        return [i for i in [get_id(obj)] if i]
    if kind == "Undo" and isinstance(obj, dict) and obj.get("type") == "Follow":
        return [i for i in [get_id(obj.get("object"))] if i]
    if kind == "Offer":
        return [i for i in (get_id(t) for t in as_list(doc.get("to"))) if i]
    return []


def create_of(object_id: str) -> Recorded | None:
    for r in ACTIVITIES:
        obj = r.doc.get("object")
        if r.doc.get("type") == "Create" and get_id(obj) == object_id:
            return r
    return None


def text_of(fragment: str) -> str:
    """The words of an HTML fragment, whitespace and entities normalised."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", fragment)).split())


def expected_content(obj: dict[str, Any]) -> str:
    """``content``, or the first ``contentMap`` value when the server sent only the map."""
    content = obj.get("content")
    if isinstance(content, str):
        return content
    mapping = obj.get("contentMap")
    if isinstance(mapping, dict):
        for value in mapping.values():
            if isinstance(value, str):
                return value
    return ""


def assert_stored_post(row: RemoteObject, obj: dict[str, Any], actor: Actor) -> None:
    assert row.actor_uri == actor.id
    source = expected_content(obj)
    # Sanitised as the node sanitises (Mastodon's allowlist): mention/hashtag classes kept
    # on links, everything else dropped.
    assert row.content == sanitize_html(source), (row.content, source)
    lowered = row.content.lower()
    for bad in ("<script", "onerror", "javascript:", "<img", "target="):
        assert bad not in lowered, f"{bad!r} survived in {row.content!r}"
    # No words lost or added on the way.
    assert text_of(row.content) == text_of(source), (row.content, source)
    for cls in re.findall(r'<a [^>]*class="([^"]*)"', source):
        assert f'class="{cls}"' in row.content, f"class {cls!r} lost: {row.content!r}"
    summary = obj.get("summary")
    assert row.summary == (text_of(summary) if isinstance(summary, str) else "")
    name = obj.get("name")
    assert row.name == (text_of(name) if isinstance(name, str) else "")
    first_url = next(iter(as_list(obj.get("url"))), None)
    if isinstance(first_url, str):
        assert row.url == first_url
    if isinstance(obj.get("published"), str):
        assert row.published is not None, obj["published"]
    body = json.loads(row.body)
    assert body["id"] == obj["id"]
    assert "<script" not in json.dumps(body).lower()
    # Attachments and tags travel in the stored body untouched.
    assert body.get("attachment") == obj.get("attachment")
    assert body.get("tag") == obj.get("tag")


@dataclass
class Ctx:
    rn: RunningNode
    http: aiohttp.ClientSession
    world: World
    kind: str


async def expect_ignored(ctx: Ctx, actor: Actor, activity: dict[str, Any]) -> None:
    followers = await ctx.rn.count(Follower)
    objects = await ctx.rn.count(RemoteObject)
    following = await ctx.rn.count(Following)
    await send_and_expect_202(ctx.http, ctx.rn, ctx.kind, actor, activity)
    item = await processed(ctx.rn, activity_key(activity))
    assert item.state == InboxState.DONE, item.error
    assert item.error is not None and "ignored" in item.error, item.error
    assert await ctx.rn.count(Follower) == followers
    assert await ctx.rn.count(RemoteObject) == objects
    assert await ctx.rn.count(Following) == following


def activity_key(activity: dict[str, Any]) -> str:
    ident = activity.get("id")
    assert isinstance(ident, str), "these tests only replay activities that have an id"
    return ident


async def expect_done(ctx: Ctx, actor: Actor, activity: dict[str, Any]) -> InboxItem:
    await send_and_expect_202(ctx.http, ctx.rn, ctx.kind, actor, activity)
    item = await processed(ctx.rn, activity_key(activity))
    assert item.state == InboxState.DONE, item.error
    assert item.error is None, f"{activity['type']} was not acted on: {item.error}"
    return item


async def replay_create(ctx: Ctx, actor: Actor, rec: Recorded) -> dict[str, Any]:
    """Follow the actor, then deliver a recorded Create; returns the localised Create."""
    await make_followed(ctx.http, ctx.rn, actor)
    create = ctx.world.localise(rec.doc)
    await send_and_expect_202(ctx.http, ctx.rn, "shared", actor, create)
    await processed(ctx.rn, activity_key(create))
    return create


@pytest.mark.parametrize("kind", INBOX_KINDS)
@pytest.mark.parametrize("rec", ACTIVITIES, ids=[r.rel for r in ACTIVITIES])
async def test_recorded_activity_has_its_effect(
    rec: Recorded, kind: str, make_node: MakeNode, http: aiohttp.ClientSession, world: World
) -> None:
    rn = await make_node(run_workers=True)
    ctx = Ctx(rn, http, world, kind)
    original = copy.deepcopy(rec.doc)
    for recipient in recipient_of(original):
        original = replace_whole(original, recipient, "urn:coopnet:test:node-actor")
    actor = await world.serve_signer(str(get_id(original["actor"])))
    activity = replace_whole(world.localise(original), "urn:coopnet:test:node-actor", rn.actor_id)
    verb = activity.get("type")
    obj = activity.get("object")
    obj_id = get_id(obj)

    if verb == "Follow" and obj_id == rn.actor_id:
        followers = await follower_count(rn, actor.id)
        await expect_done(ctx, actor, activity)
        assert await follower_count(rn, actor.id) == followers + 1
        async with rn.node.sessions() as session:
            row = (await session.execute(select(Follower))).scalar_one()
        assert row.follow_uri == activity["id"]
        return

    if verb == "Undo" and isinstance(obj, dict) and obj.get("type") == "Follow":
        # First the Follow it undoes, as the server embedded it.
        inner = {"@context": activity.get("@context", AS_CONTEXT), **obj}
        await make_follower(http, rn, actor, inner)
        await expect_done(ctx, actor, activity)
        assert await follower_count(rn, actor.id) == 0
        return

    if verb == "Create" and isinstance(obj, dict) and has_type(obj, POST_TYPES):
        await make_followed(http, rn, actor)
        await expect_done(ctx, actor, activity)
        row = await remote_object(rn, str(obj_id))
        assert row is not None, f"{obj_id} was not stored"
        assert_stored_post(row, obj, actor)
        return

    if verb == "Update" and isinstance(obj, dict) and obj_id == actor.id:
        # A server sends profile updates to the servers that know the actor.
        await make_followed(http, rn, actor)
        await expect_done(ctx, actor, activity)
        stored = await remote_actor(rn, actor.id)
        assert stored is not None
        assert stored.name == (obj.get("name") or "")
        assert stored.inbox == obj["inbox"]
        return

    if (
        verb == "Update"
        and isinstance(obj, dict)
        and (create := create_of(rec.doc["object"]["id"]))
    ):
        await replay_create(ctx, actor, create)
        await expect_done(ctx, actor, activity)
        row = await remote_object(rn, str(obj_id))
        assert row is not None
        assert_stored_post(row, obj, actor)
        return

    if verb == "Delete" and obj_id == actor.id:
        await make_follower(http, rn, actor, scaffold_follow(actor, rn))
        actor.origin.gone.add(urlsplit(actor.id).path)  # Mastodon answers 410 from now on
        await expect_done(ctx, actor, activity)
        assert await follower_count(rn, actor.id) == 0
        stored = await remote_actor(rn, actor.id)
        assert stored is not None and stored.deleted_at is not None
        return

    if verb == "Delete" and (create := create_of(str(get_id(rec.doc.get("object"))))):
        await replay_create(ctx, actor, create)
        assert await remote_object(rn, str(obj_id)) is not None
        await expect_done(ctx, actor, activity)
        assert await remote_object(rn, str(obj_id)) is None
        return

    # Likes, boosts, reactions, bites, offers of foreign agreements, deletes of
    # objects we never held: stored, then ignored, and nothing else changes.
    await expect_ignored(ctx, actor, activity)


def has_type(obj: dict[str, Any], types: frozenset[str] | set[str]) -> bool:
    return any(t in types for t in as_list(obj.get("type")) if isinstance(t, str))


ACTOR_DELETES = [
    r
    for r in ACTIVITIES
    if r.doc.get("type") == "Delete" and get_id(r.doc.get("object")) == get_id(r.doc.get("actor"))
]


@pytest.mark.parametrize("kind", INBOX_KINDS)
@pytest.mark.parametrize("rec", ACTOR_DELETES, ids=[r.rel for r in ACTOR_DELETES])
async def test_recorded_delete_of_an_unknown_gone_actor_is_a_no_op(
    rec: Recorded, kind: str, make_node: MakeNode, http: aiohttp.ClientSession, world: World
) -> None:
    """Mastodon sends an account's Delete to every server it knows; its key is gone by then."""
    rn = await make_node(run_workers=True)
    actor = await world.serve_signer(str(get_id(rec.doc["actor"])))
    actor.origin.gone.add(urlsplit(actor.id).path)
    activity = world.localise(rec.doc)

    status, body = await post_signed(http, inbox_url(rn, kind), actor, activity)

    assert status == 202, body
    assert await rn.count(InboxItem) == 0
    assert await rn.count(RemoteActor) == 0
