"""Tests for federation.integrity (FEP-8b32 proofs, eddsa-jcs-2022, FEP-521a Multikey).

A round trip alone would pass even if signer and verifier shared the same mistake, so the core
checks are against outside references: the published test vectors of the W3C Data Integrity
EdDSA Cryptosuites spec and of FEP-8b32 (Ed25519 is deterministic, so the same key, document
and ``created`` must give the very same proofValue), an independent test-side implementation
(hashlib + cryptography + ``json.dumps(sort_keys=True)`` + a test-side base58), and a frozen
fixture that pins our own output.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from federation.integrity import (
    ProofError,
    add_proof,
    ed25519_public_multibase,
    find_assertion_key,
    generate_ed25519_private_pem,
    multikey,
    public_key_from_multibase,
    verify_proof,
)

FIXTURE = (
    Path(__file__).resolve().parent.parent / "fixtures" / "integrity" / "signed_attestation.json"
)
DOES_NOT_VERIFY = "proof does not verify"

ACTOR = "https://lome.coop.example/sections/lome"
KEY_ID = ACTOR + "#ed25519-key"
CREATED = datetime(2024, 5, 17, 9, 30, 5, tzinfo=UTC)

# --------------------------------------------------------------------- published test vectors
# Key pair of the W3C "Data Integrity EdDSA Cryptosuites v1.0" test vectors, also used by the
# FEP-8b32 test vectors (fep-8b32.feature).
VECTOR_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_SECRET = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
VECTOR_CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)

# W3C vc-di-eddsa, appendix "Representation: eddsa-jcs-2022": unsecured credential and the
# secured credential the spec publishes for it.
W3C_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2",
]
W3C_UNSECURED: dict[str, Any] = {
    "@context": W3C_CONTEXT,
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
W3C_VERIFICATION_METHOD = f"did:key:{VECTOR_PUBLIC}#{VECTOR_PUBLIC}"
W3C_SECURED: dict[str, Any] = {
    **W3C_UNSECURED,
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2023-02-24T23:36:38Z",
        "verificationMethod": W3C_VERIFICATION_METHOD,
        "proofPurpose": "assertionMethod",
        "@context": W3C_CONTEXT,
        "proofValue": (
            "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
        ),
    },
}

# FEP-8b32 (fep-8b32.feature, current version): a Create with a float-bearing Place, signed for
# an actor key, plus the actor that publishes that key as a Multikey.
FEP_ACTOR_ID = "https://server.example/users/alice"
FEP_KEY_ID = FEP_ACTOR_ID + "#ed25519-key"
FEP_CONTEXT = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/data-integrity/v2",
]
FEP_DOCUMENT: dict[str, Any] = {
    "@context": FEP_CONTEXT,
    "id": "https://server.example/activities/1",
    "type": "Create",
    "actor": FEP_ACTOR_ID,
    "object": {
        "id": "https://server.example/objects/1",
        "type": "Note",
        "attributedTo": FEP_ACTOR_ID,
        "content": "Hello world",
        "location": {"type": "Place", "longitude": -71.184902, "latitude": 25.273962},
    },
}
FEP_SIGNED: dict[str, Any] = {
    **FEP_DOCUMENT,
    "proof": {
        "@context": FEP_CONTEXT,
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": FEP_KEY_ID,
        "proofPurpose": "assertionMethod",
        "proofValue": (
            "z42ffGu6AUKPCFcFPiabmUvnGLPJzC7e4DGWC52NUasSSH37UMa9c58tdgVszUcZfytxa4fQ5TYHaJENCxUDe9SdL"
        ),
        "created": "2023-02-24T23:36:38Z",
    },
}
FEP_ACTOR: dict[str, Any] = {
    "@context": [*FEP_CONTEXT, "https://w3id.org/security/multikey/v1"],
    "type": "Person",
    "id": FEP_ACTOR_ID,
    "inbox": FEP_ACTOR_ID + "/inbox",
    "outbox": FEP_ACTOR_ID + "/outbox",
    "assertionMethod": [
        {
            "id": FEP_KEY_ID,
            "type": "Multikey",
            "controller": FEP_ACTOR_ID,
            "publicKeyMultibase": VECTOR_PUBLIC,
        }
    ],
}
# The earlier FEP-8b32 vector, from before proofs carried "@context": what older servers send.
FEP_LEGACY_SIGNED: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/data-integrity/v1",
    ],
    "type": "Create",
    "actor": FEP_ACTOR_ID,
    "object": {"type": "Note", "content": "Hello world"},
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": FEP_KEY_ID,
        "proofPurpose": "assertionMethod",
        "proofValue": (
            "z3sXaxjKs4M3BRicwWA9peyNPJvJqxtGsDmpt1jjoHCjgeUf71TRFz56osPSfDErszyLp5Ks1EhYSgpDaNM977Rg2"
        ),
        "created": "2023-02-24T23:36:38Z",
    },
}

# ------------------------------------------------------------------ test-side reimplementation
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b58decode(text: str) -> bytes:
    """Test-side base58btc (Bitcoin alphabet), independent of the ``base58`` package."""
    number = 0
    for char in text:
        number = number * 58 + _B58.index(char)
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def _b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def _simple_jcs(value: Any) -> bytes:
    """JCS for ASCII-only documents of strings, ints and objects: sorted keys, no whitespace.

    For such documents RFC 8785 reduces to this (UTF-16 and UTF-8 key orders agree on ASCII), so
    it is an independent check of the module's use of rfc8785.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _independent_hash_data(document: dict[str, Any], proof: dict[str, Any]) -> bytes:
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    return (
        hashlib.sha256(_simple_jcs(config)).digest()
        + hashlib.sha256(_simple_jcs(unsecured)).digest()
    )


