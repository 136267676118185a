"""The certification chain's trust rules, alone: documents in a dict, fetch injected.

Each case changes one thing in an otherwise genuine chain (seat → section →
mediator, with real Ed25519 proofs) and checks the verdict and its reason.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from federation.certification import NO_ANCHOR, ChainError, check_authorization, verify_chain
from federation.http import FetchError
from federation.integrity import add_proof, generate_ed25519_private_pem, multikey

AS = "https://www.w3.org/ns/activitystreams"
SEAT = "https://siege.example/users/siege"
SECTION = "https://lome.example/users/lome"
MEDIATOR = "https://lome.example/users/kossi"
AUTH = "https://siege.example/attestations/a1"
CERT = "https://lome.example/attestations/c1"
NOW = datetime(2026, 12, 1, tzinfo=UTC)

Docs = dict[str, Any]


def actor(ident: str, type_: str, key: str, **links: str) -> dict[str, Any]:
    return {
        "@context": [AS],
        "id": ident,
        "type": type_,
        "preferredUsername": ident.rsplit("/", 1)[1],
        "inbox": f"{ident}/inbox",
        "assertionMethod": [multikey(ident, f"{ident}#ed25519-key", key)],
        **links,
    }


def attestation(ident: str, type_: str, issuer: str, subject: str, key: str) -> dict[str, Any]:
    doc = {
        "@context": [AS, "https://w3id.org/security/data-integrity/v2"],
        "id": ident,
        "type": type_,
        "attributedTo": issuer,
        "object": subject,
        "published": "2026-11-01T00:00:00Z",
    }
    return add_proof(doc, key, f"{issuer}#ed25519-key", NOW)


KEYS = {name: generate_ed25519_private_pem() for name in ("seat", "section", "other")}


def genuine() -> Docs:
    return {
        SEAT: actor(SEAT, "Organization", KEYS["seat"], role="seat"),
        SECTION: actor(SECTION, "Organization", KEYS["section"], authorization=AUTH),
        MEDIATOR: actor(MEDIATOR, "Person", KEYS["other"], certification=CERT),
        AUTH: attestation(AUTH, "SectionAuthorization", SEAT, SECTION, KEYS["seat"]),
        CERT: attestation(CERT, "MediatorCertification", SECTION, MEDIATOR, KEYS["section"]),
    }


def fetcher(docs: Docs, statuses: dict[str, int | None] | None = None) -> Any:
    asked: list[str] = []

    async def fetch(url: str) -> dict[str, Any]:
        asked.append(url)
        if statuses and url in statuses:
            raise FetchError(f"{url} failed", statuses[url])
        if url not in docs:
            raise FetchError(f"{url} answered HTTP 404", 404)
        return copy.deepcopy(docs[url])

    fetch.asked = asked  # type: ignore[attr-defined]
    return fetch


async def test_genuine_chain_verifies_up_to_the_anchor() -> None:
    docs = genuine()
    report = await verify_chain(fetcher(docs), docs[MEDIATOR], SEAT)
    assert report.ok, report.reason
    assert [(link.kind, link.issuer, link.subject) for link in report.links] == [
        ("certification", SECTION, MEDIATOR),
        ("authorization", SEAT, SECTION),
    ]
    assert report.lines()[-1] == "chain verified"


async def test_the_anchor_itself_needs_no_link() -> None:
    docs = genuine()
    assert (await verify_chain(fetcher(docs), docs[SEAT], SEAT)).ok


async def test_no_anchor_verifies_nothing() -> None:
    docs = genuine()
    fetch = fetcher(docs)
    report = await verify_chain(fetch, docs[MEDIATOR], None)
    assert report.reason == NO_ANCHOR
    assert fetch.asked == []  # refused before any fetch


async def test_role_is_not_trust() -> None:
    """An actor that says it is the seat is not the seat."""
    docs = genuine()
    report = await verify_chain(fetcher(docs), docs[SEAT], "https://real-seat.example/users/s")
    assert not report.ok and "has no authorisation" in (report.reason or "")
    report = await verify_chain(fetcher(docs), docs[MEDIATOR], "https://real-seat.example/users/s")
    assert "authorised by https://siege.example/users/siege, but this network's seat is" in (
        report.reason or ""
    )


Mutation = Callable[[Docs], None]


def _set(url: str, key: str, value: Any) -> Mutation:
    def mutate(docs: Docs) -> None:
        docs[url][key] = value

    return mutate


def _resign(url: str, key: str, **changes: Any) -> Mutation:
    def mutate(docs: Docs) -> None:
        doc = {k: v for k, v in docs[url].items() if k != "proof"}
        doc.update(changes)
        issuer = doc["attributedTo"] if isinstance(doc["attributedTo"], str) else SECTION
        docs[url] = add_proof(doc, KEYS[key], f"{issuer}#ed25519-key", NOW)

    return mutate


def _move_cert_to(url: str) -> Mutation:
    def mutate(docs: Docs) -> None:
        doc = {k: v for k, v in docs[CERT].items() if k != "proof"}
        doc["id"] = url
        docs[url] = add_proof(doc, KEYS["section"], f"{SECTION}#ed25519-key", NOW)
        docs[MEDIATOR]["certification"] = url

    return mutate


OTHER_MEDIATOR = "https://elsewhere.example/users/kossi"


def _mediator_elsewhere(docs: Docs) -> None:
    """The section's well-signed certification of a mediator on another server."""
    doc = {k: v for k, v in docs[CERT].items() if k != "proof"}
    doc["object"] = OTHER_MEDIATOR
    docs[CERT] = add_proof(doc, KEYS["section"], f"{SECTION}#ed25519-key", NOW)
    docs[OTHER_MEDIATOR] = {**docs[MEDIATOR], "id": OTHER_MEDIATOR}
    docs[MEDIATOR] = docs[OTHER_MEDIATOR]


