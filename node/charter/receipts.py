"""Receipt actions for the CLI and the pages, and their verification over the network.

Each action is one transaction and checks who acts: a mediator issues and
cancels the receipts of the mediator profiles they hold, a coordinator
(and the operator at the command line) those of any mediator; members
cannot. ``verify`` needs no node: it fetches the receipt from its URL and
the issuer's actor, and checks the proof (models/charter/receipts.py).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from federation.http import ApClient, FetchError, address_allowed, make_session
from models.accounts import Principal
from models.actors import LocalActor, get_node_actor
from models.base import utcnow
from models.charter.contracts import Contract, ContractState
from models.charter.receipts import (
    Receipt,
    ReceiptDraft,
    ReceiptError,
    Verified,
    by_submission,
    cancel_receipt,
    cancelled_by,
    cancelled_ids,
    check_document,
    check_draft,
    check_submission,
    find_receipt,
    issue_receipt,
    list_receipts,
    number_of,
    receipt_url,
    totals,
    unwrap,
    years,
)
from models.errors import NotFound
from models.mediators import get_mediator
from node.context import Node

#: A receipt file or answer larger than this is no receipt.
MAX_RECEIPT_BYTES = 256 * 1024
VERIFY_TIMEOUT = 15.0


@dataclass(frozen=True)
class ReceiptView:
    """A receipt with what a page, the JSON and the CLI show next to it."""

    receipt: Receipt
    number: str
    url: str
    mediator: str
    mediator_name: str
    cancelled_by: Receipt | None
    cancelled_by_number: str | None
    cancels_number: str | None

    @property
    def state(self) -> str:
        if self.receipt.cancels_id is not None:
            return "cancelling"
        return "cancelled" if self.cancelled_by is not None else "valid"

    def envelope(self, urls: Any) -> dict[str, Any]:
        """What ``/receipts/{uuid}`` answers as JSON: the signed document as stored,
        and beside it (outside the signature) where it stands today."""
        out: dict[str, Any] = {
            "receipt": self.receipt.document,
            "state": self.state,
            "cancelledBy": None,
        }
        if self.cancelled_by is not None:
            out["cancelledBy"] = {
                "id": receipt_url(urls, self.cancelled_by.uuid),
                "number": self.cancelled_by_number,
                "reason": self.cancelled_by.reason,
                "issued": self.cancelled_by.created_at.isoformat(timespec="seconds"),
            }
        return out


async def _views(session: Any, node: Node, rows: list[Receipt]) -> list[ReceiptView]:
    section = await get_node_actor(session)
    cancelling = await cancelled_ids(session, [r.id for r in rows])
    actors: dict[int, LocalActor] = {}
    by_id: dict[int, Receipt] = {r.id: r for r in rows}
    out = []
    for r in rows:
        if r.mediator_actor_id not in actors:
            actor = await session.get(LocalActor, r.mediator_actor_id)
            assert actor is not None
            actors[r.mediator_actor_id] = actor
        actor = actors[r.mediator_actor_id]
        cancels = None
        if r.cancels_id is not None:
            target = by_id.get(r.cancels_id) or await session.get(Receipt, r.cancels_id)
            cancels = number_of(section, target) if target is not None else None
        by = cancelling.get(r.id)
        out.append(
            ReceiptView(
                receipt=r,
                number=number_of(section, r),
                url=receipt_url(node.urls, r.uuid),
                mediator=actor.username,
                mediator_name=actor.name or actor.username,
                cancelled_by=by,
                cancelled_by_number=number_of(section, by) if by is not None else None,
                cancels_number=cancels,
            )
        )
    return out


async def issue(
    node: Node,
    mediator: str,
    draft: ReceiptDraft,
    *,
    by: Principal,
    submission: str | None = None,
) -> ReceiptView:
    """Issue a receipt of ``mediator`` (a username): numbered, signed, stored.

    ``submission`` is the issuing form's one-time key: the same form sent
    again returns the receipt it already issued (even when both arrive at
    once: the second insert breaks the unique key, its transaction and its
    number roll back, and the first receipt is returned).
    """
    key = check_submission(submission)
    try:
        async with node.write() as session:
            actor = await get_mediator(session, mediator)
            by.require_mediator(actor.id)
            if key is not None and (done := await by_submission(session, key)) is not None:
                return await _repeated(session, node, done, actor)
            checked = check_draft(draft, utcnow().date())
            if checked.contract is not None:
                await _check_contract(session, checked.contract, actor)
            section = await get_node_actor(session)
            row = await issue_receipt(session, node.urls, section, actor, checked, submission=key)
            (view,) = await _views(session, node, [row])
    except IntegrityError:
        if key is None:
            raise
        async with node.sessions() as session:
            done = await by_submission(session, key)
            if done is None:
                raise
            actor = await get_mediator(session, mediator)
            return await _repeated(session, node, done, actor)
    return view


#: A sum is received under a contract once the client has signed it.
PAID_UNDER = frozenset({ContractState.SIGNED, ContractState.HANDED_IN, ContractState.ENDED})


async def _check_contract(session: Any, ref: str, actor: LocalActor) -> None:
    """A receipt names a contract of its own mediator that the client signed."""
    contract = await session.scalar(select(Contract).where(Contract.uuid == ref))
    if contract is None or contract.actor_id != actor.id:
        raise ReceiptError("no contract of this mediator has that reference")
    if contract.state not in PAID_UNDER:
        raise ReceiptError("this contract is not signed: a receipt names a signed contract")


async def receipts_for_contract(node: Node, ref: str, *, by: Principal) -> list[ReceiptView]:
    """The receipts that name a contract, for whoever may see that contract."""
    async with node.sessions() as session:
        contract = await session.scalar(select(Contract).where(Contract.uuid == ref))
        if contract is None:
            raise NotFound("no such contract")
        by.require_mediator(contract.actor_id)
        rows = await session.scalars(
            select(Receipt).where(Receipt.contract_ref == ref).order_by(Receipt.id)
        )
        return await _views(session, node, list(rows.all()))


async def _repeated(session: Any, node: Node, done: Receipt, actor: LocalActor) -> ReceiptView:
    if done.mediator_actor_id != actor.id:
        raise ReceiptError("this form was already used for another mediator: reload the page")
    (view,) = await _views(session, node, [done])
    return view


async def cancel(node: Node, ref: str, reason: str, *, by: Principal) -> ReceiptView:
    """Cancel a receipt (number, uuid or URL) by issuing the receipt that cancels it.

    The receipt is read under its row lock (PostgreSQL), and ``cancels_id``
    is unique: two cancellations at once make one cancelling receipt.
    """
    try:
        async with node.write() as session:
            target = await find_receipt(session, ref, for_update=True)
            by.require_mediator(target.mediator_actor_id)
            section = await get_node_actor(session)
            row = await cancel_receipt(session, node.urls, section, target, reason)
            (view,) = await _views(session, node, [row])
    except IntegrityError as exc:
        raise ReceiptError(f"{ref} has just been cancelled by someone else") from exc
    return view


async def get(node: Node, ref: str, *, by: Principal | None = None) -> ReceiptView:
    """One receipt with its state. Anyone may read one by its uuid (it is public at its
    URL); by number, only someone who may act for its mediator (``by``)."""
    async with node.sessions() as session:
        row = await find_receipt(session, ref)
        if by is not None:
            by.require_mediator(row.mediator_actor_id)
        (view,) = await _views(session, node, [row])
    return view


async def mediator_receipts(
    node: Node, mediator: str, *, by: Principal, limit: int = 50, offset: int = 0
) -> tuple[LocalActor, list[ReceiptView]]:
    async with node.sessions() as session:
        actor = await get_mediator(session, mediator)
        by.require_mediator(actor.id)
        rows = await list_receipts(session, mediator_id=actor.id, limit=limit, offset=offset)
        return actor, await _views(session, node, rows)


@dataclass(frozen=True)
class Total:
    mediator: str
    mediator_name: str
    currency: str
    count: int
    amount: str


@dataclass(frozen=True)
class Book:
    """The section's receipts for its coordinator: a year, perhaps one mediator."""

    year: int
    years: list[int]
    receipts: list[ReceiptView]
    totals: list[Total]
    more: bool