def _pem_of(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def _vector_private_key() -> Ed25519PrivateKey:
    """The spec's secretKeyMultibase: 'z' + base58btc(0x80 0x26 (ed25519-priv) + 32-byte seed)."""
    assert VECTOR_SECRET.startswith("z")
    raw = _b58decode(VECTOR_SECRET[1:])
    assert raw[:2] == b"\x80\x26" and len(raw) == 34
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


@functools.cache
def _pem(n: int) -> str:
    """Cached rather than a fixture so hypothesis tests can use it."""
    del n  # only distinguishes cache entries
    return generate_ed25519_private_pem()


def _public(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key.public_key()


def _resolver(
    keys: dict[str, Ed25519PublicKey], calls: list[str] | None = None
) -> Callable[[str], Ed25519PublicKey | None]:
    def resolve(method: str) -> Ed25519PublicKey | None:
        if calls is not None:
            calls.append(method)
        return keys.get(method)

    return resolve


def _any_key(key: Ed25519PublicKey) -> Callable[[str], Ed25519PublicKey | None]:
    """Resolves every method to ``key``: a failure is then the signature's, not the lookup's."""
    return lambda _method: key


def _attestation() -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/data-integrity/v2",
        ],
        "id": "https://lome.coop.example/attestations/1",
        "type": "Note",
        "attributedTo": ACTOR,
        "content": "Médiatrice agréée — SEL n° 42",
        "object": {"type": "Offer", "hours": 3, "tags": ["jardin", "cours"]},
    }


# ------------------------------------------------------------------------------ multikey codec


def test_vector_secret_gives_the_published_public_multikey() -> None:
    pem = _pem_of(_vector_private_key())
    assert ed25519_public_multibase(pem) == VECTOR_PUBLIC


def test_public_multibase_layout_checked_independently() -> None:
    pem = _pem(0)
    encoded = ed25519_public_multibase(pem)
    raw = _public(pem).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert encoded.startswith("z6Mk")
    assert _b58decode(encoded[1:]) == b"\xed\x01" + raw
    assert encoded == "z" + _b58encode(b"\xed\x01" + raw)


