"""ActivityStreams 2.0 vocabulary and tolerant accessors.

One place for the constants every other module needs, so that a typo in a
content type or a context URL cannot hide in a corner of the code base.
Remote JSON is untrusted and loosely shaped (a value may be a string, an
object with an ``id`` or a list of either), hence the tolerant accessors.
We never fetch an ``@context`` at run time: the contexts we emit are fixed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})

#: Namespace of our own JSON-LD extension terms: a w3id.org permanent
#: identifier, so that the IRIs outlive any one domain or host of the project
#: (w3id.org redirects it to the term list; every node also serves the same
#: context at ``CONTEXT_PATH``). Decided in docs/decisions.md.
COOPNET_NS = "https://w3id.org/coopnet/ns#"
#: Namespaces our terms had before; IRIs in them are read as ours (nodes
#: running an older coopnet still send them), never written.
LEGACY_NAMESPACES = ("https://coopnet.example/ns#",)
#: Where every node serves the context document of our terms.
CONTEXT_PATH = "/ns"

#: ValueFlows, which FEP-0837 offers and our SEL exchanges use.
VF = "https://w3id.org/valueflows/ont/vf#"

#: Every term of ours, once: what each word in our JSON means. The contexts
#: below take the terms they need from here (and ``context_document`` serves
#: them all), so a term cannot mean two things in two corners of the code.
OUR_TERMS: dict[str, Any] = {
    "coopnet": COOPNET_NS,
    # Actors: a node's role in the network, a mediator's skills.
    "role": "coopnet:role",
    "skills": "coopnet:skills",
    # The certification chain (models/attestations.py).
    "certification": {"@id": "coopnet:certification", "@type": "@id"},
    "authorization": {"@id": "coopnet:authorization", "@type": "@id"},
    "SectionAuthorization": "coopnet:SectionAuthorization",
    "MediatorCertification": "coopnet:MediatorCertification",
    # Offers (models/offers.py): category, contact, and a price in SEL hours.
    "category": "coopnet:category",
    "contact": "coopnet:contact",
    "selReciprocal": "coopnet:selReciprocal",
    "selHour": "coopnet:selHour",
    # A node's live offers (its own and its mediators'), paged, for allies' directories.
    "offers": {"@id": "coopnet:offers", "@type": "@id"},
    # SEL exchanges between sections (models/sel/to_ap.py).
    "sequence": "coopnet:sequence",
    "reason": "coopnet:reason",
    "performedOn": "coopnet:performedOn",
    # The charter's paperwork (models/charter): signed documents a person keeps.
    "HostingContract": "coopnet:HostingContract",
    "Receipt": "coopnet:Receipt",
    # Club Aide help requests between allied nodes (models/network/help.py).
    "HelpRequest": "coopnet:HelpRequest",
    "HelpOffer": "coopnet:HelpOffer",
    "helpState": "coopnet:helpState",
    "helpOutcome": "coopnet:helpOutcome",
    "firstMeetingFree": "coopnet:firstMeetingFree",
    "signedAs": "coopnet:signedAs",
    # A section's semi-annual report to its seat (models/network/report_wire.py): the
    # figures are one JSON literal, so their keys need no term of their own.
    "EvaluationReport": "coopnet:EvaluationReport",
    "semester": "coopnet:semester",
    "asOf": {"@id": "coopnet:asOf", "@type": "http://www.w3.org/2001/XMLSchema#date"},
    "figures": {"@id": "coopnet:figures", "@type": "@json"},
    # Alliances between nodes (models/network/alliance_protocol.py).
    "Alliance": "coopnet:Alliance",
}

#: ValueFlows terms, for offers and SEL exchanges.
VF_TERMS: dict[str, Any] = {
    "vf": VF,
    "Proposal": "vf:Proposal",
    "Intent": "vf:Intent",
    "Agreement": "vf:Agreement",
    "Commitment": "vf:Commitment",
    "purpose": "vf:purpose",
    "publishes": "vf:publishes",
    "reciprocal": "vf:reciprocal",
    "unitBased": "vf:unitBased",
    "stipulates": "vf:stipulates",
    "action": "vf:action",
    "provider": {"@id": "vf:provider", "@type": "@id"},
    "receiver": {"@id": "vf:receiver", "@type": "@id"},
    "resourceConformsTo": {"@id": "vf:resourceConformsTo", "@type": "@id"},
    "resourceQuantity": "vf:resourceQuantity",
    "hasUnit": "vf:hasUnit",
    "hasNumericalValue": "vf:hasNumericalValue",
}


def our_terms(*names: str) -> dict[str, Any]:
    """The prefix and the named terms of ours, for an inline context."""
    return {"coopnet": COOPNET_NS, **{n: OUR_TERMS[n] for n in names}}


def ours(iri: object) -> str | None:
    """The local name of one of our IRIs ('selHour'), in the namespace or a
    legacy one; None for anything else."""
    if not isinstance(iri, str):
        return None
    for ns in (COOPNET_NS, *LEGACY_NAMESPACES):
        if iri.startswith(ns) and len(iri) > len(ns):
            return iri[len(ns) :]
    return None


def context_document() -> dict[str, Any]:
    """The JSON-LD context document a node serves at ``CONTEXT_PATH``."""
    return {"@context": {**OUR_TERMS, **{k: v for k, v in VF_TERMS.items()}}}


#: Inline context terms we add to actors; inline so that no consumer has to
#: fetch a document to understand them, and so that Mastodon's own terms keep
#: their usual meaning.
COOPNET_TERMS: dict[str, Any] = {
    **our_terms("role", "skills", "certification", "authorization", "offers"),
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
    "areaServed": "schema:areaServed",
    "assertionMethod": {"@id": "https://w3id.org/security#assertionMethod", "@type": "@id"},
    "Multikey": "https://w3id.org/security#Multikey",
    "publicKeyMultibase": "https://w3id.org/security#publicKeyMultibase",
    "controller": {"@id": "https://w3id.org/security#controller", "@type": "@id"},
}

CONTEXT: list[Any] = [AS_CONTEXT, SECURITY_CONTEXT, COOPNET_TERMS]
#: A poll's Question also carries Mastodon's count of voters.
QUESTION_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {**COOPNET_TERMS, "votersCount": "toot:votersCount"},
]

#: The two links of the certification chain (federation/certification.py).
SECTION_AUTHORIZATION = "SectionAuthorization"  # the seat authorises a section
MEDIATOR_CERTIFICATION = "MediatorCertification"  # a section certifies its mediator
#: What an alliance request offers (models/network/alliance_protocol.py).
ALLIANCE = "Alliance"

ACTIVITY_JSON = "application/activity+json"
LD_JSON_AS = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JRD_JSON = "application/jrd+json"
XRD_XML = "application/xrd+xml"
NODEINFO_21_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"
NODEINFO_21_CONTENT_TYPE = f'application/json; profile="{NODEINFO_21_SCHEMA}#"'

#: What we send in ``Accept`` when fetching ActivityPub documents.
ACCEPT_AP = f"{ACTIVITY_JSON}, {LD_JSON_AS}"

ACTOR_TYPES = frozenset({"Application", "Group", "Organization", "Person", "Service"})


def is_ap_media_type(content_type: str | None) -> bool:
    """True for ``application/activity+json`` and the ld+json AS profile.

    Parameters such as ``charset`` are tolerated; a bare ``application/ld+json``
    is accepted too because several servers send it without a profile.
    """
    if not content_type:
        return False
    main, _, params = content_type.partition(";")
    main = main.strip().lower()
    if main == ACTIVITY_JSON:
        return True
    if main == "application/ld+json":
        return "profile" not in params or "activitystreams" in params
    return False


def as_list(value: Any) -> list[Any]:
    """A JSON-LD value as a list: ``None`` is empty, a scalar is one item."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def get_id(value: Any) -> str | None:
    """The id of a reference that may be a bare IRI or an embedded object."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        ident = value.get("id")
        return ident if isinstance(ident, str) else None
    return None


def get_ids(value: Any) -> list[str]:
    return [i for i in (get_id(v) for v in as_list(value)) if i]


def has_type(obj: Any, types: Iterable[str] | str) -> bool:
    """True if the object's ``type`` (string or list) contains one of ``types``."""
    wanted = {types} if isinstance(types, str) else set(types)
    if not isinstance(obj, dict):
        return False
    return any(t in wanted for t in as_list(obj.get("type")) if isinstance(t, str))