async def section_book(
    node: Node,
    *,
    by: Principal,
    year: int | None = None,
    mediator: str | None = None,
    limit: int | None = 50,
) -> Book:
    """Every receipt of a year (the current one by default), newest first, with totals."""
    from models.charter.receipts import format_amount

    by.require_coordinator()
    async with node.sessions() as session:
        mediator_id = None
        if mediator:
            mediator_id = (await get_mediator(session, mediator)).id
        year = year or utcnow().year
        rows = await list_receipts(
            session,
            year=year,
            mediator_id=mediator_id,
            limit=None if limit is None else limit + 1,
        )
        more = limit is not None and len(rows) > limit
        views = await _views(session, node, rows[:limit] if limit is not None else rows)
        sums = []
        for actor_id, currency, count, minor in await totals(session, year, mediator_id):
            actor = await session.get(LocalActor, actor_id)
            assert actor is not None
            sums.append(
                Total(
                    actor.username,
                    actor.name or actor.username,
                    currency,
                    count,
                    format_amount(minor, currency),
                )
            )
        known = await years(session)
    if year not in known:
        known = sorted({*known, year}, reverse=True)
    return Book(year, known, views, sums, more)


# ----------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class Verdict:
    """A receipt checked: genuine (its proof holds and the node holds it as is), and
    whether it still stands."""

    verified: Verified
    state: str
    cancelled_by: str | None
    reason: str | None