def test_public_key_from_multibase_round_trips() -> None:
    key = public_key_from_multibase(VECTOR_PUBLIC)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert raw == _b58decode(VECTOR_PUBLIC[1:])[2:]
    assert raw == _vector_private_key().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("z", id="only-prefix"),
        pytest.param(VECTOR_PUBLIC[1:], id="no-multibase-prefix"),
        pytest.param("u7QGwDY2Tjn93PVFWWq02piP1NE9_XRlg-c8-jhJiDqKBDw", id="base64url-multibase"),
        pytest.param("f" + _b58decode(VECTOR_PUBLIC[1:]).hex(), id="hex-multibase"),
        pytest.param(VECTOR_PUBLIC[:-1], id="truncated"),
        pytest.param(VECTOR_PUBLIC + "1", id="too-long"),
        pytest.param("z" + _b58encode(b"\xed\x01" + bytes(31)), id="31-byte-key"),
        pytest.param(VECTOR_SECRET, id="secret-key-multicodec"),
        pytest.param("z" + _b58encode(b"\xec\x01" + bytes(range(32))), id="x25519-multicodec"),
        pytest.param("z" + _b58encode(bytes(range(32)) + b"\0\0"), id="raw-no-multicodec"),
        pytest.param(VECTOR_PUBLIC[:10] + "0" + VECTOR_PUBLIC[11:], id="invalid-char-0"),
        pytest.param(VECTOR_PUBLIC[:10] + "l" + VECTOR_PUBLIC[11:], id="invalid-char-l"),
        pytest.param(VECTOR_PUBLIC + " ", id="trailing-space"),
        pytest.param(" " + VECTOR_PUBLIC, id="leading-space"),
        pytest.param("Z" + VECTOR_PUBLIC[1:], id="uppercase-prefix"),
    ],
)
def test_public_key_from_multibase_rejects_malformed(value: str) -> None:
    with pytest.raises(ProofError):
        public_key_from_multibase(value)


def test_multikey_document() -> None:
    pem = _pem(0)
    assert multikey(ACTOR, KEY_ID, pem) == {
        "id": KEY_ID,
        "type": "Multikey",
        "controller": ACTOR,
        "publicKeyMultibase": ed25519_public_multibase(pem),
    }


def test_generated_pem_is_unencrypted_pkcs8_ed25519_and_fresh() -> None:
    pem = generate_ed25519_private_pem()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert isinstance(serialization.load_pem_private_key(pem.encode(), None), Ed25519PrivateKey)
    assert generate_ed25519_private_pem() != pem


# ----------------------------------------------------------------------- published vectors


def test_w3c_vector_is_reproduced_byte_for_byte() -> None:
    signed = add_proof(
        W3C_UNSECURED, _pem_of(_vector_private_key()), W3C_VERIFICATION_METHOD, VECTOR_CREATED
    )
    assert signed["proof"]["proofValue"] == W3C_SECURED["proof"]["proofValue"]
    assert signed == W3C_SECURED


def test_w3c_vector_verifies() -> None:
    key = public_key_from_multibase(VECTOR_PUBLIC)
    assert verify_proof(W3C_SECURED, _resolver({W3C_VERIFICATION_METHOD: key})) == (
        W3C_VERIFICATION_METHOD
    )


def test_fep_8b32_vector_is_reproduced_byte_for_byte() -> None:
    signed = add_proof(FEP_DOCUMENT, _pem_of(_vector_private_key()), FEP_KEY_ID, VECTOR_CREATED)
    assert signed == FEP_SIGNED


def test_fep_8b32_vector_verifies_with_key_from_actor() -> None:
    def resolve(method: str) -> Ed25519PublicKey | None:
        return find_assertion_key(FEP_ACTOR, method)

    assert verify_proof(FEP_SIGNED, resolve) == FEP_KEY_ID


def test_legacy_fep_8b32_vector_without_proof_context_verifies() -> None:
    key = public_key_from_multibase(VECTOR_PUBLIC)
    assert verify_proof(FEP_LEGACY_SIGNED, _resolver({FEP_KEY_ID: key})) == FEP_KEY_ID
    tampered = copy.deepcopy(FEP_LEGACY_SIGNED)
    tampered["object"]["content"] = "Hello world!"
    with pytest.raises(ProofError, match=DOES_NOT_VERIFY):
        verify_proof(tampered, _resolver({FEP_KEY_ID: key}))


def test_legacy_proof_does_not_get_the_document_context_injected() -> None:
    """Adding the document's @context to a legacy proof changes the signed config: rejected."""
    key = public_key_from_multibase(VECTOR_PUBLIC)
    injected = copy.deepcopy(FEP_LEGACY_SIGNED)
    injected["proof"]["@context"] = injected["@context"]
    with pytest.raises(ProofError, match=DOES_NOT_VERIFY):
        verify_proof(injected, _any_key(key))


# ---------------------------------------------------------------- independent implementation


