"""The node actor, its collections and its objects, as other servers and browsers see them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from models.accounts import OPERATOR
from node.actions import post_note
from tests.conftest import MakeNode
from tests.peers.mastodon import MastodonLikePeer

AP = "application/activity+json"
LD_AS = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"


def varies_on_accept(resp: aiohttp.ClientResponse) -> bool:
    values = ",".join(resp.headers.getall("Vary", []))
    return "accept" in [v.strip().lower() for v in values.split(",")]


async def get_ap(http: aiohttp.ClientSession, url: str, accept: str = AP) -> dict[str, Any]:
    async with http.get(url, headers={"Accept": accept}) as resp:
        assert resp.status == 200, (url, await resp.text())
        assert resp.content_type == AP, (url, resp.content_type)
        assert varies_on_accept(resp), dict(resp.headers)
        doc = await resp.json(content_type=None)
    assert isinstance(doc, dict)
    return doc


async def get_html(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url, headers={"Accept": BROWSER}) as resp:
        assert resp.status == 200, (url, await resp.text())
        assert resp.content_type == "text/html", (url, resp.content_type)
        assert varies_on_accept(resp), dict(resp.headers)
        return await resp.text()


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ----------------------------------------------------------------------------- the actor


@pytest.mark.parametrize("accept", [AP, LD_AS], ids=["activity+json", "ld+json-profile"])
@pytest.mark.parametrize("role", ["section", "seat"])
async def test_actor_document(
    role: str, accept: str, make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node("lome", role, run_workers=False)

    doc = await get_ap(http, rn.actor_id, accept)

    context = as_list(doc["@context"])
    assert AS_CONTEXT in context
    assert any(isinstance(c, dict) and "role" in c for c in context), context
    assert doc["id"] == rn.actor_id
    assert doc["type"] == "Organization"
    assert doc["role"] == role
    assert doc["preferredUsername"] == "lome"
    for key in ("name", "summary"):
        assert isinstance(doc[key], str) and doc[key].strip(), key
    assert isinstance(doc["url"], str) and doc["url"].startswith(rn.url + "/")
    assert doc["inbox"] == f"{rn.actor_id}/inbox"
    assert doc["outbox"] == f"{rn.actor_id}/outbox"
    assert doc["followers"] == f"{rn.actor_id}/followers"
    assert doc["following"] == f"{rn.actor_id}/following"
    assert doc["endpoints"]["sharedInbox"] == f"{rn.url}/inbox"
    assert doc["manuallyApprovesFollowers"] is False
    assert doc["discoverable"] is True

    key = doc["publicKey"]
    assert key["id"] == f"{rn.actor_id}#main-key"
    assert key["owner"] == rn.actor_id
    public = serialization.load_pem_public_key(key["publicKeyPem"].encode())
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.key_size == 2048


async def test_actor_page_for_browsers(make_node: MakeNode, http: aiohttp.ClientSession) -> None:
    rn = await make_node(run_workers=False)
    port = rn.url.rsplit(":", 1)[1]

    page = await get_html(http, rn.actor_id)

    assert f"@lome@127.0.0.1:{port}" in page
    assert "<html" in page.lower()


async def test_collection_endpoints_answer_json(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node(run_workers=False)
    for name in ("outbox", "followers", "following"):
        url = f"{rn.actor_id}/{name}"
        doc = await get_ap(http, url)
        assert doc["id"] == url
        assert doc["type"] == "OrderedCollection"
        assert doc["totalItems"] == 0
        assert isinstance(doc["first"], str) and doc["first"].startswith(url), doc
        first = await get_ap(http, doc["first"])
        assert first["type"] == "OrderedCollectionPage"
        assert first["orderedItems"] == []


async def test_unknown_actor_and_object_are_404(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node(run_workers=False)
    for url in (f"{rn.url}/users/nobody", f"{rn.url}/objects/{uuid.uuid4()}"):
        async with http.get(url, headers={"Accept": AP}) as resp:
            assert resp.status == 404, url
            body = await resp.json(content_type=None)
        assert isinstance(body.get("error"), str) and body["error"], body
        async with http.get(url, headers={"Accept": BROWSER}) as resp:
            assert resp.status == 404, url


# ------------------------------------------------------------------------------ the outbox


def text_of(n: int) -> str:
    return f"Announcement {n:02d} of the section"


async def test_outbox_pages_newest_first(make_node: MakeNode, http: aiohttp.ClientSession) -> None:
    rn = await make_node(run_workers=False)
    for n in range(25):
        await post_note(rn.node, text_of(n), by=OPERATOR)
    outbox = f"{rn.actor_id}/outbox"

    collection = await get_ap(http, outbox)
    assert collection["type"] == "OrderedCollection"
    assert collection["totalItems"] == 25

    first = await get_ap(http, collection["first"])
    assert first["type"] == "OrderedCollectionPage"
    assert first.get("partOf", outbox) == outbox
    assert len(first["orderedItems"]) == 20
    assert isinstance(first.get("next"), str), first.keys()
    assert "prev" not in first

    second = await get_ap(http, first["next"])
    assert len(second["orderedItems"]) == 5
    assert isinstance(second.get("prev"), str), second.keys()
    assert "next" not in second
    back = await get_ap(http, second["prev"])
    assert [i["id"] for i in back["orderedItems"]] == [i["id"] for i in first["orderedItems"]]

    items = first["orderedItems"] + second["orderedItems"]
    expected = [text_of(n) for n in reversed(range(25))]
    for item, text in zip(items, expected, strict=True):
        assert item["type"] == "Create"
        assert item["actor"] == rn.actor_id
        assert text in item["object"]["content"], (text, item["object"]["content"])
    assert len({i["id"] for i in items}) == 25
    assert len({i["object"]["id"] for i in items}) == 25

    for item, text in zip(items, expected, strict=True):
        note_id = item["object"]["id"]
        assert note_id.startswith(rn.url + "/")
        note = await get_ap(http, note_id)
        assert note["id"] == note_id
        assert note["type"] == "Note"
        assert note["attributedTo"] == rn.actor_id
        assert text in note["content"]
        assert text in await get_html(http, note_id)


# --------------------------------------------------------------------------- followers


@pytest.fixture
async def peer() -> AsyncIterator[MastodonLikePeer]:
    async with MastodonLikePeer() as p:
        yield p


async def relation_items(http: aiohttp.ClientSession, url: str) -> tuple[int, list[Any]]:
    collection = await get_ap(http, url)
    assert collection["type"] == "OrderedCollection"
    first = await get_ap(http, collection["first"])
    return collection["totalItems"], first["orderedItems"]


async def test_followers_lists_a_mastodon_follower(
    make_node: MakeNode, http: aiohttp.ClientSession, peer: MastodonLikePeer
) -> None:
    rn = await make_node(run_workers=True)
    followers = f"{rn.actor_id}/followers"
    assert await relation_items(http, followers) == (0, [])

    await peer.follow(rn.acct)
    await peer.wait_until(
        lambda: peer.following["alice"].get(rn.actor_id) == "accepted",
        timeout=10,
        what="the node's Accept",
    )

    assert await relation_items(http, followers) == (1, [peer.actor_id("alice")])
    # Being followed is not following: the other collection stays empty.
    assert await relation_items(http, f"{rn.actor_id}/following") == (0, [])
