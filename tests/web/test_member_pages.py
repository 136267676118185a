"""A member's time account in the browser's place: record, confirm, withdraw, export.

Real nodes, real HTTP; every refusal is checked to change nothing (the
balances and the exchange's state are read back from the database).
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from models.accounts import OPERATOR
from models.sel.accounts import Account
from models.sel.exchanges import Exchange
from node import sel
from node.actions import follow, list_following
from tests.allies import ally
from tests.conftest import MakeNode, RunningNode
from tests.web.browsing import Visitor, invite_and_log_in


async def section(make_node: MakeNode, name: str = "lome", **kw: object) -> RunningNode:
    rn = await make_node(name, **kw)
    for code, label in (("awa", "Awa Diallo"), ("bob", "Bob Martin"), ("cam", "Camille")):
        await sel.account_open(rn.node, code, label, None, None, by=OPERATOR)
    return rn


async def balances(rn: RunningNode) -> dict[str, int]:
    async with rn.node.sessions() as session:
        return {a.code: a.balance for a in (await session.scalars(select(Account))).all()}


async def only_exchange(rn: RunningNode) -> Exchange:
    async with rn.node.sessions() as session:
        return (await session.scalars(select(Exchange))).one()


@pytest.fixture
async def visitors() -> AsyncIterator[list[Visitor]]:
    opened: list[Visitor] = []
    yield opened
    for v in opened:
        await v.close()


async def test_a_member_records_a_service_and_the_other_confirms_it(
    make_node: MakeNode, visitors: list[Visitor]
) -> None:
    rn = await section(make_node)
    awa = await invite_and_log_in(rn, "awa", ["member:awa"])
    bob = await invite_and_log_in(rn, "bob", ["member:bob"])
    visitors += [awa, bob]
    page = await awa.get("/me/sel")
    assert page.status == 200 and "Bob Martin" in page.text  # chosen by name
    done = await awa.post(
        "/me/sel/record",
        {"direction": "gave", "with": "member:bob", "hours": "1h30",
         "description": "Jardinage", "category": "help"},
        form_page="/me/sel",
    )  # fmt: skip
    assert done.status == 303 and done.headers["Location"] == "/me/sel?ok=recorded"
    assert (await balances(rn))["awa"] == 0  # nothing posts before bob answers
    home = await bob.get("/me")
    assert "1 à confirmer" in home.text
    exchange = await only_exchange(rn)
    # awa cannot answer her own record in bob's place.
    refused = await awa.post(
        f"/me/sel/exchanges/{exchange.uuid}/confirm", {"account": "awa"}, form_page="/me/sel"
    )
    assert refused.status == 400 and "bob" in refused.text
    refused = await awa.post(
        f"/me/sel/exchanges/{exchange.uuid}/confirm", {"account": "bob"}, form_page="/me/sel"
    )
    assert refused.status == 403
    assert (await only_exchange(rn)).state == "pending"
    ok = await bob.post(
        f"/me/sel/exchanges/{exchange.uuid}/confirm", {"account": "bob"}, form_page="/me/sel"
    )
    assert ok.status == 303
    assert (await balances(rn))["awa"] == 90 and (await balances(rn))["bob"] == -90
    page = await awa.get("/me/sel")
    assert "+1,5 h" in page.text and "Jardinage" in page.text  # French writes a decimal comma
    english = await awa.get("/me/sel?lang=en")
    assert "+1.5 h" in english.text and "1,5" not in english.text
    export = await awa.get("/me/sel/export.csv?account=awa")
    assert export.status == 200 and export.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [(r["payer"], r["payee"], r["minutes"], r["state"]) for r in rows] == [
        ("bob", "awa", "90", "confirmed")
    ]
    assert (await awa.get("/me/sel/export.csv?account=bob")).status == 403


async def test_a_member_withdraws_a_pending_record_and_cannot_touch_others(
    make_node: MakeNode, visitors: list[Visitor]
) -> None:
    rn = await section(make_node)
    awa = await invite_and_log_in(rn, "awa", ["member:awa"])
    visitors.append(awa)
    # An exchange between bob and cam, recorded at the command line.
    other, _ = await sel.exchange(rn.node, "bob", "cam", "2", "Transport", by=OPERATOR)
    for action in ("confirm", "reject", "withdraw"):
        for account in ("awa", "cam", "bob"):
            page = await awa.post(
                f"/me/sel/exchanges/{other.uuid}/{action}",
                {"account": account},
                form_page="/me/sel",
            )
            assert page.status in (400, 403), (action, account)
    assert (await only_exchange(rn)).state == "pending"
    mine = await awa.post(
        "/me/sel/record",
        {"direction": "received", "with": "member:cam", "hours": "1", "description": "Couture"},
        form_page="/me/sel",
    )
    assert mine.status == 303
    async with rn.node.sessions() as session:
        row = (await session.scalars(select(Exchange).where(Exchange.uuid != other.uuid))).one()
    assert "Retirer" in (await awa.get("/me/sel")).text
    gone = await awa.post(
        f"/me/sel/exchanges/{row.uuid}/withdraw", {"account": "awa"}, form_page="/me/sel"
    )
    assert gone.status == 303
    async with rn.node.sessions() as session:
        assert (await session.get(Exchange, row.id)).state == "rejected"  # type: ignore[union-attr]


async def test_bad_records_are_refused_with_their_reason_and_change_nothing(
    make_node: MakeNode, visitors: list[Visitor]
) -> None:
    rn = await section(make_node)
    awa = await invite_and_log_in(rn, "awa", ["member:awa"])
    visitors.append(awa)
    base = {"direction": "gave", "with": "member:bob", "hours": "1", "description": "Aide"}
    cases = [
        ({"hours": "1e9"}, "1,5, 1h30"),
        ({"hours": "-2"}, "positive"),
        ({"description": "x" * 600}, "500"),
        ({"description": "   "}, "décrivez"),
        ({"with": "member:nobody"}, "nobody"),
        ({"with": ""}, "choisissez"),
        ({"direction": "sideways"}, "indiquez"),
        ({"hours": "500"}, "limit"),
        ({"account": "bob"}, "propre compte"),
    ]
    for change, words in cases:
        page = await awa.post("/me/sel/record", {**base, **change}, form_page="/me/sel")
        assert page.status in (400, 403), change
        assert words in page.text, (change, page.text[:2000])
    async with rn.node.sessions() as session:
        assert (await session.scalars(select(Exchange))).all() == []


async def test_the_member_pages_are_for_members_only(
    make_node: MakeNode, visitors: list[Visitor]
) -> None:
    rn = await section(make_node)
    chef = await invite_and_log_in(rn, "chef", ["coordinator"])
    anonymous = Visitor(rn)
    visitors += [chef, anonymous]
    assert (await chef.get("/me/sel")).status == 403
    page = await anonymous.get("/me/sel")
    assert page.status == 303 and page.headers["Location"] == "/login?next=/me/sel"
    assert (await anonymous.get("/me/sel/export.csv")).status == 303
    # A form posted without its token, even by a logged-in member, does nothing.
    awa = await invite_and_log_in(rn, "awa", ["member:awa"])
    visitors.append(awa)
    page = await awa.post(
        "/me/sel/record",
        {"direction": "gave", "with": "member:bob", "hours": "1", "description": "Aide"},
        csrf=False,
    )
    assert page.status == 403
    async with rn.node.sessions() as session:
        assert (await session.scalars(select(Exchange))).all() == []


async def test_a_member_pays_a_member_of_a_peer_section(
    make_node: MakeNode, visitors: list[Visitor]
) -> None:
    lome = await section(make_node, "lome")
    marseille = await section(make_node, "marseille")
    await follow(lome.node, marseille.acct, by=OPERATOR)
    await follow(marseille.node, lome.acct, by=OPERATOR)

    async def mutual() -> bool:
        for rn in (lome, marseille):
            if not any(r.state == "accepted" for r in await list_following(rn.node, by=OPERATOR)):
                return False
        return True

    for _ in range(100):
        if await mutual():
            break
        await asyncio.sleep(0.05)
    await ally(lome, marseille)
    await sel.peer_add(lome.node, marseille.acct, "10", "10", by=OPERATOR)
    await sel.peer_add(marseille.node, lome.acct, "10", "10", by=OPERATOR)
    awa = await invite_and_log_in(lome, "awa", ["member:awa"])
    visitors.append(awa)
    page = await awa.get("/me/sel")
    host = marseille.url.split("://", 1)[1]
    assert f'value="peer:{host}"' in page.text
    done = await awa.post(
        "/me/sel/record",
        {"direction": "received", "with": f"peer:{host}", "remote": "bob", "hours": "1h",
         "description": "Aide au site web", "category": "website"},
        form_page="/me/sel",
    )  # fmt: skip
    assert done.status == 303, done.text[:2000]
    for _ in range(200):
        if (await only_exchange(lome)).state == "settled":
            break
        await asyncio.sleep(0.05)
    assert (await only_exchange(lome)).state == "settled"
    assert (await balances(lome))["awa"] == -60
    assert (await balances(marseille))["bob"] == 60


async def peered(
    make_node: MakeNode, **marseille_settings: object
) -> tuple[RunningNode, RunningNode]:
    lome = await section(make_node, "lome")
    marseille = await section(make_node, "marseille", **marseille_settings)
    await follow(lome.node, marseille.acct, by=OPERATOR)
    await follow(marseille.node, lome.acct, by=OPERATOR)
    for _ in range(100):
        states = [
            any(r.state == "accepted" for r in await list_following(rn.node, by=OPERATOR))
            for rn in (lome, marseille)
        ]
        if all(states):
            break
        await asyncio.sleep(0.05)
    await ally(lome, marseille)
    await sel.peer_add(lome.node, marseille.acct, "10", "10", by=OPERATOR)
    await sel.peer_add(marseille.node, lome.acct, "10", "10", by=OPERATOR)
    return lome, marseille


async def state_at(rn: RunningNode, wanted: str) -> Exchange:
    """The node's one exchange, once it has reached ``wanted`` (it may not exist yet)."""
    seen = None
    for _ in range(200):
        async with rn.node.sessions() as session:
            row = (await session.scalars(select(Exchange))).first()
        seen = row.state if row else None
        if row is not None and row.state == wanted:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"exchange at {rn.url} is {seen}, not {wanted}")


