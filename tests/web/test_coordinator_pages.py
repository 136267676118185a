"""The coordinator's pages (/admin), over real HTTP against real nodes.

Each person is a plain HTTP client with a cookie jar of its own: the
coordinator invites people, writes bulletins, certifies mediators, follows
another node and revives dead deliveries through the same forms a browser
posts (CSRF token, Origin). Members and mediators are refused every page
and every form, and the database is compared before and after to show
that nothing changed; so are forms without a token and hostile fields.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from markupsafe import escape
from sqlalchemy import func, select

from models.accounts import OPERATOR, Invitation, Principal, User, WebSession
from models.actors import get_node_actor, upsert_remote_actor
from models.attestations import Attestation
from models.bulletins import Bulletin
from models.errors import Forbidden
from models.follows import Following, add_follower
from models.mediators import Profile
from models.outbox import Delivery, DeliveryState
from node import actions, certification, content, sel, users
from node.worker import DeliveryWorker
from tests.conftest import MakeNode, RunningNode, bound_socket

PASSWORD = "correct horse battery"
MAX_PAGE = 50 * 1024


# --------------------------------------------------------------------------------------------
# A person at a browser
# --------------------------------------------------------------------------------------------


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


@dataclass
class Person:
    rn: RunningNode
    http: aiohttp.ClientSession
    csrf: str = ""

    @property
    def url(self) -> str:
        return self.rn.url

    async def get(self, path: str, status: int = 200) -> str:
        async with self.http.get(self.url + path, allow_redirects=False) as resp:
            body = await resp.text()
            assert resp.status == status, (path, resp.status, body[:500])
            if status == 200:
                self.csrf = csrf_of(body)
            return body

    async def post(
        self,
        path: str,
        data: Any = None,
        *,
        status: int = 303,
        csrf: bool = True,
        headers: dict[str, str] | None = None,
    ) -> tuple[aiohttp.ClientResponse, str]:
        form: Any = data if data is not None else {}
        if csrf and isinstance(form, dict):
            form = {"csrf": self.csrf, **form}
        async with self.http.post(
            self.url + path,
            data=form,
            headers={"Origin": self.url, **(headers or {})},
            allow_redirects=False,
        ) as resp:
            body = await resp.text()
            assert resp.status == status, (path, resp.status, body[:800])
            return resp, body

    async def accept(self, link: str) -> None:
        """Choose a password through a one-time link, as the invited person does."""
        async with self.http.get(link) as resp:
            assert resp.status == 200, await resp.text()
            token = csrf_of(await resp.text())
        async with self.http.post(
            link,
            data={"csrf": token, "password": PASSWORD, "password2": PASSWORD},
            headers={"Origin": self.url},
            allow_redirects=False,
        ) as resp:
            assert resp.status == 303, await resp.text()
            assert resp.headers["Location"] == "/me"
        await self.get("/me")

    async def log_in(self, name: str) -> None:
        page = await self.get("/login")
        async with self.http.post(
            f"{self.url}/login",
            data={"csrf": csrf_of(page), "name": name, "password": PASSWORD, "next": "/me"},
            headers={"Origin": self.url},
            allow_redirects=False,
        ) as resp:
            assert resp.status == 303, await resp.text()
        await self.get("/me")


People = Callable[[RunningNode], Awaitable[Person]]


@pytest.fixture
async def person() -> AsyncIterator[People]:
    opened: list[aiohttp.ClientSession] = []

    async def make(rn: RunningNode) -> Person:
        http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=aiohttp.ClientTimeout(total=30)
        )
        opened.append(http)
        return Person(rn, http)

    yield make
    for http in opened:
        await http.close()


async def invited(person: People, rn: RunningNode, name: str, roles: list[str]) -> Person:
    link = (await users.user_add(rn.node, OPERATOR, name, roles)).link
    who = await person(rn)
    await who.accept(link)
    return who


async def coordinator(person: People, rn: RunningNode, name: str = "coco") -> Person:
    coco = await invited(person, rn, name, ["coordinator"])
    await coco.get("/admin")
    return coco


async def section(make_node: MakeNode, name: str = "lome", **kw: Any) -> RunningNode:
    """A section with a SEL member account (awa) and a mediator (ama)."""
    rn = await make_node(name, **kw)
    await sel.account_open(rn.node, "awa", "Awa Diallo", None, None, by=OPERATOR)
    await content.mediator_add(rn.node, "ama", Profile(name="Ama Mensah"), by=OPERATOR)
    return rn


async def wait_for(check: Callable[[], Awaitable[bool]], limit: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not await check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.1)


# --------------------------------------------------------------------------------------------
# Accounts and invitations
# --------------------------------------------------------------------------------------------


async def test_a_coordinator_invites_a_member_whose_link_works(
    make_node: MakeNode, person: People
) -> None:
    rn = await section(make_node, run_workers=False)
    coco = await coordinator(person, rn)
    page = await coco.get("/admin/users")
    # Roles are chosen from what exists, not typed.
    assert '<option value="awa">Awa Diallo (awa)</option>' in page
    assert '<option value="ama">Ama Mensah (ama)</option>' in page
    assert "Inviter quelqu&#39;un" in page

    _, page = await coco.post(
        "/admin/users",
        {"name": "Awa", "display_name": "Awa Diallo", "member": "awa", "mediator": ""},
        status=200,
    )
    found = re.search(r"(http://[^<\s]+/invitation/[A-Za-z0-9_-]+)", page)
    assert found, page
    link = found.group(1)
    assert "Compte créé" in page
    # Shown once: the list page does not show it again.
    assert link not in await coco.get("/admin/users")

    awa = await person(rn)
    await awa.accept(link)
    me = await awa.get("/me")
    assert "Awa Diallo" in me and "membre" in me
    again = await person(rn)
    await again.log_in("awa")

    page = await coco.get("/admin/users")
    assert "awa" in page and "actif" in page and "membre : awa" in page

    # A new link (forgotten password): the old one is spent, the new one works.
    page = await coco.get("/admin/users/awa")
    assert "Faire un nouveau lien" in page and link not in page
    _, page = await coco.post("/admin/users/awa/reset", status=200)
    assert "Nouveau lien pour" in page
    new_link = re.search(r"(http://[^<\s]+/invitation/[A-Za-z0-9_-]+)", page)
    assert new_link and new_link.group(1) != link
    async with awa.http.get(link) as r:
        assert r.status == 410

    # Disable ends its sessions and refuses the login; enable lets it back in.
    resp, _ = await coco.post("/admin/users/awa/disable")
    assert resp.headers["Location"] == "/admin/users/awa?done=disabled"
    await awa.get("/me", status=303)
    assert "désactivé" in await coco.get("/admin/users")
    await coco.post("/admin/users/awa/enable")
    fresh = await person(rn)
    await fresh.log_in("awa")

    # Log out everywhere.
    await coco.post("/admin/users/awa/logout")
    await fresh.get("/me", status=303)
    await again.get("/me", status=303)

    # A coordinator cannot disable their own account (the message, in French).
    _, page = await coco.post("/admin/users/coco/disable", status=400)
    assert "votre propre compte" in page


async def test_a_coordinator_invites_a_mediator_and_another_coordinator(
    make_node: MakeNode, person: People
) -> None:
    rn = await section(make_node, run_workers=False)
    coco = await coordinator(person, rn)
    await coco.get("/admin/users?lang=en")
    _, page = await coco.post(
        "/admin/users?lang=en", {"name": "ama", "mediator": "ama"}, status=200
    )
    assert "Account created" in page
    _, page = await coco.post(
        "/admin/users", {"name": "dede", "coordinator": "on", "member": "awa"}, status=200
    )
    async with rn.node.sessions() as session:
        rows = {u.name: u for u in (await session.execute(select(User))).scalars().all()}
    assert {g.role for g in rows["ama"].grants} == {"mediator"}
    assert {g.role for g in rows["dede"].grants} == {"coordinator", "member"}
    # No role at all is refused, with what was typed kept.
    _, page = await coco.post("/admin/users", {"name": "nobody"}, status=400)
    assert "au moins un rôle" in page and 'value="nobody"' in page


async def test_a_coordinator_changes_an_accounts_roles_from_its_page(
    make_node: MakeNode, person: People
) -> None:
    rn = await section(make_node, run_workers=False)
    coco = await coordinator(person, rn)
    awa = await invited(person, rn, "awa", ["member:awa"])
    page = await coco.get("/admin/users/awa")
    assert 'action="/admin/users/awa/roles"' in page
    assert '<option value="awa" selected>' in page  # the current role is preselected
    # Nothing offered, or nothing at all: refused, the roles unchanged.
    for form in ({"member": "zz"}, {}):
        _, page = await coco.post("/admin/users/awa/roles", form, status=400)
    await coco.post("/admin/users/awa/roles", {"member": "awa", "mediator": "ama"}, status=200)
    async with rn.node.sessions() as session:
        user = (await session.execute(select(User).where(User.name == "awa"))).scalar_one()
        assert {g.role for g in user.grants} == {"member", "mediator"}
    # awa's session ended: she logs in again and has the new rights.
    await awa.get("/me", status=303)  # to the login page
    await awa.log_in("awa")
    assert "Mes offres" in await awa.get("/me")
    # A coordinator cannot take the role from themselves.
    _, page = await coco.post("/admin/users/coco/roles", {"member": "awa"}, status=400)
    assert "propre compte" in page or "own account" in page


# --------------------------------------------------------------------------------------------
# Bulletins
# --------------------------------------------------------------------------------------------

MARKDOWN = (
    "Ce mois-ci, **trois** nouvelles associations.\n\n"
    "## Agenda\n\n- Atelier le 12\n\n<script>alert(1)</script>\n\n"
    "[lien](javascript:alert(2))"
)


async def live_bulletins(rn: RunningNode) -> list[Bulletin]:
    async with rn.node.sessions() as session:
        rows = await session.execute(select(Bulletin).where(Bulletin.deleted_at.is_(None)))
        return list(rows.scalars().all())


async def test_a_coordinator_previews_publishes_edits_and_deletes_a_bulletin(
    make_node: MakeNode, person: People
) -> None:
    rn = await make_node("lome", run_workers=False)
    coco = await coordinator(person, rn)
    await coco.get("/admin/bulletins")
    form = {"title": "Bulletin de novembre", "summary": "", "markdown": MARKDOWN}

    _, page = await coco.post("/admin/bulletins", {**form, "action": "preview"}, status=200)
    assert "Aperçu" in page
    assert "<strong>trois</strong>" in page and "<h2>Agenda</h2>" in page
    assert "<script>" not in page and 'href="javascript' not in page
    # The text typed is back in the form, escaped.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert await live_bulletins(rn) == []

    resp, _ = await coco.post("/admin/bulletins", {**form, "action": "publish"})
    assert resp.headers["Location"] == "/admin/bulletins?done=published"
    [bulletin] = await live_bulletins(rn)
    async with coco.http.get(f"{rn.url}/bulletins") as r:
        assert "Bulletin de novembre" in await r.text()
    async with coco.http.get(bulletin.uri) as r:
        public = await r.text()
        assert "<strong>trois</strong>" in public and "<script>" not in public

    page = await coco.get(f"/admin/bulletins/{bulletin.uuid}")
    assert 'value="Bulletin de novembre"' in page
    await coco.post(
        f"/admin/bulletins/{bulletin.uuid}",
        {
            "title": "Bulletin de novembre 2026",
            "summary": "",
            "markdown": "Nouveau texte.",
            "action": "save",
        },
    )
    async with coco.http.get(bulletin.uri) as r:
        public = await r.text()
        assert "Bulletin de novembre 2026" in public and "Nouveau texte." in public
    [updated] = await live_bulletins(rn)
    assert updated.summary == "Nouveau texte."  # derived summary follows the text

    # Deleting needs the box ticked.
    await coco.get(f"/admin/bulletins/{bulletin.uuid}")
    _, page = await coco.post(f"/admin/bulletins/{bulletin.uuid}/delete", status=400)
    assert "cochez la case" in page
    assert len(await live_bulletins(rn)) == 1
    await coco.post(f"/admin/bulletins/{bulletin.uuid}/delete", {"confirm": "yes"})
    assert await live_bulletins(rn) == []
    async with coco.http.get(bulletin.uri) as r:
        assert r.status == 410
    await coco.get(f"/admin/bulletins/{bulletin.uuid}", status=404)


async def test_the_same_bulletin_sent_twice_in_a_row_is_published_once(
    make_node: MakeNode, person: People
) -> None:
    rn = await make_node("lome", run_workers=False)
    coco = await coordinator(person, rn)
    form = {"title": "Bulletin", "markdown": "Texte.", "action": "publish"}
    await asyncio.gather(coco.post("/admin/bulletins", form), coco.post("/admin/bulletins", form))
    await coco.post("/admin/bulletins", form)
    assert len(await live_bulletins(rn)) == 1
    await coco.post("/admin/bulletins", {**form, "markdown": "Autre texte."})
    assert len(await live_bulletins(rn)) == 2


async def test_bulletin_refusals_keep_what_was_typed(make_node: MakeNode, person: People) -> None:
    rn = await make_node("lome", run_workers=False)
    coco = await coordinator(person, rn)
    _, page = await coco.post(
        "/admin/bulletins?lang=en",
        {"title": "Janvier", "markdown": "   ", "action": "publish"},
        status=400,
    )
    assert "Text (Markdown): this field is required" in page
    assert 'value="Janvier"' in page
    assert await live_bulletins(rn) == []


# --------------------------------------------------------------------------------------------
# Certifications
# --------------------------------------------------------------------------------------------


async def live_attestations(rn: RunningNode) -> list[Attestation]:
    async with rn.node.sessions() as session:
        rows = await session.execute(select(Attestation).where(Attestation.revoked_at.is_(None)))
        return list(rows.scalars().all())


async def test_a_coordinator_certifies_a_mediator_and_revokes_it(
    make_node: MakeNode, person: People
) -> None:
    rn = await section(make_node, run_workers=False)
    coco = await coordinator(person, rn)
    page = await coco.get("/admin/certifications")
    assert "Ama Mensah" in page and "Non certifié" in page
    resp, _ = await coco.post("/admin/certifications/certify", {"mediator": "ama"})
    assert "done=certified" in resp.headers["Location"]
    [row] = await live_attestations(rn)
    assert row.subject_uri == f"{rn.url}/users/ama"
    page = await coco.get("/admin/certifications")
    assert "Certifié" in page and row.uuid in page
    async with coco.http.get(f"{rn.url}/users/ama") as r:
        assert "Certifié par la section" in await r.text()

    # Certifying twice is refused with the reason, nothing added.
    _, page = await coco.post("/admin/certifications/certify", {"mediator": "ama"}, status=400)
    assert "already holds" in page
    assert len(await live_attestations(rn)) == 1

    _, page = await coco.post("/admin/certifications/revoke", {"attestation": row.uuid}, status=400)
    assert "confirmer la révocation" in page
    assert len(await live_attestations(rn)) == 1
    await coco.post("/admin/certifications/revoke", {"attestation": row.uuid, "confirm": "yes"})
    assert await live_attestations(rn) == []
    async with coco.http.get(row.uri) as r:
        assert r.status == 410
    assert "Non certifié" in await coco.get("/admin/certifications")


async def test_a_coordinator_checks_a_certification_chain_from_the_page(
    make_node: MakeNode, person: People
) -> None:
    """The page runs what 'coopnet verify' runs and shows its report: here a
    certified mediator of a section whose seat never authorised it."""
    rn = await section(make_node)
    await certification.certify(rn.node, "ama", by=OPERATOR)
    coco = await coordinator(person, rn)
    await coco.get("/admin/certifications")
    _, page = await coco.post(
        "/admin/certifications/verify", {"actor": f"{rn.url}/users/ama"}, status=200
    )
    assert "Chaîne non vérifiée" in page
    cli = await certification.verify(rn.node, f"{rn.url}/users/ama")
    assert not cli.ok and cli.reason
    assert str(escape(cli.reason)) in page  # the same reason as the CLI's, as the page escapes it
    await coco.get("/admin/certifications")
    _, page = await coco.post("/admin/certifications/verify", {"actor": ""}, status=400)


async def test_the_seat_authorises_a_section_from_its_page(
    make_node: MakeNode, person: People
) -> None:
    seat = await make_node("siege", "seat")
    lome = await make_node("lome")
    coco = await coordinator(person, seat)
    page = await coco.get("/admin/certifications")
    assert "Autoriser une section" in page
    await coco.post("/admin/certifications/authorize", {"section": lome.acct})
    [row] = await live_attestations(seat)
    assert row.subject_uri == lome.actor_id
    page = await coco.get("/admin/certifications")
    assert lome.actor_id in page
    await coco.post("/admin/certifications/revoke", {"attestation": row.uuid, "confirm": "yes"})
    assert await live_attestations(seat) == []
    # A section cannot be "authorised" by a section.
    lome_coco = await coordinator(person, lome, "lomecoco")
    _, page = await lome_coco.post(
        "/admin/certifications/authorize", {"section": seat.acct}, status=400
    )
    assert "seul le siège" in page


# --------------------------------------------------------------------------------------------
# Follows
# --------------------------------------------------------------------------------------------


async def test_a_coordinator_follows_another_node_and_sees_it_accepted(
    make_node: MakeNode, person: People
) -> None:
    lome = await make_node("lome")
    marseille = await make_node("marseille")
    coco = await coordinator(person, lome)
    page = await coco.get("/admin/federation")
    assert "Le nœud ne suit personne" in page
    resp, _ = await coco.post("/admin/federation/follow", {"target": "@" + marseille.acct})
    assert "done=followed" in resp.headers["Location"]

    async def accepted() -> bool:
        rows = await actions.list_following(lome.node, by=OPERATOR)
        return [r.state for r in rows] == ["accepted"]

    await wait_for(accepted)
    page = await coco.get("/admin/federation")
    assert marseille.acct in page and "acceptée" in page
    page = await coco.get("/admin/federation?lang=en")
    assert '<span class="ok">accepted</span>' in page and "follow-" not in page
    followers = await actions.list_followers(marseille.node, by=OPERATOR)
    assert [r.uri for r in followers] == [lome.actor_id]

    # Its own account, and one that cannot be reached, are refused on the page.
    _, page = await coco.post("/admin/federation/follow", {"target": lome.acct}, status=400)
    assert "ne peut pas se suivre" in page
    _, page = await coco.post(
        "/admin/federation/follow", {"target": "nobody@127.0.0.1:9"}, status=400
    )
    assert "cannot reach" in page and 'value="nobody@127.0.0.1:9"' in page


# --------------------------------------------------------------------------------------------
# Deliveries
# --------------------------------------------------------------------------------------------


@dataclass
class Inbox:
    """A follower's server: answers ``status`` to every POST."""

    status: int = 410
    received: list[bytes] = field(default_factory=list)
    url: str = ""
    runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(await request.read())
        return web.Response(status=self.status)

    async def start(self) -> Inbox:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        sock = bound_socket()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        await web.SockSite(self.runner, sock).start()
        return self


