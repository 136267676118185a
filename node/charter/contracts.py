"""Actions on contract models, contracts and client satisfaction.

Each is one transaction and takes the acting ``Principal`` (the CLI passes
``OPERATOR``): coordinators write the models and see every contract; a
mediator acts on their own contracts only; the client acts only through a
token (no principal: the token is the right). A refusal is a ``UserError``
and nothing was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from models.accounts import Principal
from models.actors import LocalActor, get_node_actor
from models.charter import contract_models as cm
from models.charter import contracts as cs
from models.charter import satisfaction as sf
from models.charter import signing
from models.charter.contracts import Contract, ContractDraft
from models.charter.money import format_money, parse_money
from models.charter.signing import ClientDetails, Verification
from models.errors import Forbidden, NotFound
from models.mediators import get_mediator
from models.offers import Offer, OfferState
from node.context import Node


def sign_link(node: Node, token: str) -> str:
    return f"{node.urls.base}/contract/{token}"


def copy_link(node: Node, token: str) -> str:
    return f"{node.urls.base}/contract/copy/{token}"


def satisfaction_link(node: Node, token: str) -> str:
    return f"{node.urls.base}/satisfaction/{token}"


# ----------------------------------------------------------------------------- models


async def model_save(node: Node, by: Principal, kind: str, text: str) -> cm.ModelVersion:
    by.require_coordinator()
    async with node.write() as session:
        return await cm.save_version(session, kind, text, by.name)


async def model_versions(node: Node, by: Principal, kind: str) -> list[cm.ModelVersion]:
    by.require_coordinator()
    async with node.sessions() as session:
        return await cm.versions(session, kind)


def model_preview(by: Principal, text: str) -> str:
    """The text checked (placeholders) and shown with sample values: nothing is written."""
    by.require_coordinator()
    return cm.fill(cm.check_text(text), {p: "{" + p + "}" for p in cm.PLACEHOLDERS})


# ----------------------------------------------------------------------------- contracts


@dataclass(frozen=True)
class ContractView:
    """A contract with what its pages show: mediator, versions, the text, its check."""

    contract: Contract
    mediator: LocalActor
    contract_version: cm.ModelVersion
    conditions_version: cm.ModelVersion
    #: The Markdown the client reads (before signing) or signed (after).
    text: str
    verification: Verification | None


async def _mediator(session: Any, username: str) -> LocalActor:
    return await get_mediator(session, username)


async def _mine(session: Any, by: Principal, ref: str) -> tuple[Contract, LocalActor]:
    contract = await cs.get_contract(session, ref)
    mediator = await session.get(LocalActor, contract.actor_id)
    assert mediator is not None
    by.require_mediator(mediator.id)
    return contract, mediator


async def _view(node: Node, session: Any, contract: Contract, mediator: LocalActor) -> ContractView:
    model, conditions = await cs.versions_of(session, contract)
    if contract.signed_text is not None:
        text = contract.signed_text
        check = signing.verify(node.urls, contract, mediator, await get_node_actor(session))
    else:
        body, terms = await cs.text_to_sign(session, contract, mediator)
        text, check = body + cs.SEPARATOR + terms, None
    return ContractView(contract, mediator, model, conditions, text, check)


async def draft_from_offer(
    node: Node, by: Principal, mediator: str, offer_ref: str
) -> ContractDraft:
    """Service and price pre-filled from one of the mediator's live offers."""
    async with node.sessions() as session:
        actor = await _mediator(session, mediator)
        by.require_mediator(actor.id)
        offer = await session.scalar(select(Offer).where(Offer.uuid == offer_ref.strip()[:36]))
        if offer is None or offer.local_actor_id != actor.id or offer.state != OfferState.PUBLISHED:
            raise NotFound(f"no offer {offer_ref!r} on offer by this mediator")
    price = f"{offer.price_amount} {offer.price_currency}" if offer.price_amount else ""
    return ContractDraft(
        client="", service=offer.title, price=price, duration="", start="", end="", share=""
    )


