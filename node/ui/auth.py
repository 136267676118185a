"""Logging in from the browser: sessions, CSRF, the login and invitation pages.

A session is a random token in an ``HttpOnly``, ``SameSite=Lax`` cookie
(``Secure`` when the node is served over https), stored hashed. Every form
carries a CSRF token, compared in constant time, and a POST whose
``Origin`` (or, failing that, ``Referer``) is another site is refused
before its body is read. Before login there is no session, so the login
and invitation forms use a token kept in a second cookie (double submit).

Server-to-server requests carry no cookie, so the middleware costs them
nothing.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy import update

from models.accounts import Principal, WebSession, principal_of, session_for
from models.base import utcnow
from models.errors import UserError
from node import users
from node.i18n import PAGE_LANGUAGE, pick_language
from node.web import get_node

routes = web.RouteTableDef()

SESSION_COOKIE = "coopnet_session"
FORM_COOKIE = "coopnet_form"
#: last_seen is written at most this often (a write per page view would be waste).
TOUCH_EVERY = timedelta(minutes=5)
MAX_FORM_BYTES = 64 * 1024


@dataclass(frozen=True)
class SessionInfo:
    id: int
    csrf: str
    name: str
    display_name: str
    language: str | None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request["principal"] = None
    request["web_session"] = None
    token = request.cookies.get(SESSION_COOKIE)
    if token and len(token) <= 128:
        node = get_node(request)
        async with node.sessions() as session:
            row = await session_for(session, token)
            if row is not None:
                request["principal"] = principal_of(row.user)
                request["web_session"] = SessionInfo(
                    row.id, row.csrf_token, row.user.name, row.user.display_name, row.user.language
                )
                stale = row.last_seen_at + TOUCH_EVERY <= utcnow()
        if row is not None and stale:
            async with node.write() as session:
                await session.execute(
                    update(WebSession).where(WebSession.id == row.id).values(last_seen_at=utcnow())
                )
    PAGE_LANGUAGE.set(pick_language(request))
    resp = await handler(request)
    if request["web_session"] is not None:
        # A page for one person is never kept by a shared cache.
        resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def principal(request: web.Request) -> Principal | None:
    who = request.get("principal")
    return who if isinstance(who, Principal) else None


def require_login(request: web.Request) -> Principal:
    who = principal(request)
    if who is None:
        raise web.HTTPSeeOther(f"/login?next={_local_path(request.path_qs)}")
    return who


def _local_path(value: str | None) -> str:
    """Only a path on this site: never '//host' or 'https://...' (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/me"
    return value


def _same_site(request: web.Request) -> bool:
    ours = urlsplit(get_node(request).urls.base)
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        referer = request.headers.get("Referer")
        if referer is None:
            return origin is None  # no header at all: the token decides
        parts = urlsplit(referer)
    else:
        parts = urlsplit(origin)
    return (parts.scheme, parts.netloc) == (ours.scheme, ours.netloc)


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    """The POSTed form, once the request is shown to come from our own page."""
    if not _same_site(request):
        raise web.HTTPForbidden(text="this form was sent from another site; nothing was done")
    if (request.content_length or 0) > MAX_FORM_BYTES:
        raise web.HTTPRequestEntityTooLarge(MAX_FORM_BYTES, request.content_length or 0)
    try:
        form = await request.post()
    except (LookupError, ValueError) as exc:  # not UTF-8, an unknown charset, bad multipart
        raise web.HTTPBadRequest(
            text="the form could not be read (it must be UTF-8 text); nothing was changed"
        ) from exc
    info = request.get("web_session")
    expected = info.csrf if isinstance(info, SessionInfo) else request.cookies.get(FORM_COOKIE)
    given = form.get("csrf")
    if not expected or not isinstance(given, str) or not hmac.compare_digest(given, expected):
        raise web.HTTPForbidden(
            text="this form has expired or did not come from this site: "
            "reload the page and try again"
        )
    return form


def form_token(request: web.Request, response_cookies: dict[str, str]) -> str:
    """The CSRF token to put in a form: the session's, or a pre-login one."""
    info = request.get("web_session")
    if isinstance(info, SessionInfo):
        return info.csrf
    token = request.cookies.get(FORM_COOKIE)
    if not token or len(token) > 64:
        token = secrets.token_urlsafe(24)
        response_cookies[FORM_COOKIE] = token
    return token


def _secure(request: web.Request) -> bool:
    return get_node(request).urls.base.startswith("https://")


def set_cookie(request: web.Request, resp: web.StreamResponse, name: str, value: str) -> None:
    resp.set_cookie(
        name,
        value,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=_secure(request),
        max_age=None if name == FORM_COOKIE else int(timedelta(days=90).total_seconds()),
    )


def render(
    template: str,
    request: web.Request,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> web.Response:
    """A page with a form: the CSRF token and the person are in its context."""
    new_cookies: dict[str, str] = {}
    context = {
        "csrf": form_token(request, new_cookies),
        "me": request.get("web_session"),
        "who": principal(request),
        **context,
    }
    resp = aiohttp_jinja2.render_template(template, request, context, status=status)
    for name, value in new_cookies.items():
        set_cookie(request, resp, name, value)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _address(request: web.Request) -> str:
    return request.remote or "unknown"


@routes.get("/login")
async def login_page(request: web.Request) -> web.StreamResponse:
    if principal(request) is not None:
        raise web.HTTPSeeOther(_local_path(request.query.get("next")))
    return render("ui/login.html", request, {"next": _local_path(request.query.get("next"))})


@routes.post("/login")
async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    target = _local_path(str(form.get("next", "")))
    node = get_node(request)
    try:
        token, _ = await users.log_in(node, name, password, _address(request))
    except UserError as exc:
        return render(
            "ui/login.html",
            request,
            {"error": str(exc), "name": name[:64], "next": target},
            status=400,
        )
    # A new token at every login; a session the browser held before ends.
    old = request.get("web_session")
    if isinstance(old, SessionInfo):
        await _end_session(request, old.id)
    resp = web.HTTPSeeOther(target)
    set_cookie(request, resp, SESSION_COOKIE, token)
    resp.del_cookie(FORM_COOKIE, path="/")
    raise resp


async def _end_session(request: web.Request, session_id: int) -> None:
    async with get_node(request).write() as session:
        await session.execute(
            update(WebSession)
            .where(WebSession.id == session_id, WebSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    await read_form(request)
    info = request.get("web_session")
    if isinstance(info, SessionInfo):
        await _end_session(request, info.id)
    resp = web.HTTPSeeOther("/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    raise resp


@routes.get("/invitation/{token}")
async def invitation_page(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    try:
        user = await users.invitation_for(get_node(request), token[:128])
    except UserError as exc:
        return render("ui/invitation.html", request, {"error": str(exc), "user": None}, status=410)
    return render("ui/invitation.html", request, {"user": user, "token": token})


@routes.post("/invitation/{token}")
async def invitation_submit(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    token = request.match_info["token"][:128]
    password = str(form.get("password", ""))
    node = get_node(request)
    if password != form.get("password2"):
        user = await users.invitation_for(node, token)
        return render(
            "ui/invitation.html",
            request,
            {"user": user, "token": token, "error": "the two passwords differ"},
            status=400,
        )
    try:
        cookie, _ = await users.set_password(node, token, password)
    except UserError as exc:
        try:
            user = await users.invitation_for(node, token)
        except UserError:
            return render(
                "ui/invitation.html", request, {"error": str(exc), "user": None}, status=410
            )
        return render(
            "ui/invitation.html",
            request,
            {"user": user, "token": token, "error": str(exc)},
            status=400,
        )
    resp = web.HTTPSeeOther("/me")
    set_cookie(request, resp, SESSION_COOKIE, cookie)
    resp.del_cookie(FORM_COOKIE, path="/")
    raise resp


@routes.get("/me")
async def me_page(request: web.Request) -> web.StreamResponse:
    who = require_login(request)
    from node.actions import delivery_counts_of
    from node.charter.polls import unvoted_count
    from node.ui.mediator import dashboard
    from node.ui.member import to_confirm_count

    node = get_node(request)
    dead = (await delivery_counts_of(node, by=who)).get("dead", 0) if who.coordinator else 0

    return render(
        "ui/me.html",
        request,
        {
            "roles": sorted(who.roles),
            "to_confirm": await to_confirm_count(request, who),
            "polls_to_vote": await unvoted_count(node, by=who),
            "mediators": await dashboard(node, who),
            "dead": dead,
        },
    )


@routes.post("/me/language")
async def set_language(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    who = require_login(request)
    await users.set_language(get_node(request), who, str(form.get("language", "")))
    raise web.HTTPSeeOther("/me")


@routes.post("/me/logout-everywhere")
async def logout_everywhere(request: web.Request) -> web.StreamResponse:
    await read_form(request)
    who = require_login(request)
    await users.user_logout_everywhere(get_node(request), who, who.name)
    resp = web.HTTPSeeOther("/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    raise resp
