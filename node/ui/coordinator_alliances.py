"""The coordinator's network page, /admin/network: alliances with other nodes.

What ``coopnet peer`` does, from the browser: ask a node, approve or refuse
a request waiting for us (with an optional reason), withdraw our request,
end an alliance (a checkbox confirms), and see the seat and the sections.
The guards are ``coordinator``'s (login, role, Origin, CSRF); the actions
(node/network/alliances.py) check the role again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from models.accounts import Principal
from models.errors import UserError
from models.network.alliances import MAX_NOTE, AllianceState, PeerRole
from node.i18n import register
from node.network import alliances
from node.network.backfill import backfill_soon
from node.ui.coordinator import (
    MAX_TARGET,
    NOTICES,
    PREFIX,
    FormError,
    admin,
    admin_post,
    done,
    page,
    say,
    status_of,
    text,
)
from node.ui.network_messages import EN, FR
from node.web import get_node

register("fr", FR)
register("en", EN)
NOTICES.update(
    {
        "peer-asked": "Alliance requested; it becomes one when their coordinator approves.",
        "peer-accepted": "They had asked first: you are now allies.",
        "peer-approved": "Alliance accepted: the two nodes now follow each other.",
        "peer-rejected": "Request refused; they are told.",
        "peer-removed": "Alliance ended; they are told.",
    }
)

log = logging.getLogger("coopnet.ui.coordinator")
routes = web.RouteTableDef()

NETWORK = PREFIX + "/network"


async def _page(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    typed: Mapping[str, str] | None = None,
) -> web.Response:
    node = get_node(request)
    rows = await alliances.peer_list(node, by=who)
    accepted = [r for r in rows if r.state == AllianceState.ACCEPTED]
    return page(
        request,
        "ui/coord_network.html",
        {
            "role": node.config.role,
            "seat": next((r for r in accepted if r.peer_role == PeerRole.SEAT), None),
            "sections": [r for r in accepted if r.peer_role == PeerRole.SECTION],
            "pending": [r for r in rows if r.state == AllianceState.PENDING],
            "requested": [r for r in rows if r.state == AllianceState.REQUESTED],
            "past": [r for r in rows if r.state in (AllianceState.REJECTED, AllianceState.ENDED)],
            "typed": typed or {},
            "max_note": MAX_NOTE,
        },
        status=status,
        error=error,
    )


@routes.get(NETWORK)
@admin
async def network_page(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _page(request, who)


def _peer(form: Mapping[str, Any]) -> str:
    return text(form, "peer", limit=MAX_TARGET, label="Node", required=True)


def _note(form: Mapping[str, Any], name: str, label: str) -> str:
    return text(form, name, limit=MAX_NOTE, label=label)


@routes.post(NETWORK + "/ask")
@admin_post
async def ask(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    typed: dict[str, str] = {}
    try:
        typed["target"] = text(form, "target", limit=MAX_TARGET, label="Node to ask", required=True)
        typed["note"] = _note(form, "note", "Note (optional, sent with the request)")
        asked = await alliances.peer_ask(
            get_node(request), typed["target"].lstrip("@"), typed["note"], by=who
        )
    except UserError as exc:
        return await _page(
            request, who, status=status_of(exc), error=say(request, exc), typed=typed
        )
    if asked.accepted:
        backfill_soon(get_node(request), asked.alliance.peer_uri)
    raise done(request, NETWORK, "peer-accepted" if asked.accepted else "peer-asked")


@routes.post(NETWORK + "/approve")
@admin_post
async def approve(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    try:
        row = await alliances.peer_approve(get_node(request), _peer(form), by=who)
    except UserError as exc:
        return await _page(request, who, status=status_of(exc), error=say(request, exc))
    # The peer's current offers, read now in this serving process (from the CLI,
    # the node's periodic chore reads them within a minute).
    backfill_soon(get_node(request), row.peer_uri)
    raise done(request, NETWORK, "peer-approved")


@routes.post(NETWORK + "/reject")
@admin_post
async def reject(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    try:
        reason = _note(form, "reason", "Reason (optional, sent to them)")
        await alliances.peer_reject(get_node(request), _peer(form), reason, by=who)
    except UserError as exc:
        return await _page(request, who, status=status_of(exc), error=say(request, exc))
    raise done(request, NETWORK, "peer-rejected")


@routes.post(NETWORK + "/remove")
@admin_post
async def remove(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    try:
        peer = _peer(form)
        if form.get("confirm") != "yes":
            raise FormError("tick 'I confirm' to end the alliance")
        await alliances.peer_remove(get_node(request), peer, by=who)
    except UserError as exc:
        return await _page(request, who, status=status_of(exc), error=say(request, exc))
    raise done(request, NETWORK, "peer-removed")