async def delivery_states(rn: RunningNode) -> list[str]:
    async with rn.node.sessions() as session:
        return list((await session.execute(select(Delivery.state))).scalars().all())


async def test_a_coordinator_sees_a_dead_delivery_and_retries_it(
    make_node: MakeNode, person: People
) -> None:
    inbox = await Inbox(status=410).start()
    try:
        rn = await make_node("lome", run_workers=False)
        doc = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{inbox.url}/users/bob",
            "type": "Person",
            "preferredUsername": "bob",
            "inbox": f"{inbox.url}/users/bob/inbox",
        }
        async with rn.node.sessions() as session, session.begin():
            actor = await get_node_actor(session)
            remote = await upsert_remote_actor(session, doc)
            await add_follower(session, actor.id, remote, f"{doc['id']}#follow")
        await actions.post_note(rn.node, "Assemblée jeudi", by=OPERATOR)
        await DeliveryWorker(rn.node).run_once()
        assert await delivery_states(rn) == [DeliveryState.DEAD]

        coco = await coordinator(person, rn)
        home = await coco.get("/admin")
        assert 'class="alert"' in home and "Envois abandonnés\u00a0: 1" in home
        page = await coco.get("/admin/deliveries")
        assert f"{inbox.url}/users/bob/inbox" in page and "410" in page
        assert "Relancer tous les envois abandonnés" in page

        inbox.status = 202
        resp, _ = await coco.post("/admin/deliveries/retry")
        assert "done=retried" in resp.headers["Location"]
        assert await delivery_states(rn) == [DeliveryState.PENDING]
        await DeliveryWorker(rn.node).run_once()
        assert await delivery_states(rn) == [DeliveryState.DELIVERED]
        assert len(inbox.received) == 2
        home = await coco.get("/admin")
        assert "Envois abandonnés\u00a0: 0" in home
    finally:
        assert inbox.runner is not None
        await inbox.runner.cleanup()


