"""Offers, bulletins and mediators on the wire (docs/decisions.md).

Against the Mastodon-like peer (tests/peers/mastodon.py), written apart from
our code and applying Mastodon's own type rules: a mediator is followable,
its offers arrive as signed Create/Update/Delete of ``["Proposal", "Note"]``
that Mastodon shows natively and that carry the FEP-0837 structure; the
node's bulletins arrive as Articles. Between two coopnet nodes: what one
publishes the other stores and lists, and only from the object's own origin.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from sqlalchemy import select

from models.accounts import OPERATOR
from models.base import clock, utcnow
from models.inbox import InboxItem, InboxState
from models.mediators import Profile
from models.offers import Offer, OfferDraft
from models.outbox import Activity, Delivery
from models.posts import RemoteObject
from node.actions import follow, list_following
from node.cli import main
from node.content import (
    bulletin_delete,
    bulletin_publish,
    bulletin_update,
    mediator_add,
    mediator_remove,
    offer_list,
    offer_publish,
    offer_update,
    offer_withdraw,
)
from node.worker import DeliveryWorker, InboxWorker, MaintenanceWorker
from tests.clock import FakeClock
from tests.conftest import MakeNode, RunningNode
from tests.peers.mastodon import MastodonLikePeer, ReceivedActivity

AP = "application/activity+json"
FEP_0837_TERMS = (
    "Proposal",
    "purpose",
    "publishes",
    "reciprocal",
    "action",
    "resourceQuantity",
    "hasUnit",
    "hasNumericalValue",
)
HOSTILE_MARKDOWN = (
    "<script>alert(1)</script>\n\n"
    "<img src=x onerror=alert(2)>\n\n"
    "![logo](javascript:alert(3))\n\n"
    '<a href="javascript:alert(4)" onclick="alert(5)">lien</a>\n'
)


@pytest.fixture
async def peer() -> AsyncIterator[MastodonLikePeer]:
    async with MastodonLikePeer(usernames=("alice", "bob")) as p:
        yield p


# ----------------------------------------------------------------------------- helpers


async def until(check: Callable[[], Awaitable[bool]], what: str, limit: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not await check():
        if loop.time() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.03)


def host(rn: RunningNode) -> str:
    return urlsplit(rn.url).netloc


def id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def types(obj: dict[str, Any]) -> list[str]:
    value = obj.get("type")
    return value if isinstance(value, list) else [value]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_inert(html: str) -> None:
    """No element that runs script: no <script>, no on* attribute, no javascript: URL.

    Raw HTML written in Markdown may survive as escaped *text*; that is harmless.
    """
    assert "<script" not in html.lower(), html
    parser = _Tags()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag not in ("script", "iframe", "object", "embed"), html
        for name, value in attrs:
            assert not name.lower().startswith("on"), (tag, name, html)
            assert "javascript:" not in (value or "").lower(), (tag, name, html)


def context_terms(context: Any) -> set[str]:
    terms: set[str] = set()
    for entry in context if isinstance(context, list) else [context]:
        if isinstance(entry, dict):
            terms.update(entry)
    return terms


async def ap_get_status(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(url, headers={"Accept": AP}) as resp:
        await resp.read()
        return resp.status


async def peer_follows(peer: MastodonLikePeer, rn: RunningNode, username: str) -> ReceivedActivity:
    """The peer follows ``username@host`` like Mastodon (WebFinger first); returns the Accept."""
    actor_id = f"{rn.url}/users/{username}"
    follow_id = await peer.follow(f"{username}@{host(rn)}")
    accept = await peer.wait_for(lambda r: r.type == "Accept" and r.actor == actor_id)
    assert id_of(accept.object) == follow_id
    # Signed by the followed actor's own key, as Mastodon requires.
    assert accept.key_id == f"{actor_id}#main-key"
    assert peer.following["alice"][actor_id] == "accepted"
    return accept


def received(verb: str, object_id: str) -> Callable[[ReceivedActivity], bool]:
    def match(r: ReceivedActivity) -> bool:
        return r.type == verb and id_of(r.object) == object_id

    return match


def draft(**changes: Any) -> OfferDraft:
    values: dict[str, Any] = {
        "title": "Hébergement de sites associatifs",
        "description": "Un hébergement **mutualisé**, sauvegardes quotidiennes comprises.\n\n"
        + HOSTILE_MARKDOWN,
        "category": "hosting",
        "price": "25 EUR",
        "area": "Lomé et environs",
        "contact": "mailto:kossi@example.org",
    }
    values.update(changes)
    return OfferDraft(**values)


async def kossi(rn: RunningNode) -> str:
    await mediator_add(
        rn.node,
        "kossi",
        Profile(name="Kossi Agbeko", skills=["hébergement", "WordPress"], area="Lomé"),
        by=OPERATOR,
    )
    return f"{rn.url}/users/kossi"


# ----------------------------------------------------------------------------- Mastodon: offers


async def test_mediator_offer_create_update_delete_reach_mastodon(
    make_node: MakeNode, peer: MastodonLikePeer, http: aiohttp.ClientSession
) -> None:
    rn = await make_node("lome")
    mediator = await kossi(rn)
    await peer_follows(peer, rn, "kossi")

    offer = await offer_publish(rn.node, draft(), author="kossi", by=OPERATOR)
    create = await peer.wait_for(received("Create", offer.uri))
    assert create.actor == mediator
    assert create.key_id == f"{mediator}#main-key"
    obj = create.object
    assert {"Proposal", "Note"} <= set(types(obj)), obj["type"]
    # Mastodon's rules keep it and show it as a status, content included.
    assert create.display == (True, "native")
    assert urlsplit(obj["id"]).netloc == host(rn)
    assert obj["attributedTo"] == mediator

    content = obj["content"]
    assert "Hébergement de sites associatifs" in content
    assert "sauvegardes quotidiennes comprises" in content
    assert "25" in content and "EUR" in content, content
    assert f'href="{offer.uri}"' in content
    assert_inert(content)

    # FEP-0837.
    assert obj["purpose"] == "offer"
    publishes = obj["publishes"]
    assert publishes["type"] == "Intent"
    assert publishes["action"] == "deliverService"
    assert {"hasUnit", "hasNumericalValue"} <= set(publishes["resourceQuantity"])
    reciprocal = obj["reciprocal"]
    assert reciprocal["type"] == "Intent"
    assert "EUR" in reciprocal["resourceConformsTo"]
    assert reciprocal["resourceQuantity"]["hasUnit"]
    assert Decimal(str(reciprocal["resourceQuantity"]["hasNumericalValue"])) == Decimal(25)
    assert obj["location"]["name"] == "Lomé et environs"

    # Update: same object, new title, to the same follower.
    await offer_update(
        rn.node, offer.uuid, {"title": "Hébergement (nouveau tarif)", "price": "20"}, by=OPERATOR
    )
    upd = await peer.wait_for(received("Update", offer.uri))
    assert upd.key_id == f"{mediator}#main-key"
    assert upd.object["name"] == "Hébergement (nouveau tarif)"
    assert "Hébergement (nouveau tarif)" in upd.object["content"]
    assert {"Proposal", "Note"} <= set(types(upd.object))
    amount = upd.object["reciprocal"]["resourceQuantity"]["hasNumericalValue"]
    assert Decimal(str(amount)) == Decimal(20)

    # Withdraw: Delete with a Tombstone, and the URL is gone.
    await offer_withdraw(rn.node, offer.uri, by=OPERATOR)
    gone = await peer.wait_for(received("Delete", offer.uri))
    assert gone.key_id == f"{mediator}#main-key"
    assert gone.object["type"] == "Tombstone"
    assert await ap_get_status(http, offer.uri) == 410


async def test_offer_in_sel_hours_only_and_without_area(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    rn = await make_node("lome")
    await peer_follows(peer, rn, "lome")
    offer = await offer_publish(
        rn.node, draft(title="Aide informatique", price=None, sel_hours="1.5", area=""), by=OPERATOR
    )
    create = await peer.wait_for(received("Create", offer.uri))
    obj = create.object
    assert create.display == (True, "native")
    assert obj["attributedTo"] == rn.actor_id
    assert "1.5" in obj["content"], obj["content"]
    quantity = obj["reciprocal"]["resourceQuantity"]
    assert Decimal(str(quantity["hasNumericalValue"])) == Decimal("1.5")
    assert quantity["hasUnit"]
    assert "location" not in obj


async def test_delivered_offer_context_defines_fep0837_terms(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    """The object travels embedded in the activity; its terms must be defined there.

    docs/decisions.md: "The FEP-0837 terms are defined inline in the object's
    @context". A JSON-LD reader of the Create sees only the activity's @context.
    """
    rn = await make_node("lome")
    await peer_follows(peer, rn, "lome")
    offer = await offer_publish(rn.node, draft(), by=OPERATOR)
    create = await peer.wait_for(received("Create", offer.uri))
    contexts = context_terms(create.activity.get("@context"))
    contexts |= context_terms(create.object.get("@context"))
    missing = [t for t in FEP_0837_TERMS if t not in contexts]
    assert not missing, f"FEP-0837 terms undefined in the delivered Create: {missing}"


# ----------------------------------------------------------------------------- Mastodon: bulletins


async def test_bulletin_create_update_delete_reach_mastodon(
    make_node: MakeNode, peer: MastodonLikePeer, http: aiohttp.ClientSession
) -> None:
    rn = await make_node("lome")
    await peer_follows(peer, rn, "lome")
    markdown = (
        "Ce mois-ci, la section a accueilli trois nouvelles associations.\n\n"
        "## Agenda\n\n- Atelier WordPress le 12\n- Assemblée le 28\n\n" + HOSTILE_MARKDOWN
    )
    bulletin = await bulletin_publish(rn.node, "Bulletin de novembre", markdown, by=OPERATOR)
    create = await peer.wait_for(received("Create", bulletin.uri))
    assert create.key_id == f"{rn.actor_id}#main-key"
    obj = create.object
    assert types(obj) == ["Article"]
    assert create.display == (True, "converted")
    assert obj["name"] == "Bulletin de novembre"
    # No summary given: the first paragraph, alone.
    assert obj["summary"] == "Ce mois-ci, la section a accueilli trois nouvelles associations."
    assert "Atelier WordPress le 12" in obj["content"] and "Assemblée le 28" in obj["content"]
    assert "<li>" in obj["content"]
    assert obj["url"] == bulletin.uri
    assert obj["attributedTo"] == rn.actor_id
    assert obj["published"]
    assert urlsplit(obj["id"]).netloc == host(rn)
    assert_inert(obj["content"])

    await bulletin_update(rn.node, bulletin.uuid, title="Bulletin de novembre 2026", by=OPERATOR)
    upd = await peer.wait_for(received("Update", bulletin.uri))
    assert upd.key_id == f"{rn.actor_id}#main-key"
    assert upd.object["name"] == "Bulletin de novembre 2026"

    await bulletin_delete(rn.node, bulletin.uri, by=OPERATOR)
    gone = await peer.wait_for(received("Delete", bulletin.uri))
    assert gone.key_id == f"{rn.actor_id}#main-key"
    assert gone.object["type"] == "Tombstone"
    assert await ap_get_status(http, bulletin.uri) == 410


async def test_bulletin_summary_given_or_cut(make_node: MakeNode, peer: MastodonLikePeer) -> None:
    rn = await make_node("lome")
    await peer_follows(peer, rn, "lome")
    given = await bulletin_publish(
        rn.node,
        "Décembre",
        "Premier paragraphe.\n\nSuite.",
        summary="Les nouvelles, en bref.",
        by=OPERATOR,
    )
    create = await peer.wait_for(received("Create", given.uri))
    assert create.object["summary"] == "Les nouvelles, en bref."

    words = " ".join(f"mot{i}" for i in range(200))  # about 1,300 characters
    long = await bulletin_publish(rn.node, "Janvier", f"{words}\n\nSuite.", by=OPERATOR)
    create = await peer.wait_for(received("Create", long.uri))
    summary = create.object["summary"]
    assert 100 < len(summary) <= 501, len(summary)
    stem = summary.rstrip("…").rstrip()
    assert words.startswith(stem), summary
    assert words[len(stem)] == " ", "cut inside a word"


# ----------------------------------------------------------------------------- removing a mediator


async def test_removed_mediator_sends_delete_and_is_gone(
    make_node: MakeNode,
    peer: MastodonLikePeer,
    http: aiohttp.ClientSession,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rn = await make_node("lome")
    mediator = await kossi(rn)
    await peer_follows(peer, rn, "kossi")

    await mediator_remove(rn.node, "kossi", by=OPERATOR)
    delete = await peer.wait_for(lambda r: r.type == "Delete")
    assert delete.actor == mediator
    assert id_of(delete.object) == mediator
    assert delete.key_id == f"{mediator}#main-key"

    assert await ap_get_status(http, mediator) == 410
    async with http.get(
        f"{rn.url}/.well-known/webfinger", params={"resource": f"acct:kossi@{host(rn)}"}
    ) as resp:
        assert resp.status == 410

    data = str(rn.config.data_dir)
    code = await asyncio.to_thread(main, ["mediator", "list", "--data", data])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "@kossi@" not in out
    code = await asyncio.to_thread(main, ["mediator", "list", "--data", data, "--all"])
    out, _ = capsys.readouterr()
    assert code == 0
    (line,) = [x for x in out.splitlines() if "@kossi@" in x]
    assert "removed" in line


async def test_removed_mediator_offers_are_no_longer_live(make_node: MakeNode) -> None:
    """A Mastodon follower saw the actor deleted, with all its posts; the section's own
    lists must not keep offering the services of someone who is no longer a mediator,
    nor send Updates signed by a deleted actor. Records stay in the database."""
    rn = await make_node("lome")
    await kossi(rn)
    offer = await offer_publish(rn.node, draft(), author="kossi", by=OPERATOR)
    await mediator_remove(rn.node, "kossi", by=OPERATOR)

    assert await rn.count(Offer, Offer.uri == offer.uri) == 1  # kept for the records
    assert offer.uri not in [o.uri for o in await offer_list(rn.node)]
    with pytest.raises(ValueError):
        await offer_update(rn.node, offer.uuid, {"title": "Encore là ?"}, by=OPERATOR)


# ----------------------------------------------------------------------------- two coopnet nodes


async def b_follows(b: RunningNode, target: str) -> None:
    await follow(b.node, target, by=OPERATOR)

    async def accepted() -> bool:
        return any(r.state == "accepted" for r in await list_following(b.node, by=OPERATOR))

    await until(accepted, f"{target} accepting the follow")


async def remote_row(rn: RunningNode, uri: str) -> RemoteObject | None:
    async with rn.node.sessions() as session:
        return (
            await session.execute(select(RemoteObject).where(RemoteObject.uri == uri))
        ).scalar_one_or_none()


async def test_peer_node_stores_lists_updates_and_drops_offers_and_bulletins(
    make_node: MakeNode, capsys: pytest.CaptureFixture[str]
) -> None:
    a = await make_node("lome")
    b = await make_node("kara")
    await b_follows(b, a.acct)

    offer = await offer_publish(a.node, draft(), by=OPERATOR)
    bulletin = await bulletin_publish(
        a.node, "Bulletin de Lomé", "Des nouvelles de Lomé.", by=OPERATOR
    )

    async def both_stored() -> bool:
        return await b.count(RemoteObject, RemoteObject.uri.in_([offer.uri, bulletin.uri])) == 2

    await until(both_stored, "the offer and the bulletin at B")
    got_offer = await remote_row(b, offer.uri)
    got_bulletin = await remote_row(b, bulletin.uri)
    assert got_offer is not None and got_bulletin is not None
    assert (got_offer.kind, got_offer.name, got_offer.actor_uri) == (
        "offer",
        "Hébergement de sites associatifs",
        a.actor_id,
    )
    assert (got_bulletin.kind, got_bulletin.name) == ("bulletin", "Bulletin de Lomé")
    assert_inert(got_offer.content)

    data = str(b.config.data_dir)
    code = await asyncio.to_thread(main, ["offer", "list", "--data", data, "--remote"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert offer.uri in out and "Hébergement de sites associatifs" in out
    assert bulletin.uri not in out
    code = await asyncio.to_thread(main, ["bulletin", "list", "--data", data, "--remote"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert bulletin.uri in out and "Bulletin de Lomé" in out
    assert offer.uri not in out
    # Peers' offers are not ours: the local list stays empty.
    code = await asyncio.to_thread(main, ["offer", "list", "--data", data])
    out, _ = capsys.readouterr()
    assert code == 0 and offer.uri not in out

    await offer_update(a.node, offer.uri, {"title": "Hébergement, nouveau tarif"}, by=OPERATOR)

    async def renamed() -> bool:
        row = await remote_row(b, offer.uri)
        return row is not None and row.name == "Hébergement, nouveau tarif"

    await until(renamed, "the Update at B")

    await offer_withdraw(a.node, offer.uri, by=OPERATOR)

    async def dropped() -> bool:
        return await b.count(RemoteObject, RemoteObject.uri == offer.uri) == 0

    await until(dropped, "the Delete at B")
    assert await b.count(RemoteObject, RemoteObject.uri == bulletin.uri) == 1


async def test_incoming_objects_only_from_their_origin_and_sanitised(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    a = await make_node("lome")
    b = await make_node("kara")
    await b_follows(b, peer.acct("alice"))
    inbox = f"{b.url}/inbox"
    alice, bob = peer.actor_id("alice"), peer.actor_id("bob")

    def create(obj: dict[str, Any], actor: str = alice) -> dict[str, Any]:
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{actor}/activities/{uuid.uuid4()}",
            "type": "Create",
            "actor": actor,
            "object": obj,
        }

    def offer_obj(ident: str, attributed: str = alice, **extra: Any) -> dict[str, Any]:
        return {
            "id": ident,
            "type": ["Proposal", "Note"],
            "attributedTo": attributed,
            "name": "Offre",
            "content": "<p>Bonjour</p>",
            "purpose": "offer",
            **extra,
        }

    foreign = f"{a.url}/offers/{uuid.uuid4()}"  # another server's object
    on_b = f"{b.url}/offers/{uuid.uuid4()}"  # the receiving node's own host
    bobs = f"{alice}/statuses/{uuid.uuid4()}"  # alice's host, but attributed to bob
    hostile = f"{alice}/offers/{uuid.uuid4()}"
    sent = [
        create(offer_obj(foreign)),
        create(offer_obj(on_b)),
        create(offer_obj(bobs, attributed=bob)),
        create(
            offer_obj(
                hostile,
                name="<script>alert(1)</script>Offre",
                summary='<p onclick="alert(3)">Résumé</p><script>alert(4)</script>',
                content="<p>Bonjour<img src=x onerror=alert(2)></p><script>alert(5)</script>"
                '<a href="javascript:alert(6)">lien</a>',
            )
        ),
    ]
    for activity in sent:
        assert await peer.sign_and_post(inbox, activity) in (200, 202)

    async def processed() -> bool:
        async with b.node.sessions() as session:
            states = (
                (
                    await session.execute(
                        select(InboxItem.state).where(
                            InboxItem.activity_uri.in_([s["id"] for s in sent])
                        )
                    )
                )
                .scalars()
                .all()
            )
        return len(states) == len(sent) and InboxState.PENDING not in states

    await until(processed, "B processing the four Creates")
    for uri in (foreign, on_b, bobs):
        assert await b.count(RemoteObject, RemoteObject.uri == uri) == 0, uri

    row = await remote_row(b, hostile)
    assert row is not None, "the legitimate (if hostile) offer was not stored"
    assert row.kind == "offer"
    assert row.actor_uri == alice
    assert "Offre" in row.name
    assert "Bonjour" in row.content
    name_before = row.name
    for text in (row.name, row.summary, row.content, row.body):
        assert "<script" not in text.lower(), text
        assert "onerror" not in text.lower(), text
        assert "onclick" not in text.lower(), text
        assert "javascript:" not in text.lower(), text

    # Update and Delete of alice's object by bob: ignored. A hostile Update by alice: clean.
    by_bob = [
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{bob}/activities/{uuid.uuid4()}",
            "type": "Update",
            "actor": bob,
            "object": offer_obj(hostile, attributed=bob, name="Volée"),
        },
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{bob}/activities/{uuid.uuid4()}",
            "type": "Delete",
            "actor": bob,
            "object": hostile,
        },
    ]
    for activity in by_bob:
        assert await peer.sign_and_post(inbox, activity, username="bob") in (200, 202)

    async def bob_processed() -> bool:
        async with b.node.sessions() as session:
            states = (
                (
                    await session.execute(
                        select(InboxItem.state).where(
                            InboxItem.activity_uri.in_([x["id"] for x in by_bob])
                        )
                    )
                )
                .scalars()
                .all()
            )
        return len(states) == 2 and InboxState.PENDING not in states

    await until(bob_processed, "B processing bob's Update and Delete")
    row = await remote_row(b, hostile)
    assert row is not None, "bob deleted alice's object"
    assert row.actor_uri == alice
    assert row.name == name_before, row.name

    own_update = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{alice}/activities/{uuid.uuid4()}",
        "type": "Update",
        "actor": alice,
        "object": offer_obj(hostile, name='<img src=x onerror="alert(7)">Offre 2'),
    }
    assert await peer.sign_and_post(inbox, own_update) in (200, 202)

    async def renamed() -> bool:
        r = await remote_row(b, hostile)
        return r is not None and "Offre 2" in r.name

    await until(renamed, "alice's Update applied")
    row = await remote_row(b, hostile)
    assert row is not None
    assert "onerror" not in row.name.lower() and "<img" not in row.name.lower()
    assert "onerror" not in row.body.lower()


async def test_remote_names_cannot_drive_the_operators_terminal(
    make_node: MakeNode, peer: MastodonLikePeer, capsys: pytest.CaptureFixture[str]
) -> None:
    """`coopnet offer list --remote` prints peers' text: no escape sequences may reach it."""
    b = await make_node("kara")
    await b_follows(b, peer.acct("alice"))
    alice = peer.actor_id("alice")
    ident = f"{alice}/offers/{uuid.uuid4()}"
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{alice}/activities/{uuid.uuid4()}",
        "type": "Create",
        "actor": alice,
        "object": {
            "id": ident,
            "type": ["Proposal", "Note"],
            "attributedTo": alice,
            "name": "\x1b[2J\x1b]0;pwned\x07Offre",
            "content": "<p>Bonjour</p>",
        },
    }
    assert await peer.sign_and_post(f"{b.url}/inbox", activity) in (200, 202)

    async def stored() -> bool:
        return await b.count(RemoteObject, RemoteObject.uri == ident) == 1

    await until(stored, "the offer stored at B")
    code = await asyncio.to_thread(
        main, ["offer", "list", "--data", str(b.config.data_dir), "--remote"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert ident in out and "Offre" in out
    assert "\x1b" not in out and "\x07" not in out, repr(out)


# ----------------------------------------------------------------------------- expiry


async def test_expired_offer_is_ended_and_its_delete_queued(
    make_node: MakeNode, peer: MastodonLikePeer, http: aiohttp.ClientSession
) -> None:
    rn = await make_node("lome", run_workers=False)
    await peer.follow(rn.acct)
    assert await InboxWorker(rn.node).run_once() == 1
    assert await DeliveryWorker(rn.node).run_once() == 1
    await peer.wait_for(lambda r: r.type == "Accept")

    time = FakeClock()
    with clock(time):
        offer = await offer_publish(
            rn.node, draft(valid_until=utcnow() + timedelta(days=1)), by=OPERATOR
        )
        other = await offer_publish(rn.node, draft(title="Toujours valable"), by=OPERATOR)
        assert await MaintenanceWorker(rn.node).run_once() == 0  # nothing due yet
        time.advance(timedelta(days=1, minutes=1))  # the day passes, without waiting for it
        assert await MaintenanceWorker(rn.node).run_once() == 1
        assert await MaintenanceWorker(rn.node).run_once() == 0  # done once only
        async with rn.node.sessions() as session:
            states = dict((await session.execute(select(Offer.uri, Offer.state))).tuples().all())
            queued = (
                (
                    await session.execute(
                        select(Delivery.inbox)
                        .join(Activity, Activity.id == Delivery.activity_id)
                        .where(Activity.type == "Delete", Activity.object_uri == offer.uri)
                    )
                )
                .scalars()
                .all()
            )
        assert states == {offer.uri: "expired", other.uri: "published"}
        assert queued and set(queued) <= {peer.shared_inbox, peer.inbox("alice")}, queued

        await DeliveryWorker(rn.node).run_once()
        gone = await peer.wait_for(received("Delete", offer.uri))
        assert gone.object["type"] == "Tombstone"
        assert await ap_get_status(http, offer.uri) == 410
        assert [o.uri for o in await offer_list(rn.node)] == [other.uri]
