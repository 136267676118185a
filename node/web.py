"""Small web helpers shared by the route modules: content negotiation,
JSON responses and the app keys."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from federation.vocab import ACTIVITY_JSON, is_ap_media_type
from node.context import Node


class NodeHolder:
    """Filled in by the app's cleanup context: an app's keys cannot change once it runs."""

    node: Node | None = None


NODE = web.AppKey("node", NodeHolder)

JSON_TYPES = ("application/activity+json", "application/ld+json", "application/json")


def get_node(request: web.Request) -> Node:
    node = request.app[NODE].node
    if node is None:
        raise web.HTTPServiceUnavailable(text="the node is starting")
    return node


def wants_ap(request: web.Request) -> bool:
    """True when the client asked for ActivityStreams (or JSON) rather than a page.

    A browser's Accept lists text/html first; ActivityPub servers ask for
    activity+json or the ld+json profile. Anything JSON-ish wins over */*.
    """
    accept = request.headers.get("Accept", "")
    for part in accept.split(","):
        media = part.strip()
        if is_ap_media_type(media) or media.split(";")[0].strip() == "application/json":
            return True
    return False


def ap_response(doc: Any, status: int = 200) -> web.Response:
    resp = web.Response(
        body=json.dumps(doc, ensure_ascii=False).encode("utf-8"),
        status=status,
        content_type=ACTIVITY_JSON,
        charset="utf-8",
    )
    resp.headers["Vary"] = "Accept"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def json_response(
    doc: Any, content_type: str = "application/json", status: int = 200
) -> web.Response:
    resp = web.Response(body=json.dumps(doc, ensure_ascii=False).encode("utf-8"), status=status)
    resp.headers["Content-Type"] = content_type
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def error(status: int, reason: str) -> web.Response:
    """Errors as JSON with a sentence a person can act on."""
    return json_response({"error": reason}, status=status)


def target_uri(request: web.Request) -> str:
    """The full URL the client used, as the node knows itself.

    Built from the configured public URL, not from Host or X-Forwarded-*,
    so a signature check behind a reverse proxy sees the same URI the
    sender signed, and no header can make us believe another one.
    """
    return get_node(request).config.url + request.raw_path