def _local_host(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not address_allowed(host)
    except ValueError:
        return False


async def verify(source: str) -> Verdict:
    """Check a receipt given by its URL, or by a file holding its JSON.

    URL: fetch what the node serves there, then its issuer's actor, and
    check the proof. FILE: check the file's proof the same way, then fetch
    the receipt's URL and compare (a different document is "altered"). In
    both cases the node's answer tells whether it was cancelled since.
    Only the receipt's own server is asked anything; plain http and local
    addresses are allowed only when the receipt's URL is itself local.
    Raises ReceiptError with the reason.
    """
    path = Path(source)
    from_file: dict[str, Any] | None = None
    if source.startswith(("https://", "http://")):
        # The page's address as copied from a browser ('?lang=en', '#…') is the same receipt.
        url = source.split("#", 1)[0].split("?", 1)[0]
    else:
        try:
            raw = await asyncio.to_thread(_read_small, path)
        except OSError as exc:
            raise ReceiptError(
                f"{source} is neither an http(s) URL nor a readable file ({exc.strerror or exc})"
            ) from exc
        try:
            from_file = unwrap(json.loads(raw))
        except ValueError as exc:
            raise ReceiptError(f"{source} does not hold a receipt's JSON ({exc})") from exc
        ident = from_file.get("id")
        if not isinstance(ident, str) or not ident.startswith(("https://", "http://")):
            raise ReceiptError("not genuine: the receipt has no http(s) id to check it against")
        url = ident
    local = _local_host(url)
    session = make_session(allow_private=local, timeout=VERIFY_TIMEOUT)
    client = ApClient(session, signer=None, allow_private=local, allow_http=local)
    try:
        if from_file is not None:
            doc = from_file
            verified = await _check(client, doc)
        held = await _fetch_receipt(client, url)
        node_doc = unwrap(held)
        if from_file is None:
            if node_doc.get("id") != url:
                raise ReceiptError(f"not genuine: {url} serves a receipt whose id is another")
            verified = await _check(client, node_doc)
        elif node_doc != from_file:
            raise ReceiptError(
                f"not genuine: this receipt was altered, or is not what the node holds at {url}"
            )
    finally:
        await session.close()
    by = held.get("cancelledBy") if isinstance(held.get("cancelledBy"), dict) else None
    state = str(held.get("state", "valid"))
    return Verdict(
        verified,
        state,
        str(by.get("number")) if by else None,
        str(by.get("reason")) if by and by.get("reason") else None,
    )


def _read_small(path: Path) -> bytes:
    with path.open("rb") as f:
        raw = f.read(MAX_RECEIPT_BYTES + 1)
    if len(raw) > MAX_RECEIPT_BYTES:
        raise ReceiptError(f"{path} is too large to be a receipt")
    return raw


async def _fetch_receipt(client: ApClient, url: str) -> dict[str, Any]:
    try:
        status, _, body, _ = await client.get(
            url, accept="application/json", sign=False, limit=MAX_RECEIPT_BYTES
        )
    except FetchError as exc:
        raise ReceiptError(f"cannot reach the receipt's node: {exc}") from exc
    if status == 404:
        raise ReceiptError(f"not genuine: the node at {url} holds no such receipt (404)")
    if status != 200:
        raise ReceiptError(f"the receipt's node answered HTTP {status}; try again later")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ReceiptError(f"{url} did not answer with a receipt's JSON") from exc
    if not isinstance(data, dict):
        raise ReceiptError(f"{url} did not answer with a receipt's JSON")
    return data


async def _check(client: ApClient, doc: dict[str, Any]) -> Verified:
    issuer = doc.get("issuer")
    if not isinstance(issuer, str):
        raise ReceiptError("not genuine: the receipt names no issuer")
    ident = doc.get("id")
    if not isinstance(ident, str) or urlsplit(issuer)[:2] != urlsplit(ident)[:2]:
        raise ReceiptError("not genuine: the issuer is not on the server of the receipt's URL")
    try:
        actor = await client.fetch_object(issuer)
    except FetchError as exc:
        raise ReceiptError(f"cannot fetch the issuer {issuer}: {exc}") from exc
    return check_document(doc, actor)


__all__ = [
    "Book",
    "ReceiptView",
    "Verdict",
    "cancel",
    "cancelled_by",
    "get",
    "issue",
    "mediator_receipts",
    "receipt_url",
    "section_book",
    "verify",
]