# --------------------------------------------------------------------------------------------
# Who may do what
# --------------------------------------------------------------------------------------------


def admin_routes(rn: RunningNode, bulletin: str) -> tuple[list[str], list[str]]:
    """Every /admin route of the running app, with its placeholders filled in."""
    gets, posts = [], []
    for route in rn.app.router.routes():
        info = route.resource.canonical if route.resource else ""
        if not info.startswith("/admin"):
            continue
        path = info.replace("{name}", "awa").replace("{uuid}", bulletin).replace("{id}", "1")
        assert "{" not in path, f"a placeholder this test does not fill: {info}"
        if route.method == "GET":
            gets.append(path)
        elif route.method == "POST":
            posts.append(path)
    assert len(gets) >= 8 and len(posts) >= 12, (gets, posts)
    return gets, posts


async def snapshot(rn: RunningNode) -> dict[str, Any]:
    """What any admin form could change."""
    async with rn.node.sessions() as session:

        async def rows(q: Any) -> list[Any]:
            return sorted(map(tuple, (await session.execute(q)).all()), key=repr)

        return {
            "users": await rows(select(User.name, User.disabled_at, User.password_hash)),
            "invitations": await rows(select(Invitation.id, Invitation.used_at)),
            "sessions": await rows(select(WebSession.id, WebSession.revoked_at)),
            "bulletins": await rows(
                select(Bulletin.id, Bulletin.title, Bulletin.markdown, Bulletin.deleted_at)
            ),
            "attestations": await rows(select(Attestation.id, Attestation.revoked_at)),
            "following": await rows(select(Following.id, Following.state)),
            "deliveries": await rows(select(Delivery.id, Delivery.state)),
            "count": await session.scalar(select(func.count()).select_from(Delivery)),
        }