def first_type(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    for t in as_list(obj.get("type")):
        if isinstance(t, str):
            return t
    return None


def same_origin(a: str, b: str) -> bool:
    """Same scheme, host and port: who may speak for an object's id."""
    x, y = urlsplit(a), urlsplit(b)
    return (x.scheme, x.netloc) == (y.scheme, y.netloc)


def parse_time(value: Any) -> datetime | None:
    """An AS2 xsd:dateTime; None unless it is a string with a time zone."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def strip_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def is_public(activity_or_object: dict[str, Any]) -> bool:
    audience = as_list(activity_or_object.get("to")) + as_list(activity_or_object.get("cc"))
    return any(get_id(a) in PUBLIC_ALIASES for a in audience)


#: No ActivityPub document nests anywhere near this deep; anything deeper is
#: refused before code that walks it recursively can overflow the stack.
MAX_JSON_DEPTH = 64


class JsonError(ValueError):
    """Remote bytes that are not a JSON document we accept; the message says why."""


def _depth(value: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item)
    return deepest


def _has_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def parse_json(data: bytes | str) -> Any:
    """JSON from a remote party, refused (JsonError) unless it is a document we can keep.

    UTF-8 only (RFC 8259 for JSON exchanged between systems); nested at most
    MAX_JSON_DEPTH deep; no NUL character anywhere, which no fediverse
    document needs and PostgreSQL cannot store in text. Counting brackets
    and looking for ``\\u0000`` are cheap filters, so the walks of the
    parsed value only happen for documents that might fail them.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonError(f"not UTF-8: {exc}") from None
    else:
        text = data
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError
        raise JsonError(f"not valid JSON: {exc}") from None
    brackets = text.count("[") + text.count("{")
    if brackets > MAX_JSON_DEPTH and _depth(value) > MAX_JSON_DEPTH:
        raise JsonError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    if "\\u0000" in text and _has_nul(value):
        raise JsonError("JSON with a NUL character (\\u0000)")
    return value


def attributed_to_signer(obj: dict[str, Any], actor: str) -> bool:
    """True if ``attributedTo`` is absent or names ``actor``, and names nobody
    on another server.

    The value may be a string, an object or a list of either; every entry
    counts (reading only a string let a list name anyone). A list may name
    others of the signer's own server: PeerTube attributes a video to an
    account and its channel, and a server speaks for its own origin anyway.
    """
    value = obj.get("attributedTo")
    if value is None:
        return True
    ids = [get_id(entry) for entry in as_list(value)]
    if not ids or any(i is None for i in ids) or actor not in ids:
        return False
    return all(same_origin(i, actor) for i in ids if i is not None)
