"""The aiohttp application factory: no state at import time.

``create_app(config)`` owns everything a node needs (database engine, HTTP
client, workers) through its cleanup context, so several nodes can run in
one process: the demo network and the federation tests rely on it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from models.base import database_unavailable
from models.errors import Forbidden, NotFound, UserError
from node import activitypub, pages, sel, ui, wellknown
from node.config import Config
from node.context import Node
from node.i18n import local_time, pick_language, show_hours, translator
from node.ui import nav
from node.web import NODE, NodeHolder, error, get_node
from node.worker import start_workers, stop_workers

log = logging.getLogger("coopnet.app")

# aiohttp-jinja2 1.6 stores its per-request context under a string key;
# harmless, and not something a self-hoster should see in the log.
warnings.filterwarnings("ignore", message="It is recommended to use web.RequestKey")

TEMPLATES = Path(__file__).with_name("templates")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _trusted(remote: str | None, proxies: list[str]) -> bool:
    if not remote:
        return False
    try:
        addr = ipaddress.ip_address(remote)
    except ValueError:
        return False
    return any(addr in ipaddress.ip_network(p, strict=False) for p in proxies)


@web.middleware
async def forwarded_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Believe X-Forwarded-For/-Proto only from a configured proxy (for logs and links)."""
    proxies = get_node(request).config.trusted_proxies
    if proxies and _trusted(request.remote, proxies):
        fwd = request.headers.get("X-Forwarded-For", "")
        client = fwd.split(",")[-1].strip() if fwd else None
        proto = request.headers.get("X-Forwarded-Proto")
        request = request.clone(
            remote=client or request.remote or "",
            scheme=proto if proto in ("http", "https") else request.scheme,
        )
    return await handler(request)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """JSON for machines, a short page for people; never a traceback."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return _refusal(request, exc.status, exc.text or exc.reason)
    except UserError as exc:
        # A refusal that reached here unhandled by its page: still the person's
        # mistake, never a 500.
        status = 403 if isinstance(exc, Forbidden) else 404 if isinstance(exc, NotFound) else 400
        return _refusal(request, status, str(exc))
    except Exception as exc:
        if database_unavailable(exc):
            log.warning("database unavailable serving %s %s: %s", request.method, request.path, exc)
            resp = _refusal(
                request, 503, "the node's database is unavailable for a moment; retry shortly"
            )
            resp.headers["Retry-After"] = "5"
            return resp
        log.exception("error serving %s %s", request.method, request.path)
        return _refusal(request, 500, "internal error; the node's log has the details")


def _refusal(request: web.Request, status: int, message: str) -> web.Response:
    """A page for a browser (a form too large, a page gone), JSON for anything else."""
    if "text/html" not in request.headers.get("Accept", ""):
        return error(status, message)
    try:
        return aiohttp_jinja2.render_template(
            "error.html", request, {"status": status, "message": message}, status=status
        )
    except Exception:  # the page itself failed (the database is down): plain text then
        log.exception("error page for %s %s", request.method, request.path)
        return web.Response(status=status, text=message)


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    resp = await handler(request)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    if resp.content_type == "text/html":
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:",
        )
    return resp


async def _context_processor(request: web.Request) -> dict[str, object]:
    lang = pick_language(request)
    node = get_node(request)
    return {
        "_": translator(lang),
        "lang": lang,
        "node_title": node.config.title,
        "node_role": node.config.role,
        "urls": node.urls,
        "me": request.get("web_session"),
    }


async def root(request: web.Request) -> web.StreamResponse:
    node = get_node(request)
    raise web.HTTPFound(node.urls.actor(node.node_username).removeprefix(node.urls.base) or "/")


def create_app(config: Config, *, run_workers: bool = True) -> web.Application:
    app = web.Application(
        client_max_size=config.max_body_bytes,
        middlewares=[
            forwarded_middleware,
            headers_middleware,
            error_middleware,
            ui.auth.session_middleware,
        ],
    )
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        context_processors=[_context_processor],
    )
    env.globals["hours"] = show_hours
    env.globals["admin_nav"] = nav.ADMIN_NAV
    env.globals["admin_group"] = nav.current_group
    env.globals["is_here"] = nav.is_here
    env.globals["admin_pages"] = nav.pages_for
    zone = config.zone
    env.globals["local_time"] = lambda when: local_time(when, zone)
    env.globals["timezone"] = config.timezone
    holder = NodeHolder()
    app[NODE] = holder
    app.router.add_get("/", root)
    app.router.add_routes(wellknown.routes)
    app.router.add_routes(activitypub.routes)
    app.router.add_routes(pages.routes)
    app.router.add_routes(sel.routes)
    ui.add_routes(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        node = await Node.open(config)
        holder.node = node
        stop = asyncio.Event()
        tasks = start_workers(node, stop) if run_workers else []
        yield
        stop.set()
        await stop_workers(tasks)
        await node.close()

    app.cleanup_ctx.append(lifecycle)
    return app


def make_runner(app: web.Application, config: Config) -> web.AppRunner:
    """The runner every way of serving a node uses (serve, demo, tests).

    aiohttp closes a connection that has not sent a complete request within
    ``keepalive_timeout`` of connecting or of its last response; that is our
    header timeout, so slow senders cannot pile up connections (aiohttp's
    default is an hour). The body timeout is the inbox route's own.
    """
    return web.AppRunner(app, access_log=None, keepalive_timeout=config.header_timeout_seconds)
