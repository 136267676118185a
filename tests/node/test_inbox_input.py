"""Hostile and malformed input to the inboxes.

Every bad POST to the shared inbox (``/inbox``) and to an actor inbox
(``/users/{name}/inbox``) must get its precise status with a JSON ``error``
that says what went wrong, store nothing, and leave the node serving.
Requests are signed with the real keys of a MastodonLikePeer (served by its
real actor endpoint), so a refusal is due to the defect under test and not
to a missing signature.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from models.accounts import OPERATOR
from models.actors import RemoteActor
from models.follows import Follower, Following, FollowingState
from models.inbox import InboxItem, InboxState
from models.outbox import Activity
from models.posts import RemoteObject
from node.actions import follow
from node.worker import InboxWorker
from tests.conftest import MakeNode, RunningNode
from tests.peers.mastodon import AS_CONTEXT, PUBLIC, MastodonLikePeer, sign_cavage

AP = "application/activity+json"
MIB = 1024 * 1024
INBOX_KINDS = ("shared", "actor")


@pytest.fixture
async def peer() -> AsyncIterator[MastodonLikePeer]:
    async with MastodonLikePeer(usernames=("alice", "bob")) as p:
        yield p


def inbox_url(rn: RunningNode, kind: str) -> str:
    return f"{rn.url}/inbox" if kind == "shared" else f"{rn.actor_id}/inbox"


def make_activity(peer: MastodonLikePeer, rn: RunningNode, **fields: Any) -> dict[str, Any]:
    """A well-formed Follow of the node by alice; ``fields`` override (None removes a key)."""
    doc: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": f"{peer.actor_id('alice')}#tests/{uuid.uuid4()}",
        "type": "Follow",
        "actor": peer.actor_id("alice"),
        "object": rn.actor_id,
    }
    for key, value in fields.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def signed(
    peer: MastodonLikePeer,
    url: str,
    body: bytes,
    *,
    username: str = "alice",
    content_type: str | None = AP,
    date: datetime | None = None,
) -> dict[str, str]:
    """Mastodon-style draft-cavage headers for ``body``, with the peer's real key."""
    return sign_cavage(
        "POST",
        url,
        peer.key_id(username),
        peer.private_key(username),
        body,
        content_type=content_type,
        date=date,
    )


async def post(
    http: aiohttp.ClientSession,
    url: str,
    data: Any,
    headers: Mapping[str, str],
) -> tuple[int, Any]:
    """POST and return (status, parsed JSON body or the raw text when it is not JSON)."""
    skip = () if any(k.lower() == "content-type" for k in headers) else ("Content-Type",)
    async with http.post(
        url, data=data, headers=dict(headers), skip_auto_headers=skip, allow_redirects=False
    ) as resp:
        text = await resp.text()
    try:
        return resp.status, json.loads(text)
    except ValueError:
        return resp.status, text


@dataclass
class Ctx:
    http: aiohttp.ClientSession
    rn: RunningNode
    peer: MastodonLikePeer
    url: str


async def send_signed_bytes(ctx: Ctx, body: bytes) -> tuple[int, Any]:
    return await post(ctx.http, ctx.url, body, signed(ctx.peer, ctx.url, body))


async def send_activity(ctx: Ctx, activity: dict[str, Any], **sign: Any) -> tuple[int, Any]:
    body = json.dumps(activity).encode()
    return await post(ctx.http, ctx.url, body, signed(ctx.peer, ctx.url, body, **sign))


def big_body(ctx: Ctx) -> bytes:
    """A well-formed Follow padded to just over 1 MiB."""
    activity = make_activity(ctx.peer, ctx.rn, summary="")
    base = len(json.dumps(activity).encode())
    activity["summary"] = "a" * (MIB - base + 1)
    body = json.dumps(activity).encode()
    assert len(body) == MIB + 1
    return body


# ------------------------------------------------------------------------------- the cases


async def case_not_json(ctx: Ctx) -> tuple[int, Any]:
    return await send_signed_bytes(ctx, b'{"type": "Follow", "actor": ')


async def case_not_object(ctx: Ctx) -> tuple[int, Any]:
    return await send_signed_bytes(ctx, json.dumps([make_activity(ctx.peer, ctx.rn)]).encode())


async def case_missing_type(ctx: Ctx) -> tuple[int, Any]:
    return await send_activity(ctx, make_activity(ctx.peer, ctx.rn, type=None))


async def case_missing_actor(ctx: Ctx) -> tuple[int, Any]:
    return await send_activity(ctx, make_activity(ctx.peer, ctx.rn, actor=None))


async def case_too_large_with_length(ctx: Ctx) -> tuple[int, Any]:
    body = big_body(ctx)
    headers = signed(ctx.peer, ctx.url, body)
    headers["Content-Length"] = str(len(body))
    # A file-like body: aiohttp warns about raw bytes bodies over 1 MiB.
    return await post(ctx.http, ctx.url, io.BytesIO(body), headers)


