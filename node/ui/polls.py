"""Poll pages: the coordinator's /admin/polls, the member's /me/polls, and the
public /polls/{uuid} (which also answers ActivityPub clients with the Question).

The coordinator's pages go through ``coordinator``'s guards (login, role,
then Origin and CSRF); a member's vote goes through ``auth.read_form``.
Every change is a node/charter/polls.py action with the logged-in person as
principal, which checks the role again. A refusal re-renders the page with
the reason (400, 403 for a role) and what was typed; nothing was written.

The ballot code is shown in the answer to the vote itself, never put in a
link (a code in the browser's history would tie the person to the ballot).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiDictProxy

from models.accounts import Principal
from models.charter.polls import MAX_OPTION, MAX_OPTIONS, MAX_QUESTION
from models.errors import Forbidden, NotFound, UserError
from node.charter import polls
from node.i18n import pick_language, register, translator
from node.ui import auth
from node.ui.coordinator import (
    PREFIX,
    UUID,
    FormError,
    admin,
    admin_post,
    choice,
    done,
    page,
    say,
    status_of,
    text,
    with_lang,
)
from node.ui.polls_messages import FR
from node.web import ap_response, get_node, wants_ap

register("fr", FR)

log = logging.getLogger("coopnet.ui.polls")
routes = web.RouteTableDef()

POLLS = PREFIX + "/polls"
SHOWN_POLLS = 30


def _uuid(request: web.Request) -> str:
    ref = request.match_info["uuid"]
    if not UUID.fullmatch(ref):
        raise web.HTTPNotFound(text="no such poll")
    return ref


# ----------------------------------------------------------------------------- coordinator


def _closing(form: MultiDictProxy[Any], zone: ZoneInfo) -> datetime:
    """The closing time as typed, in the node's time zone (node.timezone), as UTC."""
    day = text(form, "closes_date", limit=10, label="Closing date", required=True)
    hour = text(form, "closes_time", limit=5, label="Closing time", required=True)
    try:
        typed = datetime.strptime(f"{day}T{hour}", "%Y-%m-%dT%H:%M")
        return typed.replace(tzinfo=zone).astimezone(UTC)
    except ValueError:
        raise FormError("{field}: write it as YYYY-MM-DD and HH:MM", field="Closing date") from None


async def _admin_page(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> web.Response:
    views = await polls.poll_list(get_node(request), by=who)
    return page(
        request,
        "ui/coord_polls.html",
        {
            "polls": views[:SHOWN_POLLS],
            "total": len(views),
            "typed": typed or {"choice": "single", "audience": "members"},
            "max_options": MAX_OPTIONS,
            "max_question": MAX_QUESTION,
            "public_url": get_node(request).urls.poll,
        },
        status=status,
        error=error,
    )


@routes.get(POLLS)
@admin
async def admin_polls(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _admin_page(request, who)


@routes.post(POLLS)
@admin_post
async def admin_open(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    fields = ("question", "options", "choice", "closes_date", "closes_time", "audience")
    typed = {k: v[:5000] if isinstance(v := form.get(k, ""), str) else "" for k in fields}
    try:
        question = text(form, "question", limit=MAX_QUESTION, label="Question", required=True)
        raw = text(
            form,
            "options",
            limit=(MAX_OPTION + 2) * (MAX_OPTIONS + 5),
            label="Options",
            required=True,
            multiline=True,
        )
        kind = choice(form, "choice", ("single", "multiple"), label="Choices")
        audience = choice(form, "audience", ("members", "public"), label="Who votes")
        poll = await polls.poll_open(
            get_node(request),
            question,
            raw.split("\n"),
            multiple=kind == "multiple",
            closes_at=_closing(form, get_node(request).config.zone),
            audience=audience,
            by=who,
        )
        log.info("%s opened the poll %s", who.name, poll.uuid)
    except UserError as exc:
        return await _admin_page(
            request, who, status=status_of(exc), error=say(request, exc), typed=typed
        )
    raise done(request, POLLS, "poll-opened")


@routes.post(POLLS + "/{uuid}/close")
@admin_post
async def admin_close(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    try:
        await polls.poll_close(get_node(request), _uuid(request), by=who)
    except UserError as exc:
        return await _admin_page(request, who, status=status_of(exc), error=say(request, exc))
    raise done(request, POLLS, "poll-closed")


# ----------------------------------------------------------------------------- members


async def _member_page(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    ballot: tuple[str, str] | None = None,
) -> web.Response:
    views = await polls.member_polls(get_node(request), by=who)
    return auth.render(
        "ui/member_polls.html",
        request,
        {
            "polls": views[:SHOWN_POLLS],
            "error": error,
            "ballot": ballot,
            "link": lambda path, **params: with_lang(request, path, **params),
            "public_url": get_node(request).urls.poll,
        },
        status=status,
    )


def _refusal(request: web.Request, exc: UserError) -> str:
    return str(translator(pick_language(request))(str(exc)))


async def _not_a_member(request: web.Request, exc: UserError) -> web.Response:
    return auth.render(
        "ui/member_polls.html",
        request,
        {"polls": [], "error": _refusal(request, exc), "ballot": None, "not_member": True},
        status=403,
    )


@routes.get("/me/polls")
async def member_polls(request: web.Request) -> web.StreamResponse:
    who = auth.require_login(request)
    try:
        return await _member_page(request, who)
    except Forbidden as exc:
        return await _not_a_member(request, exc)


@routes.post("/me/polls/{uuid}/vote")
async def member_vote(request: web.Request) -> web.StreamResponse:
    form = await auth.read_form(request)
    who = auth.require_login(request)
    ref = _uuid(request)
    raw = form.getall("choice", [])
    # ASCII digits only: "²".isdigit() is true, and int("²") raises.
    choices = [
        int(c) for c in raw if isinstance(c, str) and c.isascii() and c.isdigit() and len(c) < 4
    ]
    try:
        if len(choices) != len(raw):
            raise UserError("this option is not one of the poll's")
        code = await polls.poll_vote(get_node(request), ref, choices, by=who)
    except Forbidden as exc:
        return await _not_a_member(request, exc)
    except UserError as exc:
        status = 404 if isinstance(exc, NotFound) else 400
        return await _member_page(request, who, status=status, error=_refusal(request, exc))
    return await _member_page(request, who, ballot=(ref, code))


# ----------------------------------------------------------------------------- public


@routes.get("/polls/{uuid}")
async def public_poll(request: web.Request) -> web.StreamResponse:
    node = get_node(request)
    try:
        view, question = await polls.public_poll(node, _uuid(request))
    except NotFound as exc:
        raise web.HTTPNotFound(text="no such poll") from exc
    if wants_ap(request):
        return ap_response(question)
    resp = auth.render(
        "ui/poll_public.html",
        request,
        {"view": view, "handle": f"@{node.node_username}@{node.urls.host}"},
    )
    resp.headers["Vary"] = "Accept"
    return resp