def test_add_proof_agrees_with_independent_implementation() -> None:
    pem = _pem(0)
    document = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://a.example/notes/1",
        "type": "Note",
        "content": "plain ascii",
        "object": {"z": 1, "a": {"nested": "yes", "n": -7}},
    }
    signed = add_proof(document, pem, KEY_ID, CREATED)
    proof = signed["proof"]
    assert proof == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": KEY_ID,
        "proofPurpose": "assertionMethod",
        "created": "2024-05-17T09:30:05Z",
        "proofValue": proof["proofValue"],
    }
    hash_data = _independent_hash_data(signed, proof)
    signature = _b58decode(proof["proofValue"][1:])
    _public(pem).verify(signature, hash_data)  # raises InvalidSignature if they disagree
    key = serialization.load_pem_private_key(pem.encode(), None)
    assert isinstance(key, Ed25519PrivateKey)
    assert proof["proofValue"] == "z" + _b58encode(key.sign(hash_data))


@pytest.mark.parametrize(
    "created",
    ["2023-02-24T23:36:38.123+01:00", "2023-02-24T23:36:38-05:30", "2023-02-24T23:36:38.1234567Z"],
)
def test_verify_accepts_other_date_time_stamps_signed_independently(created: str) -> None:
    """A proof made by another implementation, with fractions and offsets in created."""
    private = _vector_private_key()
    document = {"type": "Note", "content": "from elsewhere"}
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": FEP_KEY_ID,
        "proofPurpose": "assertionMethod",
        "created": created,
    }
    proof["proofValue"] = "z" + _b58encode(private.sign(_independent_hash_data(document, proof)))
    signed = {**document, "proof": proof}
    assert verify_proof(signed, _any_key(private.public_key())) == FEP_KEY_ID


def test_independent_signature_over_other_bytes_is_refused() -> None:
    """Signing only the document hash (a plausible bug elsewhere) must not pass for a proof."""
    private = _vector_private_key()
    document = {"type": "Note", "content": "x"}
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": FEP_KEY_ID,
        "proofPurpose": "assertionMethod",
        "created": "2023-02-24T23:36:38Z",
    }
    wrong = private.sign(hashlib.sha256(_simple_jcs(document)).digest())
    signed = {**document, "proof": {**proof, "proofValue": "z" + _b58encode(wrong)}}
    with pytest.raises(ProofError, match=DOES_NOT_VERIFY):
        verify_proof(signed, _any_key(private.public_key()))


# ------------------------------------------------------------------------------ round trips


def test_round_trip_returns_the_method_and_leaves_the_input_alone() -> None:
    pem = _pem(0)
    document = _attestation()
    before = copy.deepcopy(document)
    signed = add_proof(document, pem, KEY_ID, CREATED)
    assert document == before
    assert "proof" not in document
    assert {k: v for k, v in signed.items() if k != "proof"} == document
    assert signed["proof"]["@context"] == document["@context"]
    assert signed["proof"]["created"] == "2024-05-17T09:30:05Z"
    assert verify_proof(signed, _resolver({KEY_ID: _public(pem)})) == KEY_ID
    # The signed copy is independent: changing the input afterwards does not change it.
    document["object"]["hours"] = 99
    document["@context"].append("https://example.org/extra")
    assert verify_proof(signed, _resolver({KEY_ID: _public(pem)})) == KEY_ID


def test_round_trip_survives_json_serialisation() -> None:
    pem = _pem(0)
    signed = add_proof(
        {**_attestation(), "score": 4.5, "ok": True, "none": None}, pem, KEY_ID, CREATED
    )
    wire = json.loads(json.dumps(signed, indent=3, ensure_ascii=True))
    assert verify_proof(wire, _resolver({KEY_ID: _public(pem)})) == KEY_ID


def test_document_without_context_gets_no_proof_context() -> None:
    pem = _pem(0)
    signed = add_proof({"type": "Note", "content": "x"}, pem, KEY_ID, CREATED)
    assert "@context" not in signed["proof"]
    assert verify_proof(signed, _resolver({KEY_ID: _public(pem)})) == KEY_ID


def test_proof_given_as_single_element_list_verifies() -> None:
    pem = _pem(0)
    signed = add_proof(_attestation(), pem, KEY_ID, CREATED)
    signed["proof"] = [signed["proof"]]
    assert verify_proof(signed, _resolver({KEY_ID: _public(pem)})) == KEY_ID


def test_created_is_written_in_utc_to_the_second() -> None:
    plus_two = timezone(timedelta(hours=2))
    signed = add_proof(
        {"a": "b"}, _pem(0), KEY_ID, datetime(2024, 1, 1, 1, 2, 3, 456789, tzinfo=plus_two)
    )
    assert signed["proof"]["created"] == "2023-12-31T23:02:03Z"
    signed = add_proof({"a": "b"}, _pem(0), KEY_ID, datetime(987, 6, 5, 4, 3, 2, tzinfo=UTC))
    assert signed["proof"]["created"] == "0987-06-05T04:03:02Z"


