"""Who may attest what in the certification chain: the trust rules, pure.

The chain is seat → section → mediator. The seat authorises a section
(``SectionAuthorization``), a section certifies a mediator of its own server
(``MediatorCertification``). Each link is a document on its issuer's server
carrying an FEP-8b32 integrity proof. Trust comes from one place only: the
**anchor**, the seat this node was configured with. A link counts when its
document was fetched from the issuer's own origin, names the subject, is
signed with a key the issuer publishes, and the issuer is the authority
expected for that link. Anything a document says about itself (its
``role``, its type) is information, never trust.

No storage and no HTTP here: the caller passes ``fetch`` (URL → checked
ActivityStreams document, raising FetchError with the status), so the
rules are tested alone and used both by ``coopnet verify`` and by a section
checking the authorisation the seat announced to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from federation.http import FetchError
from federation.integrity import ProofError, find_assertion_key, verify_proof
from federation.vocab import (
    MEDIATOR_CERTIFICATION,
    SECTION_AUTHORIZATION,
    get_id,
    get_ids,
    has_type,
    same_origin,
)

Fetch = Callable[[str], Awaitable[dict[str, Any]]]

AUTHORIZATION = "authorization"  # seat → section
CERTIFICATION = "certification"  # section → mediator
TYPE_OF = {AUTHORIZATION: SECTION_AUTHORIZATION, CERTIFICATION: MEDIATOR_CERTIFICATION}
LABEL = {AUTHORIZATION: "authorisation", CERTIFICATION: "certification"}

NO_ANCHOR = (
    "no trust anchor configured: set the network's seat ([network] seat in coopnet.toml, "
    "or coopnet init --seat), or pass --seat"
)


class ChainError(Exception):
    """A link that does not hold; the message names it and says why.

    ``transient`` is true when the link could not be had at all (network
    error, server error): asking again later may succeed. Everything else
    is a verdict.
    """

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.transient = transient


@dataclass(frozen=True)
class Link:
    kind: str
    attestation: str
    issuer: str
    subject: str
    since: str


@dataclass
class Report:
    actor: str
    links: list[Link] = field(default_factory=list)
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None

    def lines(self) -> list[str]:
        out = []
        for link in self.links:
            verb = "certified by" if link.kind == CERTIFICATION else "authorised by"
            out.append(
                f"{link.subject} {verb} {link.issuer} since {link.since} ({link.attestation})"
            )
        out.append("chain verified" if self.ok else f"NOT VERIFIED: {self.reason}")
        return out


async def _fetch(fetch: Fetch, url: str, what: str) -> dict[str, Any]:
    try:
        return await fetch(url)
    except FetchError as exc:
        if exc.status == 410:
            raise ChainError(f"{what} {url} has been revoked (HTTP 410)") from exc
        transient = exc.status is None or exc.status >= 500 or exc.status == 429
        raise ChainError(f"cannot fetch {what} {url}: {exc}", transient=transient) from exc


IssuerRule = Callable[[str], None]


async def check_attestation(
    fetch: Fetch, url: str, kind: str, subject: str, accept_issuer: IssuerRule
) -> tuple[Link, dict[str, Any], dict[str, Any]]:
    """Fetch the attestation at ``url`` and check it; (link, attestation, issuer's actor).

    ``accept_issuer`` raises ChainError when the issuer named by the
    document is not the authority for this link; it is asked before any
    further fetch, so a stranger's attestation costs one request.
    """
    label = LABEL[kind]
    doc = await _fetch(fetch, url, label)
    if not has_type(doc, TYPE_OF[kind]):
        raise ChainError(f"{url} is a {doc.get('type')!r}, not a {TYPE_OF[kind]}")
    if get_id(doc.get("object")) != subject:
        raise ChainError(f"{url} attests {get_id(doc.get('object'))}, not {subject}")
    issuers = get_ids(doc.get("attributedTo"))
    if len(issuers) != 1:
        raise ChainError(f"{url} must name exactly one issuer (attributedTo)")
    issuer_id = issuers[0]
    if not same_origin(url, issuer_id):
        raise ChainError(f"{url} is not hosted by its issuer {issuer_id}")
    accept_issuer(issuer_id)
    issuer = await _fetch(fetch, issuer_id, "issuer")
    proof = doc.get("proof")
    method = get_id(proof.get("verificationMethod")) if isinstance(proof, dict) else None
    if method and find_assertion_key(issuer, method) is None:
        raise ChainError(f"{url} is signed with {method}, which is not a key of {issuer_id}")
    try:
        verify_proof(doc, lambda key_id: find_assertion_key(issuer, key_id))
    except ProofError as exc:
        raise ChainError(f"{url}: {exc}") from exc
    since = str(doc.get("published") or "?")
    return Link(kind, url, issuer_id, subject, since), doc, issuer


def issued_by(expected: str, what: str) -> IssuerRule:
    def rule(issuer: str) -> None:
        if issuer != expected:
            raise ChainError(f"{what} by {issuer}, but this network's seat is {expected}")

    return rule


async def check_authorization(
    fetch: Fetch, url: str, section: str, anchor: str
) -> tuple[Link, dict[str, Any]]:
    """A section's authorisation: issued by the anchor, about that section."""
    link, doc, _ = await check_attestation(
        fetch, url, AUTHORIZATION, section, issued_by(anchor, "authorised")
    )
    return link, doc


async def verify_chain(fetch: Fetch, subject: dict[str, Any], anchor: str | None) -> Report:
    """The chain above an actor document, up to the anchor; every failure is a reason.

    A ``Person`` goes through its certification to its section; the
    section (or any other actor) must then hold an authorisation issued by
    the anchor. The anchor itself is trusted by configuration.
    """
    subject_id = str(subject.get("id"))
    report = Report(subject_id)
    try:
        if not anchor:
            raise ChainError(NO_ANCHOR)
        if subject_id == anchor:
            return report
        if has_type(subject, "Person"):
            url = get_id(subject.get("certification"))
            if not url:
                raise ChainError(f"{subject_id} has no certification")

            def own_section(issuer: str) -> None:
                if issuer == anchor:
                    raise ChainError(
                        f"{url} is issued by the seat itself; mediators are certified by "
                        "their section"
                    )
                if not same_origin(issuer, subject_id):
                    raise ChainError(
                        f"{issuer} certified {subject_id}, which is not one of its own "
                        "mediators (a section can only certify mediators on its own server)"
                    )

            link, _, subject = await check_attestation(
                fetch, url, CERTIFICATION, subject_id, own_section
            )
            report.links.append(link)
            subject_id = link.issuer
        url = get_id(subject.get("authorization"))
        if not url:
            raise ChainError(f"{subject_id} has no authorisation from the seat")
        link, _ = await check_authorization(fetch, url, subject_id, anchor)
        report.links.append(link)
    except ChainError as exc:
        report.reason = str(exc)
    return report