async def offers_of(node: Node, by: Principal, mediator: str) -> list[Offer]:
    async with node.sessions() as session:
        actor = await _mediator(session, mediator)
        by.require_mediator(actor.id)
        return list(
            (
                await session.scalars(
                    select(Offer)
                    .where(Offer.local_actor_id == actor.id, Offer.state == OfferState.PUBLISHED)
                    .order_by(Offer.published.desc())
                )
            ).all()
        )


async def contract_create(
    node: Node,
    by: Principal,
    mediator: str,
    draft: ContractDraft,
    offer_ref: str | None = None,
) -> Contract:
    async with node.write() as session:
        actor = await _mediator(session, mediator)
        by.require_mediator(actor.id)
        offer_id = None
        if offer_ref:
            offer = await session.scalar(select(Offer).where(Offer.uuid == offer_ref.strip()[:36]))
            if offer is None or offer.local_actor_id != actor.id:
                raise NotFound(f"no offer {offer_ref!r} by this mediator")
            offer_id = offer.id
        return await cs.new_contract(session, actor, draft, by.name, offer_id)


async def contract_link(node: Node, by: Principal, ref: str) -> tuple[Contract, str]:
    """A new one-time signing link (the old one stops): the URL to give the client."""
    async with node.write() as session:
        contract, _ = await _mine(session, by, ref)
        token = await cs.make_link(session, contract)
    return contract, sign_link(node, token)


async def contract_copy_link(node: Node, by: Principal, ref: str) -> tuple[Contract, str]:
    """A new read-only link to the client's copy (the old one stops): the URL to give."""
    async with node.write() as session:
        contract, _ = await _mine(session, by, ref)
        token = cs.new_copy_link(contract)
    return contract, copy_link(node, token)


async def contract_view(node: Node, by: Principal, ref: str) -> ContractView:
    async with node.sessions() as session:
        contract, mediator = await _mine(session, by, ref)
        return await _view(node, session, contract, mediator)


async def contract_list(node: Node, by: Principal, mediator: str | None = None) -> list[Contract]:
    """A mediator's contracts (for them or a coordinator), or all of them (coordinator)."""
    async with node.sessions() as session:
        if mediator is None:
            by.require_coordinator()
            return await cs.list_contracts(session)
        actor = await _mediator(session, mediator)
        by.require_mediator(actor.id)
        return await cs.list_contracts(session, actor.id)


async def mediator_names(node: Node) -> dict[int, str]:
    async with node.sessions() as session:
        rows = await session.execute(select(LocalActor.id, LocalActor.username))
        return {i: u for i, u in rows.tuples()}


async def contract_hand_in(node: Node, by: Principal, ref: str, share: str) -> Contract:
    async with node.write() as session:
        contract, _ = await _mine(session, by, ref)
        minor, currency = parse_money(share, "the share paid", default=contract.currency)
        if currency != contract.currency:
            raise cs.ContractError(
                f"the share paid must be in the contract's currency ({contract.currency})"
            )
        cs.hand_in(contract, minor)
        return contract


async def contract_end(node: Node, by: Principal, ref: str) -> tuple[Contract, str]:
    """End a signed contract; the client's satisfaction link comes with it."""
    async with node.write() as session:
        contract, _ = await _mine(session, by, ref)
        cs.end(contract)
        token = await sf.new_request(session, contract)
    return contract, satisfaction_link(node, token)


async def contract_cancel(node: Node, by: Principal, ref: str) -> Contract:
    async with node.write() as session:
        contract, _ = await _mine(session, by, ref)
        cs.cancel(contract)
        return contract


async def contract_verify(node: Node, by: Principal, ref: str) -> Verification:
    async with node.sessions() as session:
        contract, mediator = await _mine(session, by, ref)
        return signing.verify(node.urls, contract, mediator, await get_node_actor(session))


def totals(sums: dict[str, int]) -> list[str]:
    return [format_money(v, k) for k, v in sorted(sums.items())]


# ----------------------------------------------------------------------------- the client