async def test_the_paid_member_of_the_peer_section_confirms_in_their_own_session(
    make_node: MakeNode, visitors: list[Visitor]
) -> None:
    lome, marseille = await peered(make_node, sel_confirm_incoming=True)
    awa = await invite_and_log_in(lome, "awa", ["member:awa"])
    bob = await invite_and_log_in(marseille, "bob", ["member:bob"])
    visitors += [awa, bob]
    host = marseille.url.split("://", 1)[1]
    done = await awa.post(
        "/me/sel/record",
        {"direction": "received", "with": f"peer:{host}", "remote": "bob", "hours": "1h30",
         "description": "Réparation de vélo", "category": "repair"},
        form_page="/me/sel",
    )  # fmt: skip
    assert done.status == 303
    waiting = await state_at(marseille, "awaiting")
    assert (await balances(marseille))["bob"] == 0  # nothing posted before bob says so
    await asyncio.sleep(0.3)
    assert (await only_exchange(lome)).state == "held"  # and nothing answered
    assert "1 à confirmer" in (await bob.get("/me")).text
    page = await bob.get("/me/sel")
    assert "Réparation de vélo" in page.text and "awa@" in page.text
    # Nobody else answers in bob's place, not even a member of the same section.
    cam = await invite_and_log_in(marseille, "cam", ["member:cam"])
    visitors.append(cam)
    for account in ("cam", "bob"):
        refused = await cam.post(
            f"/me/sel/exchanges/{waiting.uuid}/confirm", {"account": account}, form_page="/me/sel"
        )
        assert refused.status in (400, 403)
    assert (await only_exchange(marseille)).state == "awaiting"
    ok = await bob.post(
        f"/me/sel/exchanges/{waiting.uuid}/confirm", {"account": "bob"}, form_page="/me/sel"
    )
    assert ok.status == 303, ok.text[:2000]
    await state_at(lome, "settled")
    assert (await balances(lome))["awa"] == -90 and (await balances(marseille))["bob"] == 90
    for rn in (lome, marseille):
        assert (await sel.verify(rn.node, by=OPERATOR)).ok
    rec = await sel.reconcile(lome.node, marseille.acct, by=OPERATOR)
    assert rec.ok and not rec.in_flight