async def case_too_large_chunked(ctx: Ctx) -> tuple[int, Any]:
    body = big_body(ctx)
    headers = signed(ctx.peer, ctx.url, body)
    assert "Content-Length" not in headers

    async def chunks() -> AsyncIterator[bytes]:
        # An async generator has no known size: aiohttp sends it chunked, without
        # Content-Length, so the node only learns the size by reading.
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    return await post(ctx.http, ctx.url, chunks(), headers)


async def case_text_plain(ctx: Ctx) -> tuple[int, Any]:
    body = json.dumps(make_activity(ctx.peer, ctx.rn)).encode()
    headers = signed(ctx.peer, ctx.url, body, content_type="text/plain")
    return await post(ctx.http, ctx.url, body, headers)


async def case_no_content_type(ctx: Ctx) -> tuple[int, Any]:
    body = json.dumps(make_activity(ctx.peer, ctx.rn)).encode()
    headers = signed(ctx.peer, ctx.url, body, content_type=None)
    assert not any(k.lower() == "content-type" for k in headers)
    return await post(ctx.http, ctx.url, body, headers)


async def case_unsigned(ctx: Ctx) -> tuple[int, Any]:
    body = json.dumps(make_activity(ctx.peer, ctx.rn)).encode()
    return await post(ctx.http, ctx.url, body, {"Content-Type": AP})


async def case_tampered(ctx: Ctx) -> tuple[int, Any]:
    activity = make_activity(ctx.peer, ctx.rn)
    body = json.dumps(activity).encode()
    headers = signed(ctx.peer, ctx.url, body)
    tampered = json.dumps({**activity, "object": f"{ctx.rn.url}/users/other"}).encode()
    return await post(ctx.http, ctx.url, tampered, headers)


async def case_forged_peer_actor(ctx: Ctx) -> tuple[int, Any]:
    # Signed by alice, speaking for bob on the same server.
    activity = make_activity(ctx.peer, ctx.rn, actor=ctx.peer.actor_id("bob"))
    return await send_activity(ctx, activity)


async def case_forged_node_actor(ctx: Ctx) -> tuple[int, Any]:
    # Signed by alice, speaking for the node itself (with an id on the node's server).
    activity = make_activity(
        ctx.peer,
        ctx.rn,
        type="Accept",
        actor=ctx.rn.actor_id,
        id=f"{ctx.rn.url}/activities/{uuid.uuid4()}",
    )
    return await send_activity(ctx, activity)


async def case_id_on_another_server(ctx: Ctx) -> tuple[int, Any]:
    # Alice's activity claiming an id on the node's server: it could pre-claim
    # the node's own ids, so it is refused before anything is verified.
    activity = make_activity(ctx.peer, ctx.rn, id=f"{ctx.rn.url}/activities/{uuid.uuid4()}")
    return await send_activity(ctx, activity)


async def case_date_two_hours_old(ctx: Ctx) -> tuple[int, Any]:
    old = datetime.now(UTC) - timedelta(hours=2)
    return await send_activity(ctx, make_activity(ctx.peer, ctx.rn), date=old)


@dataclass(frozen=True)
class Case:
    name: str
    send: Callable[[Ctx], Awaitable[tuple[int, Any]]]
    status: int
    # The error must mention at least one of these (lower case).
    words: tuple[str, ...]
    # Refused before anything could be verified: no remote actor may have been stored.
    no_remote_actor: bool = False
    # Actors the request impersonates: must never become RemoteActor rows.
    impersonated: Callable[[Ctx], list[str]] = lambda ctx: []


SIZE_WORDS = ("large", "bytes", "limit", "size", "too big")
CASES = [
    Case("not-json", case_not_json, 400, ("json",), no_remote_actor=True),
    Case("json-not-object", case_not_object, 400, ("object",), no_remote_actor=True),
    Case("missing-type", case_missing_type, 400, ("type",), no_remote_actor=True),
    Case("missing-actor", case_missing_actor, 400, ("actor",), no_remote_actor=True),
    Case("too-large-content-length", case_too_large_with_length, 413, SIZE_WORDS, True),
    Case("too-large-chunked", case_too_large_chunked, 413, SIZE_WORDS, True),
    Case("text-plain", case_text_plain, 415, ("content type", "content-type"), True),
    Case("no-content-type", case_no_content_type, 415, ("content type", "content-type"), True),
    Case("unsigned", case_unsigned, 401, ("signature", "signed"), no_remote_actor=True),
    Case("tampered-body", case_tampered, 401, ("digest", "signature")),
    Case(
        "forged-actor-on-peer",
        case_forged_peer_actor,
        401,
        ("actor",),
        impersonated=lambda ctx: [ctx.peer.actor_id("bob")],
    ),
    Case(
        "forged-node-actor",
        case_forged_node_actor,
        401,
        ("actor",),
        impersonated=lambda ctx: [ctx.rn.actor_id],
    ),
    Case("date-two-hours-old", case_date_two_hours_old, 401, ("date", "past", "expired")),
    Case("id-on-another-server", case_id_on_another_server, 400, ("server",), True),
]