FORM = {
    "name": "intruder",
    "coordinator": "on",
    "title": "Pirate",
    "markdown": "Pirate",
    "action": "publish",
    "confirm": "yes",
    "mediator": "ama",
    "attestation": "",
    "section": "x@example.org",
    "target": "x@example.org",
}


async def permission_node(make_node: MakeNode) -> tuple[RunningNode, Bulletin]:
    rn = await section(make_node, run_workers=False)
    bulletin = await content.bulletin_publish(rn.node, "Bulletin", "Texte.", by=OPERATOR)
    await certification.certify(rn.node, "ama", by=OPERATOR)
    return rn, bulletin


async def test_members_and_mediators_get_403_on_every_admin_page_and_form(
    make_node: MakeNode, person: People
) -> None:
    rn, bulletin = await permission_node(make_node)
    [attestation] = await live_attestations(rn)
    gets, posts = admin_routes(rn, bulletin.uuid)
    member = await invited(person, rn, "awa", ["member:awa"])
    mediator = await invited(person, rn, "ama", ["mediator:ama"])
    before = await snapshot(rn)
    for who in (member, mediator):
        token = who.csrf  # a valid token of their own session
        for path in gets:
            body = await who.get(path, status=403)
            assert "seule la coordination" in body, path
        for path in posts:
            _, body = await who.post(
                path, {**FORM, "csrf": token, "attestation": attestation.uuid}, status=403
            )
            assert "seule la coordination" in body, path
    assert await snapshot(rn) == before
    # Their own pages still work.
    await member.get("/me")


