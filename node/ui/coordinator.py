"""The coordinator's pages, under /admin: accounts, mediators, bulletins, a
note from the node, certifications, follows, the delivery queue and the
node's settings (the time bank's are in ``coordinator_sel``).

Every handler goes through ``admin`` (a GET) or ``admin_post`` (a POST):
someone not logged in is sent to the login page, someone logged in
without the coordinator role gets a 403 page, and a POST is read only
through ``auth.read_form`` (same-site Origin, CSRF token). The actions
called check the role again (``by.require_coordinator()``), so a page that
forgot would still change nothing.

Form fields are checked here before any action runs: text only, no
control characters, a length limit per field. A refusal re-renders the
page with the message (400) and the values typed; nothing was written.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDictProxy

from models.accounts import Principal, Role
from models.bulletins import MAX_SUMMARY, MAX_TITLE, Bulletin
from models.errors import Forbidden, NotFound, UserError
from models.markdown import first_paragraph
from models.mediators import MAX_SKILLS, Profile
from models.outbox import DeliveryState
from models.posts import MAX_NOTE_CHARS
from models.sel.accounts import AccountStatus
from node import actions, certification, content, mail, sel, users
from node.i18n import pick_language, register, show_hours, translator
from node.network.blocks import domain_blocks
from node.ui import auth
from node.ui.coordinator_messages import EN, FR
from node.web import get_node

register("fr", FR)
register("en", EN)

log = logging.getLogger("coopnet.ui.coordinator")
routes = web.RouteTableDef()

PREFIX = "/admin"
#: Rows shown on one page: a page stays well under 50 KB whatever the node holds.
SHOWN_RELATIONS = 50
SHOWN_ACCOUNTS = 100
SHOWN_DEAD = 50
SHOWN_PENDING = 20
SHOWN_MEDIATORS = 30
#: The same bulletin sent again this soon is the same click (a double-click, a
#: reload of the form): published once, not sent to every follower twice.
RESUBMIT_WINDOW = timedelta(minutes=2)
#: Longest handle or actor URL accepted in a form.
MAX_TARGET = 2048
MAX_MARKDOWN_FIELD = auth.MAX_FORM_BYTES
#: Characters a form field may not hold (NUL and the other C0 controls but
#: tab and newlines, DEL, and C1 controls): PostgreSQL refuses NUL in text,
#: and none of them means anything in a name, a title or a bulletin.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

Page = Callable[[web.Request, Principal], Awaitable[web.StreamResponse]]
Post = Callable[[web.Request, Principal, MultiDictProxy[Any]], Awaitable[web.StreamResponse]]


class FormError(UserError):
    """A field that cannot be used as sent. ``msgid`` is translated, then filled in."""

    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid.format(**params))
        self.msgid = msgid
        self.params = params


def say(request: web.Request, exc: UserError) -> str:
    """The refusal in the page's language (English when it has no translation)."""
    _ = translator(pick_language(request))
    if isinstance(exc, FormError):
        return _(exc.msgid).format(
            **{k: _(v) if k == "field" else v for k, v in exc.params.items()}
        )
    return _(str(exc))


def status_of(exc: UserError) -> int:
    return 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, Forbidden) else 400


def text(
    form: Mapping[str, Any],
    name: str,
    *,
    limit: int,
    label: str,
    required: bool = False,
    multiline: bool = False,
) -> str:
    """A text field, checked: a string, within ``limit``, no control characters."""
    value = form.get(name, "")
    if not isinstance(value, str):
        raise FormError("{field}: expected text, not a file", field=label)
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    elif "\n" in value or "\r" in value:
        raise FormError("{field}: a single line is expected", field=label)
    if len(value) > limit:
        raise FormError("{field}: at most {limit} characters", field=label, limit=limit)
    if CONTROL.search(value):
        raise FormError("{field}: contains a control character", field=label)
    value = value if multiline else value.strip()
    if required and not value.strip():
        raise FormError("{field}: this field is required", field=label)
    return value


