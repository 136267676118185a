"""The coordinator's forms for blocking a domain, on the follows page (/admin/federation).

The same guards as every /admin form (coordinator's ``admin_post``); the
action (node/network/blocks.py) checks the role again.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from models.accounts import Principal
from models.errors import UserError
from node.network import blocks
from node.ui.coordinator import (
    MAX_TARGET,
    PREFIX,
    _federation_page,
    admin_post,
    done,
    say,
    status_of,
    text,
)
from node.web import get_node

log = logging.getLogger("coopnet.ui.coordinator")
routes = web.RouteTableDef()


@routes.post(PREFIX + "/federation/block")
@admin_post
async def block(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    typed: dict[str, str] = {}
    try:
        typed["domain"] = text(form, "domain", limit=MAX_TARGET, label="Domain", required=True)
        typed["reason"] = text(form, "reason", limit=500, label="Reason", required=True)
        await blocks.domain_block(get_node(request), typed["domain"], typed["reason"], by=who)
    except UserError as exc:
        return await _federation_page(
            request, who, status=status_of(exc), error=say(request, exc), typed=typed
        )
    raise done(request, PREFIX + "/federation", "blocked")


@routes.post(PREFIX + "/federation/unblock")
@admin_post
async def unblock(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    try:
        domain = text(form, "domain", limit=MAX_TARGET, label="Domain", required=True)
        await blocks.domain_unblock(get_node(request), domain, by=who)
    except UserError as exc:
        return await _federation_page(request, who, status=status_of(exc), error=say(request, exc))
    raise done(request, PREFIX + "/federation", "unblocked")
