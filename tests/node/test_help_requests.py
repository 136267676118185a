"""Club Aide across three real nodes: the requester is never named in anything delivered.

A seat and two sections on loopback, allied by writing accepted Alliance rows
on both sides (``allied``, until the alliance protocol is merged; then the
coordinator switches it to tests/allies.py). A Mastodon-like peer follows
section A and must receive nothing of the help request. Hostile peers are the
Mastodon-like peer's actors: one made an ally (to send forged, hostile and
oversized activities), one not.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from models.accounts import OPERATOR, Principal, principal_of, user_by_name
from models.base import utcnow
from models.errors import UserError
from models.inbox import InboxItem
from models.network.alliances import Alliance, AllianceState
from models.network.help import HelpOffer, HelpRequest, help_figures
from models.outbox import Activity, Delivery
from node import sel, users
from node.network import help
from tests.allies import ally
from tests.conftest import MakeNode, RunningNode
from tests.peers.mastodon import AS_CONTEXT, MastodonLikePeer
from tests.procs import coopnet

NAME, USERNAME, EMAIL = "Awa Diallo", "awa", "awa.diallo@example.org"


async def until(check: Callable[[], Awaitable[bool]], what: str, limit: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


#: Per node (by id), the last inbox item of the alliance protocol: ``processed``
#: looks only at what came after (alliances are Offers and Accepts too).
_AFTER_ALLIANCES: dict[int, int] = {}


async def allied(*nodes: RunningNode) -> None:
    """Every pair of ``nodes`` allied through the real protocol (tests/allies.py)."""
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            await ally(a, b)
    for rn in nodes:
        async with rn.node.sessions() as session:
            _AFTER_ALLIANCES[id(rn)] = int(
                await session.scalar(select(func.max(InboxItem.id))) or 0
            )


async def ally_with_actor(rn: RunningNode, uri: str, inbox: str) -> None:
    async with rn.node.write() as session:
        session.add(
            Alliance(
                peer_uri=uri,
                peer_handle=uri,
                peer_name="hostile",
                peer_role="section",
                peer_inbox=inbox,
                state=AllianceState.ACCEPTED,
                accepted_at=utcnow(),
            )
        )


async def person(rn: RunningNode, name: str, display: str = "", email: str = "") -> Principal:
    await sel.account_open(rn.node, name, display, None, None, by=OPERATOR)
    await users.user_add(rn.node, OPERATOR, name, [f"member:{name}"], display, email)
    async with rn.node.sessions() as session:
        return principal_of(await user_by_name(session, name))


async def rows(rn: RunningNode, model: Any, *where: Any) -> list[Any]:
    async with rn.node.sessions() as session:
        return list((await session.scalars(select(model).where(*where))).all())


async def processed(rn: RunningNode, verb: str, n: int = 1) -> list[InboxItem]:
    """Wait until ``n`` items of ``verb`` were processed at ``rn``; return them."""
    found: list[InboxItem] = []

    async def check() -> bool:
        nonlocal found
        found = await rows(
            rn, InboxItem, InboxItem.type == verb, InboxItem.id > _AFTER_ALLIANCES.get(id(rn), 0)
        )
        return len(found) >= n and all(i.processed_at is not None for i in found)

    await until(check, f"{n} {verb} processed at {rn.config.name}")
    return found


@pytest.fixture
async def peer() -> AsyncIterator[MastodonLikePeer]:
    async with MastodonLikePeer(usernames=("alice", "eve")) as p:
        yield p


async def test_a_help_request_crosses_the_network_without_its_requester(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    seat = await make_node("siege", "seat")
    lome = await make_node("lome")
    mars = await make_node("marseille")
    await allied(seat, lome, mars)
    # A Mastodon user follows section A: they must receive nothing of Club Aide.
    await peer.follow(lome.acct)
    await peer.wait_for(lambda r: r.type == "Accept")
    before = len(peer.received)

    awa = await person(lome, USERNAME, NAME, EMAIL)
    kofi = await person(mars, "kofi", "Kofi Mensah")
    asked = await help.ask(
        lome.node,
        awa,
        "Tenir la comptabilité d'une association",
        "Notre association débute : comment tenir un livre de caisse simple ?\n\nMerci.",
        "gestion",
        "Lomé",
    )
    assert asked.requester_id == awa.user_id
    await processed(mars, "Create")
    await processed(seat, "Create")
    for rn in (mars, seat):
        (held,) = await rows(rn, HelpRequest)
        assert held.uri == asked.uri and not held.local and held.requester_id is None
        assert held.title.startswith("Tenir la comptabilit") and held.area == "Lomé"
        assert held.origin_uri == lome.actor_id

    # A member of B sees it on the network's list and offers help, signing with his name.
    (listed,) = await help.network_requests(mars.node, kofi)
    assert listed.request.uri == asked.uri and listed.section
    made = await help.offer(
        mars.node, kofi, listed.request.uuid, "J'ai tenu celle de mon club : parlons-en.", "Kofi"
    )
    await processed(lome, "Offer")
    (mine,) = await help.my_requests(lome.node, awa)
    (received,) = mine.offers
    assert received.offer.message.startswith("J'ai tenu") and received.offer.signature == "Kofi"
    assert received.offer.uri == made.uri and not received.offer.local

    # Nobody else may accept it; A's member does, with a message of her choice.
    with pytest.raises(UserError):
        await help.accept(lome.node, OPERATOR, asked.uuid, received.offer.uuid)
    taken = await help.accept(
        lome.node, awa, asked.uuid, received.offer.uuid, "Retrouvons-nous au local jeudi."
    )
    assert taken.first_meeting_free and taken.accepted_at is not None
    await processed(mars, "Accept")
    ((given, about),) = await help.my_offers(mars.node, kofi)
    assert given.state == "accepted" and given.first_meeting_free
    assert given.reply == "Retrouvons-nous au local jeudi."
    assert about.state == "answered"

    # The outcome: closed everywhere, the note kept at A.
    await help.outcome(lome.node, awa, asked.uuid, "resolved", "Très utile, merci Kofi.")
    await processed(mars, "Update", 2)
    await processed(seat, "Update", 2)
    ((given, about),) = await help.my_offers(mars.node, kofi)
    assert about.state == "closed" and about.request.outcome == "resolved"
    assert about.request.outcome_note == ""
    assert await help.network_requests(seat.node, OPERATOR) == []

    # The figures for the section's report.
    today = utcnow().date()
    async with lome.node.sessions() as session:
        figures = await help_figures(session, today - timedelta(days=1), today)
    assert figures["asked"] == 1 and figures["answered"] == 1 and figures["accepted"] == 1
    assert figures["resolved"] == 1 and figures["partly"] == 0 and figures["withdrawn"] == 0
    async with mars.node.sessions() as session:
        theirs = await help_figures(session, today, today)
    assert theirs["asked"] == 0 and theirs["offers_made"] == 1 and theirs["offers_accepted"] == 1
    async with lome.node.sessions() as session:
        assert (await help_figures(session, date(2000, 1, 1), date(2000, 6, 30)))["asked"] == 0

    # EVERY body the peers received: the nodes' stored inbox items, and what
    # the Mastodon-like follower of A received (nothing of Club Aide).
    bodies = []
    for rn in (seat, mars):
        bodies += [i.body for i in await rows(rn, InboxItem)]
    async with lome.node.sessions() as session:
        sent = (await session.scalars(select(Activity))).unique().all()
    helped = [a for a in sent if "Help" in a.body or a.type in ("Accept", "Update", "Delete")]
    assert helped and all(not a.public for a in helped)
    bodies += [a.body for a in helped]
    profile = f"{lome.url}/users/{USERNAME}"
    for body in bodies:
        for trace in (NAME, "Diallo", EMAIL, profile, f"/{USERNAME}", f"@{USERNAME}", '"awa"'):
            assert trace.lower() not in body.lower(), (trace, body)
        doc = json.loads(body)
        assert "https://www.w3.org/ns/activitystreams#Public" not in json.dumps(doc)
        assert "/followers" not in json.dumps(doc.get("to", [])) + json.dumps(doc.get("cc", []))
    assert len([b for b in bodies if "HelpRequest" in b]) >= 2
    received_by_peer = peer.received[before:]
    assert not [r for r in received_by_peer if "Help" in json.dumps(r.activity)]
    assert not [r for r in received_by_peer if "comptabilit" in json.dumps(r.activity)]
    # Only allies' inboxes were ever delivered to.
    async with lome.node.sessions() as session:
        targets = {d.inbox for d in (await session.scalars(select(Delivery))).unique().all()}
    assert not [t for t in targets if peer.host in t and "Help" in t]

    # The object ids are served to nobody, and the node's public outbox holds none.
    async with aiohttp.ClientSession() as http:
        for ident in (asked.uri, made.uri):
            for accept in ("application/activity+json", "text/html"):
                async with http.get(ident, headers={"Accept": accept}) as resp:
                    assert resp.status == 404
        async with http.get(
            f"{lome.actor_id}/outbox?page=1", headers={"Accept": "application/activity+json"}
        ) as resp:
            assert "Help" not in await resp.text()
        for path in ("/feeds/offers.atom", "/feeds/bulletins.atom", "/offers", "/"):
            async with http.get(lome.url + path) as resp:
                assert "comptabilit" not in (await resp.text()).lower()


async def test_withdrawn_requests_disappear_at_peers_and_expired_ones_stop_being_listed(
    make_node: MakeNode,
) -> None:
    lome = await make_node("lome")
    mars = await make_node("marseille")
    await allied(lome, mars)
    awa = await person(lome, USERNAME, NAME)
    kofi = await person(mars, "kofi")
    gone = await help.ask(lome.node, awa, "Un devis de site", "Qui relit mon devis ?")
    await processed(mars, "Create")
    await help.withdraw(lome.node, awa, gone.uuid)
    await processed(mars, "Delete")
    assert await rows(mars, HelpRequest) == []
    with pytest.raises(UserError, match="already closed or withdrawn"):
        await help.withdraw(lome.node, awa, gone.uuid)

    await help.ask(lome.node, awa, "Une imprimante", "Elle ne veut plus imprimer.")
    await processed(mars, "Create", 2)
    assert len(await help.network_requests(mars.node, kofi)) == 1
    # Past its date: listed nowhere, and no offer can be made on it.
    async with mars.node.write() as session:
        (row,) = (await session.scalars(select(HelpRequest))).all()
        row.expires_at = utcnow() - timedelta(seconds=1)
    assert await help.network_requests(mars.node, kofi) == []
    with pytest.raises(UserError, match="no such open help request"):
        await help.offer(mars.node, kofi, row.uuid, "Trop tard ?")
    (mine,) = [v for v in await help.my_requests(lome.node, awa) if v.state != "withdrawn"]
    assert mine.state == "open"


async def test_bad_input_from_members_is_refused_and_changes_nothing(make_node: MakeNode) -> None:
    lome = await make_node("lome", run_workers=False)
    awa = await person(lome, USERNAME, NAME)
    for args, message in (
        (("", "x"), "Title: this field is required"),
        (("x", ""), "Description: this field is required"),
        (("x" * 201, "x"), "Title: at most 200 characters"),
        (("x", "x" * 4001), "Description: at most 4000 characters"),
        (("a\nb", "x"), "Title: a single line"),
    ):
        with pytest.raises(UserError, match=message):
            await help.ask(lome.node, awa, *args)
    with pytest.raises(UserError, match="only a person with an account"):
        await help.ask(lome.node, OPERATOR, "x", "y")
    assert await rows(lome, HelpRequest) == []
    own = await help.ask(lome.node, awa, "Mon problème", "Détails")
    with pytest.raises(UserError, match="your own request"):
        await help.offer(lome.node, awa, own.uuid, "Je m'aide moi-même")
    with pytest.raises(UserError, match="the outcome is one of"):
        await help.outcome(lome.node, awa, own.uuid, "maybe")
    assert await rows(lome, HelpOffer) == []


def _create(actor: str, ident: str, **obj: Any) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": f"{ident}/activity",
        "type": "Create",
        "actor": actor,
        "to": ["https://example.invalid/nobody"],
        "object": {"id": ident, "type": "HelpRequest", "attributedTo": actor, **obj},
    }


async def test_hostile_peers_change_nothing(make_node: MakeNode, peer: MastodonLikePeer) -> None:
    lome = await make_node("lome")
    mars = await make_node("marseille")
    await allied(lome, mars)
    awa = await person(lome, USERNAME, NAME)
    kofi = await person(mars, "kofi")
    asked = await help.ask(lome.node, awa, "Traduire un statut", "Du français vers l'anglais.")
    await processed(mars, "Create")
    made = await help.offer(mars.node, kofi, (await rows(mars, HelpRequest))[0].uuid, "Moi !")
    await processed(lome, "Offer")
    # alice is made an ally of B; eve is nobody's ally.
    await ally_with_actor(mars, peer.actor_id("alice"), peer.inbox("alice"))
    inbox = f"{mars.url}/inbox"
    alice, eve = peer.actor_id("alice"), peer.actor_id("eve")

    # A request from a non-ally is refused.
    assert (
        await peer.sign_and_post(
            inbox, _create(eve, f"{eve}/help/1", name="Aide", content="texte"), "eve"
        )
        == 202
    )
    # Hostile HTML from an ally is made plain text.
    hostile = (
        '<p onclick="steal()">Aidez-moi</p><script>alert(1)</script>'
        '<img src=x onerror="alert(2)"><a href="javascript:alert(3)">lien</a>'
    )
    assert (
        await peer.sign_and_post(
            inbox,
            _create(
                alice, f"{alice}/help/2", name="<b>Titre</b><script>x()</script>", content=hostile
            ),
        )
        == 202
    )
    # Oversized fields are refused.
    assert (
        await peer.sign_and_post(
            inbox, _create(alice, f"{alice}/help/3", name="Long", content="x" * 5000)
        )
        == 202
    )
    assert (
        await peer.sign_and_post(
            inbox, _create(alice, f"{alice}/help/4", name="y" * 300, content="court")
        )
        == 202
    )
    # An id on another server than the sender's is refused (by the inbox itself).
    assert await peer.sign_and_post(
        inbox, _create(alice, f"{lome.url}/help/5", name="Faux", content="faux")
    ) in (202, 400)
    await processed(mars, "Create", 5)
    held = {r.uri: r for r in await rows(mars, HelpRequest)}
    assert set(held) == {asked.uri, f"{alice}/help/2"}, set(held)
    kept = held[f"{alice}/help/2"]
    assert "<" not in kept.description and "alert" not in kept.description
    assert kept.description == "Aidez-moi\nlien" or "Aidez-moi" in kept.description
    assert kept.title == "Titre"
    errors = {i.activity_uri: i.error for i in await rows(mars, InboxItem)}
    assert "only from accepted allies" in (errors[f"{eve}/help/1/activity"] or "")
    assert "over 4000" in (errors[f"{alice}/help/3/activity"] or "")
    assert "over 200" in (errors[f"{alice}/help/4/activity"] or "")

    # Forged: an Accept of kofi's offer from someone other than A; an Update and
    # a Delete of A's request from someone other than A.
    forged = [
        {"type": "Accept", "object": made.uri, "content": "pris"},
        {"type": "Update", "object": {"id": asked.uri, "type": "HelpRequest",
                                      "helpState": "closed", "helpOutcome": "resolved"}},
        {"type": "Delete", "object": asked.uri},
    ]  # fmt: skip
    for n, activity in enumerate(forged):
        doc = {"@context": AS_CONTEXT, "id": f"{alice}/forged/{n}", "actor": alice, **activity}
        assert await peer.sign_and_post(inbox, doc) == 202
    await processed(mars, "Delete")
    await processed(mars, "Accept")
    await processed(mars, "Update")
    ((given, about),) = await help.my_offers(mars.node, kofi)
    assert given.state == "offered" and not given.first_meeting_free and given.reply == ""
    assert about.state == "open" and about.request.outcome is None
    assert asked.uri in {r.uri for r in await rows(mars, HelpRequest)}

    # A forged offer at A: for a request that is not A's, or from a non-ally.
    await ally_with_actor(lome, peer.actor_id("alice"), peer.inbox("alice"))
    for n, (who, target) in enumerate(((alice, f"{alice}/help/2"), (eve, asked.uri))):
        doc = {
            "@context": AS_CONTEXT,
            "id": f"{who}/offers/{n}",
            "type": "Offer",
            "actor": who,
            "object": {"id": f"{who}/offer-objects/{n}", "type": "HelpOffer",
                       "inReplyTo": target, "content": "Je vous aide"},
        }  # fmt: skip
        username = "alice" if who == alice else "eve"
        assert await peer.sign_and_post(f"{lome.url}/inbox", doc, username) == 202
    await processed(lome, "Offer", 3)
    (mine,) = await help.my_requests(lome.node, awa)
    assert [o.offer.uri for o in mine.offers] == [made.uri]


async def test_the_coordinator_and_the_cli_see_counts_only(make_node: MakeNode) -> None:
    lome = await make_node("lome", run_workers=False)
    awa = await person(lome, USERNAME, NAME)
    await help.ask(lome.node, awa, "Question", "Détails")
    with pytest.raises(UserError):
        await help.counts(lome.node, awa)
    counts = await help.counts(lome.node, OPERATOR)
    assert counts["ours"] == {"open": 1}
    code, out, err = await coopnet("club-aide", "list", "--data", str(lome.config.data_dir))
    assert code == 0, err
    assert "requests asked by our members" in out and "open: 1" in out
    assert NAME not in out and USERNAME not in out
    code, out, err = await coopnet(
        "club-aide", "list", "--data", str(lome.config.data_dir) + "-nope"
    )
    assert code == 1 and "not a coopnet data directory" in err
    code, out, err = await coopnet("club-aide", "frobnicate")
    assert code == 2 and "invalid choice" in err
    # 'coopnet help' is help, as people expect: the commands, or one command's.
    code, out, err = await coopnet("help")
    assert code == 0 and "club-aide" in out and "usage: coopnet" in out
    code, out, err = await coopnet("help", "club-aide")
    assert code == 0 and "usage: coopnet club-aide" in out and "first meeting free" in out
