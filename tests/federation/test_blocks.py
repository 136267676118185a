"""A blocked domain is cut off both ways (issue 11: ``coopnet block``).

The Mastodon-like peer (its own signatures, its own server on a loopback
port) follows the section, posts, and mentions a mediator; then the
section blocks it by host:port. Its signed activities are refused (403)
before any key is fetched, nothing more is delivered to it, its follow
and its posts and messages are gone, and a follow towards it is refused.
A block of another port of the same address does not touch it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import func, select

from models.accounts import OPERATOR, Principal
from models.actors import get_node_actor
from models.errors import Forbidden
from models.follows import Follower
from models.inbox import InboxItem
from models.mediators import Profile
from models.network.blocks import BlockError, covers, normalize
from models.outbox import Delivery, DeliveryState, enqueue
from models.posts import RemoteObject
from models.replies import FediMessage
from node import actions, content
from node.network import blocks
from node.worker import DeliveryWorker
from tests.conftest import MakeNode, RunningNode
from tests.peers.mastodon import AS_CONTEXT, MastodonLikePeer
from tests.procs import coopnet


@pytest.fixture
async def peer() -> AsyncIterator[MastodonLikePeer]:
    async with MastodonLikePeer(usernames=("alice", "bob")) as p:
        yield p


async def until(check: Callable[[], Awaitable[bool]], what: str, limit: float = 15.0) -> None:
    for _ in range(int(limit / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def count(rn: RunningNode, model: type, *where: object) -> int:
    async with rn.node.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_entries_are_hosts_or_host_and_port() -> None:
    assert normalize("Spam.Example") == "spam.example"
    assert normalize("https://spam.example/@bob/1") == "spam.example"
    assert normalize("bob@spam.example") == "spam.example"
    assert normalize("@bob@Spam.Example.") == "spam.example"
    assert normalize("127.0.0.1:8003") == "127.0.0.1:8003"
    assert normalize("http://127.0.0.1:8003/users/x") == "127.0.0.1:8003"
    assert normalize("bücher.example") == "xn--bcher-kva.example"
    for bad in ("", "   ", "http://", "spam example", "a b/c", "x" * 300 + ".org", "[::1"):
        with pytest.raises(BlockError, match="is not a domain"):
            normalize(bad)
    entries = {"spam.example", "127.0.0.1:8003"}
    assert covers(entries, "spam.example", 443) == "spam.example"
    assert covers(entries, "a.b.spam.example", None) == "spam.example"
    assert covers(entries, "notspam.example", 443) is None
    assert covers(entries, "127.0.0.1", 8003) == "127.0.0.1:8003"
    assert covers(entries, "127.0.0.1", 8002) is None


async def test_a_blocked_domain_is_cut_off_both_ways(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    rn = await make_node("lome")
    await content.mediator_add(rn.node, "ama", Profile(name="Ama"), by=OPERATOR)
    # Before the block: alice follows the section, bob too; alice posts and
    # mentions Ama; the section follows alice.
    await peer.follow(rn.acct)
    await peer.follow(rn.acct, "bob")
    await peer.wait_for(lambda r: r.type == "Accept" and r.path.endswith("/bob/inbox"))
    await peer.reply(None, f"{rn.url}/users/ama", "Bonjour Ama")
    await actions.follow(rn.node, peer.acct("alice"), by=OPERATOR)

    async def accepted() -> bool:
        rows = await actions.list_following(rn.node, by=OPERATOR)
        return any(r.state == "accepted" for r in rows)

    await until(accepted, "alice accepting the section's follow")

    async def kept() -> bool:
        return await count(rn, FediMessage) == 1

    await until(kept, "the mention kept")
    await peer.post("Un message public")

    async def stored() -> bool:
        return await count(rn, RemoteObject) >= 1

    await until(stored, "alice's post stored")
    await actions.post_note(rn.node, "Avant le blocage", by=OPERATOR)
    await peer.wait_for(lambda r: r.type == "Create" and "Avant" in str(r.object))
    assert await count(rn, Follower) == 2

    # Only a coordinator blocks.
    with pytest.raises(Forbidden):
        await blocks.domain_block(
            rn.node, peer.host, "spam", by=Principal(name="ama", mediators=frozenset({2}))
        )
    row, removed = await blocks.domain_block(rn.node, peer.host, "spam répété", by=OPERATOR)
    assert row.domain == peer.host and row.reason == "spam répété"
    assert removed["followers"] == 2 and removed["following"] == 1
    assert removed["posts"] >= 1 and removed["messages"] == 1
    assert await count(rn, Follower) == 0
    assert await count(rn, RemoteObject) == 0 and await count(rn, FediMessage) == 0
    with pytest.raises(BlockError, match="already blocked"):
        await blocks.domain_block(rn.node, f"http://{peer.host}/x", "encore", by=OPERATOR)

    # Everything it sends now is refused before its signature is checked.
    items_before = await count(rn, InboxItem)
    note = {
        "@context": AS_CONTEXT,
        "id": f"{peer.actor_id()}/statuses/blocked/activity",
        "type": "Create",
        "actor": peer.actor_id(),
        "object": {
            "id": f"{peer.actor_id()}/statuses/blocked",
            "type": "Note",
            "attributedTo": peer.actor_id(),
            "content": "<p>après le blocage</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    assert await peer.sign_and_post(f"{rn.url}/inbox", note) == 403
    assert await peer.sign_and_post(f"{rn.url}/users/ama/inbox", note) == 403
    follow = {
        "@context": AS_CONTEXT,
        "id": f"{peer.actor_id()}#follows/after",
        "type": "Follow",
        "actor": peer.actor_id(),
        "object": rn.actor_id,
    }
    assert await peer.sign_and_post(f"{rn.url}/users/lome/inbox", follow) == 403
    assert await count(rn, InboxItem) == items_before

    # Nothing is sent to it: a new post reaches no one there, a follow is refused.
    await actions.post_note(rn.node, "Après le blocage", by=OPERATOR)
    with pytest.raises(Exception, match="blocked"):
        await actions.follow(rn.node, peer.acct("bob"), by=OPERATOR)
    await asyncio.sleep(0.5)  # the delivery worker polls every 0.1 s
    assert not [r for r in peer.received if "Après le blocage" in str(r.activity)]
    assert await count(rn, Delivery, Delivery.state == DeliveryState.PENDING) == 0

    # Lifted: its requests are accepted again (what was removed does not come back).
    await blocks.domain_unblock(rn.node, peer.host, by=OPERATOR)
    assert await peer.sign_and_post(f"{rn.url}/users/lome/inbox", follow) == 202
    await peer.wait_for(lambda r: r.type == "Accept" and r.object.get("id") == follow["id"])


async def test_deliveries_waiting_for_a_blocked_domain_are_given_up_unsent(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    rn = await make_node("lome", run_workers=False)
    other = f"{rn.url}/inbox"  # ourselves: a delivery that must still go

    async def queue(note: str) -> None:
        async with rn.node.write() as session:
            actor = await get_node_actor(session)
            activity = {
                "@context": AS_CONTEXT,
                "id": f"{rn.url}/activities/{note}",
                "type": "Create",
                "actor": rn.actor_id,
                "object": {"id": f"{rn.url}/objects/{note}", "type": "Note", "content": note},
            }
            await enqueue(session, actor, activity, [peer.shared_inbox, other])

    await queue("avant")
    await blocks.domain_block(rn.node, peer.host, "spam", by=OPERATOR)
    async with rn.node.sessions() as session:
        rows = {d.inbox: d for d in (await session.scalars(select(Delivery))).unique()}
    assert rows[peer.shared_inbox].state == DeliveryState.DEAD
    assert rows[peer.shared_inbox].last_error == "domain blocked: spam"
    assert rows[other].state == DeliveryState.PENDING
    # Queued after the block (by another process that had not seen it yet, say):
    # the sender itself refuses the host, for good, without a request.
    await queue("apres")
    await DeliveryWorker(rn.node).run_once()
    async with rn.node.sessions() as session:
        late = [
            d
            for d in (await session.scalars(select(Delivery))).unique()
            if d.inbox == peer.shared_inbox and d.last_error != "domain blocked: spam"
        ]
    assert [(d.state, d.attempts) for d in late] == [(DeliveryState.DEAD, 1)]
    assert late[0].last_error is not None and "is blocked by this node" in late[0].last_error
    assert not [r for r in peer.received if "apres" in str(r.activity)]
    assert not [d for d in peer.deliveries if d.inbox.startswith(rn.url)]


async def test_a_block_of_another_port_leaves_the_peer_alone(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    rn = await make_node("lome")
    other = "127.0.0.1:1"
    assert other != peer.host
    await blocks.domain_block(rn.node, other, "pas nous", by=OPERATOR)
    await peer.follow(rn.acct)
    await peer.wait_for(lambda r: r.type == "Accept")
    assert [b.domain for b in await blocks.domain_blocks(rn.node, by=OPERATOR)] == [other]


async def test_the_cli_blocks_lists_and_unblocks(make_node: MakeNode) -> None:
    rn = await make_node("lome")
    data = str(rn.config.data_dir)
    code, out, err = await coopnet("block", "--data", data, "Spam.Example", "--reason", "spam")
    assert code == 0 and "spam.example blocked" in out, err
    code, out, err = await coopnet("blocks", "--data", data)
    assert "spam.example" in out and "spam" in out and "operator" in out
    for argv, message in [
        (["block", "--data", data, "spam.example", "--reason", "x"], "already blocked"),
        (["block", "--data", data, "a b", "--reason", "x"], "not a domain"),
        (["block", "--data", data, "x.example", "--reason", "  "], "give the reason"),
        (["block", "--data", data, "x.example"], "--reason"),
        (["unblock", "--data", data, "other.example"], "is not blocked"),
    ]:
        code, out, err = await coopnet(*argv)
        assert code != 0 and message in err, (argv, err)
    code, out, err = await coopnet("unblock", "--data", data, "spam.example")
    assert code == 0 and "unblocked" in out
    code, out, err = await coopnet("blocks", "--data", data)
    assert "no domain is blocked" in out
