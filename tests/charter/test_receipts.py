"""Receipts through the real actions on a real node, on the backend under test.

Numbering stays gapless and unique when many issue at once (in one
process and from CLI processes beside it), a new year starts at 1, a
stored receipt cannot be changed by any ORM path, a receipt is cancelled
once, and the signed document verifies, while a tampered one does not.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from models.accounts import OPERATOR, Principal
from models.base import clock, utcnow
from models.charter.receipts import (
    ImmutableReceipt,
    Receipt,
    ReceiptCounter,
    ReceiptDraft,
    ReceiptError,
    format_amount,
    parse_amount,
)
from models.errors import Forbidden, UserError
from models.mediators import Profile
from node import content
from node.charter import receipts
from tests.charter.test_receipts_for_contracts import signed_contract
from tests.conftest import MakeNode, RunningNode
from tests.procs import coopnet


def draft(n: int = 0, amount: str = "120 EUR") -> ReceiptDraft:
    return ReceiptDraft(payer=f"Association {n}", amount=amount, purpose="hébergement 2027")


async def section(make_node: MakeNode) -> RunningNode:
    rn = await make_node("lome", run_workers=False)
    await content.mediator_add(rn.node, "ama", Profile(name="Ama"), by=OPERATOR)
    await content.mediator_add(rn.node, "kossi", Profile(name="Kossi"), by=OPERATOR)
    return rn


async def stored(rn: RunningNode) -> list[Receipt]:
    async with rn.node.sessions() as session:
        return list((await session.scalars(select(Receipt).order_by(Receipt.id))).all())


# ----------------------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    ("typed", "minor", "currency"),
    [
        ("120 EUR", 12000, "EUR"),
        ("120,50 €", 12050, "EUR"),
        ("€ 120.5", 12050, "EUR"),
        ("1 200,50 EUR", 120050, "EUR"),
        ("1.200,50 EUR", 120050, "EUR"),
        ("1,200.50 EUR", 120050, "EUR"),
        ("1.200.000 EUR", 120000000, "EUR"),
        ("5000 XOF", 5000, "XOF"),
        ("5 000 FCFA", 5000, "XOF"),
        ("5.000 xof", 5000, "XOF"),
        ("75", 7500, "EUR"),
        ("0,01 €", 1, "EUR"),
    ],
)
def test_amounts_are_read_politely_and_stored_exactly(
    typed: str, minor: int, currency: str
) -> None:
    assert parse_amount(typed) == (minor, currency)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("0 EUR", "more than zero"),
        ("0,00 €", "more than zero"),
        ("-120 EUR", "positive"),
        ("", "required"),
        ("abc", "cannot read"),
        ("12 34 56,7.8.9", "cannot read"),
        ("120,505 EUR", "could be read two ways"),
        ("1.200 EUR", "could be read two ways"),
        ("120,5055 EUR", "2 decimal places"),
        ("12.34.56 EUR", "cannot read"),
        ("5000,5 XOF", "no cents"),
        ("120 ZZZ", "unknown currency"),
        ("1000000000 EUR", "not a plausible sum"),
        ("120 EUR 30", "cannot read"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(typed: str, says: str) -> None:
    with pytest.raises(ReceiptError, match=says):
        parse_amount(typed)


def test_amounts_are_shown_exactly() -> None:
    assert format_amount(12050, "EUR") == "120.50 EUR"
    assert format_amount(7, "EUR") == "0.07 EUR"
    assert format_amount(5000, "XOF") == "5000 XOF"


# ----------------------------------------------------------------------------- numbering


async def test_thirty_at_once_are_numbered_1_to_30_without_gaps(make_node: MakeNode) -> None:
    rn = await section(make_node)
    views = await asyncio.gather(
        *(
            receipts.issue(rn.node, "ama" if i % 2 else "kossi", draft(i), by=OPERATOR)
            for i in range(30)
        )
    )
    year = utcnow().year
    assert sorted(v.receipt.number for v in views) == list(range(1, 31))
    rows = await stored(rn)
    assert sorted(r.number for r in rows) == list(range(1, 31))
    assert {r.year for r in rows} == {year}
    assert {v.number for v in views} == {f"LOME-{year}-{n:04d}" for n in range(1, 31)}
    async with rn.node.sessions() as session:
        counter = await session.get(ReceiptCounter, year)
        assert counter is not None and counter.last == 30


async def test_cli_processes_and_the_server_share_one_gapless_sequence(
    make_node: MakeNode,
) -> None:
    """Four CLI processes and ten in-process issues at once, on one database."""
    rn = await section(make_node)
    data = str(rn.config.data_dir)

    async def cli(i: int) -> tuple[int, str, str]:
        return await coopnet(
            "receipt", "issue", "--data", data, "--mediator", "ama",
            "--payer", f"Client {i}", "--amount", "10 EUR", "--for", "formation",
        )  # fmt: skip

    results = await asyncio.gather(
        *(cli(i) for i in range(4)),
        *(receipts.issue(rn.node, "kossi", draft(i), by=OPERATOR) for i in range(10)),
    )
    for code, out, err in results[:4]:  # type: ignore[misc]
        assert code == 0, (out, err)
        assert "/receipts/" in out
    rows = await stored(rn)
    assert sorted(r.number for r in rows) == list(range(1, 15))


async def test_a_failed_issue_gives_its_number_back(make_node: MakeNode) -> None:
    rn = await section(make_node)
    first = await receipts.issue(rn.node, "ama", draft(), by=OPERATOR)
    with pytest.raises(ReceiptError):
        await receipts.issue(rn.node, "ama", draft(amount="0 EUR"), by=OPERATOR)
    with pytest.raises(ValueError, match="boom"):
        async with rn.node.write() as session:
            from models.charter.receipts import next_number

            assert await next_number(session, first.receipt.year) == 2
            raise ValueError("boom")  # the transaction rolls back with its number
    second = await receipts.issue(rn.node, "ama", draft(), by=OPERATOR)
    assert second.receipt.number == 2


async def test_a_new_year_starts_at_one(make_node: MakeNode) -> None:
    rn = await section(make_node)
    with clock(lambda: datetime(2026, 12, 31, 23, 0, tzinfo=UTC)):
        a = await receipts.issue(rn.node, "ama", draft(), by=OPERATOR)
        b = await receipts.issue(rn.node, "ama", draft(), by=OPERATOR)
    with clock(lambda: datetime(2027, 1, 1, 0, 5, tzinfo=UTC)):
        c = await receipts.issue(rn.node, "ama", draft(), by=OPERATOR)
    assert [(v.receipt.year, v.receipt.number) for v in (a, b, c)] == [
        (2026, 1),
        (2026, 2),
        (2027, 1),
    ]
    assert c.number == "LOME-2027-0001"
    assert a.receipt.document["number"] == "LOME-2026-0001"


# ----------------------------------------------------------------------------- immutable


async def test_a_receipt_cannot_be_changed_or_deleted_by_the_orm(make_node: MakeNode) -> None:
    rn = await section(make_node)
    view = await receipts.issue(rn.node, "ama", draft(), by=OPERATOR)
    ident = view.receipt.id
    for change in ("amount_minor", "payer_name", "body", "cancels_id"):
        with pytest.raises(ImmutableReceipt, match="immutable"):
            async with rn.node.write() as session:
                row = await session.get(Receipt, ident)
                assert row is not None
                value = {"amount_minor": 1, "payer_name": "X", "body": "{}", "cancels_id": ident}
                setattr(row, change, value[change])
                await session.flush()
    with pytest.raises(ImmutableReceipt):
        async with rn.node.write() as session:
            await session.execute(update(Receipt).values(amount_minor=1))
    with pytest.raises(ImmutableReceipt):
        async with rn.node.write() as session:
            await session.execute(delete(Receipt))
    with pytest.raises(ImmutableReceipt):
        async with rn.node.write() as session:
            row = await session.get(Receipt, ident)
            await session.delete(row)
            await session.flush()
    (after,) = await stored(rn)
    assert after.amount_minor == 12000 and after.body == view.receipt.body


# ----------------------------------------------------------------------------- cancelling


async def test_cancelling_issues_the_next_number_once(make_node: MakeNode) -> None:
    rn = await section(make_node)
    first = await receipts.issue(rn.node, "ama", draft(), by=OPERATOR)
    await receipts.issue(rn.node, "ama", draft(), by=OPERATOR)
    cancel = await receipts.cancel(rn.node, first.number, "wrong amount", by=OPERATOR)
    assert cancel.receipt.number == 3 and cancel.receipt.cancels_id == first.receipt.id
    assert cancel.state == "cancelling" and cancel.cancels_number == first.number
    doc = cancel.receipt.document
    assert doc["cancels"] == {"id": first.url, "number": first.number}
    assert doc["reason"] == "wrong amount"

    again = await receipts.get(rn.node, first.receipt.uuid)
    assert again.state == "cancelled" and again.cancelled_by_number == cancel.number
    envelope = again.envelope(rn.node.urls)
    assert envelope["state"] == "cancelled"
    assert envelope["cancelledBy"]["number"] == cancel.number
    assert envelope["receipt"] == first.receipt.document  # the signed document is untouched

    with pytest.raises(ReceiptError, match="already cancelled"):
        await receipts.cancel(rn.node, first.number, "twice", by=OPERATOR)
    with pytest.raises(ReceiptError, match="cannot be cancelled"):
        await receipts.cancel(rn.node, cancel.number, "cancel the cancel", by=OPERATOR)
    with pytest.raises(ReceiptError, match="reason is required"):
        await receipts.cancel(rn.node, f"{utcnow().year}-2", "  ", by=OPERATOR)
    assert len(await stored(rn)) == 3


async def test_two_cancellations_at_once_make_one(make_node: MakeNode) -> None:
    rn = await section(make_node)
    first = await receipts.issue(rn.node, "ama", draft(), by=OPERATOR)
    results = await asyncio.gather(
        *(receipts.cancel(rn.node, first.receipt.uuid, f"r{i}", by=OPERATOR) for i in range(4)),
        return_exceptions=True,
    )
    done = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(done) == 1, results
    assert all(isinstance(r, ReceiptError) for r in refused), refused
    rows = await stored(rn)
    assert len(rows) == 2 and sorted(r.number for r in rows) == [1, 2]


# ----------------------------------------------------------------------------- roles


async def test_a_mediator_acts_only_for_their_own_receipts(make_node: MakeNode) -> None:
    rn = await section(make_node)
    async with rn.node.sessions() as session:
        from models.actors import get_local_actor

        ama = await get_local_actor(session, "ama")
        assert ama is not None
    as_ama = Principal(name="ama", user_id=1, mediators=frozenset({ama.id}))
    member = Principal(name="awa", user_id=2, accounts=frozenset({1}))
    mine = await receipts.issue(rn.node, "ama", draft(), by=as_ama)
    theirs = await receipts.issue(rn.node, "kossi", draft(), by=OPERATOR)
    with pytest.raises(Forbidden):
        await receipts.issue(rn.node, "kossi", draft(), by=as_ama)
    with pytest.raises(Forbidden):
        await receipts.cancel(rn.node, theirs.number, "not mine", by=as_ama)
    with pytest.raises(Forbidden):
        await receipts.issue(rn.node, "ama", draft(), by=member)
    with pytest.raises(Forbidden):
        await receipts.section_book(rn.node, by=as_ama)
    assert len(await stored(rn)) == 2
    await receipts.cancel(rn.node, mine.number, "typo", by=as_ama)
    assert len(await stored(rn)) == 3


async def test_bad_values_write_nothing(make_node: MakeNode) -> None:
    rn = await section(make_node)
    today = utcnow().date()
    bad = [
        ReceiptDraft(payer="", amount="10 EUR", purpose="x"),
        ReceiptDraft(payer="A", amount="10 EUR", purpose=""),
        ReceiptDraft(payer="A", amount="-10", purpose="x"),
        ReceiptDraft(payer="A", amount="10", purpose="x", received="30/11/2026"),
        ReceiptDraft(
            payer="A", amount="10", purpose="x", received=(today + timedelta(days=2)).isoformat()
        ),
        ReceiptDraft(payer="A", amount="10", purpose="x", method="barter"),
        ReceiptDraft(payer="A", amount="10", purpose="x", contract="no spaces allowed"),
        ReceiptDraft(payer="A\x00B", amount="10", purpose="x"),
    ]
    for d in bad:
        with pytest.raises(ReceiptError):
            await receipts.issue(rn.node, "ama", d, by=OPERATOR)
    with pytest.raises(UserError, match="no mediator"):
        await receipts.issue(rn.node, "nobody", draft(), by=OPERATOR)
    assert await stored(rn) == []
    async with rn.node.sessions() as session:
        assert await session.get(ReceiptCounter, today.year) is None


# ----------------------------------------------------------------------------- verify


async def test_a_genuine_receipt_verifies_and_a_tampered_one_does_not(
    make_node: MakeNode, tmp_path: Path
) -> None:
    rn = await section(make_node)
    contract = await signed_contract(rn)
    view = await receipts.issue(
        rn.node,
        "ama",
        ReceiptDraft(
            payer="Association Lumière",
            contact="+228 90 00 00 00",
            amount="120,50 €",
            purpose="hébergement 2027",
            method="mobile_money",
            received=(utcnow().date() - timedelta(days=2)).isoformat(),
            contract=contract,
        ),
        by=OPERATOR,
    )
    verdict = await receipts.verify(view.url)
    assert verdict.state == "valid"
    assert (await receipts.verify(f"{view.url}?lang=en#top")).verified.number == view.number
    assert verdict.verified.number == view.number
    assert verdict.verified.amount == "120.50 EUR"
    assert verdict.verified.payer == "Association Lumière"

    # A copy kept in a file verifies too, bare or as the node serves it.
    envelope = view.envelope(rn.node.urls)
    kept = tmp_path / "receipt.json"
    kept.write_text(json.dumps(envelope), encoding="utf-8")
    assert (await receipts.verify(str(kept))).state == "valid"
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(envelope["receipt"]), encoding="utf-8")
    assert (await receipts.verify(str(bare))).state == "valid"

    # One field changed in the file: the proof fails.
    for field, value in (("amount", {"value": "1200.50", "currency": "EUR"}), ("payer", "X")):
        doc = dict(envelope["receipt"])
        doc[field] = value
        bad = tmp_path / f"bad-{field}.json"
        bad.write_text(json.dumps(doc), encoding="utf-8")
        with pytest.raises(ReceiptError, match="not genuine: proof does not verify"):
            await receipts.verify(str(bad))

    # The node's own copy altered behind its back (not through the ORM): the URL fails.
    doc = dict(envelope["receipt"])
    doc["purpose"] = "something else"
    async with rn.node.engine.begin() as conn:
        await conn.execute(
            text("UPDATE receipts SET body = :b WHERE id = :i"),
            {"b": json.dumps(doc), "i": view.receipt.id},
        )
    with pytest.raises(ReceiptError, match="not genuine: proof does not verify"):
        await receipts.verify(view.url)
    # And the genuine file no longer matches what the node holds.
    with pytest.raises(ReceiptError, match="altered, or is not what the node holds"):
        await receipts.verify(str(kept))


async def test_a_cancelled_receipt_verifies_as_cancelled(make_node: MakeNode) -> None:
    rn = await section(make_node)
    view = await receipts.issue(rn.node, "ama", draft(), by=OPERATOR)
    cancel = await receipts.cancel(rn.node, view.number, "paid twice", by=OPERATOR)
    verdict = await receipts.verify(view.url)
    assert verdict.state == "cancelled"
    assert verdict.cancelled_by == cancel.number and verdict.reason == "paid twice"
    other = await receipts.verify(cancel.url)
    assert other.state == "cancelling" and other.verified.cancels == view.number


async def test_verify_refuses_what_is_no_receipt(make_node: MakeNode, tmp_path: Path) -> None:
    rn = await section(make_node)
    with pytest.raises(ReceiptError, match="no such receipt"):
        await receipts.verify(f"{rn.url}/receipts/00000000-0000-4000-8000-000000000000")
    with pytest.raises(ReceiptError, match="neither an http"):
        await receipts.verify(str(tmp_path / "missing.json"))
    junk = tmp_path / "junk.json"
    junk.write_text('{"type": "Note"}', encoding="utf-8")
    with pytest.raises(ReceiptError, match="not a coopnet receipt"):
        await receipts.verify(str(junk))
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (receipts.MAX_RECEIPT_BYTES + 10))
    with pytest.raises(ReceiptError, match="too large"):
        await receipts.verify(str(big))


def test_received_dates_are_checked() -> None:
    from models.charter.receipts import parse_day

    today = date(2026, 12, 2)
    assert parse_day("", today) == today
    assert parse_day("2026-11-30", today) == date(2026, 11, 30)
    for bad, says in (
        ("2026-12-03", "future"),
        ("2025-11-01", "more than a year"),
        ("30/11/2026", "YYYY-MM-DD"),
    ):
        with pytest.raises(ReceiptError, match=says):
            parse_day(bad, today)


async def test_a_forgery_signed_with_another_key_or_served_elsewhere_fails(
    make_node: MakeNode, tmp_path: Path
) -> None:
    """A forger re-signs a changed copy with their own key in the issuer's name, or
    serves the genuine copy from their own server: neither passes."""
    from aiohttp import web

    from federation.integrity import add_proof, generate_ed25519_private_pem
    from tests.conftest import bound_socket

    rn = await section(make_node)
    view = await receipts.issue(rn.node, "ama", draft(), by=OPERATOR)
    genuine = view.receipt.document
    forged = {k: v for k, v in genuine.items() if k != "proof"}
    forged["amount"] = {"value": "1200.00", "currency": "EUR", "minorUnits": 120000}
    signed = add_proof(
        forged,
        generate_ed25519_private_pem(),
        genuine["proof"]["verificationMethod"],
        datetime.now(UTC),
    )
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(signed), encoding="utf-8")
    with pytest.raises(ReceiptError, match="not genuine: proof does not verify"):
        await receipts.verify(str(path))

    # The genuine envelope served from another server, at another address.
    envelope = json.dumps(view.envelope(rn.node.urls))

    async def serve(request: web.Request) -> web.Response:
        return web.Response(text=envelope, content_type="application/json")

    app = web.Application()
    app.router.add_get("/receipts/{uuid}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = bound_socket()
    await web.SockSite(runner, sock).start()
    try:
        elsewhere = f"http://127.0.0.1:{sock.getsockname()[1]}/receipts/{view.receipt.uuid}"
        with pytest.raises(ReceiptError, match="serves a receipt whose id is another"):
            await receipts.verify(elsewhere)
    finally:
        await runner.cleanup()


async def test_the_same_form_sent_twice_issues_one_receipt(make_node: MakeNode) -> None:
    """A double click, a reload, or both copies at once: one receipt, one number."""
    rn = await section(make_node)
    key = "k" * 32
    views = await asyncio.gather(
        *(receipts.issue(rn.node, "ama", draft(), by=OPERATOR, submission=key) for _ in range(5))
    )
    assert {v.receipt.uuid for v in views} == {views[0].receipt.uuid}
    again = await receipts.issue(rn.node, "ama", draft(), by=OPERATOR, submission=key)
    assert again.receipt.uuid == views[0].receipt.uuid
    with pytest.raises(ReceiptError, match="another mediator"):
        await receipts.issue(rn.node, "kossi", draft(), by=OPERATOR, submission=key)
    other = await receipts.issue(rn.node, "ama", draft(), by=OPERATOR, submission="m" * 32)
    assert [r.number for r in await stored(rn)] == [1, 2]
    assert other.receipt.number == 2
    # Without a key (the CLI), every call issues.
    await receipts.issue(rn.node, "ama", draft(), by=OPERATOR)
    assert [r.number for r in await stored(rn)] == [1, 2, 3]
