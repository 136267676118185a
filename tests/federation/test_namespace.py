"""Our JSON-LD namespace: one set of terms, served by every node, the old IRI still read."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from sqlalchemy import select

from federation.vocab import (
    CONTEXT,
    CONTEXT_PATH,
    COOPNET_NS,
    LEGACY_NAMESPACES,
    OUR_TERMS,
    QUESTION_CONTEXT,
    VF_TERMS,
    context_document,
    ours,
)
from models.accounts import OPERATOR
from models.attestations import ATTESTATION_CONTEXT
from models.mediators import Profile
from models.offers import OFFER_CONTEXT, OfferDraft
from models.outbox import Activity
from models.sel.to_ap import SEL_CONTEXT
from node import content
from tests.conftest import MakeNode


def inline_terms(context: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in context:
        if isinstance(part, dict):
            out.update(part)
    return out


def test_our_iris_are_read_in_the_namespace_and_the_legacy_one() -> None:
    assert COOPNET_NS == "https://w3id.org/coopnet/ns#"
    assert ours(f"{COOPNET_NS}selHour") == "selHour"
    assert ours("https://coopnet.example/ns#selHour") == "selHour"  # an older node's
    assert LEGACY_NAMESPACES == ("https://coopnet.example/ns#",)
    for other in (COOPNET_NS, "https://example.org/ns#selHour", None, 3, ["x"], "selHour"):
        assert ours(other) is None


def test_every_context_we_emit_takes_its_terms_from_the_one_list() -> None:
    served = context_document()["@context"]
    for context in (CONTEXT, OFFER_CONTEXT, SEL_CONTEXT, ATTESTATION_CONTEXT, QUESTION_CONTEXT):
        terms = inline_terms(context)
        assert terms["coopnet"] == COOPNET_NS
        for name, definition in terms.items():
            if name in OUR_TERMS or name in VF_TERMS:
                # Same word, same meaning, wherever it is written.
                assert served[name] == definition, name
            if isinstance(definition, str) and definition.startswith("coopnet:"):
                assert name in OUR_TERMS, f"{name} is ours but not in OUR_TERMS"
        assert "coopnet.example" not in json.dumps(context)


async def test_every_node_serves_the_context_and_writes_only_the_namespace(
    make_node: MakeNode,
) -> None:
    rn = await make_node("lome")
    async with aiohttp.ClientSession() as http, http.get(rn.url + CONTEXT_PATH) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/ld+json")
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        doc = await resp.json(content_type=None)
    assert doc == context_document()
    assert set(OUR_TERMS) <= set(doc["@context"])

    await content.mediator_add(rn.node, "ama", Profile(name="Ama", skills=["web"]), by=OPERATOR)
    await content.offer_publish(
        rn.node,
        OfferDraft(title="Site", description="Un site.", price="10 EUR", sel_hours="2"),
        "ama",
        by=OPERATOR,
    )
    async with rn.node.sessions() as session:
        bodies = [a.json for a in (await session.scalars(select(Activity))).unique()]
    written = json.dumps(bodies)
    assert bodies and "coopnet.example" not in written
    offer = next(b["object"] for b in bodies if b["type"] == "Create")
    intents = [offer["publishes"], offer["reciprocal"], offer["selReciprocal"]]
    conforms = [i["resourceConformsTo"] for i in intents]
    assert ours(conforms[0]) == "other" and ours(conforms[2]) == "selHour"
