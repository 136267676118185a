"""SEL: exchanges inside a section and between two real sections on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from models.accounts import OPERATOR
from models.sel.accounts import Account, LedgerError
from models.sel.exchanges import Exchange
from node import sel
from node.actions import follow, list_following
from tests.allies import ally, ally_rows
from tests.conftest import MakeNode, RunningNode


async def until(check: Callable[[], Awaitable[bool]], what: str, limit: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def balance(rn: RunningNode, code: str) -> int:
    async with rn.node.sessions() as session:
        acc = (await session.execute(select(Account).where(Account.code == code))).scalar_one()
        return acc.balance


async def state(rn: RunningNode, uri: str) -> str | None:
    async with rn.node.sessions() as session:
        row = (
            await session.execute(select(Exchange).where(Exchange.uri == uri))
        ).scalar_one_or_none()
        return row.state if row else None


async def test_local_exchange_confirm_and_cancel(make_node: MakeNode) -> None:
    rn = await make_node("lome", run_workers=False)
    await sel.account_open(rn.node, "ama", "Ama", None, None, by=OPERATOR)
    await sel.account_open(rn.node, "kofi", "Kofi", None, None, by=OPERATOR)
    row, _ = await sel.exchange(rn.node, "ama", "kofi", "1h30", "jardinage", "help", by=OPERATOR)
    assert row.state == "pending"
    assert await balance(rn, "ama") == 0  # nothing posts before the other confirms
    with pytest.raises(LedgerError, match="only 'kofi'"):
        await sel.confirm(rn.node, row.uuid, "ama", by=OPERATOR)
    row, _ = await sel.confirm(rn.node, row.uuid, "kofi", by=OPERATOR)
    assert row.state == "confirmed"
    assert (await balance(rn, "ama"), await balance(rn, "kofi")) == (-90, 90)
    await sel.cancel(rn.node, row.uuid, "erreur de saisie", by=OPERATOR)
    assert (await balance(rn, "ama"), await balance(rn, "kofi")) == (0, 0)
    report = await sel.verify(rn.node, by=OPERATOR)
    assert report.ok and report.entries == 2


async def test_over_limit_is_refused_and_changes_nothing(make_node: MakeNode) -> None:
    rn = await make_node("lome", run_workers=False)
    await sel.account_open(rn.node, "ama", "", "-2", "2", by=OPERATOR)
    await sel.account_open(rn.node, "kofi", "", None, None, by=OPERATOR)
    with pytest.raises(LedgerError, match="below its limit"):
        await sel.exchange(rn.node, "ama", "kofi", "3", "trop", by=OPERATOR)
    for bad in ("-1", "0", "abc", "100000"):
        with pytest.raises(LedgerError):
            await sel.exchange(rn.node, "ama", "kofi", bad, "x", by=OPERATOR)
    with pytest.raises(LedgerError, match="no SEL account"):
        await sel.exchange(rn.node, "ama", "nobody", "1", "x", by=OPERATOR)
    assert await rn.count(Exchange) == 0
    assert (await balance(rn, "ama"), await balance(rn, "kofi")) == (0, 0)


async def peered(make_node: MakeNode, mars_deficit: str = "10") -> tuple[RunningNode, RunningNode]:
    lome = await make_node("lome")
    mars = await make_node("marseille")
    await ally(lome, mars)
    for a, b in ((lome, mars), (mars, lome)):
        await follow(a.node, b.acct, by=OPERATOR)
        await sel.peer_add(a.node, b.acct, mars_deficit if a is mars else "10", "10", by=OPERATOR)

    async def mutual() -> bool:
        for n in (lome, mars):
            if not any(r.state == "accepted" for r in await list_following(n.node, by=OPERATOR)):
                return False
        return True

    await until(mutual, "mutual follows")
    await sel.account_open(lome.node, "ama", "", None, None, by=OPERATOR)
    await sel.account_open(mars.node, "bob", "", None, None, by=OPERATOR)
    return lome, mars


async def test_inter_section_exchange_settles_on_both_sides(make_node: MakeNode) -> None:
    lome, mars = await peered(make_node)
    host = mars.url.split("://", 1)[1]
    row, _ = await sel.exchange(
        lome.node, "ama", f"bob@{host}", "2", "cours de couture", by=OPERATOR
    )
    assert row.state == "held"

    async def settled() -> bool:
        return await state(lome, row.uri) == "settled"

    await until(settled, "the exchange settled at the origin")
    assert await state(mars, row.uri) == "committed"
    assert await balance(lome, "ama") == -120 and await balance(mars, "bob") == 120
    clear_l = await balance(lome, f"clearing:{mars.actor_id}")
    clear_m = await balance(mars, f"clearing:{lome.actor_id}")
    assert clear_l == 120 and clear_m == -120
    rec = await sel.reconcile(lome.node, mars.acct, by=OPERATOR)
    assert rec.ok and not rec.in_flight, rec.differences
    assert (await sel.verify(lome.node, by=OPERATOR)).ok and (
        await sel.verify(mars.node, by=OPERATOR)
    ).ok


async def test_inter_section_refusals_release_the_hold(make_node: MakeNode) -> None:
    # Marseille lets Lome's members spend at most 1 h there in all.
    lome, mars = await peered(make_node, mars_deficit="1")
    host = mars.url.split("://", 1)[1]
    unknown, _ = await sel.exchange(lome.node, "ama", f"nobody@{host}", "1", "x", by=OPERATOR)
    too_big, _ = await sel.exchange(lome.node, "ama", f"bob@{host}", "2", "x", by=OPERATOR)

    async def decided() -> bool:
        for r in (unknown, too_big):
            if await state(lome, r.uri) != "rejected":
                return False
        return True

    await until(decided, "both exchanges refused")
    async with mars.node.sessions() as session:
        limit = (
            await session.execute(select(Exchange).where(Exchange.uri == too_big.uri))
        ).scalar_one()
    assert limit.state == "refused" and limit.reason_code == "limit" and limit.reason
    assert not limit.reason.startswith("limit:"), limit.reason  # the message alone
    assert await balance(mars, "bob") == 0
    async with lome.node.sessions() as session:
        ama = (await session.execute(select(Account).where(Account.code == "ama"))).scalar_one()
        refused = (
            await session.execute(select(Exchange).where(Exchange.uri == unknown.uri))
        ).scalar_one()
    assert refused.reason_code == "unknown_member", (refused.reason_code, refused.reason)
    assert refused.reason and not refused.reason.startswith("unknown_member"), refused.reason
    assert ama.held == 0
    assert (await sel.verify(lome.node, by=OPERATOR)).ok and (
        await sel.verify(mars.node, by=OPERATOR)
    ).ok
    rec = await sel.reconcile(mars.node, lome.acct, by=OPERATOR)
    assert rec.ok, rec.differences


async def test_exchange_with_a_non_peer_is_refused_locally(make_node: MakeNode) -> None:
    lome = await make_node("lome", run_workers=False)
    await sel.account_open(lome.node, "ama", "", None, None, by=OPERATOR)
    with pytest.raises(LedgerError, match="not a SEL peer"):
        await sel.exchange(lome.node, "ama", "bob@127.0.0.1:9", "1", "x", by=OPERATOR)
    assert await rn_count(lome) == 0


async def rn_count(rn: RunningNode) -> int:
    return await rn.count(Exchange)


async def test_refused_for_expiry_names_the_member_on_both_sides(make_node: MakeNode) -> None:
    """An agreement that expired before the payee's section decided is refused; the payee
    section's record names its member as the payee (not the payer section's clearing
    account), as the payer's record names the payee member."""
    from datetime import timedelta

    from models.actors import get_node_actor, get_remote_actor
    from models.outbox import Activity
    from models.sel.responder import handle_offer

    lome = await make_node("lome")
    mars = await make_node("marseille", run_workers=False)  # decides below, by hand
    await ally_rows(lome, mars)
    await sel.peer_add(lome.node, mars.acct, "10", "10", by=OPERATOR)
    await sel.peer_add(mars.node, lome.acct, "10", "10", by=OPERATOR)
    await sel.account_open(lome.node, "cyril", "Cyril", None, None, by=OPERATOR)
    await sel.account_open(mars.node, "esi", "Esi", None, None, by=OPERATOR)
    host = mars.url.split("://", 1)[1]
    row, _ = await sel.exchange(lome.node, "cyril", f"esi@{host}", "1", "couture", by=OPERATOR)
    async with lome.node.sessions() as session:
        offer = (
            (await session.execute(select(Activity).where(Activity.type == "Offer")))
            .unique()
            .scalar_one()
        )
    assert row.expires_at is not None
    async with mars.node.write() as session:
        signer = await get_remote_actor(session, lome.actor_id)
        assert signer is not None
        result = await handle_offer(
            session,
            mars.node.urls,
            await get_node_actor(session),
            signer,
            offer.json,
            now=row.expires_at + timedelta(minutes=1),
        )
    assert result.startswith("refused") and "expired" in result
    [line] = await sel.history(mars.node, by=OPERATOR)
    assert (line.payer, line.payee) == (f"cyril@{lome.url.split('://', 1)[1]}", "esi")
    [line] = await sel.history(lome.node, by=OPERATOR)
    assert (line.payer, line.payee) == ("cyril", f"esi@{host}")