def test_linked_data_signature_added_after_the_proof_is_ignored() -> None:
    """FEP-8b32: an LD signature is added after the proof and removed before verifying."""
    pem = _pem(0)
    signed = add_proof(_attestation(), pem, KEY_ID, CREATED)
    signed["signature"] = {
        "type": "RsaSignature2017",
        "creator": ACTOR + "#main-key",
        "created": "2024-05-17T09:30:06Z",
        "signatureValue": "c2lnbmF0dXJl",
    }
    assert verify_proof(signed, _resolver({KEY_ID: _public(pem)})) == KEY_ID


def test_signature_field_that_is_not_an_ld_signature_is_covered() -> None:
    pem = _pem(0)
    signed = add_proof({**_attestation(), "signature": "Akossiwa M."}, pem, KEY_ID, CREATED)
    assert verify_proof(signed, _resolver({KEY_ID: _public(pem)})) == KEY_ID
    signed["signature"] = "Someone else"
    with pytest.raises(ProofError, match=DOES_NOT_VERIFY):
        verify_proof(signed, _resolver({KEY_ID: _public(pem)}))


# ------------------------------------------------------------------------------ tampering


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        target: Any = doc
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


def _delete(path: tuple[str | int, ...]) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        target: Any = doc
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return change


def _change_both_contexts(doc: dict[str, Any]) -> None:
    doc["@context"] = ["https://www.w3.org/ns/activitystreams"]
    doc["proof"]["@context"] = ["https://www.w3.org/ns/activitystreams"]


def _remove_both_contexts(doc: dict[str, Any]) -> None:
    del doc["@context"]
    del doc["proof"]["@context"]


def _reverse_list(doc: dict[str, Any]) -> None:
    doc["object"]["tags"].reverse()


TAMPERINGS: dict[str, Callable[[dict[str, Any]], None]] = {
    "top-level-value": _set(("content",), "Médiatrice révoquée"),
    "top-level-id": _set(("id",), "https://lome.coop.example/attestations/2"),
    "nested-value": _set(("object", "hours"), 4),
    "nested-int-to-string": _set(("object", "hours"), "3"),
    "nested-list-item": _set(("object", "tags", 0), "jardinage"),
    "list-order": _reverse_list,
    "add-top-level-field": _set(("to",), ["https://www.w3.org/ns/activitystreams#Public"]),
    "add-nested-field": _set(("object", "extra"), "x"),
    "add-null-field": _set(("inReplyTo",), None),
    "remove-top-level-field": _delete(("content",)),
    "remove-nested-field": _delete(("object", "hours")),
    "remove-context-from-both": _remove_both_contexts,
    "both-contexts-changed": _change_both_contexts,
    "proof-created": _set(("proof", "created"), "2024-05-17T09:30:06Z"),
    "proof-created-same-instant-other-form": _set(
        ("proof", "created"), "2024-05-17T11:30:05+02:00"
    ),
    "proof-verification-method": _set(("proof", "verificationMethod"), ACTOR + "#other-key"),
    "proof-extra-field": _set(("proof", "expires"), "2099-01-01T00:00:00Z"),
    "proof-value-other-signature": _set(("proof", "proofValue"), "z" + _b58encode(bytes(64))),
}


@pytest.mark.parametrize("tamper", list(TAMPERINGS.values()), ids=list(TAMPERINGS))
def test_tampering_breaks_the_proof(tamper: Callable[[dict[str, Any]], None]) -> None:
    pem = _pem(0)
    signed = add_proof(_attestation(), pem, KEY_ID, CREATED)
    assert verify_proof(signed, _any_key(_public(pem))) == KEY_ID
    tamper(signed)
    with pytest.raises(ProofError, match=DOES_NOT_VERIFY) as caught:
        verify_proof(signed, _any_key(_public(pem)))
    assert caught.value.reason.startswith(DOES_NOT_VERIFY)


def test_changing_only_the_document_context_is_refused() -> None:
    pem = _pem(0)
    signed = add_proof(_attestation(), pem, KEY_ID, CREATED)
    signed["@context"] = [*signed["@context"], "https://example.org/extra"]
    with pytest.raises(ProofError, match="@context"):
        verify_proof(signed, _any_key(_public(pem)))