async def test_anonymous_visitors_are_sent_to_the_login_page(
    make_node: MakeNode, person: People
) -> None:
    rn, bulletin = await permission_node(make_node)
    gets, posts = admin_routes(rn, bulletin.uuid)
    nobody = await person(rn)
    before = await snapshot(rn)
    for path in gets:
        async with nobody.http.get(rn.url + path, allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"] == f"/login?next={path}", path
    for path in posts:
        resp, _ = await nobody.post(path, FORM, csrf=False, status=303)
        assert resp.headers["Location"] == "/login?next=/admin", path
    assert await snapshot(rn) == before


async def test_every_admin_form_needs_the_token_and_our_origin(
    make_node: MakeNode, person: People
) -> None:
    rn, bulletin = await permission_node(make_node)
    [attestation] = await live_attestations(rn)
    _, posts = admin_routes(rn, bulletin.uuid)
    coco = await coordinator(person, rn)
    before = await snapshot(rn)
    form = {**FORM, "attestation": attestation.uuid}
    for path in posts:
        await coco.post(path, form, csrf=False, status=403)
        await coco.post(path, {**form, "csrf": "forged"}, csrf=False, status=403)
        await coco.post(path, form, headers={"Origin": "https://evil.example"}, status=403)
    assert await snapshot(rn) == before


async def test_the_actions_themselves_refuse_anyone_but_a_coordinator(
    make_node: MakeNode,
) -> None:
    rn, bulletin = await permission_node(make_node)
    member = Principal(name="awa", user_id=1, accounts=frozenset({1}))
    mediator = Principal(name="ama", user_id=2, mediators=frozenset({2}))
    before = await snapshot(rn)
    node = rn.node
    for who in (member, mediator):
        calls: list[Awaitable[Any]] = [
            actions.follow(node, "x@example.org", by=who),
            actions.post_note(node, "hello", by=who),
            actions.list_followers(node, by=who),
            actions.list_following(node, by=who),
            actions.relation_counts(node, by=who),
            actions.deliveries(node, by=who),
            actions.delivery_counts_of(node, by=who),
            actions.retry_dead_deliveries(node, by=who),
            content.bulletin_publish(node, "T", "M", by=who),
            content.bulletin_update(node, bulletin.uuid, title="T", by=who),
            content.bulletin_delete(node, bulletin.uuid, by=who),
            content.bulletin_list(node, by=who),
            content.bulletin_get(node, bulletin.uuid, by=who),
            certification.certify(node, "ama", by=who),
            certification.revoke_attestation(node, "ama", by=who),
            certification.authorize(node, "x@example.org", by=who),
            certification.mediator_standings(node, by=who),
            certification.authorizations(node, by=who),
            users.role_choices(node, who),
        ]
        for call in calls:
            with pytest.raises(Forbidden):
                await call
        with pytest.raises(Forbidden):
            content.bulletin_preview("T", "M", by=who)
    assert await snapshot(rn) == before


# --------------------------------------------------------------------------------------------
# Hostile input
# --------------------------------------------------------------------------------------------


async def test_oversized_and_malformed_fields_are_refused_and_change_nothing(
    make_node: MakeNode, person: People
) -> None:
    rn, bulletin = await permission_node(make_node)
    coco = await coordinator(person, rn)
    before = await snapshot(rn)
    cases: list[tuple[str, dict[str, str], str]] = [
        ("/admin/users", {"name": "a" * 10_000, "member": "awa"}, "64 caractères au plus"),
        ("/admin/users", {"name": "x", "member": "nobody"}, "ne fait pas partie des choix"),
        ("/admin/users", {"name": "x", "mediator": "awa:1"}, "ne fait pas partie des choix"),
        ("/admin/users", {"name": "x", "coordinator": "yes please"}, "ne fait pas partie"),
        ("/admin/users", {"name": "x\u0000y", "coordinator": "on"}, "caractère de contrôle"),
        ("/admin/users", {"name": "Ünïcödé", "coordinator": "on"}, "invalid account name"),
        (
            "/admin/bulletins",
            {"title": "Nul\u0000", "markdown": "x", "action": "publish"},
            "caractère de contrôle",
        ),
        (
            "/admin/bulletins",
            {"title": "a\nb", "markdown": "x", "action": "publish"},
            "une seule ligne",
        ),
        (
            "/admin/bulletins",
            {"title": "t" * 201, "markdown": "x", "action": "publish"},
            "200 caractères au plus",
        ),
        (
            "/admin/bulletins",
            {"title": "t", "markdown": "x\u001b[2J", "action": "publish"},
            "caractère de contrôle",
        ),
        ("/admin/bulletins", {"title": "t", "markdown": "x", "action": "drop"}, "choix"),
        (
            f"/admin/bulletins/{bulletin.uuid}",
            {"title": "t", "markdown": "x", "action": "save", "summary": "s" * 1001},
            "1000 caractères au plus",
        ),
        ("/admin/certifications/revoke", {"attestation": "../../etc"}, "choix"),
        ("/admin/certifications/certify", {"mediator": "nobody"}, "no mediator"),
        ("/admin/federation/follow", {"target": "x" * 3000}, "2048 caractères au plus"),
        ("/admin/federation/follow", {"target": ""}, "obligatoire"),
    ]
    for path, form, message in cases:
        await coco.get("/admin")
        _, body = await coco.post(path, form, status=400)
        assert message in body, (path, form, body[:600])
        assert "<html" in body  # the page again, with the message
    # A file where text is expected.
    upload = aiohttp.FormData()
    upload.add_field("csrf", coco.csrf)
    upload.add_field("title", b"t", filename="t.txt", content_type="text/plain")
    upload.add_field("markdown", "x")
    upload.add_field("action", "publish")
    _, body = await coco.post("/admin/bulletins", upload, csrf=False, status=400)
    assert "pas un fichier" in body
    # A body that is not UTF-8, and one over the form limit.
    _, body = await coco.post(
        "/admin/bulletins",
        b"csrf=" + coco.csrf.encode() + b"&title=\xff\xfe&markdown=x&action=publish",
        csrf=False,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        status=400,
    )
    assert "UTF-8" in body
    _, body = await coco.post(
        "/admin/bulletins",
        {"title": "t", "markdown": "x" * 70_000, "action": "publish"},
        status=413,
    )
    assert '"error"' in body  # not a browser: JSON
    # A browser (it asks for HTML) gets a page that says what to do, in French.
    _, body = await coco.post(
        "/admin/bulletins",
        {"title": "t", "markdown": "x" * 70_000, "action": "publish"},
        headers={"Accept": "text/html,application/xhtml+xml"},
        status=413,
    )
    assert "<h1>Trop volumineux</h1>" in body and "Raccourcissez-le" in body
    # Paths that name nothing.
    await coco.get("/admin/bulletins/not-a-uuid", status=404)
    await coco.get("/admin/bulletins/00000000-0000-0000-0000-000000000000", status=404)
    _, body = await coco.post("/admin/users/nobody/disable", status=404)
    assert "no account named" in body
    assert await snapshot(rn) == before


# --------------------------------------------------------------------------------------------
# The pages themselves
# --------------------------------------------------------------------------------------------


async def test_admin_pages_are_small_french_first_english_on_request_and_script_free(
    make_node: MakeNode, person: People
) -> None:
    rn, bulletin = await permission_node(make_node)
    gets, _ = admin_routes(rn, bulletin.uuid)
    coco = await coordinator(person, rn)
    # Enough to fill the lists: accounts, followers, dead deliveries.
    await users.user_add(rn.node, OPERATOR, "awa", ["member:awa"], "Awa Diallo")
    for i in range(150):
        await users.user_add(rn.node, OPERATOR, f"membre{i}", ["member:awa"], f"Membre {i}")
    async with rn.node.sessions() as session, session.begin():
        actor = await get_node_actor(session)
        for i in range(150):
            remote = await upsert_remote_actor(
                session,
                {
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": f"http://127.0.0.1:9/users/{'f' * 60}{i}",
                    "type": "Person",
                    "preferredUsername": f"{'f' * 60}{i}",
                    "inbox": f"http://127.0.0.1:9/users/{'f' * 60}{i}/inbox",
                },
            )
            await add_follower(session, actor.id, remote, f"http://127.0.0.1:9/follows/{i}")
    await actions.post_note(rn.node, "Bonjour", by=OPERATOR)
    async with rn.node.sessions() as session, session.begin():
        for row in (await session.execute(select(Delivery))).unique().scalars():
            row.state = DeliveryState.DEAD
            row.last_error = "connection refused " * 30
    for path in gets:
        for lang, word in (("", "Coordination"), ("?lang=en", "Charter")):
            async with coco.http.get(rn.url + path + lang) as r:
                body = await r.read()
                assert r.status == 200, path
                assert r.headers["Cache-Control"] == "no-store"
                assert "default-src 'none'" in r.headers["Content-Security-Policy"]
            html = body.decode()
            assert len(body) < MAX_PAGE, (path, len(body))
            assert "<script" not in html.lower()
            assert '<meta name="viewport" content="width=device-width' in html
            assert word in html, (path, lang)
            assert f'lang="{"en" if lang else "fr"}"' in html
            assert "follow-" not in html and "delivery-" not in html  # codes, not words
    # 152 accounts: 100 on the first page, the rest on the next.
    first = await coco.get("/admin/users")
    assert first.count('class="row"') == 100 and "Page suivante" in first
    second = await coco.get("/admin/users?page=2")
    assert second.count('class="row"') == 52 and "Page précédente" in second
    assert "Page suivante" not in second
    assert (await coco.get("/admin/users?page=x")).count('class="row"') == 100
    # English links keep English.
    page = await coco.get("/admin?lang=en")
    assert 'href="/admin/users?lang=en"' in page
    assert "Deliveries that died" in page


def test_every_string_of_the_coordinator_pages_has_a_french_translation() -> None:
    from pathlib import Path

    from node.i18n import CATALOG
    from node.ui import coordinator

    templates = Path(coordinator.__file__).parent.parent / "templates" / "ui"
    ids: set[str] = set()
    for path in [*templates.glob("coord*.html"), *templates.glob("_coord*.html")]:
        ids.update(re.findall(r'_\("([^"]+)"\)', path.read_text()))
        ids.update(re.findall(r"_\('([^']+)'\)", path.read_text()))
    ids.update(coordinator.NOTICES.values())
    ids.update(f"follow-{s}" for s in ("pending", "accepted", "rejected"))
    ids.update(f"delivery-{s.value}" for s in DeliveryState)
    missing = sorted(i for i in ids if i not in CATALOG["fr"])
    assert missing == []
    coded = [i for i in ids if i.startswith(("follow-", "delivery-"))]
    assert sorted(i for i in coded if i not in CATALOG["en"]) == []


async def test_the_menu_shows_the_groups_and_the_pages_of_the_group_one_is_in(
    make_node: MakeNode, person: People
) -> None:
    """Every page of the menu answers, marks itself current, and lists its
    group's pages but not another group's (those are one click away)."""
    from node.ui.nav import ADMIN_NAV, SEAT_ONLY

    rn = await make_node("lome")
    coco = await coordinator(person, rn)
    for group in ADMIN_NAV:
        for path, _ in group.pages:
            if path in SEAT_ONLY:
                async with coco.http.get(rn.url + "/admin/reports") as r:
                    assert f'href="{path}"' not in await r.text()  # a section has no such page
                continue
            async with coco.http.get(rn.url + path) as r:
                assert r.status == 200, path
                html = await r.text()
            if not path.startswith("/admin/") and path != "/admin":
                continue  # the section's own offers: the mediator's pages, their own menu
            nav = html[
                html.index('<nav class="admin"') : html.index(
                    "</nav>", html.index('<nav class="admin"')
                )
            ]
            assert f'href="{path}" aria-current="page"' in nav, path
            assert f'href="{group.first}" aria-current="true"' in nav, path
            for other in ADMIN_NAV:
                assert f'href="{other.first}"' in nav
                if other is not group:
                    for page, _ in other.pages[1:]:
                        assert f'href="{page}"' not in nav, (path, page)
    # The seat has the network dashboard in its Network group.
    seat = await make_node("siege", "seat")
    claire = await coordinator(person, seat, "claire")
    async with claire.http.get(seat.url + "/admin/dashboard") as r:
        assert r.status == 200
        assert 'href="/admin/dashboard" aria-current="page"' in await r.text()
