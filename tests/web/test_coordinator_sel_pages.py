"""The coordinator's time bank, mediators and note pages (/admin), over real HTTP.

Like tests/web/test_coordinator_pages.py (whose people and helpers these
tests use): each person is an HTTP client with its own cookie jar, posting
the forms a browser posts (CSRF token, Origin). Every operation is checked
in the database and on the page that follows; members and mediators are
refused every new route, hostile fields get a 400 page with the reason, and
the database is compared before and after to show that nothing changed.
Reconciliation runs between two real peered nodes.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from models.accounts import OPERATOR
from models.actors import LocalActor
from models.mediators import Profile
from models.posts import LocalObject
from models.sel.accounts import Account, AccountStatus, open_clearing
from models.sel.exchanges import Exchange, State
from models.sel.ledger import Entry
from node import actions, content, sel
from node.i18n import CATALOG
from node.ui import coordinator_sel
from node.ui.coordinator import SHOWN_MEDIATORS
from tests.allies import ally
from tests.conftest import MakeNode, RunningNode
from tests.web.test_coordinator_pages import (
    MAX_PAGE,
    People,
    Person,
    invited,
    section,
    wait_for,
)
from tests.web.test_coordinator_pages import coordinator as coordinator_of

#: The routes this file covers; a new one under these prefixes must be added here.
NEW_ROUTES = {
    ("GET", "/admin/sel"),
    ("POST", "/admin/sel/peers"),
    ("POST", "/admin/sel/reconcile"),
    ("POST", "/admin/sel/verify"),
    ("POST", "/admin/sel/export"),
    ("GET", "/admin/sel/accounts"),
    ("POST", "/admin/sel/accounts"),
    ("GET", "/admin/sel/accounts/{name}"),
    ("POST", "/admin/sel/accounts/{name}/limits"),
    ("POST", "/admin/sel/accounts/{name}/status"),
    ("POST", "/admin/sel/accounts/{name}/cancel"),
    ("GET", "/admin/mediators"),
    ("POST", "/admin/mediators"),
    ("POST", "/admin/mediators/remove"),
    ("POST", "/admin/note"),
}


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


async def account(rn: RunningNode, code: str) -> Account:
    async with rn.node.sessions() as session:
        return (await session.execute(select(Account).where(Account.code == code))).scalar_one()


async def exchange_row(rn: RunningNode, uuid: str) -> Exchange:
    async with rn.node.sessions() as session:
        return (await session.execute(select(Exchange).where(Exchange.uuid == uuid))).scalar_one()


async def confirmed(rn: RunningNode, payer: str, payee: str, amount: str, what: str) -> Exchange:
    row, _ = await sel.exchange(rn.node, payer, payee, amount, what, by=OPERATOR)
    row, _ = await sel.confirm(rn.node, row.uuid, payee, by=OPERATOR)
    return row


async def snapshot(rn: RunningNode) -> dict[str, Any]:
    """What any of the new forms could change."""
    async with rn.node.sessions() as session:

        async def rows(q: Any) -> list[Any]:
            return sorted(map(tuple, (await session.execute(q)).all()), key=repr)

        return {
            "accounts": await rows(
                select(
                    Account.code,
                    Account.name,
                    Account.status,
                    Account.lower_limit,
                    Account.upper_limit,
                    Account.balance,
                    Account.held,
                )
            ),
            "exchanges": await rows(select(Exchange.uuid, Exchange.state, Exchange.reason)),
            "entries": await session.scalar(select(func.count()).select_from(Entry)),
            "actors": await rows(
                select(
                    LocalActor.username,
                    LocalActor.name,
                    LocalActor.summary,
                    LocalActor.deleted_at,
                )
            ),
            "objects": await rows(select(LocalObject.uuid, LocalObject.deleted_at)),
        }


def new_routes(rn: RunningNode) -> tuple[list[str], list[str]]:
    """The new routes of the running app, placeholders filled in ({name}: awa)."""
    found = set()
    gets, posts = [], []
    for route in rn.app.router.routes():
        info = route.resource.canonical if route.resource else ""
        if route.method not in ("GET", "POST") or not info.startswith(
            ("/admin/sel", "/admin/mediators", "/admin/note")
        ):
            continue
        found.add((route.method, info))
        path = info.replace("{name}", "awa")
        (gets if route.method == "GET" else posts).append(path)
    assert found == NEW_ROUTES
    return gets, posts


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# --------------------------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------------------------


async def test_a_coordinator_opens_changes_approves_closes_and_corrects_sel_accounts(
    make_node: MakeNode, person: People
) -> None:
    rn = await section(make_node, run_workers=False)
    coco = await coordinator_of(person, rn)
    page = await coco.get("/admin")
    assert 'href="/admin/sel"' in page and "Banque de temps (SEL)" in page

    page = await coco.get("/admin/sel/accounts")
    assert "Ouvrir un compte de membre" in page and "-20\u00a0h / 20\u00a0h" in page
    resp, _ = await coco.post(
        "/admin/sel/accounts",
        {"code": "kofi", "name": "Kofi Mensah", "lower": "-5", "upper": "1h30"},
    )
    assert resp.headers["Location"] == "/admin/sel/accounts/kofi?done=sel-opened"
    kofi = await account(rn, "kofi")
    assert (kofi.name, kofi.status, kofi.lower_limit, kofi.upper_limit) == (
        "Kofi Mensah",
        AccountStatus.OPEN,
        -300,
        90,
    )
    page = await coco.get("/admin/sel/accounts/kofi?done=sel-opened")
    assert "Compte SEL ouvert." in page and "-5\u00a0h … 1,5\u00a0h" in page
    # The limits form shows values that parse back exactly.
    assert 'value="-5"' in page and 'value="1h30"' in page
    # Limits left empty: the section's defaults.
    await coco.post("/admin/sel/accounts", {"code": "yao", "name": ""})
    yao = await account(rn, "yao")
    assert (yao.lower_limit, yao.upper_limit) == (-1200, 1200)
    page = await coco.get("/admin/sel/accounts")
    assert "Tous les comptes SEL (3)" in page and "Kofi Mensah" in page

    # Limits: changed, then refused when they would exclude the balance.
    row = await confirmed(rn, "awa", "kofi", "1", "jardinage")
    resp, _ = await coco.post("/admin/sel/accounts/kofi/limits", {"lower": "-10", "upper": "2"})
    assert resp.headers["Location"] == "/admin/sel/accounts/kofi?done=sel-limits"
    kofi = await account(rn, "kofi")
    assert (kofi.lower_limit, kofi.upper_limit, kofi.balance) == (-600, 120, 60)
    _, page = await coco.post(
        "/admin/sel/accounts/kofi/limits", {"lower": "-10", "upper": "0.5"}, status=400
    )
    assert "sort des nouvelles limites" in page and 'value="0.5"' in page
    assert (await account(rn, "kofi")).upper_limit == 120

    # Closing needs the account at zero; yao is, kofi is not.
    page = await coco.get("/admin/sel/accounts/kofi")
    assert "Fermer le compte" not in page and "Seul un compte à zéro" in page
    _, page = await coco.post("/admin/sel/accounts/kofi/status", {"status": "closed"}, status=400)
    assert "seul un compte à zéro" in page
    assert (await account(rn, "kofi")).status == AccountStatus.OPEN
    await coco.get("/admin/sel/accounts/yao")
    resp, _ = await coco.post("/admin/sel/accounts/yao/status", {"status": "closed"})
    assert resp.headers["Location"] == "/admin/sel/accounts/yao?done=sel-closed"
    assert (await account(rn, "yao")).status == AccountStatus.CLOSED
    page = await coco.get("/admin/sel/accounts/yao?done=sel-closed")
    assert "Compte fermé." in page and "Rouvrir le compte" in page
    await coco.post("/admin/sel/accounts/yao/status", {"status": "open"})
    assert (await account(rn, "yao")).status == AccountStatus.OPEN
    _, page = await coco.post("/admin/sel/accounts/yao/status", {"status": "open"}, status=400)
    assert "le compte est déjà ouvert" in page

    # A requested account waits on the overview, and is approved from there.
    await sel.account_open(rn.node, "zoe", "Zoé", None, None, requested=True, by=OPERATOR)
    assert "à approuver\u00a0: 1" in await coco.get("/admin")
    page = await coco.get("/admin/sel")
    assert "En attente d&#39;approbation (1)" in page and "Zoé" in page
    resp, _ = await coco.post(
        "/admin/sel/accounts/zoe/status", {"status": "open", "back": "overview"}
    )
    assert resp.headers["Location"] == "/admin/sel?done=sel-approved"
    assert (await account(rn, "zoe")).status == AccountStatus.OPEN
    assert "Compte approuvé" in await coco.get("/admin/sel?done=sel-approved")
    assert "à approuver" not in await coco.get("/admin")

    # An admin correction: the confirmed exchange cancelled, with a reason.
    page = await coco.get("/admin/sel/accounts/kofi")
    assert "Annuler cet échange" in page and row.uuid in page
    _, page = await coco.post(
        "/admin/sel/accounts/kofi/cancel",
        {"exchange": row.uuid, "reason": "saisie en double"},
        status=400,
    )
    assert "cochez la case pour confirmer l&#39;annulation" in page
    assert (await exchange_row(rn, row.uuid)).state == "confirmed"
    resp, _ = await coco.post(
        "/admin/sel/accounts/kofi/cancel",
        {"exchange": row.uuid, "reason": "saisie en double", "confirm": "yes"},
    )
    assert resp.headers["Location"] == "/admin/sel/accounts/kofi?done=sel-cancelled"
    cancelled = await exchange_row(rn, row.uuid)
    assert (cancelled.state, cancelled.reason) == ("cancelled", "saisie en double")
    assert ((await account(rn, "kofi")).balance, (await account(rn, "awa")).balance) == (0, 0)
    page = await coco.get("/admin/sel/accounts/kofi")
    assert "annulé" in page and "saisie en double" in page and "Annuler cet échange" not in page
    _, page = await coco.post(
        "/admin/sel/accounts/kofi/cancel",
        {"exchange": row.uuid, "reason": "encore", "confirm": "yes"},
        status=400,
    )
    assert "seul un échange confirmé peut être annulé" in page
    assert (await sel.verify(rn.node, by=OPERATOR)).ok

    # English on request, kept by the links and forms.
    page = await coco.get("/admin/sel/accounts/kofi?lang=en")
    assert (
        "Change the limits" in page and 'action="/admin/sel/accounts/kofi/limits?lang=en"' in page
    )
    assert "sel-status-" not in page and "state:" not in page


# --------------------------------------------------------------------------------------------
# Check and export
# --------------------------------------------------------------------------------------------


async def test_the_ledger_check_shows_its_report_and_a_tampered_balance(
    make_node: MakeNode, person: People
) -> None:
    rn = await section(make_node, run_workers=False)
    await sel.account_open(rn.node, "kofi", "Kofi", None, None, by=OPERATOR)
    await confirmed(rn, "awa", "kofi", "1h30", "couture")
    coco = await coordinator_of(person, rn)
    await coco.get("/admin/sel")
    _, page = await coco.post("/admin/sel/verify", status=200)
    assert "Écritures vérifiées\u00a0: 1. Le journal est sain" in page
    assert "Somme de tous les soldes" in page and "nulle, comme il se doit" in page
    async with rn.node.sessions() as session, session.begin():
        kofi = (await session.execute(select(Account).where(Account.code == "kofi"))).scalar_one()
        kofi.balance = 1000
    _, page = await coco.post("/admin/sel/verify", status=200)
    assert 'class="alert" role="alert"' in page and "Problèmes trouvés" in page
    assert "kofi" in page


async def test_csv_exports_are_downloads_with_formula_cells_quoted(
    make_node: MakeNode, person: People
) -> None:
    rn = await section(make_node, run_workers=False)
    await sel.account_open(rn.node, "kofi", '=HYPERLINK("http://x")', None, None, by=OPERATOR)
    await confirmed(rn, "awa", "kofi", "1", "@SUM(A1:A9)")
    # More than a page of history: the export has every exchange.
    for i in range(200):
        await sel.exchange(rn.node, "awa", "kofi", "1", f"échange {i}", by=OPERATOR)
    coco = await coordinator_of(person, rn)
    await coco.get("/admin/sel")
    resp, body = await coco.post("/admin/sel/export", {"what": "accounts"}, status=200)
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="sel-accounts.csv"'
    assert resp.headers["Cache-Control"] == "no-store"
    rows = csv_rows(body)
    assert rows[0][:3] == ["code", "kind", "name"]
    [kofi] = [r for r in rows if r[0] == "kofi"]
    assert kofi[2] == '\'=HYPERLINK("http://x")'
    resp, body = await coco.post("/admin/sel/export", {"what": "exchanges"}, status=200)
    assert resp.headers["Content-Disposition"] == 'attachment; filename="sel-exchanges.csv"'
    rows = csv_rows(body)
    assert len(rows) == 1 + 201
    assert [r[8] for r in rows if r[8].endswith("(A1:A9)")] == ["'@SUM(A1:A9)"]
    assert not any(cell[:1] in ("=", "+", "-", "@") for r in rows[1:] for cell in r)


# --------------------------------------------------------------------------------------------
# Peers and reconciliation, between two real nodes
# --------------------------------------------------------------------------------------------


async def test_peers_are_added_and_reconciled_between_two_real_nodes(
    make_node: MakeNode, person: People
) -> None:
    lome = await section(make_node, "lome")
    mars = await make_node("marseille")
    await sel.account_open(mars.node, "bob", "Bob", None, None, by=OPERATOR)
    for a, b in ((lome, mars), (mars, lome)):
        await actions.follow(a.node, b.acct, by=OPERATOR)

    async def mutual() -> bool:
        for n in (lome, mars):
            rows = await actions.list_following(n.node, by=OPERATOR)
            if not any(r.state == "accepted" for r in rows):
                return False
        return True

    await wait_for(mutual)
    await ally(lome, mars)
    coco = await coordinator_of(person, lome)
    page = await coco.get("/admin/sel")
    assert "Aucune section pair pour l&#39;instant." in page
    resp, _ = await coco.post(
        "/admin/sel/peers",
        {"section": "@" + mars.acct, "their_spending": "10", "our_spending": "8"},
    )
    assert resp.headers["Location"] == "/admin/sel?done=peer-added"
    clearing = await account(lome, f"clearing:{mars.actor_id}")
    assert (clearing.lower_limit, clearing.upper_limit) == (-600, 480)
    mars_coco = await coordinator_of(person, mars, "marco")
    await mars_coco.get("/admin/sel")
    await mars_coco.post(
        "/admin/sel/peers", {"section": lome.acct, "their_spending": "8", "our_spending": "10"}
    )
    page = await coco.get("/admin/sel?done=peer-added")
    assert "Section pair enregistrée" in page and mars.url.split("://")[1] in page
    assert "ici : 10\u00a0h" in page and "là-bas : 8\u00a0h" in page

    # An exchange between the two sections, then the reconciliation.
    host = mars.url.split("://", 1)[1]
    row, _ = await sel.exchange(lome.node, "awa", f"bob@{host}", "2", "cours", by=OPERATOR)

    async def settled() -> bool:
        return (await exchange_row(lome, row.uuid)).state == "settled"

    await wait_for(settled)
    peer = str(clearing.id)
    _, page = await coco.post("/admin/sel/reconcile", {"peer": peer}, status=200)
    assert "En accord\u00a0:" in page, page[-3000:]
    assert "Solde de compensation ici : 2\u00a0h" in page
    assert "chez la section pair : -2\u00a0h" in page
    _, page = await coco.post("/admin/sel/reconcile?lang=en", {"peer": peer}, status=200)
    assert "In agreement" in page
    page = await coco.get("/admin/sel")
    assert "Solde de compensation : 2\u00a0h" in page
    assert 'awa</a> → <span class="uri">bob@' in page

    # What cannot be a peer: an unknown account, an unreachable host, ourselves.
    before = await snapshot(lome)
    for target, message in (
        (f"nobody@{host}", "cannot reach"),
        ("nobody@127.0.0.1:9", "cannot reach"),
        (lome.acct, "sa propre section pair"),
    ):
        _, page = await coco.post(
            "/admin/sel/peers",
            {"section": target, "their_spending": "1", "our_spending": "1"},
            status=400,
        )
        assert message in page, (target, page[-2000:])
        assert f'value="{target}"' in page
    _, page = await coco.post("/admin/sel/reconcile", {"peer": mars.actor_id}, status=400)
    assert "ne fait pas partie des choix" in page
    assert await snapshot(lome) == before


# --------------------------------------------------------------------------------------------
# Mediators and the node's note
# --------------------------------------------------------------------------------------------


async def test_a_coordinator_adds_and_removes_a_mediator(
    make_node: MakeNode, person: People
) -> None:
    rn = await section(make_node, run_workers=False)
    coco = await coordinator_of(person, rn)
    page = await coco.get("/admin/mediators")
    assert "Ama Mensah" in page and 'href="/me/mediator/ama/profile"' in page
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.startswith("Médiateurs · ") and "<" not in title
    assert page.count('id="remove"') == 1  # the remove form once, in the page
    resp, _ = await coco.post(
        "/admin/mediators",
        {
            "username": "kwame",
            "name": "Kwame Asante",
            "summary": "Médiation familiale.\r\nÀ Lomé.",
            "skills": "écoute, droit du travail",
            "area": "Lomé",
            "contact": "mailto:kwame@example.org",
        },
    )
    assert resp.headers["Location"] == "/admin/mediators?done=mediator-added"
    [kwame] = [m for m in await content.mediator_list(rn.node) if m.username == "kwame"]
    assert (kwame.name, kwame.summary, kwame.skill_list, kwame.area, kwame.contact_url) == (
        "Kwame Asante",
        "Médiation familiale.\nÀ Lomé.",
        ["écoute", "droit du travail"],
        "Lomé",
        "mailto:kwame@example.org",
    )
    page = await coco.get("/admin/mediators?done=mediator-added")
    assert "Médiateur ajouté" in page and 'href="/me/mediator/kwame/profile"' in page
    # The edit link works for the coordinator.
    assert "Kwame Asante" in await coco.get("/me/mediator/kwame/profile")
    async with coco.http.get(f"{rn.url}/users/kwame") as r:
        assert r.status == 200 and "Kwame Asante" in await r.text()

    # The same name again, and a contact that is no link, are refused with what was typed.
    _, page = await coco.post("/admin/mediators", {"username": "kwame", "name": "K"}, status=400)
    assert "already taken" in page
    _, page = await coco.post(
        "/admin/mediators",
        {"username": "kossi", "name": "Kossi", "contact": "javascript:alert(1)"},
        status=400,
    )
    assert "le contact doit commencer par" in page and 'value="kossi"' in page

    # Removing needs the box ticked.
    _, page = await coco.post("/admin/mediators/remove", {"username": "kwame"}, status=400)
    assert "cochez la case pour confirmer le retrait" in page
    resp, _ = await coco.post("/admin/mediators/remove", {"username": "kwame", "confirm": "yes"})
    assert resp.headers["Location"] == "/admin/mediators?done=mediator-removed"
    assert "kwame" not in [m.username for m in await content.mediator_list(rn.node)]
    async with coco.http.get(f"{rn.url}/users/kwame") as r:
        assert r.status == 410
    _, page = await coco.post(
        "/admin/mediators/remove", {"username": "kwame", "confirm": "yes"}, status=400
    )
    assert "ne fait pas partie des choix" in page


async def notes(rn: RunningNode) -> list[LocalObject]:
    async with rn.node.sessions() as session:
        q = select(LocalObject).where(LocalObject.type == "Note")
        return list((await session.execute(q)).scalars().all())


async def test_a_coordinator_posts_a_note_once(make_node: MakeNode, person: People) -> None:
    rn = await make_node("lome", run_workers=False)
    coco = await coordinator_of(person, rn)
    page = await coco.get("/admin")
    assert "Publier une note" in page
    form = {"note": "Assemblée générale jeudi à 18 h.\r\nVenez nombreux !"}
    resp, _ = await coco.post("/admin/note", form)
    assert resp.headers["Location"] == "/admin?done=posted"
    assert "Note publiée" in await coco.get("/admin?done=posted")
    # The same form sent again right away (a double-click, twice at once) posts nothing more.
    await asyncio.gather(coco.post("/admin/note", form), coco.post("/admin/note", form))
    [note] = await notes(rn)
    assert "Assemblée générale jeudi" in note.content
    async with coco.http.get(rn.actor_id) as r:
        assert "Assemblée générale jeudi" in await r.text()
    other = {"note": "Autre chose."}
    await asyncio.gather(coco.post("/admin/note", other), coco.post("/admin/note", other))
    assert len(await notes(rn)) == 2


# --------------------------------------------------------------------------------------------
# Who may do what
# --------------------------------------------------------------------------------------------


async def permission_node(make_node: MakeNode) -> tuple[RunningNode, Exchange]:
    rn = await section(make_node, run_workers=False)
    await sel.account_open(rn.node, "kofi", "Kofi", None, None, by=OPERATOR)
    await sel.account_open(rn.node, "zoe", "", None, None, requested=True, by=OPERATOR)
    row = await confirmed(rn, "awa", "kofi", "1", "jardinage")
    return rn, row


async def test_members_and_mediators_get_403_on_every_new_route_and_nothing_changes(
    make_node: MakeNode, person: People
) -> None:
    rn, row = await permission_node(make_node)
    gets, posts = new_routes(rn)
    form = {
        # Every field of every new form, valid: only the role check stands in the way.
        "code": "intruder",
        "name": "Intrus",
        "lower": "-100",
        "upper": "100",
        "status": "closed",
        "exchange": row.uuid,
        "reason": "pirate",
        "confirm": "yes",
        "section": rn.acct,
        "their_spending": "100",
        "our_spending": "100",
        "peer": rn.actor_id,
        "what": "accounts",
        "username": "ama",
        "note": "Pirate",
    }
    member = await invited(person, rn, "awa", ["member:awa"])
    mediator = await invited(person, rn, "ama", ["mediator:ama"])
    before = await snapshot(rn)
    for who in (member, mediator):
        token = who.csrf
        for path in gets:
            body = await who.get(path, status=403)
            assert "seule la coordination" in body, path
        for path in posts:
            resp, body = await who.post(path, {**form, "csrf": token}, status=403)
            assert "seule la coordination" in body, path
            assert resp.headers["Content-Type"].startswith("text/html"), path
    assert await snapshot(rn) == before
    # The same form from a coordinator does change things (the form is not what refused).
    coco = await coordinator_of(person, rn)
    await coco.post("/admin/sel/accounts", form)
    assert (await account(rn, "intruder")).name == "Intrus"


async def test_hostile_fields_get_a_400_page_with_the_reason_and_change_nothing(
    make_node: MakeNode, person: People
) -> None:
    rn, row = await permission_node(make_node)
    coco = await coordinator_of(person, rn)
    before = await snapshot(rn)
    peer = {"section": "nobody@127.0.0.1:9", "their_spending": "1", "our_spending": "1"}
    mediator = {"username": "kwame", "name": "Kwame"}
    cases: list[tuple[str, dict[str, str], str]] = [
        # Opening an account.
        ("/admin/sel/accounts", {"code": "a" * 10_000}, "63 caractères au plus"),
        ("/admin/sel/accounts", {"code": ""}, "obligatoire"),
        ("/admin/sel/accounts", {"code": "Kofi2"}, "un code de compte"),
        ("/admin/sel/accounts", {"code": "x\u0000y"}, "caractère de contrôle"),
        ("/admin/sel/accounts", {"code": "x", "name": "a\nb"}, "une seule ligne"),
        ("/admin/sel/accounts", {"code": "x", "name": "n" * 201}, "200 caractères au plus"),
        ("/admin/sel/accounts", {"code": "x", "name": "\u009b2J"}, "caractère de contrôle"),
        ("/admin/sel/accounts", {"code": "x", "lower": "1e9"}, "écrivez les heures"),
        ("/admin/sel/accounts", {"code": "x", "upper": "1e9"}, "écrivez les heures"),
        ("/admin/sel/accounts", {"code": "x", "upper": "inf"}, "écrivez les heures"),
        ("/admin/sel/accounts", {"code": "x", "upper": "NaN"}, "écrivez les heures"),
        ("/admin/sel/accounts", {"code": "x", "upper": "1_000"}, "écrivez les heures"),
        ("/admin/sel/accounts", {"code": "x", "upper": "9" * 13}, "12 caractères au plus"),
        ("/admin/sel/accounts", {"code": "x", "lower": "5"}, "la limite basse doit être ≤ 0"),
        ("/admin/sel/accounts", {"code": "x", "lower": "-99999999"}, "100\u00a0000 heures"),
        ("/admin/sel/accounts", {"code": "awa"}, "existe déjà"),
        # Changing one.
        ("/admin/sel/accounts/kofi/limits", {"lower": "1e9", "upper": "1"}, "écrivez les heures"),
        ("/admin/sel/accounts/kofi/limits", {"lower": "", "upper": "1"}, "obligatoire"),
        ("/admin/sel/accounts/kofi/limits", {"lower": "-1", "upper": "-1"}, "≤ 0"),
        (
            "/admin/sel/accounts/kofi/limits",
            {"lower": "-1", "upper": "0.5"},
            "sort des nouvelles limites",
        ),
        (
            "/admin/sel/accounts/awa/limits",
            {"lower": "-0.5", "upper": "1"},
            "sort des nouvelles limites",
        ),
        ("/admin/sel/accounts/kofi/status", {"status": "frozen"}, "ne fait pas partie"),
        ("/admin/sel/accounts/kofi/status", {"status": "closed"}, "seul un compte à zéro"),
        ("/admin/sel/accounts/zoe/status", {"status": "requested"}, "ne fait pas partie"),
        (
            "/admin/sel/accounts/zoe/status",
            {"status": "open", "back": "https://evil.example"},
            "ne fait pas partie",
        ),
        # Cancelling an exchange.
        (
            "/admin/sel/accounts/kofi/cancel",
            {"exchange": "../../etc", "reason": "x", "confirm": "yes"},
            "ne fait pas partie",
        ),
        (
            "/admin/sel/accounts/kofi/cancel",
            {"exchange": row.uuid, "reason": "r" * 501, "confirm": "yes"},
            "500 caractères au plus",
        ),
        (
            "/admin/sel/accounts/kofi/cancel",
            {"exchange": row.uuid, "reason": "", "confirm": "yes"},
            "obligatoire",
        ),
        (
            "/admin/sel/accounts/kofi/cancel",
            {"exchange": row.uuid, "reason": "x\u001b", "confirm": "yes"},
            "caractère de contrôle",
        ),
        (
            "/admin/sel/accounts/kofi/cancel",
            {"exchange": "00000000-0000-0000-0000-000000000000", "reason": "x", "confirm": "yes"},
            "aucun échange",
        ),
        # Peers.
        ("/admin/sel/peers", {**peer, "section": ""}, "obligatoire"),
        ("/admin/sel/peers", {**peer, "section": "x" * 3000}, "2048 caractères au plus"),
        ("/admin/sel/peers", {**peer, "their_spending": "1e9"}, "écrivez les heures"),
        ("/admin/sel/peers", {**peer, "our_spending": "-3"}, "zéro ou plus"),
        ("/admin/sel/peers", {**peer, "our_spending": ""}, "obligatoire"),
        ("/admin/sel/peers", peer, "cannot reach nobody@127.0.0.1:9"),
        ("/admin/sel/peers", {**peer, "section": "not a handle"}, "neither name@host"),
        ("/admin/sel/reconcile", {"peer": rn.actor_id}, "ne fait pas partie"),
        ("/admin/sel/reconcile", {"peer": "1"}, "ne fait pas partie"),
        ("/admin/sel/export", {"what": "passwords"}, "ne fait pas partie"),
        # Mediators.
        ("/admin/mediators", {**mediator, "username": "k" * 31}, "30 caractères au plus"),
        ("/admin/mediators", {**mediator, "username": "Kwame!"}, "lowercase letters"),
        ("/admin/mediators", {**mediator, "name": ""}, "obligatoire"),
        ("/admin/mediators", {**mediator, "summary": "s" * 2001}, "2000 caractères au plus"),
        ("/admin/mediators", {**mediator, "area": "Lomé\u0000"}, "caractère de contrôle"),
        (
            "/admin/mediators",
            {**mediator, "skills": ",".join(f"s{i}" for i in range(21))},
            "20 compétences au plus",
        ),
        ("/admin/mediators", {**mediator, "contact": "javascript:x"}, "doit commencer par"),
        ("/admin/mediators/remove", {"username": "../ama", "confirm": "yes"}, "ne fait pas"),
        # The note.
        ("/admin/note", {"note": "   "}, "obligatoire"),
        ("/admin/note", {"note": "n" * 5001}, "5000 caractères au plus"),
        ("/admin/note", {"note": "bip\u0007"}, "caractère de contrôle"),
    ]
    for path, form, message in cases:
        await coco.get("/admin")
        resp, body = await coco.post(path, form, status=400)
        assert message in body, (path, form, body[-1500:])
        assert resp.headers["Content-Type"].startswith("text/html"), path
        assert "<html" in body and 'role="alert"' in body
    # Paths that name no member account.
    await coco.get("/admin/sel/accounts/nobody", status=404)
    await coco.get(f"/admin/sel/accounts/clearing:{rn.actor_id}", status=404)
    await coco.get("/admin/sel/accounts/" + "a" * 70, status=404)
    await coco.post("/admin/sel/accounts/nobody/limits", {"lower": "-1", "upper": "1"}, status=404)
    assert await snapshot(rn) == before


# --------------------------------------------------------------------------------------------
# The pages themselves
# --------------------------------------------------------------------------------------------


async def test_sel_pages_stay_small_with_full_lists_and_long_fields(
    make_node: MakeNode, person: People
) -> None:
    rn = await section(make_node, run_workers=False)
    coco = await coordinator_of(person, rn)
    node = rn.node
    # Names and descriptions at their longest, made of characters HTML escapes.
    long_name = "&<" * 100
    await sel.account_open(node, "kofi", long_name, "-1000", "1000", by=OPERATOR)
    await sel.account_open(node, "big", long_name, "-1000", "1000", by=OPERATOR)
    for i in range(80):
        await sel.account_open(
            node, f"m{i:03d}", long_name, None, None, requested=i % 2 == 0, by=OPERATOR
        )
    for _ in range(45):
        await confirmed(rn, "kofi", "big", "1", "&<" * 250)
    for i in range(40):
        await content.mediator_add(
            node, f"m{i:02d}{'_' * 26}", Profile(name="&<" * 50), by=OPERATOR
        )
    async with node.sessions() as session, session.begin():
        for i in range(30):
            await open_clearing(
                session,
                f"http://127.0.0.1:9/{'p' * 1900}/users/s{i}",
                long_name,
                max_deficit=600,
                max_surplus=600,
            )
    for path in (
        "/admin",
        "/admin/sel",
        "/admin/sel/accounts",
        "/admin/sel/accounts?page=2",
        "/admin/sel/accounts/kofi",
        "/admin/mediators",
    ):
        for lang in ("", "?lang=en" if "?" not in path else "&lang=en"):
            async with coco.http.get(rn.url + path + lang) as r:
                body = await r.read()
                assert r.status == 200, path
                assert r.headers["Cache-Control"] == "no-store"
            html = body.decode()
            assert len(body) < MAX_PAGE, (path, lang, len(body))
            assert "<script" not in html.lower() and "&<" not in html
            assert f'lang="{"en" if lang else "fr"}"' in html
            for code in ("sel-status-", "sel-kind-", "state:"):
                assert code not in html, (path, code)
    first = await coco.get("/admin/sel/accounts")
    assert first.count('class="row"') == coordinator_sel.SHOWN_ACCOUNTS
    assert "Page suivante" in first
    total = 3 + 80 + 30  # awa, kofi, big, the members, the peers
    last = await coco.get("/admin/sel/accounts?page=3")
    assert last.count('class="row"') == total - 2 * coordinator_sel.SHOWN_ACCOUNTS
    assert f"Tous les comptes SEL ({total})" in last and "Page suivante" not in last
    mediators = await coco.get("/admin/mediators")
    assert "Les médiateurs de la section (41)" in mediators
    assert (
        mediators.count('class="row"') == SHOWN_MEDIATORS and "coopnet mediator list" in mediators
    )
    one = await coco.get("/admin/sel/accounts/kofi")
    assert one.count("Annuler cet échange") == coordinator_sel.SHOWN_HISTORY
    # The results of a check with many problems, and its page, stay small too.
    async with node.sessions() as session, session.begin():
        for a in (await session.execute(select(Account))).scalars():
            a.balance += 7
    _, page = await coco.post("/admin/sel/verify", status=200)
    assert len(page.encode()) < MAX_PAGE and "Problèmes trouvés" in page
    assert "coopnet sel verify" in page


def test_every_sel_code_shown_has_a_french_and_an_english_word() -> None:
    ids = [f"sel-status-{s.value}" for s in AccountStatus]
    ids += [f"sel-kind-{k}" for k in ("member", "clearing")]
    ids += [f"state:{s.value}" for s in State]
    assert [i for i in ids if i not in CATALOG["fr"]] == []
    assert [i for i in ids if i not in CATALOG["en"]] == []
    fr_only = re.compile(r"[éèàçù]")
    assert [i for i in ids if fr_only.search(CATALOG["en"][i])] == []
