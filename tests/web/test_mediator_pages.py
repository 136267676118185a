"""A mediator's pages over real HTTP: profile, offers, and the inbox of fediverse replies.

A plain HTTP client plays the browser (its own cookie jar per person) and
the Mastodon-like peer (tests/peers/mastodon.py, which signs and verifies
on its own) plays the public: it follows the section, replies to an offer
without anybody following it, and receives the mediator's answer.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from html import unescape
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from models.accounts import OPERATOR, Principal
from models.actors import LocalActor
from models.inbox import InboxItem
from models.mediators import Profile
from models.offers import Offer, OfferDraft
from models.outbox import Activity
from models.replies import MAX_UNREAD_PER_AUTHOR, Direction, FediMessage
from node import content, sel, users
from node.ui.mediator import dashboard
from tests.conftest import MakeNode, RunningNode
from tests.peers.mastodon import AS_CONTEXT, PUBLIC, MastodonLikePeer, ReceivedActivity

PASSWORD = "correct horse battery"
MAX_PAGE = 50_000


@pytest.fixture
async def peer() -> AsyncIterator[MastodonLikePeer]:
    async with MastodonLikePeer(usernames=("alice", "bob")) as p:
        yield p


def new_browser() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True),  # keep cookies of 127.0.0.1
        timeout=aiohttp.ClientTimeout(total=20),
    )


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    async with new_browser() as session:
        yield session


async def until(check: Callable[[], Awaitable[bool]], what: str, limit: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def text_of(page: str) -> str:
    """What a person reads: the page without its tags."""
    return unescape(re.sub(r"<[^>]+>", "", page))


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


async def page(
    browser: aiohttp.ClientSession, url: str, status: int = 200
) -> tuple[str, aiohttp.ClientResponse]:
    async with browser.get(url, allow_redirects=False) as resp:
        body = await resp.text()
        assert resp.status == status, (url, resp.status, body[:500])
        assert len(body.encode()) < MAX_PAGE, (url, len(body))
        return body, resp


async def post(
    browser: aiohttp.ClientSession,
    rn: RunningNode,
    path: str,
    data: dict[str, str],
    *,
    token: str | None,
) -> tuple[int, str, str]:
    """POST a form as the browser does (Origin of the site); (status, Location, body)."""
    form = dict(data)
    if token is not None:
        form["csrf"] = token
    async with browser.post(
        f"{rn.url}{path}", data=form, headers={"Origin": rn.url}, allow_redirects=False
    ) as resp:
        body = await resp.text()
        return resp.status, resp.headers.get("Location", ""), body


async def log_in_with_link(browser: aiohttp.ClientSession, rn: RunningNode, link: str) -> str:
    """Choose the password through the invitation (which logs in); the session's CSRF token."""
    body, _ = await page(browser, link)
    status, location, _ = await post(
        browser,
        rn,
        link.removeprefix(rn.url),
        {"password": PASSWORD, "password2": PASSWORD},
        token=csrf_of(body),
    )
    assert (status, location) == (303, "/me")
    me, _ = await page(browser, f"{rn.url}/me")
    return csrf_of(me)


async def section(make_node: MakeNode) -> RunningNode:
    """A section with two mediators, Ama and Kossi, and a member, Awa."""
    rn = await make_node("lome")
    await content.mediator_add(rn.node, "ama", Profile(name="Ama"), by=OPERATOR)
    await content.mediator_add(rn.node, "kossi", Profile(name="Kossi"), by=OPERATOR)
    await sel.account_open(rn.node, "awa", "Awa", None, None, by=OPERATOR)
    return rn


async def invite(rn: RunningNode, name: str, role: str) -> str:
    return (await users.user_add(rn.node, OPERATOR, name, [role])).link


async def actor(rn: RunningNode, username: str) -> LocalActor:
    async with rn.node.sessions() as session:
        row = await session.scalar(select(LocalActor).where(LocalActor.username == username))
        assert row is not None
        return row


async def offer_row(rn: RunningNode, uri: str) -> Offer:
    async with rn.node.sessions() as session:
        row = await session.scalar(select(Offer).where(Offer.uri == uri))
        assert row is not None
        return row


