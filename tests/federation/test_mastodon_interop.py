"""End to end against a Mastodon-like peer written independently of our code.

The peer (tests/peers/mastodon.py) signs and verifies on its own, requires
signed fetches (secure mode) and applies Mastodon's display rules, so a
bug we share with ourselves cannot hide here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from models.accounts import OPERATOR
from models.follows import Follower, Following
from models.inbox import InboxItem
from models.posts import RemoteObject
from node.actions import follow, list_following, post_note
from tests.conftest import MakeNode, RunningNode
from tests.peers.mastodon import MastodonLikePeer, ReceivedActivity


@pytest.fixture
async def peer() -> AsyncIterator[MastodonLikePeer]:
    async with MastodonLikePeer(usernames=("alice", "bob")) as p:
        yield p


async def _until(check: object, what: str, limit: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        result = check()  # type: ignore[operator]
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def _peer_follows_node(peer: MastodonLikePeer, rn: RunningNode) -> ReceivedActivity:
    follow_id = await peer.follow(rn.acct)
    accept = await peer.wait_for(lambda r: r.type == "Accept")
    obj = accept.object
    assert (obj if isinstance(obj, str) else obj["id"]) == follow_id
    return accept


async def test_mastodon_finds_follows_and_receives_posts(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    rn = await make_node("lome")
    accept = await _peer_follows_node(peer, rn)
    # The Accept comes from, and is signed by, the followed actor (Mastodon's rule).
    assert accept.actor == rn.actor_id
    assert accept.key_id == f"{rn.actor_id}#main-key"
    assert peer.following["alice"][rn.actor_id] == "accepted"
    assert await rn.count(Follower) == 1

    for text in ("Réunion mensuelle jeudi", "Nouvelle offre d'hébergement"):
        await post_note(rn.node, text, by=OPERATOR)
        create = await peer.wait_for(
            lambda r, t=text: r.type == "Create" and t in str(r.object.get("content", ""))
        )
        assert create.key_id == f"{rn.actor_id}#main-key"
        assert create.verified_via == "cavage"
        assert create.display == (True, "native")
        assert create.path == "/inbox"  # delivered to the shared inbox
    # Our node fetched nothing unsigned: every GET the peer served to it was signed.
    ours = [f for f in peer.fetch_log if f.key_id and f.key_id.startswith(rn.url)]
    assert ours, "the node never fetched the peer's key"
    assert all(f.status == 200 for f in ours)


async def test_node_follows_mastodon_and_receives_its_posts(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    rn = await make_node("lome")
    remote, row = await follow(rn.node, peer.acct("alice"), by=OPERATOR)
    assert row.state == "pending"
    assert remote.uri == peer.actor_id("alice")

    async def accepted() -> bool:
        return any(r.state == "accepted" for r in await list_following(rn.node, by=OPERATOR))

    await _until(accepted, "the peer's Accept")
    assert rn.actor_id in peer.followers["alice"]

    note_id = await peer.post("Hello from Mastodon")

    async def stored() -> bool:
        return await rn.count(RemoteObject, RemoteObject.uri == note_id) == 1

    await _until(stored, "the peer's Note stored")
    async with rn.node.sessions() as session:
        obj = (await session.execute(select(RemoteObject))).scalar_one()
    assert "Hello from Mastodon" in obj.content
    assert obj.actor_uri == peer.actor_id("alice")


async def test_posts_of_an_actor_we_do_not_follow_are_not_stored(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    """Following alice is not following bob of the same server (only a followed
    node's, an Organization's, whole server counts): bob's unsolicited post,
    correctly signed, is taken in and ignored with the reason recorded."""
    rn = await make_node("lome")
    await follow(rn.node, peer.acct("alice"), by=OPERATOR)

    async def accepted() -> bool:
        return any(r.state == "accepted" for r in await list_following(rn.node, by=OPERATOR))

    await _until(accepted, "the peer's Accept")
    peer.followers["bob"].add(rn.actor_id)  # bob delivers to us unasked
    bob_note = await peer.post("Achetez mes montres", "bob")
    alice_note = await peer.post("Permanence samedi", "alice")

    async def both_processed() -> bool:
        return await rn.count(InboxItem, InboxItem.state == "done") >= 3  # Accept + 2 Creates

    await _until(both_processed, "both Creates processed")
    assert await rn.count(RemoteObject, RemoteObject.uri == alice_note) == 1
    assert await rn.count(RemoteObject, RemoteObject.uri == bob_note) == 0
    async with rn.node.sessions() as session:
        error = (
            await session.execute(
                select(InboxItem.error).where(InboxItem.actor_uri == peer.actor_id("bob"))
            )
        ).scalar_one()
    assert error == "ignored: we do not follow this actor"


async def test_rfc9421_signed_follow_is_accepted(make_node: MakeNode) -> None:
    rn = await make_node("lome")
    async with MastodonLikePeer(signature_scheme="rfc9421") as peer:
        await _peer_follows_node(peer, rn)
        assert await rn.count(Follower) == 1


async def test_undo_follow_removes_follower(make_node: MakeNode, peer: MastodonLikePeer) -> None:
    rn = await make_node("lome")
    await _peer_follows_node(peer, rn)
    await peer.unfollow(rn.actor_id)

    async def gone() -> bool:
        return await rn.count(Follower) == 0

    await _until(gone, "the follower removed")


async def test_deleted_account_loses_its_follows(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    rn = await make_node("lome")
    await _peer_follows_node(peer, rn)
    await follow(rn.node, peer.acct("alice"), by=OPERATOR)

    async def both() -> bool:
        return await rn.count(Following, Following.state == "accepted") == 1

    await _until(both, "mutual follow")
    await peer.delete_account("alice")

    async def cleared() -> bool:
        return await rn.count(Follower) == 0 and await rn.count(Following) == 0

    await _until(cleared, "follows of the deleted actor removed")

    # Its key may still be cached: what it signs afterwards changes nothing.
    late = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{peer.actor_id('alice')}#follows/after-delete",
        "type": "Follow",
        "actor": peer.actor_id("alice"),
        "object": rn.actor_id,
    }
    await peer.sign_and_post(f"{rn.actor_id}/inbox", late)

    async def handled() -> bool:
        return (
            await rn.count(
                InboxItem, InboxItem.activity_uri == late["id"], InboxItem.state == "done"
            )
            == 1
        )

    if await rn.count(InboxItem, InboxItem.activity_uri == late["id"]):
        await _until(handled, "the late Follow processed")
    assert await rn.count(Follower) == 0


async def test_rotated_key_is_refetched_once(make_node: MakeNode, peer: MastodonLikePeer) -> None:
    rn = await make_node("lome")
    await _peer_follows_node(peer, rn)  # the node now caches alice's key

    def actor_fetches() -> int:
        return sum(1 for f in peer.fetch_log if f.path == "/users/alice" and f.status == 200)

    fetches_before = actor_fetches()
    peer.rotate_key("alice")
    await peer.unfollow(rn.actor_id)

    async def gone() -> bool:
        return await rn.count(Follower) == 0

    await _until(gone, "the Undo signed with the new key accepted")
    # The cached key failed, so the node fetched the actor again (once) for the new key.
    assert actor_fetches() == fetches_before + 1


async def test_duplicate_activity_processed_once(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    rn = await make_node("lome")
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{peer.actor_id('alice')}#follows/dup",
        "type": "Follow",
        "actor": peer.actor_id("alice"),
        "object": rn.actor_id,
    }
    inbox = f"{rn.actor_id}/inbox"
    assert await peer.sign_and_post(inbox, activity) == 202
    assert await peer.sign_and_post(inbox, activity) == 202
    await peer.wait_for(lambda r: r.type == "Accept")
    assert await rn.count(InboxItem) == 1
    await asyncio.sleep(0.3)
    accepts = [r for r in peer.received if r.type == "Accept"]
    assert len(accepts) == 1


async def test_unknown_activity_type_accepted_and_ignored(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    rn = await make_node("lome")
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{peer.actor_id('alice')}#ev/1",
        "type": "EmojiReact",
        "actor": peer.actor_id("alice"),
        "object": rn.actor_id,
    }
    assert await peer.sign_and_post(f"{rn.url}/inbox", activity) == 202

    async def done() -> bool:
        return await rn.count(InboxItem, InboxItem.state == "done") == 1

    await _until(done, "the unknown activity processed")
    async with rn.node.sessions() as session:
        item = (await session.execute(select(InboxItem))).scalar_one()
    assert item.error and item.error.startswith("ignored")
    assert await rn.count(Follower) == 0


async def test_signature_by_another_actor_is_refused(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    rn = await make_node("lome")
    forged = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{peer.actor_id('bob')}#follows/forged",
        "type": "Follow",
        "actor": peer.actor_id("bob"),
        "object": rn.actor_id,
    }
    # Signed by alice, claiming to be bob.
    assert await peer.sign_and_post(f"{rn.actor_id}/inbox", forged, username="alice") == 401
    assert await rn.count(InboxItem) == 0
    assert await rn.count(Follower) == 0


async def test_two_coopnet_nodes_follow_and_post(make_node: MakeNode) -> None:
    seat = await make_node("siege", "seat")
    lome = await make_node("lome", "section")
    await follow(lome.node, seat.acct, by=OPERATOR)

    async def accepted() -> bool:
        return any(r.state == "accepted" for r in await list_following(lome.node, by=OPERATOR))

    await _until(accepted, "the seat's Accept")
    note = await post_note(seat.node, "Bulletin du siège", by=OPERATOR)

    async def arrived() -> bool:
        return await lome.count(RemoteObject, RemoteObject.uri == note.uri) == 1

    await _until(arrived, "the seat's note at the section")