async def test_a_declined_or_expired_exchange_releases_the_payers_hold(
    make_node: MakeNode, visitors: list[Visitor]
) -> None:
    from datetime import timedelta

    from models.base import utcnow
    from models.sel.accounts import LedgerError

    lome, marseille = await peered(make_node, sel_confirm_incoming=True)
    bob = await invite_and_log_in(marseille, "bob", ["member:bob"])
    visitors.append(bob)
    host = marseille.url.split("://", 1)[1]
    await sel.exchange(lome.node, "awa", f"bob@{host}", "2", "Cours", by=OPERATOR)
    waiting = await state_at(marseille, "awaiting")
    page = await bob.post(
        f"/me/sel/exchanges/{waiting.uuid}/reject", {"account": "bob"}, form_page="/me/sel"
    )
    assert page.status == 303
    rejected = await state_at(lome, "rejected")
    assert rejected.reason_code == "declined"
    async with lome.node.sessions() as session:
        awa = (await session.scalars(select(Account).where(Account.code == "awa"))).one()
        assert awa.held == 0 and awa.balance == 0

    # A second one, confirmed too late: this section's clock says it expired.
    first = rejected.uuid
    await sel.exchange(lome.node, "awa", f"bob@{host}", "1", "Cours encore", by=OPERATOR)
    for _ in range(200):
        async with marseille.node.sessions() as session:
            late = (
                await session.scalars(select(Exchange).where(Exchange.state == "awaiting"))
            ).first()
        if late is not None:
            break
        await asyncio.sleep(0.05)
    assert late is not None
    # Its expiry passes at marseille before bob answers (moved back, rather than
    # waiting for it: the delivery queue keeps running on the real clock).
    async with marseille.node.write() as session:
        row = await session.get(Exchange, late.id)
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(LedgerError, match="expired"):
        await sel.confirm(marseille.node, late.uuid, "bob", by=OPERATOR)
    async with marseille.node.sessions() as session:
        assert (await session.get(Exchange, late.id)).state == "refused"  # type: ignore[union-attr]
        assert (
            await session.scalars(select(Account).where(Account.code == "bob"))
        ).one().balance == 0
    for _ in range(200):
        async with lome.node.sessions() as session:
            row = (await session.scalars(select(Exchange).where(Exchange.uuid != first))).one()
        if row.state == "expired":
            break
        await asyncio.sleep(0.05)
    assert row.state == "expired"