async def assert_still_serving(http: aiohttp.ClientSession, rn: RunningNode) -> None:
    async with http.get(rn.actor_id, headers={"Accept": AP}) as resp:
        assert resp.status == 200
        doc = await resp.json(content_type=None)
    assert doc["id"] == rn.actor_id


def assert_error_body(body: Any, words: tuple[str, ...]) -> None:
    assert isinstance(body, dict), f"error body is not a JSON object: {body!r}"
    message = body.get("error")
    assert isinstance(message, str) and message.strip(), body
    assert any(w in message.lower() for w in words), f"{message!r} mentions none of {words}"


@pytest.mark.parametrize("kind", INBOX_KINDS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_bad_input_is_refused_and_nothing_stored(
    case: Case,
    kind: str,
    make_node: MakeNode,
    http: aiohttp.ClientSession,
    peer: MastodonLikePeer,
) -> None:
    rn = await make_node(run_workers=False)
    ctx = Ctx(http, rn, peer, inbox_url(rn, kind))

    status, body = await case.send(ctx)

    assert status == case.status, body
    assert_error_body(body, case.words)
    assert await rn.count(InboxItem) == 0
    assert await rn.count(Follower) == 0
    if case.no_remote_actor:
        assert await rn.count(RemoteActor) == 0
    for uri in case.impersonated(ctx):
        assert await rn.count(RemoteActor, RemoteActor.uri == uri) == 0
    # Nothing queued either: a worker pass finds no work.
    assert await InboxWorker(rn.node).run_once() == 0
    await assert_still_serving(http, rn)


async def test_unknown_actor_inbox_is_404(
    make_node: MakeNode, http: aiohttp.ClientSession, peer: MastodonLikePeer
) -> None:
    rn = await make_node(run_workers=False)
    ctx = Ctx(http, rn, peer, f"{rn.url}/users/nobody/inbox")

    status, body = await send_activity(ctx, make_activity(peer, rn))

    assert status == 404, body
    assert_error_body(body, ("no such", "not found", "unknown", "nobody"))
    assert await rn.count(InboxItem) == 0
    await assert_still_serving(http, rn)


# ------------------------------------------------------------------------ accepted input


async def inbox_items(rn: RunningNode) -> list[InboxItem]:
    async with rn.node.sessions() as session:
        return list((await session.execute(select(InboxItem))).scalars().all())


@pytest.mark.parametrize("kind", INBOX_KINDS)
async def test_control_well_formed_request_is_accepted(
    kind: str, make_node: MakeNode, http: aiohttp.ClientSession, peer: MastodonLikePeer
) -> None:
    """The request every bad case above is derived from is accepted as is."""
    rn = await make_node(run_workers=False)
    ctx = Ctx(http, rn, peer, inbox_url(rn, kind))
    activity = make_activity(peer, rn)

    status, body = await send_activity(ctx, activity)

    assert status == 202, body
    assert await rn.count(InboxItem, InboxItem.activity_uri == activity["id"]) == 1


@pytest.mark.parametrize("kind", INBOX_KINDS)
async def test_unknown_activity_type_is_stored_then_ignored(
    kind: str, make_node: MakeNode, http: aiohttp.ClientSession, peer: MastodonLikePeer
) -> None:
    rn = await make_node(run_workers=False)
    ctx = Ctx(http, rn, peer, inbox_url(rn, kind))
    activity = make_activity(peer, rn, type="Dance")

    status, body = await send_activity(ctx, activity)

    assert status == 202, body
    [item] = await inbox_items(rn)
    assert item.activity_uri == activity["id"]
    assert item.actor_uri == peer.actor_id("alice")
    assert item.state == InboxState.PENDING

    assert await InboxWorker(rn.node).run_once() == 1

    [item] = await inbox_items(rn)
    assert item.state == InboxState.DONE
    assert item.error is not None and "ignored" in item.error, item.error
    assert item.processed_at is not None
    assert await rn.count(Follower) == 0
    assert await rn.count(RemoteObject) == 0
    await assert_still_serving(http, rn)


@pytest.mark.parametrize(
    ("first", "second"), [("shared", "shared"), ("actor", "actor"), ("shared", "actor")]
)
async def test_same_activity_twice_is_stored_once(
    first: str,
    second: str,
    make_node: MakeNode,
    http: aiohttp.ClientSession,
    peer: MastodonLikePeer,
) -> None:
    rn = await make_node(run_workers=False)
    activity = make_activity(peer, rn, type="Dance")

    one = await send_activity(Ctx(http, rn, peer, inbox_url(rn, first)), activity)
    two = await send_activity(Ctx(http, rn, peer, inbox_url(rn, second)), activity)

    assert one[0] == 202, one[1]
    assert two[0] == 202, two[1]
    assert await rn.count(InboxItem) == 1
    assert await rn.count(InboxItem, InboxItem.activity_uri == activity["id"]) == 1


async def test_an_item_that_fails_is_marked_and_the_rest_of_its_batch_goes_through(
    make_node: MakeNode, http: aiohttp.ClientSession, peer: MastodonLikePeer
) -> None:
    """A batch is processed without a savepoint per item; when one item raises (here a
    stored body that is not JSON, as a bug would), the batch is processed again item by
    item: that one ends failed with its error, the Follows before and after it take effect
    exactly once."""
    rn = await make_node(run_workers=False)
    ctx = Ctx(http, rn, peer, inbox_url(rn, "shared"))
    first = make_activity(peer, rn)
    status, body = await send_activity(ctx, first)
    assert status == 202, body
    async with rn.node.write() as session:
        session.add(
            InboxItem(
                activity_uri=f"{peer.actor_id('alice')}#broken",
                actor_uri=peer.actor_id("alice"),
                type="Follow",
                body="{not json",
                state=InboxState.PENDING,
            )
        )
    second = make_activity(peer, rn, actor=peer.actor_id("bob"))
    status, body = await send_activity(ctx, second, username="bob")
    assert status == 202, body

    assert await InboxWorker(rn.node).run_once() == 3

    states = {i.activity_uri: (i.state, i.error) for i in await inbox_items(rn)}
    assert states[first["id"]] == (InboxState.DONE, None)
    assert states[second["id"]] == (InboxState.DONE, None)
    broken = states[f"{peer.actor_id('alice')}#broken"]
    assert broken[0] == InboxState.FAILED and "JSONDecodeError" in (broken[1] or "")
    assert await rn.count(Follower) == 2
    accepts = await rn.count(Activity, Activity.type == "Accept")
    assert accepts == 2  # the first pass rolled back: nothing was done twice


# ------------------------------------------------------------------------- hostile HTML


async def wait_for_db(
    check: Callable[[], Awaitable[bool]],
    rn: RunningNode,
    what: str,
    timeout: float = 10.0,  # noqa: ASYNC109
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() >= deadline:
            items = [(i.type, i.state, i.error) for i in await inbox_items(rn)]
            raise AssertionError(f"timed out waiting for {what}; inbox items: {items}")
        await asyncio.sleep(0.02)


async def test_hostile_html_is_sanitised(
    make_node: MakeNode, http: aiohttp.ClientSession, peer: MastodonLikePeer
) -> None:
    rn = await make_node(run_workers=True)
    remote, _ = await follow(rn.node, peer.acct(), by=OPERATOR)
    assert remote.uri == peer.actor_id("alice")

    async def accepted() -> bool:
        n = await rn.count(
            Following,
            Following.remote_actor_id == remote.id,
            Following.state == FollowingState.ACCEPTED,
        )
        return n == 1

    await wait_for_db(accepted, rn, "the peer's Accept")

    alice = peer.actor_id("alice")
    note_id = f"{alice}/statuses/{uuid.uuid4().int % 10**18}"
    content = (
        "<p>hello <script>alert(1)</script>"
        "<img src=x onerror=alert(1)>"
        '<a href="javascript:alert(1)">x</a></p>'
    )
    create = {
        "@context": AS_CONTEXT,
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": alice,
        "to": [PUBLIC],
        "cc": [peer.followers_url("alice")],
        "object": {
            "id": note_id,
            "type": "Note",
            "attributedTo": alice,
            "to": [PUBLIC],
            "cc": [peer.followers_url("alice")],
            "published": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "content": content,
        },
    }
    status = await peer.sign_and_post(f"{rn.url}/inbox", create)
    assert status == 202

    async def stored() -> bool:
        return await rn.count(RemoteObject, RemoteObject.uri == note_id) == 1

    await wait_for_db(stored, rn, "the Note to be stored")
    async with rn.node.sessions() as session:
        row = (
            await session.execute(select(RemoteObject).where(RemoteObject.uri == note_id))
        ).scalar_one()
    stored_body = json.loads(row.body)
    for html in (row.content, stored_body["content"]):
        lowered = html.lower()
        for bad in ("<script", "onerror", "javascript:"):
            assert bad not in lowered, f"{bad!r} survived in {html!r}"
        text = re.sub(r"<[^>]*>", " ", html)
        assert re.search(r"\bhello\b", text), html
        assert re.search(r"\bx\b", text), f"the link text 'x' was lost: {html!r}"