def choice(form: Mapping[str, Any], name: str, allowed: tuple[str, ...], *, label: str) -> str:
    value = form.get(name, "")
    if not isinstance(value, str) or value not in allowed:
        raise FormError("{field}: not one of the choices offered", field=label)
    return value


def with_lang(request: web.Request, path: str, **params: str) -> str:
    """A link that keeps the language asked for with ?lang= (English stays English)."""
    query = dict(params)
    lang = request.query.get("lang")
    if lang in ("fr", "en"):
        query["lang"] = lang
    return f"{path}?{urlencode(query)}" if query else path


def admin(handler: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A coordinator's page: login required, then the role (403 otherwise)."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        who = auth.require_login(request)
        if not who.coordinator:
            return forbidden(request)
        return await handler(request, who)

    return guarded


def admin_post(handler: Post) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A coordinator's form: login, role, then Origin and CSRF before the action."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        who = auth.principal(request)
        if who is None:
            # Back to the admin home after logging in: a form's address is no page.
            raise web.HTTPSeeOther(f"/login?next={PREFIX}")
        if not who.coordinator:
            return forbidden(request)
        form = await auth.read_form(request)  # an unreadable body is a 400 there
        return await handler(request, who, form)

    return guarded


def forbidden(request: web.Request) -> web.Response:
    return auth.render("ui/coord_forbidden.html", request, {}, status=403)


def page(
    request: web.Request,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    error: str | None = None,
) -> web.Response:
    notice_code = request.query.get("done", "")
    return auth.render(
        template,
        request,
        {
            "error": error,
            "notice": NOTICES.get(notice_code),
            "link": lambda path, **params: with_lang(request, path, **params),
            "here": request.path,
            **context,
        },
        status=status,
    )


def done(request: web.Request, path: str, code: str, **params: str) -> web.HTTPSeeOther:
    """After a change, back to the list with a notice (reloading repeats nothing)."""
    return web.HTTPSeeOther(with_lang(request, path, done=code, **params))


#: Notices shown after a redirect; ``?done=`` picks one of these, nothing else.
NOTICES = {
    "disabled": "Account disabled; its sessions ended.",
    "enabled": "Account enabled again.",
    "logged-out": "Every session of the account ended.",
    "email-saved": "E-mail address saved.",
    "blocked": "Domain blocked: nothing comes from it or goes to it any more.",
    "unblocked": "Block lifted.",
    "hosting-recorded": "Hosting recorded; it counts for the mediator's month.",
    "hosting-cancelled": "Purchase cancelled; it stays listed but no longer counts.",
    "published": "Bulletin published; followers receive it.",
    "updated": "Bulletin updated; followers receive the new version.",
    "deleted": "Bulletin deleted; followers are told.",
    "certified": "Mediator certified; the certification is announced.",
    "revoked": "Revoked; the revocation is announced.",
    "authorized": "Section authorised; it is told.",
    "followed": "Follow request sent; it shows as accepted once the other side answers.",
    "retried": "Dead deliveries queued again.",
    "posted": "Note posted; followers receive it.",
    "mediator-added": "Mediator added; invite an account for them on the Accounts page.",
    "mediator-removed": "Mediator removed; followers are told, their offers end.",
    "peer-added": "Peer section saved; its members and ours may now pay each other.",
    "sel-opened": "SEL account opened.",
    "sel-limits": "Limits changed.",
    "sel-approved": "Account approved; it is open.",
    "sel-closed": "Account closed.",
    "sel-reopened": "Account open again.",
    "sel-cancelled": "Exchange cancelled; a reversing entry gave the hours back.",
    "poll-opened": "Poll opened; members see it on their page.",
    "poll-closed": "Poll closed; the result is published.",
}


# ----------------------------------------------------------------------------- home


async def _home(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    note: str = "",
) -> web.Response:
    node = get_node(request)
    counts = await actions.delivery_counts_of(node, by=who)
    followers, following = await actions.relation_counts(node, by=who)
    accounts = await sel.accounts(node, by=who)
    return page(
        request,
        "ui/coord_home.html",
        {
            "dead": counts.get(DeliveryState.DEAD, 0),
            "pending": counts.get(DeliveryState.PENDING, 0),
            "followers": followers,
            "following": following,
            "role": node.config.role,
            "to_approve": sum(1 for a in accounts if a.status == AccountStatus.REQUESTED),
            "mediators": len(await content.mediator_list(node)),
            "note": note,
            "max_note": MAX_NOTE_CHARS,
            "handle": f"@{node.node_username}@{node.urls.host}",
            "public": node.urls.actor(node.node_username),
        },
        status=status,
        error=error,
    )


@routes.get(PREFIX)
@admin
async def home(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _home(request, who)


@routes.post(PREFIX + "/note")
@admin_post
async def note_post(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    raw = form.get("note", "")
    typed = CONTROL.sub("", raw[:MAX_NOTE_CHARS]) if isinstance(raw, str) else ""
    try:
        note = text(form, "note", limit=MAX_NOTE_CHARS, label="Note", required=True, multiline=True)
        obj = await actions.post_note(get_node(request), note, by=who, once_within=RESUBMIT_WINDOW)
        log.info("%s posted the note %s", who.name, obj.uri)
    except UserError as exc:
        return await _home(request, who, status=status_of(exc), error=say(request, exc), note=typed)
    raise done(request, PREFIX, "posted")


# ----------------------------------------------------------------------------- accounts


ROLE_LABELS = {Role.COORDINATOR: "coordinator", Role.MEDIATOR: "mediator", Role.MEMBER: "member"}


@dataclass(frozen=True)
class AccountRow:
    name: str
    display_name: str
    roles: list[tuple[str, str]]
    state: str
    disabled: bool
    me: bool
    email: str


async def _row(request: web.Request, who: Principal, user: Any) -> AccountRow:
    roles = []
    for spec in await users.describe_grants(get_node(request), user):
        kind, _, target = spec.partition(":")
        roles.append((kind, target))
    state = (
        "disabled"
        if user.disabled_at
        else "active"
        if user.password_hash
        else "invited (no password yet)"
    )
    return AccountRow(
        user.name,
        user.display_name,
        roles,
        state,
        user.disabled_at is not None,
        user.id == who.user_id,
        user.email or "",
    )


def _page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 6 and int(raw) > 0 else 1


async def _users_page(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    typed: Mapping[str, str] | None = None,
    invited: users.Invited | None = None,
) -> web.Response:
    node = get_node(request)
    everyone = await users.user_list(node, who)
    number = _page_number(request)
    shown = everyone[(number - 1) * SHOWN_ACCOUNTS : number * SHOWN_ACCOUNTS]
    return page(
        request,
        "ui/coord_users.html",
        {
            "accounts": [await _row(request, who, u) for u in shown],
            "total": len(everyone),
            "number": number,
            "more": len(everyone) > number * SHOWN_ACCOUNTS,
            "choices": await users.role_choices(node, who),
            "typed": typed or {},
            "invited": invited,
            "mail_on": mail.configured(node.config),
        },
        status=status,
        error=error,
    )


@routes.get(PREFIX + "/users")
@admin
async def users_page(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _users_page(request, who)


@routes.post(PREFIX + "/users")
@admin_post
async def user_create(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    node = get_node(request)
    typed: dict[str, str] = {}
    try:
        typed["name"] = text(form, "name", limit=64, label="Account name", required=True)
        typed["display_name"] = text(form, "display_name", limit=200, label="Name shown")
        typed["email"] = text(form, "email", limit=254, label="E-mail address")
        roles = await _roles_of(node, who, form, typed)
        invited = await users.user_add(
            node, who, typed["name"], roles, typed["display_name"], typed["email"]
        )
        log.info("%s created the account %s (%s)", who.name, invited.user.name, ", ".join(roles))
    except UserError as exc:
        return await _users_page(
            request, who, status=status_of(exc), error=say(request, exc), typed=typed
        )
    return await _users_page(request, who, invited=invited)


async def _roles_of(
    node: Any, who: Principal, form: MultiDictProxy[Any], typed: dict[str, str]
) -> list[str]:
    """The roles a form asks for, chosen only from what the section offers."""
    choices = await users.role_choices(node, who)
    mediator = choice(
        form, "mediator", ("", *(u for u, _ in choices.mediators)), label="Mediator profile"
    )
    member = choice(form, "member", ("", *(c for c, _ in choices.members)), label="SEL account")
    coordinator = choice(form, "coordinator", ("", "on"), label="Coordinator")
    typed.update(mediator=mediator, member=member, coordinator=coordinator)
    roles = [Role.COORDINATOR.value] if coordinator else []
    if mediator:
        roles.append(f"{Role.MEDIATOR}:{mediator}")
    if member:
        roles.append(f"{Role.MEMBER}:{member}")
    return roles


@routes.post(PREFIX + "/users/{name}/roles")
@admin_post
async def user_roles(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    node = get_node(request)
    try:
        roles = await _roles_of(node, who, form, {})
        user = await users.user_set_roles(node, who, _account_name(request), roles)
        log.info("%s set the roles of %s: %s", who.name, user.name, ", ".join(roles))
    except UserError as exc:
        return await _account_page(request, who, status=status_of(exc), error=say(request, exc))
    return await _account_page(request, who)


def _account_name(request: web.Request) -> str:
    name = request.match_info["name"]
    if len(name) > 64 or CONTROL.search(name):
        raise web.HTTPNotFound(text="no such account")
    return name


async def _account_page(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    invited: users.Invited | None = None,
) -> web.Response:
    try:
        user = await users.user_get(get_node(request), who, _account_name(request))
    except UserError as exc:
        raise web.HTTPNotFound(text=str(exc)) from exc
    row = await _row(request, who, user)
    held = dict(row.roles)
    typed = {
        "coordinator": "on" if "coordinator" in held else "",
        "mediator": held.get("mediator", ""),
        "member": held.get("member", ""),
    }
    return page(
        request,
        "ui/coord_user.html",
        {
            "account": row,
            "invited": invited,
            "mail_on": mail.configured(get_node(request).config),
            "choices": await users.role_choices(get_node(request), who),
            "typed": typed,
        },
        status=status,
        error=error,
    )


@routes.get(PREFIX + "/users/{name}")
@admin
async def user_page(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _account_page(request, who)


@routes.post(PREFIX + "/users/{name}/reset")
@admin_post
async def user_reset(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    try:
        invited = await users.user_reset(get_node(request), who, _account_name(request))
        log.info("%s made a new link for %s", who.name, invited.user.name)
    except UserError as exc:
        return await _account_page(request, who, status=status_of(exc), error=say(request, exc))
    return await _account_page(request, who, invited=invited)


@routes.post(PREFIX + "/users/{name}/email")
@admin_post
async def user_email(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    try:
        address = text(form, "email", limit=254, label="E-mail address")
        user = await users.user_set_email(get_node(request), who, _account_name(request), address)
        log.info("%s set the e-mail address of %s", who.name, user.name)
    except UserError as exc:
        return await _account_page(request, who, status=status_of(exc), error=say(request, exc))
    raise done(request, f"{PREFIX}/users/{user.name}", "email-saved")


@routes.post(PREFIX + "/users/{name}/disable")
@admin_post
async def user_disable(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    return await _user_state(request, who, disabled=True)


@routes.post(PREFIX + "/users/{name}/enable")
@admin_post
async def user_enable(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    return await _user_state(request, who, disabled=False)


async def _user_state(
    request: web.Request, who: Principal, *, disabled: bool
) -> web.StreamResponse:
    try:
        user = await users.user_disable(
            get_node(request), who, _account_name(request), disabled=disabled
        )
        log.info("%s %s the account %s", who.name, "disabled" if disabled else "enabled", user.name)
    except UserError as exc:
        return await _account_page(request, who, status=status_of(exc), error=say(request, exc))
    raise done(request, f"{PREFIX}/users/{user.name}", "disabled" if disabled else "enabled")


@routes.post(PREFIX + "/users/{name}/logout")
@admin_post
async def user_logout(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    name = _account_name(request)
    try:
        user = await users.user_get(get_node(request), who, name)
        await users.user_logout_everywhere(get_node(request), who, user.name)
        log.info("%s ended every session of %s", who.name, user.name)
    except UserError as exc:
        return await _account_page(request, who, status=status_of(exc), error=say(request, exc))
    if user.id == who.user_id:
        resp = web.HTTPSeeOther("/login")
        resp.del_cookie(auth.SESSION_COOKIE, path="/")
        raise resp
    raise done(request, f"{PREFIX}/users/{user.name}", "logged-out")


# ----------------------------------------------------------------------------- bulletins

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _bulletin_fields(form: Mapping[str, Any]) -> dict[str, str]:
    return {
        "title": text(form, "title", limit=MAX_TITLE, label="Title", required=True),
        "summary": text(form, "summary", limit=MAX_SUMMARY, label="Summary (optional)"),
        "markdown": text(
            form,
            "markdown",
            limit=MAX_MARKDOWN_FIELD,
            label="Text (Markdown)",
            required=True,
            multiline=True,
        ),
    }


def _typed_bulletin(form: Mapping[str, Any]) -> dict[str, str]:
    """What was typed, to show again after a refusal (only the strings, cut to size)."""
    out = {}
    for key, limit in (("title", MAX_TITLE), ("summary", MAX_SUMMARY), ("markdown", 70_000)):
        value = form.get(key, "")
        out[key] = CONTROL.sub("", value[:limit]) if isinstance(value, str) else ""
    return out


async def _bulletins_page(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    typed: Mapping[str, str] | None = None,
    preview: Bulletin | None = None,
) -> web.Response:
    return page(
        request,
        "ui/coord_bulletins.html",
        {
            "bulletins": await content.bulletin_list(get_node(request), by=who),
            "typed": typed or {},
            "preview": preview,
        },
        status=status,
        error=error,
    )


@routes.get(PREFIX + "/bulletins")
@admin
async def bulletins_page(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _bulletins_page(request, who)


@routes.post(PREFIX + "/bulletins")
@admin_post
async def bulletin_new(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    node = get_node(request)
    typed = _typed_bulletin(form)
    try:
        action = choice(form, "action", ("preview", "publish"), label="Action")
        fields = _bulletin_fields(form)
        typed = fields
        if action == "preview":
            draft = content.bulletin_preview(
                fields["title"], fields["markdown"], fields["summary"] or None, by=who
            )
            return await _bulletins_page(request, who, typed=fields, preview=draft)
        bulletin = await content.bulletin_publish(
            node,
            fields["title"],
            fields["markdown"],
            fields["summary"] or None,
            by=who,
            once_within=RESUBMIT_WINDOW,
        )
        log.info("%s published the bulletin %s", who.name, bulletin.uri)
    except UserError as exc:
        return await _bulletins_page(
            request, who, status=status_of(exc), error=say(request, exc), typed=typed
        )
    raise done(request, PREFIX + "/bulletins", "published")


async def _bulletin_or_404(request: web.Request, who: Principal) -> Bulletin:
    ref = request.match_info["uuid"]
    if not UUID.fullmatch(ref):
        raise web.HTTPNotFound(text="no such bulletin")
    try:
        return await content.bulletin_get(get_node(request), ref, by=who)
    except UserError as exc:
        raise web.HTTPNotFound(text=str(exc)) from exc


def _edit_page(
    request: web.Request,
    bulletin: Bulletin,
    *,
    typed: Mapping[str, str] | None = None,
    preview: Bulletin | None = None,
    status: int = 200,
    error: str | None = None,
) -> web.Response:
    return page(
        request,
        "ui/coord_bulletin_edit.html",
        {
            "bulletin": bulletin,
            "typed": typed
            or {
                "title": bulletin.title,
                # A summary derived from the text is not shown: left empty, it
                # follows the text when the text changes.
                "summary": ""
                if bulletin.summary == first_paragraph(bulletin.content)
                else bulletin.summary,
                "markdown": bulletin.markdown,
            },
            "preview": preview,
        },
        status=status,
        error=error,
    )


@routes.get(PREFIX + "/bulletins/{uuid}")
@admin
async def bulletin_edit(request: web.Request, who: Principal) -> web.StreamResponse:
    return _edit_page(request, await _bulletin_or_404(request, who))


@routes.post(PREFIX + "/bulletins/{uuid}")
@admin_post
async def bulletin_save(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    bulletin = await _bulletin_or_404(request, who)
    typed = _typed_bulletin(form)
    try:
        action = choice(form, "action", ("preview", "save"), label="Action")
        fields = _bulletin_fields(form)
        typed = fields
        if action == "preview":
            draft = content.bulletin_preview(
                fields["title"], fields["markdown"], fields["summary"] or None, by=who
            )
            return _edit_page(request, bulletin, typed=fields, preview=draft)
        await content.bulletin_update(
            get_node(request),
            bulletin.uuid,
            title=fields["title"],
            markdown=fields["markdown"],
            # An emptied summary goes back to the first paragraph.
            summary=fields["summary"] or "",
            by=who,
        )
        log.info("%s updated the bulletin %s", who.name, bulletin.uri)
    except UserError as exc:
        return _edit_page(
            request,
            bulletin,
            typed=typed,
            status=status_of(exc),
            error=say(request, exc),
        )
    raise done(request, PREFIX + "/bulletins", "updated")


@routes.post(PREFIX + "/bulletins/{uuid}/delete")
@admin_post
async def bulletin_remove(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    bulletin = await _bulletin_or_404(request, who)
    try:
        if choice(form, "confirm", ("", "yes"), label="Confirmation") != "yes":
            raise FormError("tick the box to confirm the deletion")
        await content.bulletin_delete(get_node(request), bulletin.uuid, by=who)
        log.info("%s deleted the bulletin %s", who.name, bulletin.uri)
    except UserError as exc:
        return _edit_page(request, bulletin, status=status_of(exc), error=say(request, exc))
    raise done(request, PREFIX + "/bulletins", "deleted")


# ----------------------------------------------------------------------------- certifications


async def _certifications_page(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    typed: Mapping[str, str] | None = None,
    report: Any = None,
) -> web.Response:
    node = get_node(request)
    seat = node.config.role == "seat"
    return page(
        request,
        "ui/coord_certifications.html",
        {
            "report": report,
            "seat": seat,
            "mediators": [] if seat else await certification.mediator_standings(node, by=who),
            "authorizations": await certification.authorizations(node, by=who) if seat else [],
            "typed": typed or {},
        },
        status=status,
        error=error,
    )


@routes.get(PREFIX + "/certifications")
@admin
async def certifications_page(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _certifications_page(request, who)


@routes.post(PREFIX + "/certifications/verify")
@admin_post
async def verify_chain(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    """Any actor's certification chain, checked as 'coopnet verify' does."""
    typed: dict[str, str] = {}
    try:
        typed["actor"] = text(form, "actor", limit=2048, label="Account or address", required=True)
        report = await certification.verify(get_node(request), typed["actor"])
    except UserError as exc:
        return await _certifications_page(
            request, who, status=status_of(exc), error=say(request, exc), typed=typed
        )
    return await _certifications_page(request, who, typed=typed, report=report)


@routes.post(PREFIX + "/certifications/certify")
@admin_post
async def certify(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    try:
        name = text(form, "mediator", limit=64, label="Mediator", required=True)
        row = await certification.certify(get_node(request), name, by=who)
        log.info("%s certified %s: %s", who.name, row.subject_uri, row.uri)
    except UserError as exc:
        return await _certifications_page(
            request, who, status=status_of(exc), error=say(request, exc)
        )
    raise done(request, PREFIX + "/certifications", "certified")


@routes.post(PREFIX + "/certifications/revoke")
@admin_post
async def revoke(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    try:
        ref = text(form, "attestation", limit=64, label="Attestation", required=True)
        if not UUID.fullmatch(ref):
            raise FormError("{field}: not one of the choices offered", field="Attestation")
        if choice(form, "confirm", ("", "yes"), label="Confirmation") != "yes":
            raise FormError("tick the box to confirm the revocation")
        row = await certification.revoke_attestation(get_node(request), ref, by=who)
        log.info("%s revoked %s (%s of %s)", who.name, row.uri, row.kind, row.subject_uri)
    except UserError as exc:
        return await _certifications_page(
            request, who, status=status_of(exc), error=say(request, exc)
        )
    raise done(request, PREFIX + "/certifications", "revoked")


@routes.post(PREFIX + "/certifications/authorize")
@admin_post
async def authorize(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    typed: dict[str, str] = {}
    try:
        typed["section"] = text(
            form, "section", limit=MAX_TARGET, label="Section (name@host)", required=True
        )
        row = await certification.authorize(get_node(request), typed["section"], by=who)
        log.info("%s authorised %s: %s", who.name, row.subject_uri, row.uri)
    except UserError as exc:
        return await _certifications_page(
            request, who, status=status_of(exc), error=say(request, exc), typed=typed
        )
    raise done(request, PREFIX + "/certifications", "authorized")


# ----------------------------------------------------------------------------- mediators

#: The longest skills field: MAX_SKILLS skills of 60 characters, with commas.
MAX_SKILLS_FIELD = MAX_SKILLS * 62


def _mediator_fields(form: Mapping[str, Any]) -> dict[str, str]:
    return {
        "username": text(form, "username", limit=30, label="User name", required=True),
        "name": text(form, "name", limit=100, label="Display name", required=True),
        "summary": text(form, "summary", limit=2000, label="Presentation", multiline=True),
        "skills": text(form, "skills", limit=MAX_SKILLS_FIELD, label="Skills"),
        "area": text(form, "area", limit=200, label="Area"),
        "contact": text(form, "contact", limit=MAX_TARGET, label="Contact"),
    }


async def _mediators_page(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    typed: Mapping[str, str] | None = None,
) -> web.Response:
    node = get_node(request)
    mediators = await content.mediator_list(node)
    return page(
        request,
        "ui/coord_mediators.html",
        {
            "mediators": mediators[:SHOWN_MEDIATORS],
            # Any of them can be removed, shown or not (a name is at most 30 characters).
            "usernames": [m.username for m in mediators],
            "total": len(mediators),
            "shown": SHOWN_MEDIATORS,
            "typed": typed or {},
            "actor_url": node.urls.actor,
            "host": node.urls.host,
        },
        status=status,
        error=error,
    )


@routes.get(PREFIX + "/mediators")
@admin
async def mediators_page(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _mediators_page(request, who)


@routes.post(PREFIX + "/mediators")
@admin_post
async def mediator_new(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    typed: dict[str, str] = {}
    for key, limit in (
        ("username", 30),
        ("name", 100),
        ("summary", 2000),
        ("skills", MAX_SKILLS_FIELD),
        ("area", 200),
        ("contact", MAX_TARGET),
    ):
        value = form.get(key, "")
        typed[key] = CONTROL.sub("", value[:limit]) if isinstance(value, str) else ""
    try:
        fields = _mediator_fields(form)
        typed = fields
        actor = await content.mediator_add(
            get_node(request),
            fields["username"],
            Profile(
                name=fields["name"],
                summary=fields["summary"],
                skills=fields["skills"].split(","),
                area=fields["area"],
                contact=fields["contact"],
            ),
            by=who,
        )
        log.info("%s added the mediator %s", who.name, actor.username)
    except UserError as exc:
        return await _mediators_page(
            request, who, status=status_of(exc), error=say(request, exc), typed=typed
        )
    raise done(request, PREFIX + "/mediators", "mediator-added")


@routes.post(PREFIX + "/mediators/remove")
@admin_post
async def mediator_delete(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    node = get_node(request)
    try:
        current = tuple(m.username for m in await content.mediator_list(node))
        username = choice(form, "username", current, label="Mediator")
        if choice(form, "confirm", ("", "yes"), label="Confirmation") != "yes":
            raise FormError("tick the box to confirm the removal")
        actor = await content.mediator_remove(node, username, by=who)
        log.info("%s removed the mediator %s", who.name, actor.username)
    except UserError as exc:
        return await _mediators_page(request, who, status=status_of(exc), error=say(request, exc))
    raise done(request, PREFIX + "/mediators", "mediator-removed")


# ----------------------------------------------------------------------------- follows


async def _federation_page(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    typed: Mapping[str, str] | None = None,
) -> web.Response:
    node = get_node(request)
    followers, following = await actions.relation_counts(node, by=who)
    return page(
        request,
        "ui/coord_federation.html",
        {
            "following": await actions.list_following(node, by=who, limit=SHOWN_RELATIONS),
            "followers": await actions.list_followers(node, by=who, limit=SHOWN_RELATIONS),
            "following_count": following,
            "followers_count": followers,
            "shown": SHOWN_RELATIONS,
            "typed": typed or {},
            "handle": f"@{node.node_username}@{node.urls.host}",
            "blocks": await domain_blocks(node, by=who),
        },
        status=status,
        error=error,
    )


@routes.get(PREFIX + "/federation")
@admin
async def federation_page(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _federation_page(request, who)


@routes.post(PREFIX + "/federation/follow")
@admin_post
async def follow(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    typed: dict[str, str] = {}
    try:
        typed["target"] = text(
            form, "target", limit=MAX_TARGET, label="Account or node to follow", required=True
        )
        remote, _ = await actions.follow(get_node(request), typed["target"].lstrip("@"), by=who)
        log.info("%s had the node follow %s", who.name, remote.uri)
    except UserError as exc:
        return await _federation_page(
            request, who, status=status_of(exc), error=say(request, exc), typed=typed
        )
    raise done(request, PREFIX + "/federation", "followed")


# ----------------------------------------------------------------------------- deliveries


@routes.get(PREFIX + "/deliveries")
@admin
async def deliveries_page(request: web.Request, who: Principal) -> web.StreamResponse:
    node = get_node(request)
    dead = await actions.deliveries(node, by=who, state=DeliveryState.DEAD, limit=SHOWN_DEAD)
    pending = await actions.deliveries(
        node, by=who, state=DeliveryState.PENDING, limit=SHOWN_PENDING
    )
    return page(
        request,
        "ui/coord_deliveries.html",
        {
            "counts": dead.counts,
            "states": [s.value for s in DeliveryState],
            "dead": dead.rows,
            "pending": pending.rows,
            "shown_dead": SHOWN_DEAD,
            "shown_pending": SHOWN_PENDING,
        },
    )


@routes.post(PREFIX + "/deliveries/retry")
@admin_post
async def deliveries_retry(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    n = await actions.retry_dead_deliveries(get_node(request), by=who)
    log.info("%s queued %d dead deliveries again", who.name, n)
    raise done(request, PREFIX + "/deliveries", "retried")


# ----------------------------------------------------------------------------- settings


@routes.get(PREFIX + "/settings")
@admin
async def settings_page(request: web.Request, who: Principal) -> web.StreamResponse:
    node = get_node(request)
    config = node.config
    return page(
        request,
        "ui/coord_settings.html",
        {
            "config": config,
            "handle": f"@{node.node_username}@{node.urls.host}",
            "database": "SQLite" if config.database_url.startswith("sqlite") else "PostgreSQL",
            "data_dir": str(config.data_dir),
            "sel_limits": f"{show_hours(config.sel_lower_minutes)} / "
            f"+{show_hours(config.sel_upper_minutes)}",
        },
    )
