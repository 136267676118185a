"""Contract pages: the mediator's (their contracts), the coordinator's (every
contract, shares due, the two documents) and the client's (sign through a
link, their copy, their rating: no account, no login).

Every handler calls node/charter/contracts.py with the logged-in person as
``by`` (those actions decide who may do what) or, for the client, with the
token of the link. Every POST goes through ``read_form`` (Origin, CSRF: a
session's token, or before any login the double-submit cookie). A refusal
re-renders the form with its message and what was typed (400), or a short
page (403, 404, 410); nothing was written.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDictProxy

from models.accounts import Principal
from models.charter import contract_models as cm
from models.charter.contracts import (
    Contract,
    ContractDraft,
    ContractState,
    LinkGone,
    shares_due,
    shares_paid,
)
from models.charter.satisfaction import MAX_COMMENT, SatisfactionGone
from models.charter.signing import ClientDetails
from models.errors import Forbidden, NotFound, UserError
from models.markdown import render_markdown
from node.charter import contracts as act
from node.charter import receipts as receipt_actions
from node.i18n import pick_language, register, translator
from node.ui.auth import read_form, render
from node.ui.contracts_messages import FR
from node.ui.coordinator import PREFIX as ADMIN
from node.ui.coordinator import admin, admin_post, page, status_of, with_lang
from node.ui.mediator import PREFIX, _context, _gate, _refusal, _text, _with_lang
from node.web import get_node

register("fr", FR)

routes = web.RouteTableDef()

DRAFT_FIELDS = ("client", "service", "price", "duration", "start", "end", "share")
CLIENT_FIELDS = (
    "full_name",
    "organisation",
    "address",
    "email",
    "phone",
    "counterpart",
    "counterpart_detail",
    "typed_name",
)
MODEL_KINDS = {"contract": "Hosting-contract model", "conditions": "General conditions"}
#: Contracts listed on one page (the totals count them all): a page stays under 50 KB.
SHOWN = 40


def _pages(request: web.Request, items: list[Any], path: str) -> dict[str, Any]:
    """One page of a newest-first list (``?page=N``), with links to the pages around it."""
    raw = request.query.get("page", "1")
    last = max(1, -(-len(items) // SHOWN))
    number = min(int(raw), last) if raw.isdigit() and 0 < len(raw) < 6 and int(raw) > 0 else 1
    return {
        "listed": items[(number - 1) * SHOWN : number * SHOWN],
        "page_number": number,
        "pages": last,
        "older": with_lang(request, path, page=str(number + 1)) if number < last else None,
        "newer": with_lang(request, path, page=str(number - 1)) if number > 1 else None,
    }


UUID_RE = "{uuid:[0-9a-f-]{36}}"
TOKEN_RE = "{token:[A-Za-z0-9_-]{1,128}}"


def say(request: web.Request, exc: UserError) -> str:
    return translator(pick_language(request))(str(exc))


def _state_label(contract: Contract) -> str:
    return {
        ContractState.DRAFT: "Draft",
        ContractState.AWAITING: "Awaiting the client's signature",
        ContractState.SIGNED: "Signed",
        ContractState.HANDED_IN: "Handed in to the section",
        ContractState.CANCELLED: "Cancelled",
        ContractState.ENDED: "Contract ended",
    }[ContractState(contract.state)]


def _doc(view: act.ContractView) -> dict[str, Any]:
    """What the contract document (ui/_contract_doc.html) shows."""
    return {
        "view": view,
        "c": view.contract,
        "html": render_markdown(view.text),
        "state": _state_label(view.contract),
    }


def _public_headers(resp: web.Response) -> web.Response:
    """A client's page: never indexed, its token never sent to another site as a Referer.

    ``same-origin``, not ``no-referrer``: with no referrer at all a browser
    sends ``Origin: null`` with the page's own forms, which read_form refuses.
    """
    resp.headers["X-Robots-Tag"] = "noindex, nofollow"
    resp.headers["Referrer-Policy"] = "same-origin"
    return resp


# ----------------------------------------------------------------------------- mediator


def _base(ctx: dict[str, Any]) -> str:
    return f"{PREFIX}/{quote(ctx['actor'].username)}/contracts"


async def _mediator_ctx(request: web.Request) -> tuple[Principal, dict[str, Any]]:
    who = _gate(request)
    ctx = await _context(request, who, request.match_info["username"])
    if ctx["actor"].is_node:
        raise NotFound("contracts are made by mediators: open a mediator's pages")
    ctx["active"] = "contracts"
    ctx["base"] = _base(ctx)
    return who, ctx


async def _list_page(
    request: web.Request,
    who: Principal,
    ctx: dict[str, Any],
    *,
    values: dict[str, str] | None = None,
    offer: str = "",
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    node = get_node(request)
    username = ctx["actor"].username
    contracts = await act.contract_list(node, who, username)
    indicator, public = await act.satisfaction_of(node, who, username)
    return render(
        "ui/mediator_contracts.html",
        request,
        {
            **ctx,
            "contracts": contracts,
            **_pages(request, [(c, _state_label(c)) for c in contracts], ctx["base"]),
            "offers": await act.offers_of(node, who, username),
            "values": values or dict.fromkeys(DRAFT_FIELDS, ""),
            "offer": offer,
            "error": error,
            "indicator": indicator,
            "public": public,
            "own": ctx["actor"].id in who.mediators,
            "due": act.totals(shares_due(contracts)),
        },
        status=status,
    )


@routes.get(PREFIX + "/{username}/contracts")
async def mediator_contracts(request: web.Request) -> web.StreamResponse:
    try:
        who, ctx = await _mediator_ctx(request)
        offer = request.query.get("offer", "")[:36]
        values = None
        if offer:
            pre = await act.draft_from_offer(get_node(request), who, ctx["actor"].username, offer)
            values = {**dict.fromkeys(DRAFT_FIELDS, ""), "service": pre.service, "price": pre.price}
        return await _list_page(request, who, ctx, values=values, offer=offer)
    except UserError as exc:
        return _refusal(request, exc)


@routes.post(PREFIX + "/{username}/contracts")
async def mediator_create(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    try:
        who, ctx = await _mediator_ctx(request)
    except UserError as exc:
        return _refusal(request, exc)
    values = {k: _text(form, k) for k in DRAFT_FIELDS}
    offer = _text(form, "offer").strip()
    try:
        contract = await act.contract_create(
            get_node(request), who, ctx["actor"].username, ContractDraft(**values), offer or None
        )
    except UserError as exc:
        status = 403 if isinstance(exc, Forbidden) else 400
        return await _list_page(
            request, who, ctx, values=values, offer=offer, error=say(request, exc), status=status
        )
    raise web.HTTPSeeOther(_with_lang(request, f"{ctx['base']}/{contract.uuid}"))


async def _contract_page(
    request: web.Request,
    who: Principal,
    ctx: dict[str, Any],
    *,
    link: str | None = None,
    satisfaction: str | None = None,
    copy: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    node = get_node(request)
    view = await act.contract_view(node, who, request.match_info["uuid"])
    if view.contract.actor_id != ctx["actor"].id:
        raise NotFound("no such contract among this mediator's")
    paid = (
        await receipt_actions.receipts_for_contract(node, view.contract.uuid, by=who)
        if view.contract.is_signed
        else []
    )
    return render(
        "ui/mediator_contract.html",
        request,
        {
            **ctx,
            **_doc(view),
            "link": link,
            "satisfaction": satisfaction,
            "copy": copy,
            "error": error,
            "receipts": paid,
        },
        status=status,
    )


@routes.get(PREFIX + "/{username}/contracts/" + UUID_RE)
async def mediator_contract(request: web.Request) -> web.StreamResponse:
    try:
        who, ctx = await _mediator_ctx(request)
        return await _contract_page(request, who, ctx)
    except UserError as exc:
        return _refusal(request, exc)


@routes.post(
    PREFIX + "/{username}/contracts/" + UUID_RE + "/{action:link|copy|cancel|hand-in|end|ask}"
)
async def mediator_contract_action(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    try:
        who, ctx = await _mediator_ctx(request)
        # The contract must be this mediator's before anything is done to it.
        view = await act.contract_view(get_node(request), who, request.match_info["uuid"])
        if view.contract.actor_id != ctx["actor"].id:
            raise NotFound("no such contract among this mediator's")
    except UserError as exc:
        return _refusal(request, exc)
    node = get_node(request)
    ref = view.contract.uuid
    action = request.match_info["action"]
    try:
        if action == "link":
            _, link = await act.contract_link(node, who, ref)
            return await _contract_page(request, who, ctx, link=link)
        if action == "copy":
            _, link = await act.contract_copy_link(node, who, ref)
            return await _contract_page(request, who, ctx, copy=link)
        if action == "cancel":
            await act.contract_cancel(node, who, ref)
        elif action == "hand-in":
            await act.contract_hand_in(node, who, ref, _text(form, "share"))
        elif action == "end":
            _, link = await act.contract_end(node, who, ref)
            return await _contract_page(request, who, ctx, satisfaction=link)
        else:
            link = await act.satisfaction_ask(node, who, ref)
            return await _contract_page(request, who, ctx, satisfaction=link)
    except UserError as exc:
        return await _contract_page(
            request, who, ctx, error=say(request, exc), status=status_of(exc)
        )
    raise web.HTTPSeeOther(_with_lang(request, f"{ctx['base']}/{ref}"))


@routes.post(PREFIX + "/{username}/contracts/visibility")
async def mediator_visibility(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    try:
        who, ctx = await _mediator_ctx(request)
        public = form.get("public") == "yes"
        await act.satisfaction_set_public(get_node(request), who, ctx["actor"].username, public)
    except UserError as exc:
        return _refusal(request, exc, 403 if isinstance(exc, Forbidden) else None)
    raise web.HTTPSeeOther(_with_lang(request, ctx["base"]))


# ----------------------------------------------------------------------------- coordinator


@routes.get(ADMIN + "/contracts")
@admin
async def admin_contracts(request: web.Request, who: Principal) -> web.StreamResponse:
    """Every contract with the shares due; ``?contract=UUID`` shows one of them.

    One contract is a query on the list's address, not a path of its own, so
    that every /admin path is a page that exists whatever the node holds.
    """
    node = get_node(request)
    ref = request.query.get("contract")
    if ref is not None:
        try:
            view = await act.contract_view(node, who, ref)
        except UserError as exc:
            raise web.HTTPNotFound(text=say(request, exc)) from exc
        return page(request, "ui/coord_contract.html", _doc(view))
    contracts = await act.contract_list(node, who)
    return page(
        request,
        "ui/coord_contracts.html",
        {
            "contracts": contracts,
            **_pages(request, [(c, _state_label(c)) for c in contracts], "/admin/contracts"),
            "names": await act.mediator_names(node),
            "due": act.totals(shares_due(contracts)),
            "paid": act.totals(shares_paid(contracts)),
            "indicators": await act.satisfaction_all(node, who),
        },
    )


async def _models_page(
    request: web.Request,
    who: Principal,
    kind: str,
    *,
    typed: str | None = None,
    preview: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    """One document at a time (its text, a preview, its versions): a page stays
    under 50 KB even with the longest document."""
    node = get_node(request)
    versions = await act.model_versions(node, who, kind)
    shown = None
    wanted = request.query.get("version", "")
    for v in versions:
        if wanted == str(v.number):
            shown = (v, render_markdown(v.text))
    return page(
        request,
        "ui/coord_contract_models.html",
        {
            "kind": kind,
            "kinds": MODEL_KINDS,
            "text": typed if typed is not None else (versions[0].text if versions else ""),
            "versions": versions,
            "shown": shown,
            "preview": preview,
            "placeholders": ["{" + p + "}" for p in cm.PLACEHOLDERS],
            "max_model": cm.MAX_MODEL,
        },
        error=error,
        status=status,
    )


def _kind(value: str) -> str:
    return value if value in MODEL_KINDS else "contract"


@routes.get(ADMIN + "/contracts/models")
@admin
async def admin_models(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _models_page(request, who, _kind(request.query.get("kind", "")))


@routes.post(ADMIN + "/contracts/models")
@admin_post
async def admin_models_save(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    raw_kind = _text(form, "kind")
    kind = _kind(raw_kind)
    text = _text(form, "text")
    try:
        cm.check_kind(raw_kind)
        if form.get("action") == "save":
            await act.model_save(get_node(request), who, kind, text)
        else:
            shown = render_markdown(act.model_preview(who, text))
            return await _models_page(request, who, kind, typed=text, preview=shown)
    except UserError as exc:
        return await _models_page(
            request, who, kind, typed=text, error=say(request, exc), status=status_of(exc)
        )
    raise web.HTTPSeeOther(with_lang(request, request.path, kind=kind))


# ----------------------------------------------------------------------------- the client


def _gone(request: web.Request, exc: UserError, status: int = 410) -> web.Response:
    return _public_headers(
        render("ui/client_gone.html", request, {"error": say(request, exc)}, status=status)
    )


def _client_values(form: MultiDictProxy[Any] | None) -> dict[str, str]:
    if form is None:
        return dict.fromkeys(CLIENT_FIELDS, "")
    return {k: _text(form, k)[:2500] for k in CLIENT_FIELDS}


@routes.get("/contract/" + TOKEN_RE)
async def client_contract(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    try:
        view = await act.client_view(get_node(request), token)
    except LinkGone as exc:
        return _gone(request, exc)
    return _public_headers(
        render(
            "ui/client_contract.html",
            request,
            {**_doc(view), "token": token, "values": _client_values(None), "consent": False},
        )
    )


@routes.post("/contract/" + TOKEN_RE)
async def client_sign(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    token = request.match_info["token"]
    node = get_node(request)
    values = _client_values(form)
    consent = form.get("consent") == "yes"
    try:
        _, copy = await act.client_sign(node, token, ClientDetails(**values, consent=consent))
    except LinkGone as exc:
        return _gone(request, exc)
    except UserError as exc:
        try:
            view = await act.client_view(node, token)
        except LinkGone as gone:
            return _gone(request, gone)
        return _public_headers(
            render(
                "ui/client_contract.html",
                request,
                {
                    **_doc(view),
                    "token": token,
                    "values": values,
                    "consent": consent,
                    "error": say(request, exc),
                },
                status=400,
            )
        )
    view = await act.client_copy(node, copy.rsplit("/", 1)[1])
    return _public_headers(
        render("ui/client_copy.html", request, {**_doc(view), "copy": copy, "just_signed": True})
    )


@routes.get("/contract/copy/" + TOKEN_RE)
async def client_copy(request: web.Request) -> web.StreamResponse:
    try:
        view = await act.client_copy(get_node(request), request.match_info["token"])
    except NotFound as exc:
        return _gone(request, exc, 404)
    return _public_headers(render("ui/client_copy.html", request, _doc(view)))


async def _satisfaction_page(
    request: web.Request, *, values: dict[str, str] | None = None, error: str | None = None
) -> web.Response:
    token = request.match_info["token"]
    try:
        contract, mediator = await act.satisfaction_form(get_node(request), token)
    except SatisfactionGone as exc:
        return _gone(request, exc)
    return _public_headers(
        render(
            "ui/client_satisfaction.html",
            request,
            {
                "c": contract,
                "mediator": mediator,
                "values": values or {"rating": "", "comment": ""},
                "error": error,
                "max_comment": MAX_COMMENT,
            },
            status=400 if error else 200,
        )
    )


@routes.get("/satisfaction/" + TOKEN_RE)
async def client_satisfaction(request: web.Request) -> web.StreamResponse:
    return await _satisfaction_page(request)


@routes.post("/satisfaction/" + TOKEN_RE)
async def client_rate(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    values = {"rating": _text(form, "rating")[:2], "comment": _text(form, "comment")[:3000]}
    try:
        await act.satisfaction_answer(
            get_node(request), request.match_info["token"], values["rating"], values["comment"]
        )
    except SatisfactionGone as exc:
        return _gone(request, exc)
    except UserError as exc:
        return await _satisfaction_page(request, values=values, error=say(request, exc))
    return _public_headers(render("ui/client_thanks.html", request, {}))


__all__ = ["routes"]