def test_another_key_is_refused() -> None:
    signed = add_proof(_attestation(), _pem(0), KEY_ID, CREATED)
    with pytest.raises(ProofError, match=DOES_NOT_VERIFY):
        verify_proof(signed, _resolver({KEY_ID: _public(_pem(1))}))
    with pytest.raises(ProofError, match=DOES_NOT_VERIFY):
        verify_proof(signed, _resolver({KEY_ID: public_key_from_multibase(VECTOR_PUBLIC)}))


# ------------------------------------------------------------------------ refusal reasons


def _signed() -> dict[str, Any]:
    return add_proof(_attestation(), _pem(0), KEY_ID, CREATED)


def _with_proof(**changes: Any) -> dict[str, Any]:
    signed = _signed()
    for key, value in changes.items():
        if value is None:
            del signed["proof"][key]
        else:
            signed["proof"][key] = value
    return signed


REFUSALS: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {
    "no-proof": (lambda: _attestation(), "^no proof$"),
    "null-proof": (lambda: {**_attestation(), "proof": None}, "^no proof$"),
    "empty-list": (lambda: {**_attestation(), "proof": []}, "^no proof$"),
    "two-proofs": (
        lambda: {**_attestation(), "proof": [_signed()["proof"], _signed()["proof"]]},
        "more than one proof",
    ),
    "proof-is-string": (lambda: {**_attestation(), "proof": "z123"}, "not a JSON object"),
    "wrong-type": (lambda: _with_proof(type="Ed25519Signature2020"), "unsupported proof type"),
    "no-type": (lambda: _with_proof(type=None), "unsupported proof type"),
    "wrong-cryptosuite": (
        lambda: _with_proof(cryptosuite="eddsa-rdfc-2022"),
        "unsupported cryptosuite",
    ),
    "legacy-cryptosuite-name": (
        lambda: _with_proof(cryptosuite="jcs-eddsa-2022"),
        "unsupported cryptosuite",
    ),
    "purpose-authentication": (
        lambda: _with_proof(proofPurpose="authentication"),
        "proofPurpose must be assertionMethod",
    ),
    "no-purpose": (lambda: _with_proof(proofPurpose=None), "proofPurpose"),
    "no-created": (lambda: _with_proof(created=None), "no created"),
    "created-words": (lambda: _with_proof(created="yesterday"), "created is not a valid"),
    "created-no-zone": (
        lambda: _with_proof(created="2024-05-17T09:30:05"),
        "created is not a valid",
    ),
    "created-space": (
        lambda: _with_proof(created="2024-05-17 09:30:05Z"),
        "created is not a valid",
    ),
    "created-impossible-day": (
        lambda: _with_proof(created="2024-02-30T09:30:05Z"),
        "created is not a valid",
    ),
    "created-number": (lambda: _with_proof(created=1715938205), "created is not a valid"),
    "created-date-only": (lambda: _with_proof(created="2024-05-17"), "created is not a valid"),
    "no-method": (lambda: _with_proof(verificationMethod=None), "no verificationMethod"),
    "empty-method": (lambda: _with_proof(verificationMethod=""), "no verificationMethod"),
    "no-proof-value": (lambda: _with_proof(proofValue=None), "proofValue"),
    "proof-value-not-multibase": (
        lambda: _with_proof(proofValue=_b58encode(bytes(range(64)))),
        "proofValue must be base58btc",
    ),
    "proof-value-bad-char": (lambda: _with_proof(proofValue="z0OIl"), "not valid base58btc"),
    "proof-value-short": (
        lambda: _with_proof(proofValue="z" + _b58encode(bytes(range(1, 33)))),
        "64",
    ),
    "big-int": (lambda: {**_signed(), "count": 2**60}, "cannot be canonicalised"),
    "nan": (lambda: {**_signed(), "ratio": float("nan")}, "cannot be canonicalised"),
}


@pytest.mark.parametrize("case", list(REFUSALS.values()), ids=list(REFUSALS))
def test_refusal_reasons_and_no_key_lookup(
    case: tuple[Callable[[], dict[str, Any]], str],
) -> None:
    """Malformed proofs are refused with a reason before any (costly) key lookup."""
    build, reason = case
    calls: list[str] = []
    with pytest.raises(ProofError, match=reason):
        verify_proof(build(), _resolver({KEY_ID: _public(_pem(0))}, calls))
    assert calls == []


