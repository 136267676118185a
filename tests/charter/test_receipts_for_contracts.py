"""A receipt names a contract: only a signed contract of its own mediator.

The contract's page then lists it (tests/browser/test_contract_scenario.py
issues one from that page in a browser).
"""

from __future__ import annotations

import pytest

from models.accounts import OPERATOR, Principal
from models.charter.receipts import Receipt, ReceiptDraft, ReceiptError
from models.errors import Forbidden
from models.mediators import Profile
from node import content
from node.charter import contracts as act
from node.charter import receipts
from tests.charter.test_contracts_domain import details, new_contract, section
from tests.conftest import MakeNode, RunningNode


async def signed_contract(rn: RunningNode) -> str:
    """A contract of Ama's that the client signed (the section's models written first)."""
    await act.model_save(rn.node, OPERATOR, "contract", "Contrat {client} {price}")
    await act.model_save(rn.node, OPERATOR, "conditions", "Conditions {share}")
    contract, token = await new_contract(rn)
    await act.client_sign(rn.node, token, details())
    return contract.uuid


def paid(contract: str) -> ReceiptDraft:
    return ReceiptDraft(payer="Afi Dossou", amount="120 EUR", purpose="Site", contract=contract)


async def test_a_receipt_names_only_a_signed_contract_of_its_mediator(
    make_node: MakeNode,
) -> None:
    rn = await section(make_node)
    await content.mediator_add(rn.node, "kossi", Profile(name="Kossi"), by=OPERATOR)
    contract, token = await new_contract(rn)
    # Not signed yet: no receipt under it, and nothing written (no number used).
    with pytest.raises(ReceiptError, match="not signed"):
        await receipts.issue(rn.node, "ama", paid(contract.uuid), by=OPERATOR)
    await act.client_sign(rn.node, token, details())
    # Another mediator's receipt cannot name Ama's contract; nor an unknown one.
    for mediator, ref in (("kossi", contract.uuid), ("ama", "0" * 8 + "-" + "0" * 27)):
        with pytest.raises(ReceiptError, match="no contract of this mediator"):
            await receipts.issue(rn.node, mediator, paid(ref), by=OPERATOR)
    assert await rn.count(Receipt) == 0

    issued = await receipts.issue(rn.node, "ama", paid(contract.uuid), by=OPERATOR)
    assert issued.number.endswith("-0001")  # the refusals used no number
    assert issued.receipt.contract_ref == contract.uuid
    assert issued.receipt.document["contract"] == contract.uuid  # in what is signed
    listed = await receipts.receipts_for_contract(rn.node, contract.uuid, by=OPERATOR)
    assert [v.number for v in listed] == [issued.number]
    # Only who may see the contract sees its receipts.
    kossi_id = next(m.id for m in await content.mediator_list(rn.node) if m.username == "kossi")
    with pytest.raises(Forbidden):
        await receipts.receipts_for_contract(
            rn.node, contract.uuid, by=Principal(name="k", mediators=frozenset({kossi_id}))
        )
