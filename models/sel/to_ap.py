"""The SEL protocol's documents, as this section writes them (ActivityStreams).

The Agreement (FEP-0837 / ValueFlows terms) and the Offer carrying it, from
the payer's section; the Accept or Reject answering it, from the payee's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from federation.vocab import AS_CONTEXT, VF_TERMS, our_terms
from models.actors import LocalActor, RemoteActor
from models.outbox import new_uuid
from models.sel.exchanges import Exchange, State
from models.to_ap import iso
from models.urls import Urls

UNIT = "minute"
NOT_PEER = "this section does not exchange with yours (not a SEL peer)"
SEL_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        **{
            k: VF_TERMS[k]
            for k in (
                "vf",
                "Agreement",
                "Commitment",
                "stipulates",
                "action",
                "provider",
                "receiver",
                "resourceQuantity",
                "hasUnit",
                "hasNumericalValue",
            )
        },
        **our_terms("category", "sequence", "reason"),
    },
]


def account_uri(base: str, code: str) -> str:
    return f"{base}/sel/accounts/{code}"


def agreement_doc(base: str, ex: Exchange, payer_code: str) -> dict[str, Any]:
    code, _, host = (ex.remote_party or "").partition("@")
    scheme = urlsplit(base).scheme
    return {
        "id": ex.uri,
        "type": "Agreement",
        "name": ex.description,
        "category": ex.category,
        "published": iso(ex.created_at),
        "endTime": iso(ex.expires_at) if ex.expires_at else None,
        "stipulates": {
            "type": "Commitment",
            "action": "transfer",
            "provider": account_uri(base, payer_code),
            "receiver": account_uri(f"{scheme}://{host}", code),
            "resourceQuantity": {"hasUnit": UNIT, "hasNumericalValue": str(ex.amount)},
        },
        "coopnet:performedOn": ex.performed_on,
    }


def offer_doc(
    urls: Urls, node: LocalActor, peer: RemoteActor, agreement: dict[str, Any]
) -> dict[str, Any]:
    return {
        "@context": SEL_CONTEXT,
        "id": urls.activity(new_uuid()),
        "type": "Offer",
        "actor": urls.actor(node.username),
        "to": [peer.uri],
        "object": agreement,
    }


def answer_doc(
    urls: Urls,
    node: LocalActor,
    peer: RemoteActor,
    offer: dict[str, Any],
    ex: Exchange,
    now: datetime,
) -> dict[str, Any]:
    """The Accept (with the commit's sequence) or Reject (with the reason) of a decided Offer."""
    result: dict[str, Any] = {"id": ex.uri, "type": "Agreement"}
    doc: dict[str, Any] = {
        "@context": SEL_CONTEXT,
        "id": urls.activity(new_uuid()),
        "actor": urls.actor(node.username),
        "to": [peer.uri],
        "object": offer.get("id"),
        "result": result,
    }
    if ex.state == State.COMMITTED:
        doc["type"] = "Accept"
        result["sequence"] = ex.peer_seq
        result["published"] = iso(ex.decided_at or now)
    else:
        doc["type"] = "Reject"
        doc["reason"] = ex.reason_code or ""
        doc["content"] = refusal_content(ex.reason_code, ex.reason)
    return doc


def refusal_content(code: str | None, message: str | None) -> str:
    """A Reject's ``content``: "code: message", as sections have always sent it
    (a peer that reads only ``content`` still sees the code)."""
    if code and message:
        return f"{code}: {message}"
    return code or message or "refused"


def not_peer_reject(
    urls: Urls, node: LocalActor, signer: RemoteActor, offer: dict[str, Any], uri: str | None
) -> dict[str, Any]:
    """The Reject of an Offer from a section that is not a SEL peer of this one."""
    reject: dict[str, Any] = {
        "@context": SEL_CONTEXT,
        "id": urls.activity(new_uuid()),
        "type": "Reject",
        "actor": urls.actor(node.username),
        "to": [signer.uri],
        "object": offer.get("id"),
        "reason": "not_peer",
        "content": refusal_content("not_peer", NOT_PEER),
    }
    if uri:
        reject["result"] = {"id": uri, "type": "Agreement"}
    return reject
