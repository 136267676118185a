"""The Mastodon-like test peer, exercised against another instance of itself."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.peers.mastodon import (
    AP_ACCEPT,
    AS_CONTEXT,
    PUBLIC,
    MastodonLikePeer,
    PeerError,
    ReceivedActivity,
    mastodon_would_display,
    valid_ap_content_type,
)

Pair = tuple[MastodonLikePeer, MastodonLikePeer]


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    async with MastodonLikePeer() as a, MastodonLikePeer() as b:
        yield a, b


async def _follow(a: MastodonLikePeer, b: MastodonLikePeer) -> str:
    follow_id = await a.follow(b.acct())
    await a.wait_for(lambda r: r.type == "Accept")
    await a.wait_until(lambda: a.following["alice"].get(b.actor_id()) == "accepted")
    return follow_id


def _is_create_of(note_id: str) -> Any:
    def predicate(r: ReceivedActivity) -> bool:
        obj = r.object
        return r.type == "Create" and isinstance(obj, dict) and obj.get("id") == note_id

    return predicate


async def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers=headers or {"Accept": AP_ACCEPT}) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), await resp.read()


async def test_follow_by_acct_is_accepted(pair: Pair) -> None:
    a, b = pair
    follow_id = await a.follow(b.acct())
    assert follow_id.startswith(a.actor_id() + "#follows/")

    follow = await b.wait_for(lambda r: r.type == "Follow")
    assert follow.path == "/users/alice/inbox"  # Mastodon sends Follows to the personal inbox
    assert follow.activity["id"] == follow_id
    assert follow.activity["object"] == b.actor_id()
    assert follow.verified_via == "cavage"
    assert follow.key_id == a.key_id()
    assert 'headers="(request-target) host date digest content-type"' in follow.headers["signature"]
    assert b.followers["alice"] == {a.actor_id()}

    accept = await a.wait_for(lambda r: r.type == "Accept")
    assert accept.activity["object"]["id"] == follow_id
    await a.wait_until(lambda: a.following["alice"].get(b.actor_id()) == "accepted")
    # B fetched A's key signed by its instance actor, and A served the full actor to it.
    assert a.key_id() in b.key_fetches
    signed_gets = [f for f in a.fetch_log if f.path == "/users/alice" and f.key_id]
    assert signed_gets and signed_gets[0].key_id == f"{b.instance_actor_id}#main-key"
    assert not a.errors and not b.errors


async def test_post_is_delivered_to_shared_inbox(pair: Pair) -> None:
    a, b = pair
    await _follow(a, b)
    note_id = await b.post("hello\n\nworld <3")
    create = await a.wait_for(_is_create_of(note_id))
    assert create.path == "/inbox"
    assert create.verified_via == "cavage"
    assert create.display == (True, "native")
    note = create.activity["object"]
    assert note["to"] == [PUBLIC]
    assert note["cc"] == [b.followers_url()]
    assert note["content"] == "<p>hello</p><p>world &lt;3</p>"
    assert note["url"].startswith(b.base_url)
    # Fetchable by a signed GET.
    assert (await a.fetch_object(note_id))["id"] == note_id


async def test_forged_requests_are_rejected(pair: Pair) -> None:
    a, b = pair
    await _follow(a, b)
    activity = {
        "@context": AS_CONTEXT,
        "id": f"{a.actor_id()}#likes/1",
        "type": "Like",
        "actor": a.actor_id(),
        "object": b.actor_id(),
    }
    accepted_before = len(b.received)

    assert await a.sign_and_post(b.inbox(), activity, tamper_body=True) == 401
    assert "Digest" in b.rejected[-1][1]

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert await a.sign_and_post(b.inbox(), activity, key_override=other_key) == 401
    assert "after refetch" in b.rejected[-1][1]

    stale = datetime.now(UTC) - timedelta(hours=2)
    assert await a.sign_and_post(b.inbox(), activity, date=stale) == 401
    assert "time window" in b.rejected[-1][1]

    impersonation = {**activity, "actor": "http://127.0.0.1:1/users/mallory"}
    assert await a.sign_and_post(b.inbox(), impersonation) == 401
    assert "does not match activity actor" in b.rejected[-1][1]

    body = json.dumps(activity).encode()
    ctype = {"Content-Type": "application/activity+json"}
    assert await a.send_raw(b.shared_inbox, body, ctype) == 401
    assert b.rejected[-1] == ("/inbox", "request not signed")
    assert await a.send_raw(b.shared_inbox, b"x" * (1024 * 1024 + 1), ctype) == 413
    assert await a.send_raw(b.inbox("nobody"), body, ctype) == 404

    assert len(b.received) == accepted_before
    assert await a.sign_and_post(b.inbox(), activity) == 202
    assert b.received[-1].type == "Like"


async def test_hs2019_with_created_pseudo_header(pair: Pair) -> None:
    a, b = pair
    activity = {"@context": AS_CONTEXT, "type": "Like", "actor": a.actor_id(), "object": "x"}
    body = json.dumps(activity).encode()
    created = int(time.time())
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    signed = (
        f"(request-target): post /inbox\nhost: {b.host}\n(created): {created}\ndigest: {digest}"
    )
    signature = a.private_key().sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
    headers = {
        "Host": b.host,
        "Digest": digest,
        "Content-Type": "application/activity+json",
        "Signature": (
            f'keyId="{a.key_id()}",algorithm="hs2019",created={created},'
            f'headers="(request-target) host (created) digest",'
            f'signature="{base64.b64encode(signature).decode()}"'
        ),
    }
    assert await a.send_raw(b.shared_inbox, body, headers) == 202
    assert b.received[-1].verified_via == "cavage"
    # (created) is only allowed with hs2019, as in Mastodon.
    headers["Signature"] = headers["Signature"].replace("hs2019", "rsa-sha256")
    assert await a.send_raw(b.shared_inbox, body, headers) == 401


async def test_delete_of_unknown_actor_is_ignored(pair: Pair) -> None:
    a, b = pair
    ghost = "http://127.0.0.1:1/users/ghost"
    body = json.dumps({"@context": AS_CONTEXT, "type": "Delete", "actor": ghost, "object": ghost})
    assert await a.send_raw(b.shared_inbox, body.encode(), {}) == 202
    assert b.ignored == [("/inbox", "Delete of an unknown actor")]
    assert b.received == [] and b.rejected == []


async def test_authorized_fetch(pair: Pair) -> None:
    a, b = pair
    status, ctype, raw = await _get(b.actor_id())
    assert status == 200 and ctype == "application/activity+json; charset=utf-8"
    reduced = json.loads(raw)
    assert set(reduced) == {
        "@context",
        "id",
        "type",
        "preferredUsername",
        "inbox",
        "publicKey",
        "endpoints",
    }
    full = await a.fetch_object(b.actor_id())
    assert full["followers"] == b.followers_url() and full["outbox"]

    # Without an ActivityPub Accept header, Mastodon answers with HTML.
    status, ctype, _ = await _get(b.actor_id(), {"Accept": "*/*"})
    assert status == 200 and ctype.startswith("text/html")

    note_id = await b.post("secret-ish")
    status, _, _ = await _get(note_id)
    assert status == 401
    assert (await a.fetch_object(note_id))["type"] == "Note"
    assert (await a.fetch_object(f"{note_id}/activity"))["type"] == "Create"

    async with MastodonLikePeer(authorized_fetch=False) as open_peer:
        note_id = await open_peer.post("public")
        status, _, raw = await _get(note_id)
        assert status == 200 and json.loads(raw)["id"] == note_id
        status, _, raw = await _get(open_peer.actor_id())
        assert "followers" in json.loads(raw)


async def test_webfinger(pair: Pair) -> None:
    a, b = pair
    jrd = await a.webfinger(b.acct())
    assert jrd["subject"] == f"acct:{b.acct()}"
    assert {"rel": "self", "type": "application/activity+json", "href": b.actor_id()} in jrd[
        "links"
    ]
    status, ctype, _ = await _get(f"{b.base_url}/.well-known/webfinger?resource=acct:bob@{b.host}")
    assert status == 404
    assert await a.resolve(b.actor_id()) == b.actor_id()
    assert await a.resolve(f"@{b.acct()}") == b.actor_id()


async def test_follow_refuses_actor_failing_webfinger_round_trip(pair: Pair) -> None:
    a, b = pair
    b.actor_extra["alice"] = {"preferredUsername": "bob"}
    with pytest.raises(PeerError, match="WebFinger"):
        await a.follow(b.actor_id())
    b.actor_extra["alice"] = {"publicKey": {"id": "x", "owner": "y", "publicKeyPem": "z"}}
    with pytest.raises(PeerError, match="owner"):
        await a.follow(b.acct())
    assert a.following["alice"] == {}
    assert not any(r.type == "Follow" for r in b.received)


async def test_rfc9421_scheme() -> None:
    async with (
        MastodonLikePeer(signature_scheme="rfc9421") as a,
        MastodonLikePeer(signature_scheme="rfc9421") as b,
    ):
        await _follow(a, b)
        follow = await b.wait_for(lambda r: r.type == "Follow")
        assert follow.verified_via == "rfc9421"
        assert follow.headers["signature-input"].startswith(
            'sig1=("@method" "@target-uri" "content-digest");created='
        )
        assert follow.headers["content-digest"].startswith("sha-256=:")
        note_id = await b.post("over rfc 9421")
        create = await a.wait_for(_is_create_of(note_id))
        assert create.verified_via == "rfc9421"

        activity = {"@context": AS_CONTEXT, "type": "Like", "actor": a.actor_id(), "object": "x"}
        assert await a.sign_and_post(b.inbox(), activity, tamper_body=True) == 401
        assert "Content-Digest" in b.rejected[-1][1]
        # A cavage peer and an RFC 9421 peer understand each other.
        assert await a.sign_and_post(b.inbox(), activity, scheme="cavage") == 202


async def test_key_rotation_triggers_one_refetch(pair: Pair) -> None:
    a, b = pair
    await _follow(a, b)
    first = await b.post("before rotation")
    await a.wait_for(_is_create_of(first))
    fetches = a.key_fetches.count(b.key_id())
    b.rotate_key()
    second = await b.post("after rotation")
    create = await a.wait_for(_is_create_of(second))
    assert create.key_id == b.key_id()
    assert a.key_fetches.count(b.key_id()) == fetches + 1


async def test_unfollow(pair: Pair) -> None:
    a, b = pair
    follow_id = await _follow(a, b)
    await a.unfollow(b.actor_id())
    undo = await b.wait_for(lambda r: r.type == "Undo")
    assert undo.activity["object"]["id"] == follow_id
    assert b.followers["alice"] == set()
    assert a.following["alice"] == {}


async def test_delete_account(pair: Pair) -> None:
    a, b = pair
    await _follow(a, b)
    await b.delete_account()
    delete = await a.wait_for(lambda r: r.type == "Delete")
    assert delete.activity["object"] == b.actor_id() == delete.activity["actor"]
    assert delete.activity["to"] == [PUBLIC]
    assert a.following["alice"] == {}
    status, _, _ = await _get(b.actor_id())
    assert status == 410
    with pytest.raises(PeerError, match="410"):
        await a.fetch_object(b.actor_id())


def test_content_type_check() -> None:
    assert valid_ap_content_type("application/activity+json; charset=utf-8")
    assert valid_ap_content_type(
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    )
    assert not valid_ap_content_type("application/ld+json")
    assert not valid_ap_content_type("application/json")


ACTOR = "https://social.example/users/alice"


def _create(
    object_type: Any, *, object_id: str = "https://social.example/objects/1"
) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": "https://social.example/activities/1",
        "type": "Create",
        "actor": ACTOR,
        "object": {"id": object_id, "type": object_type, "content": "hi"},
    }


@pytest.mark.parametrize(
    ("activity", "shown", "reason"),
    [
        (_create("Note"), True, "native"),
        (_create("Question"), True, "native"),
        (_create("Article"), True, "converted"),
        (_create("Event"), True, "converted"),
        (_create("Proposal"), False, "unsupported object type"),
        (_create(["Proposal", "Note"]), True, "native"),
        (_create(["Proposal", "Article"]), True, "converted"),
        (_create("Offer"), False, "unsupported object type"),
        ({**_create("Note"), "type": ["Create", "Proposal"]}, False, "must be a string"),
        (_create("Note", object_id="https://other.example/objects/1"), False, "actor's host"),
        (_create("Note", object_id="https://social.example:8443/o/1"), False, "actor's host"),
        ({**_create("Note"), "object": "https://social.example/objects/1"}, False, "bare URI"),
        ({**_create("Note"), "@context": "https://example/ctx"}, False, "@context"),
        ({**_create("Note"), "type": "Announce"}, False, "not a Create"),
    ],
)
def test_mastodon_would_display(activity: dict[str, Any], shown: bool, reason: str) -> None:
    result = mastodon_would_display(activity)
    assert result[0] is shown
    assert reason in result[1]