async def test_peer_limits_say_who_may_spend_where(
    make_node: MakeNode, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sel peer --our-spending` caps what our members may spend at the peer (the clearing
    account's upper limit), `--their-spending` what its members may spend here; the help says
    so, and the old names keep their real meaning."""
    from node.cli import main

    with pytest.raises(SystemExit):
        main(["sel", "peer", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--our-spending HOURS, --max-surplus HOURS how many hours our members may spend" in (
        help_text
    )
    assert "--their-spending HOURS, --max-deficit HOURS how many hours that section's" in (
        help_text
    )

    lome = await make_node("lome")
    mars = await make_node("marseille")
    await ally(lome, mars)
    argv = ["sel", "peer", "--data", str(lome.config.data_dir), mars.acct]
    code = await asyncio.to_thread(main, [*argv, "--our-spending", "1", "--their-spending", "50"])
    assert code == 0, capsys.readouterr().err
    async with lome.node.sessions() as session:
        clearing = (
            await session.execute(select(Account).where(Account.kind == "clearing"))
        ).scalar_one()
    assert (clearing.lower_limit, clearing.upper_limit) == (-50 * 60, 60)
    await sel.account_open(lome.node, "ama", "", None, None, by=OPERATOR)
    host = mars.url.split("://", 1)[1]
    with pytest.raises(LedgerError, match="limit"):
        await sel.exchange(
            lome.node, "ama", f"bob@{host}", "5", "trop pour la fenêtre", by=OPERATOR
        )

    code = await asyncio.to_thread(main, [*argv, "--max-surplus", "7", "--max-deficit", "3"])
    assert code == 0, capsys.readouterr().err
    async with lome.node.sessions() as session:
        clearing = (
            await session.execute(select(Account).where(Account.kind == "clearing"))
        ).scalar_one()
    assert (clearing.lower_limit, clearing.upper_limit) == (-3 * 60, 7 * 60)


async def test_both_sections_take_their_time_from_the_caller(make_node: MakeNode) -> None:
    """Every step of an exchange between sections takes ``now`` from its caller: the
    records, the answer and the ledger entries carry that time, not the wall clock's."""
    from datetime import UTC, datetime, timedelta

    from models.actors import get_node_actor, get_remote_actor
    from models.outbox import Activity
    from models.sel import origin, responder
    from models.sel.ledger import Entry
    from models.to_ap import iso

    lome = await make_node("lome", run_workers=False)
    mars = await make_node("marseille", run_workers=False)  # both stepped by hand
    await ally_rows(lome, mars)
    await sel.peer_add(lome.node, mars.acct, "10", "10", by=OPERATOR)
    await sel.peer_add(mars.node, lome.acct, "10", "10", by=OPERATOR)
    await sel.account_open(lome.node, "cyril", "Cyril", None, None, by=OPERATOR)
    await sel.account_open(mars.node, "esi", "Esi", None, None, by=OPERATOR)
    asked, decided, settled = (
        datetime(2031, 3, 1, 9, 0, tzinfo=UTC) + timedelta(hours=h) for h in (0, 2, 3)
    )

    async def sent(rn: RunningNode, kind: str) -> dict[str, Any]:
        async with rn.node.sessions() as session:
            rows = await session.execute(select(Activity).where(Activity.type == kind))
            return rows.unique().scalar_one().json

    async with lome.node.write() as session:
        row = await origin.start(
            session,
            lome.node.urls,
            await get_node_actor(session),
            payer="cyril",
            payee=f"esi@{mars.url.split('://', 1)[1]}",
            amount=60,
            description="couture",
            now=asked,
        )
    assert (row.created_at, row.expires_at) == (asked, asked + origin.DEFAULT_EXPIRY)
    async with mars.node.write() as session:
        signer = await get_remote_actor(session, lome.actor_id)
        assert signer is not None
        node = await get_node_actor(session)
        offer = await sent(lome, "Offer")
        result = await responder.handle_offer(
            session, mars.node.urls, node, signer, offer, now=decided
        )
    assert result.startswith("committed"), result
    accept = await sent(mars, "Accept")
    assert accept["result"]["published"] == iso(decided)
    async with lome.node.write() as session:
        signer = await get_remote_actor(session, mars.actor_id)
        assert signer is not None
        result = await origin.handle_accept(session, signer, accept, now=settled)
    assert result == f"settled {row.uri}", result

    for rn, when, state in ((mars, decided, "committed"), (lome, settled, "settled")):
        async with rn.node.sessions() as session:
            ex = (
                await session.execute(select(Exchange).where(Exchange.uri == row.uri))
            ).scalar_one()
            entry = (await session.execute(select(Entry))).scalar_one()
        assert (ex.state, ex.decided_at, entry.created_at) == (state, when, when)
        assert (await sel.verify(rn.node, by=OPERATOR)).ok


async def test_overdue_exchange_is_asked_again_when_time_passes(make_node: MakeNode) -> None:
    """An exchange whose peer never answered is asked about again once its expiry has
    passed, and again only after REASK_EVERY: time is moved forward, not waited for."""
    from datetime import timedelta

    from models.base import clock
    from models.outbox import Activity
    from models.sel.origin import REASK_EVERY
    from node.worker import MaintenanceWorker
    from tests.clock import FakeClock

    lome = await make_node("lome", run_workers=False)
    mars = await make_node("marseille", run_workers=False)
    await ally_rows(lome, mars)
    await sel.peer_add(lome.node, mars.acct, "10", "10", by=OPERATOR)
    await sel.account_open(lome.node, "ama", "", None, None, by=OPERATOR)
    host = mars.url.split("://", 1)[1]
    time = FakeClock()

    async def offers() -> int:
        return await lome.count(Activity, Activity.type == "Offer")

    with clock(time):
        row, _ = await sel.exchange(lome.node, "ama", f"bob@{host}", "1", "couture", by=OPERATOR)
        assert row.expires_at is not None and await offers() == 1
        chores = MaintenanceWorker(lome.node)
        await chores.run_once()
        assert await offers() == 1  # not due yet
        time.now = row.expires_at + timedelta(seconds=1)
        await chores.run_once()
        assert await offers() == 2  # asked again, the same agreement
        await chores.run_once()
        assert await offers() == 2  # not again at once
        time.advance(REASK_EVERY)
        await chores.run_once()
        assert await offers() == 3
    assert await state(lome, row.uri) == "held"  # nothing released without an answer