def test_unresolvable_key_is_refused_after_one_lookup() -> None:
    calls: list[str] = []
    with pytest.raises(ProofError, match="could not be resolved") as caught:
        verify_proof(_signed(), _resolver({}, calls))
    assert calls == [KEY_ID]
    assert KEY_ID in caught.value.reason


def test_document_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ProofError, match="not a JSON object"):
        verify_proof([_signed()], _any_key(_public(_pem(0))))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("document", "pem", "created", "message"),
    [
        pytest.param(_signed(), "pem0", CREATED, "already has a proof", id="has-proof"),
        pytest.param(
            {"a": 1, "signature": {"type": "RsaSignature2017", "signatureValue": "x"}},
            "pem0",
            CREATED,
            "before the Linked Data signature",
            id="has-ld-signature",
        ),
        pytest.param({"a": 1}, "pem0", datetime(2024, 5, 17), "timezone-aware", id="naive"),
        pytest.param({"a": 1}, "rsa", CREATED, "Ed25519", id="rsa-key"),
        pytest.param({"a": 1}, "garbage", CREATED, "unreadable", id="garbage-key"),
        pytest.param(
            {"a": float("inf")}, "pem0", CREATED, "cannot be canonicalised", id="infinity"
        ),
        pytest.param(
            {"a": 2**53}, "pem0", CREATED, "cannot be canonicalised", id="int-beyond-2-53"
        ),
        pytest.param({"a": {1: "x"}}, "pem0", CREATED, "cannot be canonicalised", id="int-key"),
    ],
)
def test_add_proof_refuses_bad_input(
    document: dict[str, Any], pem: str, created: datetime, message: str
) -> None:
    if pem == "rsa":
        private_pem = (
            rsa.generate_private_key(public_exponent=65537, key_size=1024)
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode()
        )
    elif pem == "garbage":
        private_pem = "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"
    else:
        private_pem = _pem(0)
    with pytest.raises(ValueError, match=message):
        add_proof(document, private_pem, KEY_ID, created)


# ------------------------------------------------------------------------ find_assertion_key


def _actor(**changes: Any) -> dict[str, Any]:
    actor = copy.deepcopy(FEP_ACTOR)
    actor["assertionMethod"][0].update(changes)
    return actor


def test_find_assertion_key_in_list_and_single_object() -> None:
    expected = _b58decode(VECTOR_PUBLIC[1:])[2:]
    for actor in (FEP_ACTOR, {**FEP_ACTOR, "assertionMethod": FEP_ACTOR["assertionMethod"][0]}):
        key = find_assertion_key(actor, FEP_KEY_ID)
        assert key is not None
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        assert raw == expected


def test_find_assertion_key_picks_the_right_entry() -> None:
    other = multikey(FEP_ACTOR_ID, FEP_ACTOR_ID + "#other", _pem(1))
    reference = FEP_ACTOR_ID + "#ref"
    actor = {**FEP_ACTOR, "assertionMethod": [reference, other, *FEP_ACTOR["assertionMethod"]]}
    raw = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key = find_assertion_key(actor, FEP_ACTOR_ID + "#other")
    assert key is not None
    assert key.public_bytes(*raw) == _public(_pem(1)).public_bytes(*raw)
    key = find_assertion_key(actor, FEP_KEY_ID)
    assert key is not None
    assert key.public_bytes(*raw) == _b58decode(VECTOR_PUBLIC[1:])[2:]
    assert find_assertion_key(actor, reference) is None


@pytest.mark.parametrize(
    ("actor", "key_id"),
    [
        pytest.param(_actor(), FEP_ACTOR_ID + "#main-key", id="other-id"),
        pytest.param(
            _actor(controller="https://evil.example/users/mallory"),
            FEP_KEY_ID,
            id="foreign-controller",
        ),
        pytest.param(_actor(type="JsonWebKey"), FEP_KEY_ID, id="not-multikey"),
        pytest.param(_actor(publicKeyMultibase=VECTOR_SECRET), FEP_KEY_ID, id="bad-multibase"),
        pytest.param(_actor(publicKeyMultibase=None), FEP_KEY_ID, id="no-multibase"),
        pytest.param(
            {k: v for k, v in FEP_ACTOR.items() if k != "assertionMethod"}, FEP_KEY_ID, id="none"
        ),
        pytest.param({**FEP_ACTOR, "assertionMethod": "oops"}, FEP_KEY_ID, id="string"),
        pytest.param(
            {k: v for k, v in FEP_ACTOR.items() if k != "id"}, FEP_KEY_ID, id="actor-no-id"
        ),
        pytest.param(
            {**FEP_ACTOR, "assertionMethod": [FEP_KEY_ID]}, FEP_KEY_ID, id="reference-only"
        ),
    ],
)
def test_find_assertion_key_refuses(actor: dict[str, Any], key_id: str) -> None:
    assert find_assertion_key(actor, key_id) is None