async def messages(rn: RunningNode, username: str) -> list[FediMessage]:
    a = await actor(rn, username)
    async with rn.node.sessions() as session:
        rows = await session.scalars(
            select(FediMessage).where(FediMessage.local_actor_id == a.id).order_by(FediMessage.id)
        )
        return list(rows.all())


def about(kind: str, ident: str) -> Callable[[ReceivedActivity], bool]:
    def match(r: ReceivedActivity) -> bool:
        obj = r.object
        return r.type == kind and (
            obj == ident or (isinstance(obj, dict) and obj.get("id") == ident)
        )

    return match


OFFER_FORM = {
    "title": "Hébergement pour associations",
    "description": "Un site et une messagerie, avec une **formation** de prise en main.",
    "category": "hosting",
    "price": "10 EUR",
    "sel_hours": "2",
    "area": "Lomé",
    "contact": "mailto:ama@example.org",
    "valid_from": "",
    "valid_until": "",
}


# ----------------------------------------------------------------------------- the whole path


async def test_a_mediator_edits_the_profile_publishes_an_offer_and_answers_a_reply(
    make_node: MakeNode, peer: MastodonLikePeer, browser: aiohttp.ClientSession
) -> None:
    rn = await section(make_node)
    ama_url = f"{rn.url}/users/ama"
    # Alice, on Mastodon, follows the section: she receives what its mediators publish.
    await peer.follow(rn.acct)
    await peer.wait_for(lambda r: r.type == "Accept")
    await log_in_with_link(browser, rn, await invite(rn, "ama", "mediator:ama"))

    # One mediator: /me/mediator goes straight to its pages.
    _, resp = await page(browser, f"{rn.url}/me/mediator", 303)
    assert resp.headers["Location"] == "/me/mediator/ama/offers"

    # Profile: French by default, English on asking.
    form, _ = await page(browser, f"{rn.url}/me/mediator/ama/profile")
    assert "Profil" in form and "Nom affiché" in form
    english, _ = await page(browser, f"{rn.url}/me/mediator/ama/profile?lang=en")
    assert "Display name" in english and 'action="/me/mediator/ama/profile?lang=en"' in english
    status, location, _ = await post(
        browser,
        rn,
        "/me/mediator/ama/profile",
        {
            "name": "Ama Mensah",
            "summary": "Médiatrice numérique à Lomé.",
            "skills": "sites web, hébergement,  formation",
            "area": "Lomé",
            "contact": "mailto:ama@example.org",
            "avatar": "https://example.org/ama.png",
        },
        token=csrf_of(form),
    )
    assert (status, location) == (303, "/me/mediator/ama/profile?saved=1")
    saved, _ = await page(browser, f"{rn.url}{location}")
    assert "Profil enregistré" in saved and 'value="Ama Mensah"' in saved
    ama = await actor(rn, "ama")
    assert (ama.name, ama.skill_list, ama.area) == (
        "Ama Mensah",
        ["sites web", "hébergement", "formation"],
        "Lomé",
    )
    update = await peer.wait_for(about("Update", ama_url))
    assert update.object["name"] == "Ama Mensah"
    assert update.key_id == f"{ama_url}#main-key"

    # A new offer: the preview shows the sanitised Markdown and publishes nothing.
    form, _ = await page(browser, f"{rn.url}/me/mediator/ama/offers/new")
    token = csrf_of(form)
    status, _, preview = await post(
        browser,
        rn,
        "/me/mediator/ama/offers/new",
        {**OFFER_FORM, "action": "preview"},
        token=token,
    )
    assert status == 200, preview
    assert "Aperçu de l&#39;offre" in preview and "<strong>formation</strong>" in preview
    assert "10.00 EUR · 2 h SEL" in preview
    assert await rn.count(Offer) == 0
    # Publishing it: on the public page, and to the section's followers.
    status, location, _ = await post(
        browser,
        rn,
        "/me/mediator/ama/offers/new",
        {**OFFER_FORM, "action": "publish"},
        token=token,
    )
    assert status == 303 and location.startswith("/me/mediator/ama/offers?done=published")
    async with rn.node.sessions() as session:
        offer = (await session.scalars(select(Offer))).one()
    listed, _ = await page(browser, f"{rn.url}{location}")
    assert "L'offre est publiée" in unescape(listed) and "En ligne" in listed
    assert "Sans date de fin" in listed
    public, _ = await page(browser, f"{rn.url}/offers")
    assert "Hébergement pour associations" in public and offer.uri in public
    create = await peer.wait_for(about("Create", offer.uri))
    assert create.actor == ama_url and create.display == (True, "native")

    # Editing it: the form comes filled in; the change federates as an Update.
    edit, _ = await page(browser, f"{rn.url}/me/mediator/ama/offers/{offer.uuid}/edit")
    assert 'value="Hébergement pour associations"' in edit and 'value="10.00 EUR"' in edit
    status, location, _ = await post(
        browser,
        rn,
        f"/me/mediator/ama/offers/{offer.uuid}/edit",
        {
            **OFFER_FORM,
            "title": "Hébergement associatif",
            "valid_until": "2099-12-31",
            "action": "publish",
        },
        token=csrf_of(edit),
    )
    assert status == 303 and "done=updated" in location
    changed = await offer_row(rn, offer.uri)
    assert changed.title == "Hébergement associatif"
    assert changed.valid_until is not None and changed.valid_until.year == 2099
    listed, _ = await page(browser, f"{rn.url}{location}")
    assert "Valable jusqu'au 2099-12-31" in text_of(listed)
    updated = await peer.wait_for(about("Update", offer.uri))
    assert updated.object["name"] == "Hébergement associatif"

    # Alice replies to the offer. Nobody follows anybody between her and Ama, yet
    # the reply is kept for Ama, and Ama's pages say there is one unread.
    reply_id = await peer.reply(offer.uri, ama_url, "Bonjour, c'est combien par an ?")

    async def kept() -> bool:
        return len(await messages(rn, "ama")) == 1

    await until(kept, "the reply kept for Ama")
    # What the person's dashboard (/me) is given to show.
    links = await dashboard(rn.node, Principal(name="ama", mediators=frozenset({ama.id})))
    assert [(x.username, x.unread, x.inbox) for x in links] == [
        ("ama", 1, "/me/mediator/ama/inbox")
    ]
    # A coordinator's dashboard counts the section's own replies, not Ama's mail.
    coordinator = await dashboard(rn.node, Principal(name="c", coordinator=True))
    assert [(x.username, x.unread, x.profile) for x in coordinator] == [("lome", 0, None)]
    header, _ = await page(browser, f"{rn.url}/me/mediator/ama/offers")
    assert '<span class="badge">1<span class="visually-hidden"> non lues</span></span>' in header
    assert "Réponses du fédivers non lues" in header
    inbox, _ = await page(browser, f"{rn.url}/me/mediator/ama/inbox")
    assert f"@alice@{peer.host}" in inbox
    assert "c'est combien par an ?" in unescape(inbox)
    (message,) = await messages(rn, "ama")
    assert message.uri == reply_id and message.in_reply_to == offer.uri and message.public
    assert f'href="{message.url}"' in inbox  # a link to the original

    # Ama reads it (now read: no more badge) and answers from the page.
    read, _ = await page(browser, f"{rn.url}/me/mediator/ama/inbox/{message.id}")
    assert 'class="badge"' not in read and "Répondre à @alice" in read
    assert f'en réponse à <a href="{offer.uri}">Hébergement associatif</a>' in unescape(read)
    status, location, _ = await post(
        browser,
        rn,
        f"/me/mediator/ama/inbox/{message.id}",
        {"text": "Bonjour Alice ! 120 EUR par an, formation comprise."},
        token=csrf_of(read),
    )
    assert (status, location) == (303, f"/me/mediator/ama/inbox/{message.id}?sent=1")
    sent, _ = await page(browser, f"{rn.url}{location}")
    assert "Votre réponse est en route" in sent and "120 EUR par an" in sent

    answer = await peer.wait_for(
        lambda r: r.type == "Create" and r.object.get("inReplyTo") == reply_id
    )
    note = answer.object
    assert answer.actor == ama_url and answer.key_id == f"{ama_url}#main-key"
    assert answer.path == "/inbox"  # public: her server's shared inbox
    assert answer.display == (True, "native")
    assert peer.actor_id("alice") in note["to"]
    assert note["attributedTo"] == ama_url
    assert {"type": "Mention", "href": peer.actor_id("alice"), "name": f"@alice@{peer.host}"} in (
        note["tag"]
    )
    assert 'class="u-url mention"' in note["content"] and "@<span>alice</span>" in note["content"]
    assert "120 EUR par an" in note["content"]
    assert PUBLIC in note["cc"]  # public like the reply it answers
    (_, answered) = await messages(rn, "ama")
    assert answered.direction == Direction.OUT and answered.uri == note["id"]
    # The answer's id resolves, as Mastodon fetches it to thread a reply to it.
    async with browser.get(note["id"], headers={"Accept": "application/activity+json"}) as resp:
        assert resp.status == 200
        served = await resp.json(content_type=None)
    assert served == {**note, "@context": served["@context"]}
    async with browser.get(note["id"]) as resp:
        assert resp.status == 200 and "120 EUR par an" in await resp.text()

    # Withdrawing: a confirmation page, then the offer leaves the site and timelines.
    confirm, _ = await page(browser, f"{rn.url}/me/mediator/ama/offers/{offer.uuid}/withdraw")
    assert "Oui, retirer cette offre" in confirm
    status, location, _ = await post(
        browser,
        rn,
        f"/me/mediator/ama/offers/{offer.uuid}/withdraw",
        {},
        token=csrf_of(confirm),
    )
    assert (status, location) == (303, "/me/mediator/ama/offers?done=withdrawn")
    assert (await offer_row(rn, offer.uri)).state == "withdrawn"
    await peer.wait_for(about("Delete", offer.uri))
    public, _ = await page(browser, f"{rn.url}/offers")
    assert offer.uri not in public
    listed, _ = await page(browser, f"{rn.url}{location}")
    assert "Retirée" in listed and f"{offer.uuid}/edit" not in listed