async def client_view(node: Node, token: str) -> ContractView:
    """What the signing link shows (LinkGone when it no longer works)."""
    async with node.sessions() as session:
        contract = await cs.by_link(session, token)
        mediator = await session.get(LocalActor, contract.actor_id)
        assert mediator is not None
        return await _view(node, session, contract, mediator)


async def client_sign(node: Node, token: str, details: ClientDetails) -> tuple[Contract, str]:
    """Sign once; the URL of the client's read-only copy."""
    async with node.write(urgent=True) as session:
        contract = await cs.by_link(session, token)
        mediator = await session.get(LocalActor, contract.actor_id)
        assert mediator is not None
        signed, copy = await signing.sign(
            session, node.urls, token, details, mediator, await get_node_actor(session)
        )
    return signed, copy_link(node, copy)


async def client_copy(node: Node, token: str) -> ContractView:
    async with node.sessions() as session:
        contract = await cs.by_copy_link(session, token)
        mediator = await session.get(LocalActor, contract.actor_id)
        assert mediator is not None
        return await _view(node, session, contract, mediator)


# ----------------------------------------------------------------------------- satisfaction


async def satisfaction_ask(node: Node, by: Principal, ref: str) -> str:
    async with node.write() as session:
        contract, _ = await _mine(session, by, ref)
        token = await sf.new_request(session, contract)
    return satisfaction_link(node, token)


async def satisfaction_form(node: Node, token: str) -> tuple[Contract, LocalActor]:
    async with node.sessions() as session:
        row = await sf.by_token(session, token)
        contract = await session.get(Contract, row.contract_id)
        mediator = await session.get(LocalActor, row.actor_id)
        assert contract is not None and mediator is not None
        return contract, mediator


async def satisfaction_answer(node: Node, token: str, rating: str, comment: str) -> None:
    async with node.write(urgent=True) as session:
        await sf.answer(session, token, rating, comment)


async def satisfaction_of(node: Node, by: Principal, mediator: str) -> tuple[sf.Indicator, bool]:
    """A mediator's indicator and whether they show it publicly (them or a coordinator)."""
    async with node.sessions() as session:
        actor = await _mediator(session, mediator)
        by.require_mediator(actor.id)
        return await sf.indicator(session, actor.id), await sf.is_public(session, actor.id)


async def satisfaction_all(node: Node, by: Principal) -> list[tuple[LocalActor, sf.Indicator]]:
    """Every mediator's indicator, for the coordinator."""
    by.require_coordinator()
    async with node.sessions() as session:
        actors = (
            await session.scalars(
                select(LocalActor)
                .where(LocalActor.is_node.is_(False), LocalActor.deleted_at.is_(None))
                .order_by(LocalActor.username)
            )
        ).all()
        return [(a, await sf.indicator(session, a.id)) for a in actors]


async def satisfaction_answers(
    node: Node, by: Principal, mediator: str | None = None
) -> list[tuple[sf.SatisfactionRequest, str]]:
    """Answered ratings with the mediator's username (all for a coordinator)."""
    async with node.sessions() as session:
        actor_id = None
        if mediator is None:
            by.require_coordinator()
        else:
            actor = await _mediator(session, mediator)
            by.require_mediator(actor.id)
            actor_id = actor.id
        rows = await sf.answered(session, actor_id)
    names = await mediator_names(node)
    return [(r, names.get(r.actor_id, "?")) for r in rows]


async def satisfaction_set_public(node: Node, by: Principal, mediator: str, public: bool) -> None:
    """Only the mediator's own consent counts: a coordinator cannot decide it for them."""
    async with node.write() as session:
        actor = await _mediator(session, mediator)
        if actor.id not in by.mediators and not by.operator:
            raise Forbidden("only the mediator themselves may choose to show their rating")
        await sf.set_public(session, actor.id, public)


async def public_indicator(node: Node, actor_id: int) -> sf.Indicator | None:
    """The indicator for the mediator's public page, or None without their consent."""
    async with node.sessions() as session:
        if not await sf.is_public(session, actor_id):
            return None
        return await sf.indicator(session, actor_id)