def test_find_assertion_key_accepts_type_list() -> None:
    assert find_assertion_key(_actor(type=["Multikey"]), FEP_KEY_ID) is not None


# ------------------------------------------------------------------------- pinned fixture


def _fixture() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def test_pinned_fixture_still_verifies() -> None:
    data = _fixture()
    key = public_key_from_multibase(data["public_key_multibase"])
    actor = {
        "id": data["controller"],
        "assertionMethod": multikey(
            data["controller"], data["verification_method"], data["private_key_pem"]
        ),
    }
    assert actor["assertionMethod"]["publicKeyMultibase"] == data["public_key_multibase"]
    method = verify_proof(data["signed"], lambda m: find_assertion_key(actor, m))
    assert method == data["verification_method"]
    assert verify_proof(data["signed"], _resolver({method: key})) == method


def test_pinned_fixture_is_reproduced_byte_for_byte() -> None:
    data = _fixture()
    signed = data["signed"]
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    created = datetime.fromisoformat(signed["proof"]["created"])
    again = add_proof(unsigned, data["private_key_pem"], data["verification_method"], created)
    assert again == signed
    assert again["proof"]["proofValue"] == signed["proof"]["proofValue"]


def test_pinned_fixture_tampered_fails() -> None:
    data = _fixture()
    key = public_key_from_multibase(data["public_key_multibase"])
    tampered = copy.deepcopy(data["signed"])
    tampered["content"] = tampered["content"].replace("42", "43")
    with pytest.raises(ProofError, match=DOES_NOT_VERIFY):
        verify_proof(tampered, _any_key(key))
    tampered = copy.deepcopy(data["signed"])
    tampered["attachment"][1]["value"] = 4.25
    with pytest.raises(ProofError, match=DOES_NOT_VERIFY):
        verify_proof(tampered, _any_key(key))


# --------------------------------------------------------------------------------- property

_KEYS = st.text(alphabet="abcxyzé_-あ", max_size=4)  # never "proof" nor "signature"
_LEAVES = st.one_of(st.text(max_size=12), st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1))
_DOCUMENTS = st.dictionaries(
    _KEYS,
    st.recursive(_LEAVES, lambda inner: st.dictionaries(_KEYS, inner, max_size=3), max_leaves=12),
    min_size=1,
    max_size=5,
)


def _leaf_paths(value: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(value, dict):
        return [p for key, child in value.items() for p in _leaf_paths(child, (*path, key))]
    return [path]


def _changed(value: str | int) -> str | int:
    if isinstance(value, int):
        return value + 1 if value < 2**53 - 1 else value - 1
    return value + "·"


@settings(max_examples=50, deadline=None)
@given(document=_DOCUMENTS, data=st.data())
def test_any_json_document_signs_verifies_and_any_leaf_change_breaks_it(
    document: dict[str, Any], data: st.DataObject
) -> None:
    pem = _pem(2)
    resolve = _resolver({KEY_ID: _public(pem)})
    signed = add_proof(document, pem, KEY_ID, CREATED)
    assert verify_proof(json.loads(json.dumps(signed)), resolve) == KEY_ID

    paths = _leaf_paths(document)
    assume(paths)
    path = data.draw(st.sampled_from(paths))
    target: Any = signed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = _changed(target[path[-1]])
    with pytest.raises(ProofError, match=DOES_NOT_VERIFY):
        verify_proof(signed, resolve)


def test_invalid_signature_is_what_cryptography_reports_for_the_vector_with_other_key() -> None:
    """Sanity check of the test-side helpers: the W3C vector does not verify under another key."""
    hash_data = _independent_hash_data(W3C_SECURED, W3C_SECURED["proof"])
    signature = _b58decode(W3C_SECURED["proof"]["proofValue"][1:])
    public_key_from_multibase(VECTOR_PUBLIC).verify(signature, hash_data)
    with pytest.raises(InvalidSignature):
        _public(_pem(0)).verify(signature, hash_data)
