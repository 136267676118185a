"""Club Aide pages: a person's own requests (/me/help), the network's open
requests where they offer help (/me/help/network), the coordinator's counts
(/admin/help).

Forms go through ``auth.read_form`` (same-site Origin, CSRF) and the actions
in node/network/help.py, which check the person again. A refusal re-renders
the page with its reason (400, 403, 404) and what was typed; nothing was
written. No page here shows a requester's name: not to responders (they
never have it), not to the coordinator (counts only).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from models.accounts import Principal
from models.errors import UserError
from models.network.help import (
    MAX_AREA,
    MAX_CATEGORY,
    MAX_DESCRIPTION,
    MAX_MESSAGE,
    MAX_NOTE,
    MAX_SIGNATURE,
    MAX_TITLE,
    Outcome,
)
from node.i18n import register
from node.network import help
from node.ui import auth
from node.ui.coordinator import PREFIX, UUID, admin, page, say, status_of, text
from node.ui.help_messages import EN, FR
from node.web import get_node

register("fr", FR)
register("en", EN)

routes = web.RouteTableDef()

ME = "/me/help"
NETWORK = ME + "/network"
NOTICES = {
    "asked": "Your request is sent to the allied sections, without your name.",
    "accepted": "Offer accepted: the helper is told. The first meeting is free.",
    "reported": "Thank you: the outcome is recorded.",
    "withdrawn": "Request withdrawn: the other sections drop it.",
    "offered": "Your offer is sent. You will see here when it is accepted.",
}
#: What people read for each state and outcome (our own message ids: "open"
#: alone means something else on the poll pages).
LABELS = {
    "open": "Request open",
    "answered": "Helper found",
    "closed": "Request closed",
    "withdrawn": "Request withdrawn",
    "expired": "Request expired",
    "resolved": "Solved",
    "partly": "Partly solved",
    "unresolved": "Not solved",
}
LIMITS = {
    "title": MAX_TITLE,
    "description": MAX_DESCRIPTION,
    "category": MAX_CATEGORY,
    "area": MAX_AREA,
    "message": MAX_MESSAGE,
    "signature": MAX_SIGNATURE,
    "note": MAX_NOTE,
}


def _uuid(request: web.Request, key: str = "uuid") -> str:
    ref = request.match_info[key]
    if not UUID.fullmatch(ref):
        raise web.HTTPNotFound(text="no such help request")
    return ref


def _typed(form: Any, *names: str) -> dict[str, str]:
    return {
        n: v[: LIMITS.get(n, 100) + 1] if isinstance(v := form.get(n, ""), str) else ""
        for n in names
    }


async def _mine(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> web.Response:
    node = get_node(request)
    return page(
        request,
        "ui/help.html",
        {
            "requests": await help.my_requests(node, who),
            "offers": await help.my_offers(node, who),
            "typed": typed or {},
            "limits": LIMITS,
            "labels": LABELS,
            "outcomes": [o.value for o in Outcome],
            "notice": NOTICES.get(request.query.get("done", "")),
        },
        status=status,
        error=error,
    )


async def _network(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> web.Response:
    return page(
        request,
        "ui/help_network.html",
        {
            "requests": await help.network_requests(get_node(request), who),
            "typed": typed or {},
            "limits": LIMITS,
            "labels": LABELS,
            "notice": NOTICES.get(request.query.get("done", "")),
        },
        status=status,
        error=error,
    )


def _back(request: web.Request, path: str, code: str) -> web.HTTPSeeOther:
    from node.ui.coordinator import done

    return done(request, path, code)


@routes.get(ME)
async def my_help(request: web.Request) -> web.StreamResponse:
    return await _mine(request, auth.require_login(request))


@routes.post(ME)
async def ask(request: web.Request) -> web.StreamResponse:
    form = await auth.read_form(request)
    who = auth.require_login(request)
    typed = _typed(form, "title", "description", "category", "area")
    try:
        await help.ask(
            get_node(request),
            who,
            text(form, "title", limit=MAX_TITLE, label="Title", required=True),
            text(
                form,
                "description",
                limit=MAX_DESCRIPTION,
                label="Description",
                required=True,
                multiline=True,
            ),
            text(form, "category", limit=MAX_CATEGORY, label="Category"),
            text(form, "area", limit=MAX_AREA, label="Area"),
        )
    except UserError as exc:
        return await _mine(
            request, who, status=status_of(exc), error=say(request, exc), typed=typed
        )
    raise _back(request, ME, "asked")


@routes.post(ME + "/{uuid}/accept")
async def accept(request: web.Request) -> web.StreamResponse:
    form = await auth.read_form(request)
    who = auth.require_login(request)
    try:
        offer = text(form, "offer", limit=36, label="Offer of help", required=True)
        message = text(form, "message", limit=MAX_MESSAGE, label="Message", multiline=True)
        await help.accept(get_node(request), who, _uuid(request), offer, message)
    except UserError as exc:
        return await _mine(request, who, status=status_of(exc), error=say(request, exc))
    raise _back(request, ME, "accepted")


@routes.post(ME + "/{uuid}/outcome")
async def outcome(request: web.Request) -> web.StreamResponse:
    form = await auth.read_form(request)
    who = auth.require_login(request)
    try:
        result = text(form, "outcome", limit=16, label="Outcome", required=True)
        note = text(form, "note", limit=MAX_NOTE, label="Note", multiline=True)
        await help.outcome(get_node(request), who, _uuid(request), result, note)
    except UserError as exc:
        return await _mine(request, who, status=status_of(exc), error=say(request, exc))
    raise _back(request, ME, "reported")


@routes.post(ME + "/{uuid}/withdraw")
async def withdraw(request: web.Request) -> web.StreamResponse:
    await auth.read_form(request)
    who = auth.require_login(request)
    try:
        await help.withdraw(get_node(request), who, _uuid(request))
    except UserError as exc:
        return await _mine(request, who, status=status_of(exc), error=say(request, exc))
    raise _back(request, ME, "withdrawn")


@routes.get(NETWORK)
async def network(request: web.Request) -> web.StreamResponse:
    return await _network(request, auth.require_login(request))


@routes.post(NETWORK + "/{uuid}/offer")
async def offer(request: web.Request) -> web.StreamResponse:
    form = await auth.read_form(request)
    who = auth.require_login(request)
    typed = _typed(form, "message", "signature")
    try:
        message = text(form, "message", limit=MAX_MESSAGE, label="Message", multiline=True)
        signature = text(form, "signature", limit=MAX_SIGNATURE, label="Signature")
        await help.offer(get_node(request), who, _uuid(request), message, signature)
    except UserError as exc:
        typed["uuid"] = request.match_info["uuid"][:36]
        return await _network(
            request, who, status=status_of(exc), error=say(request, exc), typed=typed
        )
    raise _back(request, NETWORK, "offered")


@routes.get(PREFIX + "/help")
@admin
async def admin_help(request: web.Request, who: Principal) -> web.StreamResponse:
    counts = await help.counts(get_node(request), who)
    return page(request, "ui/coord_help.html", {"counts": counts, "labels": LABELS})
