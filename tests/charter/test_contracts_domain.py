"""The rules under the contract pages, on a real node and database: sums kept
exactly, placeholders checked, values that cannot add Markdown, the
lifecycle's guard, links that expire, and a link signed (or a rating given)
once even when two submissions race (on both databases).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models.accounts import OPERATOR
from models.base import clock, utcnow
from models.charter.contract_models import ContractModelError, check_text, fill
from models.charter.contracts import (
    Contract,
    ContractDraft,
    ContractError,
    ContractState,
    LinkGone,
)
from models.charter.money import MoneyError, format_money, parse_money
from models.charter.satisfaction import SatisfactionError, SatisfactionGone, SatisfactionRequest
from models.charter.signing import ClientDetails
from models.markdown import render_markdown
from models.mediators import Profile
from models.states import IllegalTransition
from node import content
from node.charter import contracts as act
from tests.conftest import MakeNode, RunningNode


@pytest.mark.parametrize(
    "typed,stored",
    [
        ("25", (2500, "EUR")),
        ("25,50 EUR", (2550, "EUR")),
        ("eur 0.5", (50, "EUR")),
        ("XOF 50000", (50000, "XOF")),
        ("1000000000 XOF", (1000000000, "XOF")),
    ],
)
def test_money_is_stored_exactly_in_minor_units(typed: str, stored: tuple[int, str]) -> None:
    assert parse_money(typed) == stored
    assert parse_money(format_money(*stored)) == stored


@pytest.mark.parametrize(
    "typed", ["", "douze", "-5", "10.005", "10.5 XOF", "1 2", "10 EURO", "1e10", "NaN", "inf"]
)
def test_money_refuses_what_it_cannot_keep_exactly(typed: str) -> None:
    with pytest.raises(MoneyError):
        parse_money(typed)


def test_placeholders_are_checked_and_values_cannot_add_markup() -> None:
    with pytest.raises(ContractModelError) as refused:
        check_text("Pour {client} et {Client} et {prix}")
    assert str(refused.value).startswith("unknown placeholder(s) {Client}, {prix}: the known ")
    assert "{client}, {mediator}, {service}, {price}, {duration}, {start}, {end}, {share}" in str(
        refused.value
    )
    with pytest.raises(ContractModelError):
        check_text("   \n")
    text = check_text("Client : {client}\r\n\r\n{service}")
    filled = fill(text, {"client": "[x](javascript:alert(1)) <b>gras</b> *a*", "service": "# T"})
    html = render_markdown(filled)
    assert "<a" not in html and "<b>" not in html and "<em>" not in html and "<h" not in html
    assert "[x](javascript:alert(1)) &lt;b&gt;gras&lt;/b&gt; *a*" in html
    # An unknown name left in a document cannot be filled: it stays as written.
    assert fill("{nope}", {}) == "{nope}"


def details(name: str = "Afi Dossou") -> ClientDetails:
    return ClientDetails(
        full_name=name,
        address="12 rue des Palmiers",
        email="afi@example.org",
        phone="90 00 00 00",
        counterpart="money",
        typed_name=name,
        consent=True,
    )


async def section(make_node: MakeNode) -> RunningNode:
    rn = await make_node("lome")
    await content.mediator_add(rn.node, "ama", Profile(name="Ama"), by=OPERATOR)
    await act.model_save(rn.node, OPERATOR, "contract", "Contrat {client} {price}")
    await act.model_save(rn.node, OPERATOR, "conditions", "Conditions {share}")
    return rn


async def new_contract(rn: RunningNode) -> tuple[Contract, str]:
    draft = ContractDraft("Lumière", "Site", "120 EUR", "1 an", "2027-01-01", "2027-12-31", "12")
    made = await act.contract_create(rn.node, OPERATOR, "ama", draft)
    contract, link = await act.contract_link(rn.node, OPERATOR, made.uuid)
    return contract, link.rsplit("/", 1)[1]


async def test_the_lifecycle_refuses_moves_it_does_not_declare(make_node: MakeNode) -> None:
    rn = await section(make_node)
    contract, token = await new_contract(rn)
    assert contract.state == ContractState.AWAITING
    with pytest.raises(ContractError, match="only a signed"):
        await act.contract_hand_in(rn.node, OPERATOR, contract.uuid, "12")
    with pytest.raises(ContractError, match="only a signed contract can end"):
        await act.contract_end(rn.node, OPERATOR, contract.uuid)
    await act.client_sign(rn.node, token, details())
    with pytest.raises(ContractError, match="only a contract not yet signed"):
        await act.contract_cancel(rn.node, OPERATOR, contract.uuid)
    with pytest.raises(ContractError, match="no new signing link"):
        await act.contract_link(rn.node, OPERATOR, contract.uuid)
    done = await act.contract_hand_in(rn.node, OPERATOR, contract.uuid, "12 EUR")
    assert done.state == ContractState.HANDED_IN and done.share_paid_minor == 1200
    with pytest.raises(ContractError):
        await act.contract_hand_in(rn.node, OPERATOR, contract.uuid, "12 EUR")
    with pytest.raises(IllegalTransition):
        done.move_to(ContractState.AWAITING)


async def test_a_link_older_than_30_days_no_longer_signs(make_node: MakeNode) -> None:
    rn = await section(make_node)
    contract, token = await new_contract(rn)
    later = utcnow() + timedelta(days=31)
    with clock(lambda: later), pytest.raises(LinkGone, match="older than 30 days"):
        await act.client_sign(rn.node, token, details())
    async with rn.node.sessions() as s:
        row = (await s.scalars(select(Contract).where(Contract.id == contract.id))).one()
    assert row.state == ContractState.AWAITING and row.signed_at is None


async def test_two_signatures_racing_on_one_link_sign_once(make_node: MakeNode) -> None:
    rn = await section(make_node)
    contract, token = await new_contract(rn)
    outcomes = await asyncio.gather(
        *(act.client_sign(rn.node, token, details(f"Client Numéro {i}")) for i in range(4)),
        return_exceptions=True,
    )
    signed = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(signed) == 1, outcomes
    assert all(isinstance(e, LinkGone) for e in refused), refused
    async with rn.node.sessions() as s:
        row = (await s.scalars(select(Contract).where(Contract.id == contract.id))).one()
    assert row.state == ContractState.SIGNED
    assert row.client_full_name == signed[0][0].client_full_name
    assert (await act.contract_verify(rn.node, OPERATOR, contract.uuid)).ok


async def test_two_ratings_racing_on_one_link_count_once(make_node: MakeNode) -> None:
    rn = await section(make_node)
    contract, token = await new_contract(rn)
    await act.client_sign(rn.node, token, details())
    _, link = await act.contract_end(rn.node, OPERATOR, contract.uuid)
    rating = link.rsplit("/", 1)[1]
    outcomes = await asyncio.gather(
        *(act.satisfaction_answer(rn.node, rating, str(n), f"avis {n}") for n in (1, 2, 3, 4, 5)),
        return_exceptions=True,
    )
    assert sum(1 for o in outcomes if o is None) == 1, outcomes
    assert all(isinstance(o, SatisfactionGone) for o in outcomes if o is not None)
    async with rn.node.sessions() as s:
        rows = (await s.scalars(select(SatisfactionRequest))).all()
    assert len(rows) == 1 and rows[0].rating is not None
    indicator, public = await act.satisfaction_of(rn.node, OPERATOR, "ama")
    assert indicator.count == 1 and public is False
    # Once rated, no new link for the same contract.
    with pytest.raises(SatisfactionError, match="already given"):
        await act.satisfaction_ask(rn.node, OPERATOR, contract.uuid)


async def test_the_signed_document_holds_what_was_signed(make_node: MakeNode) -> None:
    import json

    rn = await section(make_node)
    contract, token = await new_contract(rn)
    before = datetime.now(UTC)
    signed, copy = await act.client_sign(rn.node, token, details())
    doc = json.loads(signed.signed_document or "")
    assert doc["type"] == "HostingContract" and doc["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert doc["proof"]["verificationMethod"] == f"{rn.actor_id}#ed25519-key"
    assert doc["client"]["phone"] == "90 00 00 00" and doc["typedName"] == "Afi Dossou"
    assert doc["price"] == {"minor": "12000", "currency": "EUR"}
    assert doc["sha256"] == signed.signed_sha256 and len(doc["sha256"]) == 64
    assert signed.signed_text == "Contrat Lumière 120.00 EUR\n\n---\n\nConditions 12.00 EUR"
    assert signed.signed_at is not None and signed.signed_at >= before - timedelta(seconds=1)
    mine = await act.client_copy(rn.node, copy.rsplit("/", 1)[1])
    assert mine.contract.id == contract.id and mine.verification and mine.verification.ok