def _rogue_authorisation(docs: Docs) -> None:
    """A well-formed authorisation from an actor that calls itself a seat."""
    rogue, url = "https://rogue.example/users/seat", "https://rogue.example/attestations/a9"
    docs[rogue] = actor(rogue, "Organization", KEYS["other"], role="seat")
    docs[url] = attestation(url, "SectionAuthorization", rogue, SECTION, KEYS["other"])
    docs[SECTION]["authorization"] = url


CASES: list[tuple[str, Mutation, str]] = [
    ("no-certification", _set(MEDIATOR, "certification", None), "has no certification"),
    ("no-authorisation", _set(SECTION, "authorization", None), "has no authorisation"),
    ("tampered", _set(CERT, "published", "2004-01-01T00:00:00Z"), "does not verify"),
    ("wrong-type", _resign(CERT, "section", type="Note"), "not a MediatorCertification"),
    ("other-subject", _resign(CERT, "section", object=SEAT), "attests"),
    (
        "two-issuers",
        _resign(CERT, "section", attributedTo=[SECTION, SEAT]),
        "exactly one issuer",
    ),
    (
        "signed-by-another-key",
        _resign(CERT, "other", attributedTo=SECTION),
        "does not verify",
    ),
    (
        "not-hosted-by-issuer",
        _move_cert_to("https://elsewhere.example/attestations/c1"),
        "not hosted by its issuer",
    ),
    (
        "section-certifies-another-servers-mediator",
        _mediator_elsewhere,
        "not one of its own mediators",
    ),
    ("authorised-by-someone-else", _rogue_authorisation, "but this network's seat is"),
    ("authorisation-hosted-elsewhere", _resign(AUTH, "seat", attributedTo=SECTION), "hosted by"),
]


@pytest.mark.parametrize(("mutate", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_each_broken_link_is_refused_with_its_reason(mutate: Mutation, reason: str) -> None:
    docs = genuine()
    mutate(docs)
    report = await verify_chain(fetcher(docs), docs[MEDIATOR], SEAT)
    assert not report.ok
    assert reason in (report.reason or ""), report.reason


async def test_mediator_certified_by_the_seat_itself_is_refused() -> None:
    docs = genuine()
    cert = "https://siege.example/attestations/c2"
    docs[cert] = attestation(cert, "MediatorCertification", SEAT, MEDIATOR, KEYS["seat"])
    docs[MEDIATOR] = {**docs[MEDIATOR], "id": MEDIATOR, "certification": cert}
    report = await verify_chain(fetcher(docs), docs[MEDIATOR], SEAT)
    assert "issued by the seat itself" in (report.reason or "")


async def test_stranger_costs_one_fetch() -> None:
    """An authorisation whose issuer is not the anchor is refused before its issuer is fetched."""
    docs = genuine()
    fetch = fetcher(docs)
    with pytest.raises(ChainError, match="this network's seat is"):
        await check_authorization(fetch, AUTH, SECTION, "https://real-seat.example/users/s")
    assert fetch.asked == [AUTH]


@pytest.mark.parametrize(
    ("status", "transient", "words"),
    [
        (410, False, "has been revoked"),
        (404, False, "cannot fetch"),
        (403, False, "cannot fetch"),
        (500, True, "cannot fetch"),
        (503, True, "cannot fetch"),
        (429, True, "cannot fetch"),
        (None, True, "cannot fetch"),
    ],
)
async def test_fetch_failures_say_whether_to_try_again(
    status: int | None, transient: bool, words: str
) -> None:
    docs = genuine()
    with pytest.raises(ChainError) as caught:
        await check_authorization(fetcher(docs, {AUTH: status}), AUTH, SECTION, SEAT)
    assert caught.value.transient is transient
    assert words in str(caught.value)