async def test_an_exchange_nobody_confirmed_is_refused_when_asked_after_its_expiry(
    make_node: MakeNode,
) -> None:
    """bob never answers: once the expiry has passed on both sides, the payer's
    section asks again (its chore), and the repeated Offer finds the exchange
    still waiting and past its expiry: refused as expired, the hold released."""
    from datetime import timedelta

    from models.base import utcnow
    from node.worker import MaintenanceWorker

    lome, marseille = await peered(make_node, sel_confirm_incoming=True)
    host = marseille.url.split("://", 1)[1]
    await sel.exchange(lome.node, "awa", f"bob@{host}", "1", "Cours", by=OPERATOR)
    waiting = await state_at(marseille, "awaiting")
    past = utcnow() - timedelta(seconds=1)
    for rn, uri in ((marseille, waiting.uri), (lome, waiting.uri)):
        async with rn.node.write() as session:
            row = (await session.scalars(select(Exchange).where(Exchange.uri == uri))).one()
            row.expires_at = past
            if row.asked_at is not None:
                row.asked_at = past - timedelta(seconds=1)  # asked before it expired
    assert await MaintenanceWorker(lome.node).run_once() >= 1
    lome.node.wake_delivery.set()
    expired = await state_at(lome, "expired")
    assert expired.reason_code == "expired"
    refused = await state_at(marseille, "refused")
    assert refused.reason_code == "expired"
    assert (await balances(lome))["awa"] == 0 and (await balances(marseille))["bob"] == 0


async def test_two_answers_at_once_to_an_awaiting_exchange_decide_it_once(
    make_node: MakeNode,
) -> None:
    """A confirmation and a decline racing (two browser tabs; on PostgreSQL two
    connections): the row is read under its lock, so one decides and the other
    finds it decided; one answer only goes to the payer's section."""
    from models.outbox import Activity

    lome, marseille = await peered(make_node, sel_confirm_incoming=True)
    host = marseille.url.split("://", 1)[1]
    await sel.exchange(lome.node, "awa", f"bob@{host}", "1", "Cours", by=OPERATOR)
    waiting = await state_at(marseille, "awaiting")
    results = await asyncio.gather(
        sel.confirm(marseille.node, waiting.uuid, "bob", by=OPERATOR),
        sel.reject(marseille.node, waiting.uuid, "bob", "non", by=OPERATOR),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Exception) for r in results) == 1, results
    async with marseille.node.sessions() as session:
        answers = (
            await session.scalars(
                select(Activity).where(
                    Activity.type.in_(["Accept", "Reject"]), Activity.ordered.is_(True)
                )
            )
        ).all()
    assert len(answers) == 1
    final = await only_exchange(marseille)
    assert final.state in ("committed", "refused")
    await state_at(lome, "settled" if final.state == "committed" else "rejected")