async def test_a_private_mention_is_kept_and_answered_privately(
    make_node: MakeNode, peer: MastodonLikePeer, browser: aiohttp.ClientSession
) -> None:
    """A direct message to a mediator (no offer answered) is kept; the answer goes to
    that person only, and a reply to the answer continues in the same inbox."""
    rn = await section(make_node)
    ama_url = f"{rn.url}/users/ama"
    await log_in_with_link(browser, rn, await invite(rn, "ama", "mediator:ama"))
    first = await peer.reply(None, ama_url, "Vous faites des formations ?", visibility="direct")

    def kept(n: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return len(await messages(rn, "ama")) == n

        return check

    await until(kept(1), "the mention kept")
    (message,) = await messages(rn, "ama")
    assert not message.public and message.uri == first
    inbox, _ = await page(browser, f"{rn.url}/me/mediator/ama/inbox?lang=en")
    assert "private" in inbox and "Replies from the fediverse" in inbox
    read, _ = await page(browser, f"{rn.url}/me/mediator/ama/inbox/{message.id}?lang=en")
    assert "only this person receives it" in read
    status, _, _ = await post(
        browser,
        rn,
        f"/me/mediator/ama/inbox/{message.id}?lang=en",
        {"text": "Oui, le samedi."},
        token=csrf_of(read),
    )
    assert status == 303
    answer = await peer.wait_for(
        lambda r: r.type == "Create" and r.object.get("inReplyTo") == first
    )
    assert answer.object["to"] == [peer.actor_id("alice")] and answer.object["cc"] == []
    assert answer.path == "/users/alice/inbox"  # private: her own inbox
    async with browser.get(
        answer.object["id"], headers={"Accept": "application/activity+json"}
    ) as resp:
        assert resp.status == 404  # a private answer is served to nobody
    async with rn.node.sessions() as session:
        activity = await session.scalar(
            select(Activity).where(Activity.uri == answer.activity["id"])
        )
        assert activity is not None and not activity.public  # not served at /activities/…
    # Alice answers the answer: it is ours (an out message), so it lands in Ama's inbox.
    again = await peer.reply(answer.object["id"], ama_url, "Merci !", visibility="direct")
    await until(kept(3), "the reply to the answer")
    assert (await messages(rn, "ama"))[-1].uri == again


# ----------------------------------------------------------------------------- the section's own


async def test_a_coordinator_publishes_offers_as_the_section_and_answers_its_replies(
    make_node: MakeNode, peer: MastodonLikePeer, browser: aiohttp.ClientSession
) -> None:
    """What 'coopnet offer publish' without --author does, from the browser: an offer
    in the section's name; a reply to it reaches the coordinators' section inbox."""
    rn = await section(make_node)
    node_url = f"{rn.url}/users/lome"
    await peer.follow(rn.acct)
    await peer.wait_for(lambda r: r.type == "Accept")
    await log_in_with_link(browser, rn, await invite(rn, "coord", "coordinator"))

    index, _ = await page(browser, f"{rn.url}/me/mediator")
    assert "La section elle-même" in unescape(index)
    assert "/me/mediator/lome/offers" in index and "/me/mediator/lome/profile" not in index
    admin, _ = await page(browser, f"{rn.url}/admin/sel")
    assert 'href="/me/mediator"' in admin and "Offres et réponses" in admin
    # No mediator profile for the section: its name and summary are the node's settings.
    await page(browser, f"{rn.url}/me/mediator/lome/profile", 404)

    form, _ = await page(browser, f"{rn.url}/me/mediator/lome/offers/new")
    assert "/me/mediator/lome/profile" not in form
    status, location, _ = await post(
        browser,
        rn,
        "/me/mediator/lome/offers/new",
        {**OFFER_FORM, "title": "Salle de réunion", "action": "publish"},
        token=csrf_of(form),
    )
    assert status == 303 and location.startswith("/me/mediator/lome/offers?done=published")
    async with rn.node.sessions() as session:
        offer = (await session.scalars(select(Offer))).one()
    assert offer.local_actor_id == (await actor(rn, "lome")).id
    create = await peer.wait_for(about("Create", offer.uri))
    assert create.actor == node_url and create.key_id == f"{node_url}#main-key"

    # Alice replies to the section's offer: the coordinators see it and answer.
    reply_id = await peer.reply(offer.uri, node_url, "Elle est libre samedi ?")

    async def kept() -> bool:
        return len(await messages(rn, "lome")) == 1

    await until(kept, "the reply kept for the section")
    me, _ = await page(browser, f"{rn.url}/me")
    assert "/me/mediator/lome/inbox" in me
    (message,) = await messages(rn, "lome")
    read, _ = await page(browser, f"{rn.url}/me/mediator/lome/inbox/{message.id}")
    assert "Elle est libre samedi ?" in unescape(read)
    status, _, _ = await post(
        browser,
        rn,
        f"/me/mediator/lome/inbox/{message.id}",
        {"text": "Oui, de 9 h à 12 h."},
        token=csrf_of(read),
    )
    assert status == 303
    answer = await peer.wait_for(
        lambda r: r.type == "Create" and r.object.get("inReplyTo") == reply_id
    )
    assert answer.actor == node_url and answer.key_id == f"{node_url}#main-key"
    assert "de 9 h à 12 h" in answer.object["content"]


# ----------------------------------------------------------------------------- who may do what


async def test_a_mediator_cannot_act_for_another_and_others_get_no_mediator_pages(
    make_node: MakeNode, peer: MastodonLikePeer, browser: aiohttp.ClientSession
) -> None:
    rn = await section(make_node)
    kossi_offer = await content.offer_publish(
        rn.node,
        OfferDraft(title="Formation WordPress", description="Deux jours.", price="50"),
        "kossi",
        by=OPERATOR,
    )
    await peer.reply(kossi_offer.uri, f"{rn.url}/users/kossi", "Quand ?")

    async def kept() -> bool:
        return len(await messages(rn, "kossi")) == 1

    await until(kept, "Kossi's reply")
    (kossi_message,) = await messages(rn, "kossi")
    token = await log_in_with_link(browser, rn, await invite(rn, "ama", "mediator:ama"))

    # Kossi's pages and things, reached by Ama: 403, whichever path names them.
    for path in (
        "/me/mediator/kossi/profile",
        "/me/mediator/kossi/offers",
        "/me/mediator/kossi/offers/new",
        "/me/mediator/kossi/inbox",
        f"/me/mediator/kossi/inbox/{kossi_message.id}",
        f"/me/mediator/ama/inbox/{kossi_message.id}",
        f"/me/mediator/kossi/offers/{kossi_offer.uuid}/edit",
        f"/me/mediator/ama/offers/{kossi_offer.uuid}/edit",
        f"/me/mediator/ama/offers/{kossi_offer.uuid}/withdraw",
    ):
        refused, _ = await page(browser, f"{rn.url}{path}", 403)
        assert "vous ne pouvez agir que pour votre propre profil" in refused, path
    # The section's own pages (its offers, the replies sent to it) are the coordinators'.
    for path in ("/me/mediator/lome/offers", "/me/mediator/lome/inbox"):
        refused, _ = await page(browser, f"{rn.url}{path}", 403)
        assert "seule la coordination de cette section" in refused, path
    before = await rn.count(Activity)
    attempts: list[tuple[str, dict[str, str]]] = [
        ("/me/mediator/lome/offers/new", {**OFFER_FORM, "action": "publish"}),
        ("/me/mediator/kossi/profile", {"name": "Pirate"}),
        ("/me/mediator/kossi/offers/new", {**OFFER_FORM, "action": "publish"}),
        (
            f"/me/mediator/ama/offers/{kossi_offer.uuid}/edit",
            {**OFFER_FORM, "title": "Volée", "action": "publish"},
        ),
        (
            f"/me/mediator/kossi/offers/{kossi_offer.uuid}/edit",
            {**OFFER_FORM, "title": "Volée", "action": "publish"},
        ),
        (f"/me/mediator/ama/offers/{kossi_offer.uuid}/withdraw", {}),
        (f"/me/mediator/kossi/offers/{kossi_offer.uuid}/withdraw", {}),
        (f"/me/mediator/ama/inbox/{kossi_message.id}", {"text": "Je réponds à sa place"}),
        (f"/me/mediator/kossi/inbox/{kossi_message.id}", {"text": "Je réponds à sa place"}),
        ("/me/mediator/kossi/inbox/read", {}),
    ]
    for path, data in attempts:
        status, _, _ = await post(browser, rn, path, data, token=token)
        assert status == 403, path
    # Nothing changed, nothing was sent.
    assert (await actor(rn, "kossi")).name == "Kossi"
    unchanged = await offer_row(rn, kossi_offer.uri)
    assert (unchanged.title, unchanged.state) == ("Formation WordPress", "published")
    assert await rn.count(Offer) == 1
    assert await rn.count(Activity) == before
    assert [m.read_at for m in await messages(rn, "kossi")] == [None]

    # A member without the mediator role: 403 on every mediator page.
    async with new_browser() as member:
        await log_in_with_link(member, rn, await invite(rn, "awa", "member:awa"))
        for path in ("/me/mediator", "/me/mediator/ama/offers", "/me/mediator/kossi/inbox"):
            refused, _ = await page(member, f"{rn.url}{path}", 403)
            assert "ces pages sont pour la médiation" in refused
    # Nobody logged in: to the login page, and back here afterwards.
    async with new_browser() as anonymous:
        for path in ("/me/mediator", "/me/mediator/ama/offers", "/me/mediator/ama/inbox"):
            _, resp = await page(anonymous, f"{rn.url}{path}", 303)
            assert resp.headers["Location"] == f"/login?next={path}"
        status, _, _ = await post(
            anonymous, rn, "/me/mediator/ama/profile", {"name": "X"}, token=None
        )
        assert status == 403
    # A coordinator may act for any mediator.
    async with new_browser() as coordinator:
        await log_in_with_link(coordinator, rn, await invite(rn, "coord", "coordinator"))
        index, _ = await page(coordinator, f"{rn.url}/me/mediator")
        assert "/me/mediator/ama/offers" in index and "/me/mediator/kossi/offers" in index
        await page(coordinator, f"{rn.url}/me/mediator/kossi/inbox/{kossi_message.id}")


async def test_every_form_without_its_token_is_refused(
    make_node: MakeNode, browser: aiohttp.ClientSession
) -> None:
    rn = await section(make_node)
    await log_in_with_link(browser, rn, await invite(rn, "ama", "mediator:ama"))
    ama_offer = await content.offer_publish(
        rn.node,
        OfferDraft(title="Dépannage", description="À domicile.", price="5"),
        "ama",
        by=OPERATOR,
    )
    before = await rn.count(Activity)
    for path, data in (
        ("/me/mediator/ama/profile", {"name": "Sans jeton"}),
        ("/me/mediator/ama/offers/new", {**OFFER_FORM, "action": "publish"}),
        ("/me/mediator/ama/offers/new", {**OFFER_FORM, "action": "preview"}),
        (f"/me/mediator/ama/offers/{ama_offer.uuid}/edit", {**OFFER_FORM, "action": "publish"}),
        (f"/me/mediator/ama/offers/{ama_offer.uuid}/withdraw", {}),
        ("/me/mediator/ama/inbox/read", {}),
        ("/me/mediator/ama/inbox/1", {"text": "Sans jeton"}),
    ):
        for token in (None, "forged"):
            status, _, body = await post(browser, rn, path, data, token=token)
            assert status == 403, (path, token)
            assert "reload the page" in body
    assert (await actor(rn, "ama")).name == "Ama"
    assert (await offer_row(rn, ama_offer.uri)).state == "published"
    assert await rn.count(Offer) == 1 and await rn.count(Activity) == before


# ----------------------------------------------------------------------------- hostile input


async def test_hostile_offer_forms_are_refused_or_sanitised(
    make_node: MakeNode, browser: aiohttp.ClientSession
) -> None:
    rn = await section(make_node)
    await log_in_with_link(browser, rn, await invite(rn, "ama", "mediator:ama"))
    form, _ = await page(browser, f"{rn.url}/me/mediator/ama/offers/new")
    token = csrf_of(form)
    path = "/me/mediator/ama/offers/new"
    # Too long, empty, unparseable: refused with the reason, the form kept as typed.
    for changes, reason in (
        ({"title": "x" * 201}, "le titre dépasse 200 caractères"),
        ({"description": " "}, "une offre a besoin d&#39;une description"),
        ({"price": "", "sel_hours": ""}, "indiquez un prix en argent et/ou en heures SEL"),
        ({"contact": "javascript:alert(1)"}, "le contact doit être un lien"),
        ({"valid_until": "31/12/2099"}, "la date de fin s&#39;écrit AAAA-MM-JJ"),
        ({"valid_until": "2001-01-01"}, "la date de fin de l&#39;offre est déjà passée"),
        ({"category": "<b>x</b>"}, "la catégorie doit être l&#39;une de"),
    ):
        for action in ("preview", "publish"):
            status, _, body = await post(
                browser, rn, path, {**OFFER_FORM, **changes, "action": action}, token=token
            )
            assert status == 400, (changes, body[:300])
            assert reason in body, (changes, reason)
    _, _, body = await post(
        browser, rn, path, {**OFFER_FORM, "title": "y" * 201, "action": "publish"}, token=token
    )
    assert 'value="' + "y" * 201 + '"' in body  # kept, to be shortened
    # A body over the form limit is not even read.
    status, _, _ = await post(
        browser, rn, path, {**OFFER_FORM, "description": "z" * 70_000}, token=token
    )
    assert status == 413
    assert await rn.count(Offer) == 0

    # HTML and script in the Markdown: shown as text, never run, on every page.
    hostile = (
        "Bonjour <script>alert('x')</script> <img src=x onerror=alert(1)>\n\n"
        "[clic](javascript:alert(2)) **gras**"
    )
    status, _, preview = await post(
        browser, rn, path, {**OFFER_FORM, "description": hostile, "action": "preview"}, token=token
    )
    assert status == 200
    status, location, _ = await post(
        browser, rn, path, {**OFFER_FORM, "description": hostile, "action": "publish"}, token=token
    )
    assert status == 303
    async with rn.node.sessions() as session:
        offer = (await session.scalars(select(Offer))).one()
    public, _ = await page(browser, offer.uri)
    for shown in (preview, public):
        assert "<script" not in shown and "<img" not in shown
        assert 'href="javascript' not in shown
        assert "&lt;script&gt;" in shown and "<strong>gras</strong>" in shown
    assert "<script" not in offer.content and 'href="javascript' not in offer.content


async def test_hostile_replies_are_sanitised_bounded_and_unsolicited_posts_ignored(
    make_node: MakeNode, peer: MastodonLikePeer, browser: aiohttp.ClientSession
) -> None:
    rn = await section(make_node)
    await log_in_with_link(browser, rn, await invite(rn, "ama", "mediator:ama"))
    ama_url = f"{rn.url}/users/ama"
    base = f"{peer.actor_id('bob')}/statuses"

    def create(n: int, note: dict[str, Any]) -> dict[str, Any]:
        obj = {
            "id": f"{base}/{n}",
            "type": "Note",
            "attributedTo": peer.actor_id("bob"),
            "to": [PUBLIC],
            "cc": [],
            "content": "<p>bonjour</p>",
            **note,
        }
        return {
            "@context": AS_CONTEXT,
            "id": f"{base}/{n}/activity",
            "type": "Create",
            "actor": peer.actor_id("bob"),
            "to": obj["to"],
            "cc": obj["cc"],
            "object": obj,
        }

    mention = [{"type": "Mention", "href": ama_url, "name": "@ama"}]
    hostile = (
        '<p onclick="steal()">Salut <script>alert(1)</script><a href="javascript:x">lien</a>'
        '<img src="https://evil.example/t.png"><iframe src="https://evil.example"></iframe></p>'
    )
    sent = [
        # Script, handlers, frames: stripped.
        create(1, {"content": hostile, "tag": mention}),
        # Nothing of ours named or answered: ignored, as any unsolicited post.
        create(2, {"content": "<p>Achetez mes montres</p>"}),
        # Mentions an actor that does not exist here: ignored too.
        create(3, {"tag": [{"type": "Mention", "href": f"{rn.url}/users/nobody"}]}),
        # Very long: cut.
        create(4, {"content": "<p>" + "&amp;" * 50_000 + "</p>", "tag": mention}),
        # An id longer than any column: refused without failing the batch.
        create(5, {"id": f"{base}/5{'x' * 2100}", "tag": mention}),
    ]
    for activity in sent:
        assert await peer.sign_and_post(f"{rn.url}/inbox", activity, "bob") == 202

    async def processed() -> bool:
        return await rn.count(InboxItem, InboxItem.state == "done") >= len(sent)

    await until(processed, "the posts processed")
    kept = await messages(rn, "ama")
    assert [m.uri for m in kept] == [f"{base}/1", f"{base}/4"]
    clean, long = kept
    for bad in ("<script", "onclick", "javascript:", "<iframe", "<img"):
        assert bad not in clean.content
    assert "Salut" in clean.content and "lien" in clean.content
    assert len(long.content) < 20_000
    async with rn.node.sessions() as session:
        reasons = dict(
            (await session.execute(select(InboxItem.activity_uri, InboxItem.error))).tuples().all()
        )
    assert reasons[f"{base}/2/activity"] == "ignored: we do not follow this actor"
    assert reasons[f"{base}/3/activity"] == "ignored: we do not follow this actor"
    assert reasons[f"{base}/5/activity"] == "ignored: a reply whose id is over 2048 characters"
    inbox, _ = await page(browser, f"{rn.url}/me/mediator/ama/inbox")
    assert "<script" not in inbox and "onclick" not in inbox and "javascript:" not in inbox
    message, _ = await page(browser, f"{rn.url}/me/mediator/ama/inbox/{long.id}")

    # One author cannot fill an inbox: past the bound, their unread messages are dropped.
    for n in range(10, 10 + MAX_UNREAD_PER_AUTHOR + 3):
        activity = create(n, {"tag": mention})
        assert await peer.sign_and_post(f"{rn.url}/inbox", activity, "bob") == 202

    async def all_processed() -> bool:
        total = len(sent) + MAX_UNREAD_PER_AUTHOR + 3
        return await rn.count(InboxItem, InboxItem.state == "done") >= total

    await until(all_processed, "the flood processed")
    unread = [m for m in await messages(rn, "ama") if m.read_at is None]
    assert len(unread) == MAX_UNREAD_PER_AUTHOR
    # The author deletes a post: it leaves the inbox.
    delete = {
        "@context": AS_CONTEXT,
        "id": f"{base}/1#delete",
        "type": "Delete",
        "actor": peer.actor_id("bob"),
        "object": {"id": f"{base}/1", "type": "Tombstone"},
    }
    assert await peer.sign_and_post(f"{rn.url}/inbox", delete, "bob") == 202

    async def gone() -> bool:
        return f"{base}/1" not in [m.uri for m in await messages(rn, "ama")]

    await until(gone, "the deleted reply removed")
