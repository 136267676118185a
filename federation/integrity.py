"""Object integrity proofs (FEP-8b32) with the ``eddsa-jcs-2022`` cryptosuite.

An HTTP signature only proves who *delivered* a request; once an activity is forwarded, fetched
from a cache or relayed by another section, that proof is gone. An integrity proof travels inside
the JSON itself, so anyone holding the object can check who wrote it and that nobody changed it.

We follow W3C "Data Integrity EdDSA Cryptosuites v1.0", section 3.3 (``eddsa-jcs-2022``):
canonicalise with JCS (RFC 8785), hash the proof configuration and the document separately with
SHA-256, concatenate both hashes and sign that with Ed25519. JCS works on plain JSON, which is
what we want: no JSON-LD processing, no remote context fetching, and the bytes that are checked
are the JSON values we act on. Keys are published as FEP-521a ``Multikey`` objects in the actor's
``assertionMethod``.

Everything here is a pure function: no network access, no clock reads, no storage. Finding the
key for a ``verificationMethod`` (fetching the controller actor, reading a cache...) is the
caller's job, passed in as a plain callable, so that the same code verifies inbox deliveries,
fetched objects and test vectors.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import base58
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "CRYPTOSUITE",
    "PROOF_PURPOSE",
    "PROOF_TYPE",
    "ProofError",
    "add_proof",
    "ed25519_public_multibase",
    "find_assertion_key",
    "generate_ed25519_private_pem",
    "multikey",
    "public_key_from_multibase",
    "public_key_to_multibase",
    "verify_proof",
]

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
# FEP-8b32: the proof asserts authorship of the object, nothing else (no authentication,
# no capability invocation), so any other purpose is refused rather than guessed at.
PROOF_PURPOSE = "assertionMethod"

# Multicodec "ed25519-pub" (0xed) as an unsigned varint: 0xed 0x01. It is what makes a
# publicKeyMultibase start with "z6Mk", and what tells us the key type without a "type" field.
_ED25519_PUB_PREFIX = b"\xed\x01"
_BASE58_ALPHABET = frozenset("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")

# xsd:dateTimeStamp, as required for "created" by Data Integrity §2.1: a time zone is
# mandatory, otherwise the same proof would mean different instants to different verifiers.
_DATETIME_STAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})", re.ASCII
)

_DOES_NOT_VERIFY = (
    "proof does not verify: the document or its proof was changed, or signed by another key"
)


class ProofError(Exception):
    """A proof that cannot be accepted (or a key that cannot be read).

    ``reason`` is a short human sentence ('no proof', 'unsupported cryptosuite: ...', 'proof
    does not verify: ...') so the inbox can log it or echo it in a 401 body as is.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------------------- keys


def generate_ed25519_private_pem() -> str:
    """A new Ed25519 private key as unencrypted PKCS#8 PEM.

    PEM like the RSA keys in ``federation.keys`` so both kinds are stored the same way; the
    data directory is the secret, so the PEM is not encrypted.
    """
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


@lru_cache(maxsize=256)
def _load_private_key(private_pem: str) -> Ed25519PrivateKey:
    """Parse once per PEM: an actor signs many objects with the same key.

    Raises ValueError for anything that is not an unencrypted Ed25519 private key, so that an
    RSA PEM passed by mistake fails loudly instead of producing an unverifiable proof.
    """
    try:
        key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise ValueError(f"unreadable private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("integrity proofs need an Ed25519 private key")
    return key


def public_key_to_multibase(public_key: Ed25519PublicKey) -> str:
    """FEP-521a / Multikey encoding: 'z' + base58btc(0xed 0x01 || 32-byte raw public key)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58.b58encode(_ED25519_PUB_PREFIX + raw).decode("ascii")


def ed25519_public_multibase(private_pem: str) -> str:
    """The ``publicKeyMultibase`` ('z6Mk...') of a private key, for the actor document."""
    return public_key_to_multibase(_load_private_key(private_pem).public_key())


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    """Decode a ``publicKeyMultibase`` that must be an Ed25519 key in base58btc.

    Strict on purpose: the value comes from remote actor documents, and a lenient decoder
    (the base58 library strips trailing whitespace, for instance) would let two different
    strings name the same key. With every character checked against the alphabet, and the
    decoded value required to be exactly 0xed 0x01 + 32 bytes (so no leading '1' = zero byte),
    each key has a single accepted spelling; anything else raises ProofError.
    """
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("publicKeyMultibase must be base58btc multibase (starting with 'z')")
    body = value[1:]
    if not body or not set(body) <= _BASE58_ALPHABET:
        raise ProofError("publicKeyMultibase is not valid base58btc")
    decoded = base58.b58decode(body)
    if len(decoded) != len(_ED25519_PUB_PREFIX) + 32:
        raise ProofError(f"publicKeyMultibase has {len(decoded)} bytes, an Ed25519 key has 34")
    if not decoded.startswith(_ED25519_PUB_PREFIX):
        raise ProofError("publicKeyMultibase is not an Ed25519 public key (multicodec 0xed01)")
    try:
        return Ed25519PublicKey.from_public_bytes(decoded[len(_ED25519_PUB_PREFIX) :])
    except ValueError as exc:
        raise ProofError(f"publicKeyMultibase is not a usable Ed25519 key: {exc}") from exc


def multikey(controller: str, key_id: str, private_pem: str) -> dict[str, Any]:
    """The FEP-521a ``Multikey`` to publish in an actor's ``assertionMethod``.

    ``controller`` must be the actor id: verifiers (``find_assertion_key`` included) refuse a
    key whose controller is not the actor that lists it.
    """
    return {
        "id": key_id,
        "type": "Multikey",
        "controller": controller,
        "publicKeyMultibase": ed25519_public_multibase(private_pem),
    }


def find_assertion_key(actor: Mapping[str, Any], key_id: str) -> Ed25519PublicKey | None:
    """The public key ``key_id`` if ``actor`` lists it as its own assertion key, else None.

    Looks in ``actor["assertionMethod"]`` (a single object or a list) for a ``Multikey`` whose
    id is ``key_id`` and whose controller is the actor itself: listing somebody else's key must
    not let an actor sign in their name. Unparseable entries are skipped (None), since a
    verifier cannot do anything more useful with them than with a missing key.
    """
    actor_id = actor.get("id")
    if not isinstance(actor_id, str) or not actor_id:
        return None
    methods = actor.get("assertionMethod")
    if isinstance(methods, Mapping):
        methods = [methods]
    if not isinstance(methods, list):
        return None
    for method in methods:
        if not isinstance(method, Mapping) or method.get("id") != key_id:
            continue
        types = method.get("type")
        if not (types == "Multikey" or (isinstance(types, list) and "Multikey" in types)):
            continue
        if method.get("controller") != actor_id:
            continue
        encoded = method.get("publicKeyMultibase")
        if not isinstance(encoded, str):
            continue
        try:
            return public_key_from_multibase(encoded)
        except ProofError:
            continue
    return None


# ------------------------------------------------------------------------------------- proofs


def _canonical_hash(value: Mapping[str, Any]) -> bytes:
    """SHA-256 of the RFC 8785 canonical form; ValueError for what JSON cannot carry exactly.

    rfc8785 refuses NaN/Infinity, integers beyond 2**53 and non-string keys instead of
    serialising them differently from the receiver: better to fail at signing time.
    """
    return hashlib.sha256(rfc8785.dumps(value)).digest()


def _is_ld_signature(value: object) -> bool:
    """A Mastodon-style Linked Data signature (RsaSignature2017) under "signature"."""
    return isinstance(value, Mapping) and "signatureValue" in value


def _format_created(created: datetime) -> str:
    """xsd:dateTimeStamp in UTC to the second, the form used by the spec and FEP examples.

    isoformat (not strftime) so that years are always four digits.
    """
    if created.tzinfo is None or created.utcoffset() is None:
        raise ValueError("created must be timezone-aware")
    utc = created.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    return utc.isoformat() + "Z"


def _valid_created(value: object) -> bool:
    match = _DATETIME_STAMP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return False
    base, fraction, zone = match.groups()
    fraction = f".{fraction[:6]}" if fraction else ""
    try:
        datetime.fromisoformat(base + fraction + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return False
    return True


def _hash_data(proof_config: Mapping[str, Any], unsecured: Mapping[str, Any]) -> bytes:
    """eddsa-jcs-2022 §3.3.4: SHA-256(JCS(proofConfig)) || SHA-256(JCS(document))."""
    return _canonical_hash(proof_config) + _canonical_hash(unsecured)


def add_proof(
    document: Mapping[str, Any],
    private_pem: str,
    verification_method: str,
    created: datetime,
) -> dict[str, Any]:
    """A new dict: a deep copy of ``document`` with an ``eddsa-jcs-2022`` proof under "proof".

    Per eddsa-jcs-2022 §3.3.1, when the document has an "@context" the proof gets a copy of it,
    and that "@context" is part of the signed proof configuration. It must therefore also be
    *emitted* in the proof: verifiers (W3C, Mitra, Fedify, the current FEP-8b32 vectors) rebuild
    the configuration from the proof as received, so hashing a context that is not sent would
    make every such verifier fail.

    Raises ValueError if ``created`` is naive, if the key is not Ed25519, if the document already
    carries a proof (FEP-8b32: one proof per object) or a Linked Data signature (FEP-8b32: the
    integrity proof must be added *before* that signature, which then covers it), or if the
    document holds values JCS cannot represent exactly (NaN, integers beyond 2**53...).
    """
    if "proof" in document:
        raise ValueError("document already has a proof")
    if _is_ld_signature(document.get("signature")):
        raise ValueError("add the integrity proof before the Linked Data signature")
    key = _load_private_key(private_pem)
    unsecured: dict[str, Any] = copy.deepcopy(dict(document))
    proof_config: dict[str, Any] = {}
    if "@context" in unsecured:
        proof_config["@context"] = copy.deepcopy(unsecured["@context"])
    proof_config.update(
        {
            "type": PROOF_TYPE,
            "cryptosuite": CRYPTOSUITE,
            "verificationMethod": verification_method,
            "proofPurpose": PROOF_PURPOSE,
            "created": _format_created(created),
        }
    )
    try:
        hash_data = _hash_data(proof_config, unsecured)
    except ValueError as exc:
        raise ValueError(f"document cannot be canonicalised (RFC 8785): {exc}") from exc
    signature = key.sign(hash_data)
    proof = {**proof_config, "proofValue": "z" + base58.b58encode(signature).decode("ascii")}
    return {**unsecured, "proof": proof}


def _single_proof(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The one proof of ``document``; proof sets and chains are not supported (FEP-8b32)."""
    proof = document.get("proof")
    if proof is None:
        raise ProofError("no proof")
    if isinstance(proof, list):
        if len(proof) != 1:
            raise ProofError(
                "no proof" if not proof else "more than one proof: only one is supported"
            )
        proof = proof[0]
    if not isinstance(proof, Mapping):
        raise ProofError("proof is not a JSON object")
    return proof


def _decode_proof_value(value: object) -> bytes:
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("proofValue must be base58btc multibase (starting with 'z')")
    body = value[1:]
    if not body or not set(body) <= _BASE58_ALPHABET:
        raise ProofError("proofValue is not valid base58btc")
    signature = base58.b58decode(body)
    if len(signature) != 64:
        raise ProofError(f"proofValue has {len(signature)} bytes, an Ed25519 signature has 64")
    return signature


def verify_proof(
    document: Mapping[str, Any],
    resolve_key: Callable[[str], Ed25519PublicKey | None],
) -> str:
    """Check ``document["proof"]`` and return its ``verificationMethod`` id.

    Everything that can be checked without the key is checked first, so a malformed proof costs
    no actor fetch. ``resolve_key`` is a plain callable so callers decide how keys are found
    (fetch the controller actor and use ``find_assertion_key``, a local cache...); its own
    exceptions propagate. Returning the method id lets the caller check what FEP-8b32 leaves to
    it: that the key's controller is the owner of the object (e.g. its ``actor``).

    The proof configuration is the proof as received minus ``proofValue``. If the proof has an
    "@context" (eddsa-jcs-2022 §3.3.1 proofs, ours included) it must equal the document's: the
    spec only requires a prefix, but then the signed JSON would not be the JSON we act on. A
    proof without "@context" (the original FEP-8b32 form, still sent by older servers) is hashed
    as is. A Linked Data signature ("signature" with a signatureValue) is removed before
    hashing, as FEP-8b32 requires for objects that carry both.

    Raises ProofError(reason) otherwise. There is no clock here: rejecting old or future
    ``created`` values, or an ``expires`` in the past, is up to the caller.
    """
    if not isinstance(document, Mapping):
        raise ProofError("document is not a JSON object")
    proof = _single_proof(document)
    if proof.get("type") != PROOF_TYPE:
        raise ProofError(f"unsupported proof type: {proof.get('type')!r}")
    if proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"unsupported cryptosuite: {proof.get('cryptosuite')!r}")
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        raise ProofError(f"proofPurpose must be {PROOF_PURPOSE}, not {proof.get('proofPurpose')!r}")
    if "created" not in proof:
        raise ProofError("proof has no created date")
    if not _valid_created(proof["created"]):
        raise ProofError(f"proof created is not a valid date-time stamp: {proof['created']!r}")
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise ProofError("proof has no verificationMethod")
    signature = _decode_proof_value(proof.get("proofValue"))

    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if _is_ld_signature(unsecured.get("signature")):
        del unsecured["signature"]
    proof_config = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in proof_config and proof_config["@context"] != unsecured.get("@context"):
        raise ProofError("proof @context does not match the document @context")
    try:
        hash_data = _hash_data(proof_config, unsecured)
    except ValueError as exc:
        raise ProofError(f"document cannot be canonicalised (RFC 8785): {exc}") from exc

    public_key = resolve_key(method)
    if public_key is None:
        raise ProofError(f"verification method could not be resolved: {method}")
    try:
        public_key.verify(signature, hash_data)
    except InvalidSignature:
        raise ProofError(_DOES_NOT_VERIFY) from None
    return method
