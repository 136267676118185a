"""The shared offer directory across real nodes: offers flow to allies, are searched,
backfilled, withdrawn and expired everywhere; hostile offers are cleaned; a member
asks an allied section's mediator for contact without their identity crossing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import quote

import aiohttp
import pytest
from sqlalchemy import select

from models.accounts import OPERATOR
from models.base import clock, utcnow
from models.inbox import InboxItem
from models.mediators import Profile
from models.network.alliances import Alliance, AllianceState
from models.network.contact import ContactRequest
from models.network.directory import DirectoryQuery, RemoteOffer, purge, search_directory
from models.offers import OfferDraft
from models.replies import Direction, FediMessage
from node import content
from node.collections import PAGE_SIZE
from node.network.backfill import backfill_due
from tests.allies import ally
from tests.clock import FakeClock
from tests.conftest import MakeNode, RunningNode
from tests.node.test_sel_exchanges import until
from tests.peers.mastodon import AS_CONTEXT, PUBLIC, MastodonLikePeer
from tests.web.browsing import Visitor, invite_and_log_in


@pytest.fixture
async def peer() -> AsyncIterator[MastodonLikePeer]:
    async with MastodonLikePeer(usernames=("bob", "eve")) as p:
        yield p


# ----------------------------------------------------------------------------- helpers


async def _accepted_row(rn: RunningNode, uri: str, handle: str, name: str, role: str) -> None:
    async with rn.node.write() as session:
        session.add(
            Alliance(
                peer_uri=uri,
                peer_handle=handle,
                peer_name=name,
                peer_role=role,
                peer_inbox=f"{uri}/inbox",
                state=AllianceState.ACCEPTED,
                asked_by_us=True,
                accepted_at=utcnow(),
            )
        )


async def publish(rn: RunningNode, author: str, title: str, **fields: object) -> str:
    draft = OfferDraft(
        title=title,
        description=fields.pop("description", f"{title}."),
        **fields,  # type: ignore[arg-type]
    )
    offer = await content.offer_publish(rn.node, draft, author=author, by=OPERATOR)
    return offer.uri


async def held(rn: RunningNode, uri: str) -> bool:
    return await rn.count(RemoteOffer, RemoteOffer.uri == uri) == 1


async def page_text(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.text()


async def found(http: aiohttp.ClientSession, rn: RunningNode, query: str, uri: str) -> bool:
    """The directory page of ``rn`` for ``query`` lists the offer ``uri``."""
    return f'href="{uri}"' in await page_text(http, f"{rn.url}/directory?{query}")


# ----------------------------------------------------------------------------- flow and search


async def test_an_offer_reaches_every_ally_and_is_found_with_or_without_accents(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    seat = await make_node("siege", "seat")
    lome = await make_node("lome")
    mars = await make_node("marseille")
    await ally(lome, seat)
    await ally(mars, seat)
    await ally(lome, mars)
    await content.mediator_add(lome.node, "kossi", Profile(name="Kossi"), by=OPERATOR)
    title = "Formation à l'électricité"
    uri = await publish(
        lome,
        "kossi",
        title,
        description="Installer un tableau électrique, en toute sécurité.",
        category="training",
        price="25",
        sel_hours="1.5",
        area="Lomé",
    )
    own = await publish(mars, "marseille", "Atelier couture", category="help", price="5")
    for rn in (mars, seat):
        await until(lambda rn=rn: held(rn, uri), f"the offer at {rn.config.name}")  # type: ignore[misc]
    async with mars.node.sessions() as session:
        row = await session.scalar(select(RemoteOffer).where(RemoteOffer.uri == uri))
    assert row is not None
    assert (row.title, row.category, row.price_amount, row.price_currency) == (
        title,
        "training",
        "25.00",
        "EUR",
    )
    assert (row.sel_minutes, row.area, row.actor_uri) == (90, "Lomé", f"{lome.url}/users/kossi")
    assert (row.node_uri, row.node_name) == (lome.actor_id, "Lome")

    for rn in (mars, seat, lome):
        for query in ("q=electricite", "q=%C3%A9lectricit%C3%A9", "q=formations", "q=ELECTRIQUE"):
            assert await found(http, rn, query, uri), (rn.config.name, query)
        assert not await found(http, rn, "q=plomberie", uri)
    # Filters: category, area (accents folded), price unit, section.
    assert await found(http, mars, "category=training&area=lome&unit=sel", uri)
    # The area is looked for in the area only: "tableau" is in the text, not the area.
    assert await found(http, mars, "q=tableau", uri)
    assert not await found(http, mars, "area=tableau", uri)
    assert not await found(http, mars, "category=hosting", uri)
    assert not await found(http, mars, "unit=money&q=couture", uri)
    assert await found(http, mars, f"section={quote(lome.actor_id)}", uri)
    assert not await found(http, mars, "section=local", uri)
    assert await found(http, mars, "section=local", own)
    # Each offer shows its origin: the section's name and a link to the original.
    text = await page_text(http, f"{mars.url}/directory?q=electricite&lang=en")
    assert f'href="{uri}"' in text and f'href="{lome.actor_id}"' in text
    assert await found(http, seat, "q=couture", own)  # mars's own offer too

    # Updated: the new title reaches the allies' directories.
    await content.offer_update(
        lome.node, uri, {"title": "Formation avancée à l'électricité"}, by=OPERATOR
    )

    async def renamed(rn: RunningNode) -> bool:
        async with rn.node.sessions() as session:
            title = await session.scalar(select(RemoteOffer.title).where(RemoteOffer.uri == uri))
        return title == "Formation avancée à l'électricité"

    for rn in (mars, seat):
        await until(lambda rn=rn: renamed(rn), f"the update at {rn.config.name}")  # type: ignore[misc]
    assert await found(http, mars, "q=avancee", uri)

    # Withdrawn: gone from every directory.
    await content.offer_withdraw(lome.node, uri, by=OPERATOR)
    for rn in (mars, seat):
        await until(lambda rn=rn: _gone(rn, uri), f"the withdrawal at {rn.config.name}")  # type: ignore[misc]
    for rn in (mars, seat, lome):
        assert not await found(http, rn, "q=electricite", uri)


async def _gone(rn: RunningNode, uri: str) -> bool:
    return not await held(rn, uri)


async def test_an_expired_offer_disappears_everywhere(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    lome = await make_node("lome")
    mars = await make_node("marseille")
    await ally(lome, mars)
    end = utcnow() + timedelta(hours=1)
    uri = await publish(lome, "lome", "Hébergement solidaire", price="10", valid_until=end)
    await until(lambda: held(mars, uri), "the offer at marseille")
    assert await found(http, mars, "q=hebergement", uri)

    time = FakeClock()
    time.now = end + timedelta(minutes=1)
    with clock(time):
        for rn in (lome, mars):
            async with rn.node.sessions() as session:
                entries, total = await search_directory(
                    session, DirectoryQuery(), node_uri=rn.actor_id, node_name=rn.config.name
                )
            assert total == 0 and entries == [], rn.config.name  # not shown once past its end
        async with mars.node.write() as session:
            assert await purge(session, utcnow()) == 1  # and purged
    assert not await held(mars, uri)


# ----------------------------------------------------------------------------- backfill


async def test_a_section_allied_later_reads_the_existing_offers(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    lome = await make_node("lome")
    dakar = await make_node("dakar")
    count = PAGE_SIZE + 5  # more than one page of the collection
    uris = [
        await publish(lome, "lome", f"Offre numéro {n}", price=str(n + 1)) for n in range(count)
    ]
    doc = json.loads(
        await _get_ap(http, f"{lome.actor_id}")
    )  # the node actor links its offers collection
    assert doc["offers"] == f"{lome.actor_id}/offers"
    assert "offers" in json.dumps(doc["@context"])
    collection = json.loads(await _get_ap(http, doc["offers"]))
    assert collection["type"] == "OrderedCollection" and collection["totalItems"] == count

    # Dakar asks, Lomé approves: Lomé's Accept makes Dakar read Lomé's offers
    # collection (none of them was ever delivered to Dakar).
    await ally(dakar, lome)

    async def all_read() -> bool:
        async with dakar.node.sessions() as session:
            row = await session.scalar(select(Alliance).where(Alliance.peer_uri == lome.actor_id))
        done = row is not None and row.offers_backfilled_at is not None
        return done and await dakar.count(RemoteOffer) == count

    await until(all_read, "dakar reading lome's existing offers")
    async with dakar.node.sessions() as session:
        row = await session.scalar(select(Alliance).where(Alliance.peer_uri == lome.actor_id))
        assert row is not None and row.offers_backfilled_at is not None
    assert await backfill_due(dakar.node) == 0  # done once
    assert await found(http, dakar, "q=numero+7", uris[7])

    # Withdrawn while dakar hears nothing: the next backfill drops it.
    await content.offer_withdraw(lome.node, uris[3], by=OPERATOR)
    async with dakar.node.write() as session:
        row = await session.scalar(select(Alliance).where(Alliance.peer_uri == lome.actor_id))
        assert row is not None
        row.offers_backfilled_at = None
    assert await backfill_due(dakar.node) == 1
    assert await dakar.count(RemoteOffer) == count - 1
    assert not await held(dakar, uris[3])


async def test_a_backfill_that_fails_is_retried_later(make_node: MakeNode) -> None:
    dakar = await make_node("dakar")
    gone = "http://127.0.0.1:9/users/nobody"
    await _accepted_row(dakar, gone, "nobody@127.0.0.1:9", "nobody", "section")
    assert await backfill_due(dakar.node) == 0
    async with dakar.node.sessions() as session:
        row = await session.scalar(select(Alliance).where(Alliance.peer_uri == gone))
        assert row is not None and row.offers_backfilled_at is None
        assert row.offers_backfill_tried_at is not None
    assert await backfill_due(dakar.node) == 0  # not again at once
    time = FakeClock()
    time.advance(timedelta(minutes=16))
    with clock(time):
        async with dakar.node.sessions() as session:
            before = (
                await session.scalar(select(Alliance).where(Alliance.peer_uri == gone))
            ).offers_backfill_tried_at  # type: ignore[union-attr]
        await backfill_due(dakar.node)
        async with dakar.node.sessions() as session:
            after = (
                await session.scalar(select(Alliance).where(Alliance.peer_uri == gone))
            ).offers_backfill_tried_at  # type: ignore[union-attr]
    assert after is not None and before is not None and after > before  # tried again


async def _get_ap(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url, headers={"Accept": "application/activity+json"}) as resp:
        assert resp.status == 200, url
        return await resp.text()


# ----------------------------------------------------------------------------- hostile offers


async def test_hostile_offers_are_stored_sanitised_or_refused(
    make_node: MakeNode, peer: MastodonLikePeer, http: aiohttp.ClientSession
) -> None:
    mars = await make_node("marseille")
    bob = peer.actor_id("bob")
    await _accepted_row(mars, bob, "bob@peer", "Bob's section", "section")
    base = f"{bob}/offers"

    def create(n: int, **fields: object) -> dict[str, object]:
        obj: dict[str, object] = {
            "id": f"{base}/{n}",
            "type": ["Proposal", "Note"],
            "attributedTo": bob,
            "name": f"Offre {n}",
            "content": "<p>ok</p>",
            "to": [PUBLIC],
            **fields,
        }
        return {
            "@context": AS_CONTEXT,
            "id": f"{base}/{n}/activity",
            "type": "Create",
            "actor": bob,
            "to": [PUBLIC],
            "object": obj,
        }

    sent = [
        create(
            1,
            name="<script>alert(1)</script>Cours <b>piano</b>" + "x" * 5000,
            content=(
                '<p onclick="x()">Bonjour<script>steal()</script><iframe src="//e"></iframe></p>'
            ),
            source={"content": "<img src=x onerror=alert(1)> texte", "mediaType": "text/markdown"},
            category="<script>",
            reciprocal=[{"resourceConformsTo": "#EUR", "resourceQuantity": ["25"]}],
            location=5,
            endTime=12345,
            published="not a date",
        ),
        create(2, name=None),  # no title: refused
        create(3, name=["a list"]),  # wrong type: refused
        create(4, attributedTo=peer.actor_id("eve")),  # another author: refused
        create(
            5,
            reciprocal={
                "resourceConformsTo": "https://www.iso.org/iso-4217-currency-codes#EUR",
                "resourceQuantity": {"hasNumericalValue": "1e99"},
            },
            content="<p>" + "&amp;" * 60_000 + "</p>",
            location={"type": "Place", "name": "A" * 1000},
        ),
    ]
    for activity in sent:
        assert await peer.sign_and_post(f"{mars.url}/inbox", activity, "bob") == 202

    async def processed() -> bool:
        return await mars.count(InboxItem, InboxItem.state == "done") >= len(sent)

    await until(processed, "the offers processed")
    async with mars.node.sessions() as session:
        rows = {r.uri: r for r in await session.scalars(select(RemoteOffer))}
    assert sorted(rows) == [f"{base}/1", f"{base}/5"]
    first, fifth = rows[f"{base}/1"], rows[f"{base}/5"]
    for value in (first.title, first.summary, first.content, first.search):
        for bad in ("<script", "onclick", "<iframe", "onerror", "<img"):
            assert bad not in value
    assert first.title.startswith("Cours piano") and len(first.title) <= 200
    assert (first.category, first.price_amount, first.area, first.valid_until) == (
        "other",
        None,
        "",
        None,
    )
    assert fifth.price_amount is None and len(fifth.area) <= 200
    assert len(fifth.content) <= 30_000
    text = await page_text(http, f"{mars.url}/directory?q=piano")
    assert "Cours piano" in text and "<script>alert" not in text
    # Hostile query strings get a page, never a 500.
    for query in (
        "q=" + "é" * 1000,
        "area=" + "<script>" * 100,
        "page=abc",
        "page=999999",
        "section=javascript:x",
        "unit=<b>",
    ):
        await page_text(http, f"{mars.url}/directory?{query}")


# ----------------------------------------------------------------------------- ask for contact


async def test_asking_for_contact_crosses_sections_without_the_members_identity(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    lome = await make_node("lome")
    mars = await make_node("marseille")
    await ally(lome, mars)
    await content.mediator_add(lome.node, "kossi", Profile(name="Kossi"), by=OPERATOR)
    uri = await publish(lome, "kossi", "Création de site web", category="website", price="300")
    await until(lambda: held(mars, uri), "the offer at marseille")

    name, display, email = "amarante7", "Amarante Kouassi", "amarante@example.org"
    from node import sel

    await sel.account_open(mars.node, "am7", "", None, None, by=OPERATOR)
    member: Visitor = await invite_and_log_in(mars, name, ["member:am7"])
    try:
        await _ask_and_answer(lome, mars, peer, member, uri, name, display, email)
    finally:
        await member.close()


async def _ask_and_answer(
    lome: RunningNode,
    mars: RunningNode,
    peer: MastodonLikePeer,
    member: Visitor,
    uri: str,
    name: str,
    display: str,
    email: str,
) -> None:
    from models.accounts import User
    from node import users

    await users.user_set_email(mars.node, OPERATOR, name, email)
    async with mars.node.write() as session:
        user = await session.scalar(select(User).where(User.name == name))
        assert user is not None
        user.display_name = display

    directory = await member.get("/directory?q=site")
    assert "/directory/contact?offer=" in directory.text
    link = f"/directory/contact?offer={quote(uri, safe='')}"
    message = "Bonjour, je voudrais un site pour mon association."
    sent = await member.post(
        "/directory/contact", {"offer": uri, "message": message}, form_page=link
    )
    assert sent.status == 303 and sent.headers["Location"] == "/me/contacts?sent=1"
    again = await member.post(
        "/directory/contact", {"offer": uri, "message": "encore"}, form_page=link
    )
    assert again.status == 400 and "déjà demandé" in again.text  # one at a time per offer
    too_long = await member.post(
        "/directory/contact", {"offer": uri, "message": "x" * 5000}, form_page=link
    )
    assert too_long.status == 400

    async def kept() -> list[FediMessage]:
        async with lome.node.sessions() as session:
            rows = await session.scalars(
                select(FediMessage).where(FediMessage.direction == Direction.IN)
            )
            return list(rows.all())

    await until(lambda: _some(kept), "the request in the mediator's inbox")
    (request,) = await kept()
    assert request.remote_actor_uri == mars.actor_id and request.in_reply_to == uri
    assert "association" in request.content and not request.public
    await content.inbox_answer(
        lome.node, "kossi", request.id, "Avec plaisir : écrivez à kossi@lome.example", by=OPERATOR
    )

    async def answered() -> bool:
        async with mars.node.sessions() as session:
            row = await session.scalar(select(ContactRequest))
            return row is not None and row.answer is not None

    await until(answered, "the answer back at marseille")
    mine = await member.get("/me/contacts")
    assert "kossi@lome.example" in mine.text and "association" in mine.text

    # Forged answers: from an actor who was not asked, to a reference that is not ours.
    async with mars.node.sessions() as session:
        ref = (await session.scalar(select(ContactRequest))).uri  # type: ignore[union-attr]
    eve = peer.actor_id("eve")
    for n, reply_to in enumerate((ref, f"{mars.url}/contact/not-ours")):
        note = {
            "id": f"{eve}/statuses/{n}",
            "type": "Note",
            "attributedTo": eve,
            "inReplyTo": reply_to,
            "content": "<p>Donnez-moi vos coordonnées</p>",
            "to": [mars.actor_id],
        }
        activity = {
            "@context": AS_CONTEXT,
            "id": f"{eve}/statuses/{n}/activity",
            "type": "Create",
            "actor": eve,
            "to": [mars.actor_id],
            "object": note,
        }
        assert await peer.sign_and_post(f"{mars.url}/inbox", activity, "eve") == 202

    async def refused() -> dict[str, str | None]:
        async with mars.node.sessions() as session:
            rows = await session.execute(
                select(InboxItem.activity_uri, InboxItem.error).where(
                    InboxItem.actor_uri.startswith(eve)
                )
            )
            return dict(rows.tuples().all())

    await until(lambda: _all_done(refused, 2), "the forged answers processed")
    reasons = await refused()
    assert reasons[f"{eve}/statuses/0/activity"] == (
        "ignored: an answer from an actor who was not asked"
    )
    assert reasons[f"{eve}/statuses/1/activity"] == (
        "ignored: an answer to a contact request we never sent"
    )
    async with mars.node.sessions() as session:
        row = await session.scalar(select(ContactRequest))
    assert row is not None and "kossi@lome.example" in (row.answer or "")

    # Every body either node received: nothing of the member.
    for rn in (lome, mars):
        async with rn.node.sessions() as session:
            bodies = list(await session.scalars(select(InboxItem.body)))
        assert bodies
        for body in bodies:
            for secret in (name, display, email, "Amarante"):
                assert secret not in body, (rn.config.name, secret)
    # And what the mediator's page shows comes from the section, not the member.
    assert request.remote_name.lower() == "marseille" and name not in request.remote_handle


async def _some(fetch: object) -> bool:
    return bool(await fetch())  # type: ignore[operator]


async def _all_done(fetch: object, n: int) -> bool:
    reasons = await fetch()  # type: ignore[operator]
    return len(reasons) >= n and all(v is not None for v in reasons.values())
