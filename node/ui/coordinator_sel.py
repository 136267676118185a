"""The coordinator's SEL pages, under /admin/sel: what ``coopnet sel`` does, in a browser.

- /admin/sel: the totals, accounts waiting for approval, the peer sections
  (clearing accounts) and adding one, the latest exchanges, the ledger's
  check (``verify``), reconciliation with a peer, and the CSV exports;
- /admin/sel/accounts: every account, and opening a member's;
- /admin/sel/accounts/{name}: one member account, its limits and status,
  and its exchanges, a confirmed one cancellable (an admin correction).

The pages use ``coordinator``'s guards (login, role, then Origin and CSRF
before any form is read) and field checks, and every read and change goes
through node/sel.py with the logged-in principal, which checks the role
again. A refusal re-renders the page with the reason (400) and what was
typed; nothing was written. The ledger's own refusals (a limit that
excludes the balance, a close with hours left) are shown as they are.

Verify and reconcile are buttons (POST): one re-reads the whole journal,
the other asks the peer section over the network; neither runs on a mere
page load. The exports are POSTs too, so a CSV is never a GET page of the
/admin tree and is sent only to a form of our own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from multidict import MultiDictProxy

from models.accounts import Principal
from models.errors import UserError
from models.sel.accounts import Account, AccountKind, AccountStatus, LedgerError, hours
from models.sel.exchanges import Role, State
from models.sel.ledger import LedgerReport
from node import sel
from node.i18n import show_hours
from node.ui.coordinator import (
    CONTROL,
    MAX_TARGET,
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
)
from node.web import get_node

log = logging.getLogger("coopnet.ui.coordinator")
routes = web.RouteTableDef()

SEL = PREFIX + "/sel"
#: Rows on one page: every page stays well under 50 KB whatever the ledger holds.
SHOWN_ACCOUNTS = 50
SHOWN_TO_APPROVE = 10
SHOWN_PEERS = 20
SHOWN_LATEST = 10
SHOWN_HISTORY = 20
#: Problems of a ledger check, differences of a reconciliation: the first ones.
SHOWN_NOTES = 20
#: A duration typed in a form: '-1000h30' fits, '1e9' does not parse anyway.
MAX_HOURS = 12
MAX_CODE = 63
MAX_NAME = 200
MAX_REASON = 500
STATUSES = (AccountStatus.OPEN.value, AccountStatus.CLOSED.value)


# ----------------------------------------------------------------------------- helpers


def h(minutes: int) -> str:
    """Minutes as hours, the number and its 'h' kept on one line: 90 → '1.5\u00a0h'."""
    return show_hours(minutes).replace(" ", "\u00a0")


def hours_text(minutes: int) -> str:
    """Minutes as a form value that parses back exactly: -1200 → '-20', 90 → '1h30'."""
    sign = "-" if minutes < 0 else ""
    whole, rest = divmod(abs(minutes), 60)
    return f"{sign}{whole}" if not rest else f"{sign}{whole}h{rest:02d}"


def duration(form: Mapping[str, Any], name: str, *, label: str, required: bool = False) -> str:
    """A number of hours as typed ('1.5', '1h30', '90m', '-20'), checked to parse."""
    value = text(form, name, limit=MAX_HOURS, label=label, required=required)
    if value:
        try:
            sel.parse_hours(value, label)
        except LedgerError as exc:
            raise FormError("{field}: write hours like 1.5, 1h30 or 90m", field=label) from exc
    return value


def spending(form: Mapping[str, Any], name: str, *, label: str) -> str:
    """A peer's spending limit: hours, zero or more."""
    value = duration(form, name, label=label, required=True)
    if sel.parse_hours(value, label) < 0:
        raise FormError("{field}: a number of hours, zero or more", field=label)
    return value


def typed_of(form: Mapping[str, Any], *names: str) -> dict[str, str]:
    """What was typed, to show again after a refusal (strings only, cut to size)."""
    out = {}
    for key in names:
        value = form.get(key, "")
        out[key] = CONTROL.sub("", value[:MAX_TARGET]) if isinstance(value, str) else ""
    return out


@dataclass(frozen=True)
class AccountLine:
    code: str
    name: str
    kind: str
    status: str
    balance: str
    held: str
    lower: str
    upper: str
    member: bool
    #: For a peer section: its host, and its actor's address.
    host: str = ""
    peer_uri: str = ""
    held_minutes: int = 0
    id: int = 0


def line_of(a: Account) -> AccountLine:
    peer = a.peer_uri or ""
    return AccountLine(
        code=a.code,
        name=a.name,
        kind=a.kind,
        status=a.status,
        balance=h(a.balance),
        held=h(a.held),
        lower=h(a.lower_limit),
        upper=h(a.upper_limit),
        member=a.kind == AccountKind.MEMBER,
        host=urlsplit(peer).netloc if peer else "",
        peer_uri=peer,
        held_minutes=a.held,
        id=a.id,
    )


def peer_line(a: Account) -> dict[str, Any]:
    """A clearing account as the peer's two spending limits (positive hours)."""
    return {
        "line": line_of(a),
        "their_spending": h(-a.lower_limit),
        "our_spending": h(a.upper_limit),
    }


# ----------------------------------------------------------------------------- overview


async def _sel_page(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    typed: Mapping[str, str] | None = None,
    report: LedgerReport | None = None,
    reconciliation: sel.Reconciliation | None = None,
) -> web.Response:
    node = get_node(request)
    everyone = await sel.accounts(node, by=who)
    members = [a for a in everyone if a.kind == AccountKind.MEMBER]
    peers = [a for a in everyone if a.kind == AccountKind.CLEARING]
    requested = [a for a in members if a.status == AccountStatus.REQUESTED]
    latest = await sel.history(node, by=who, limit=SHOWN_LATEST)
    return page(
        request,
        "ui/coord_sel.html",
        {
            "members": len(members),
            "open": sum(1 for a in members if a.status == AccountStatus.OPEN),
            "to_approve": [line_of(a) for a in requested[:SHOWN_TO_APPROVE]],
            "to_approve_count": len(requested),
            "member_total": h(sum(a.balance for a in members)),
            "peer_total": h(sum(a.balance for a in peers)),
            "total": h(sum(a.balance for a in everyone)),
            "balanced": sum(a.balance for a in everyone) == 0,
            "peers": [peer_line(a) for a in peers[:SHOWN_PEERS]],
            "peer_count": len(peers),
            "shown_peers": SHOWN_PEERS,
            "latest": latest,
            "member_codes": {a.code for a in members},
            "typed": typed or {},
            "report": report,
            "problems": report.problems[:SHOWN_NOTES] if report else [],
            "differences": reconciliation.differences[:SHOWN_NOTES] if reconciliation else [],
            "in_flight": reconciliation.in_flight[:SHOWN_NOTES] if reconciliation else [],
            "reconciliation": reconciliation,
            "rec_name": next(
                (a.name for a in peers if reconciliation and a.peer_uri == reconciliation.peer),
                "",
            ),
            "shown_notes": SHOWN_NOTES,
            "hours": h,
        },
        status=status,
        error=error,
    )


@routes.get(SEL)
@admin
async def sel_page(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _sel_page(request, who)


@routes.post(SEL + "/peers")
@admin_post
async def peer_add(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    typed = typed_of(form, "section", "their_spending", "our_spending")
    try:
        section = text(
            form, "section", limit=MAX_TARGET, label="Section (name@host)", required=True
        )
        their = spending(form, "their_spending", label="Their members may spend here (hours)")
        ours = spending(form, "our_spending", label="Our members may spend there (hours)")
        acc = await sel.peer_add(get_node(request), section.lstrip("@"), their, ours, by=who)
        log.info(
            "%s made %s a SEL peer: clearing between %s and %s",
            who.name,
            acc.peer_uri,
            hours(acc.lower_limit),
            hours(acc.upper_limit),
        )
    except UserError as exc:
        return await _sel_page(
            request, who, status=status_of(exc), error=say(request, exc), typed=typed
        )
    raise done(request, SEL, "peer-added")


async def _peers_by_id(request: web.Request, who: Principal) -> dict[str, str]:
    """Each peer's actor address by its clearing account's id, the value the form sends
    (an address can be 2,000 characters long: twenty of them would fill the page)."""
    return {
        str(a.id): a.peer_uri
        for a in await sel.accounts(get_node(request), by=who)
        if a.kind == AccountKind.CLEARING and a.peer_uri
    }


@routes.post(SEL + "/reconcile")
@admin_post
async def reconcile(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    try:
        peers = await _peers_by_id(request, who)
        peer = peers[choice(form, "peer", tuple(peers), label="Peer section")]
        rec = await sel.reconcile(get_node(request), peer, by=who)
        log.info(
            "%s reconciled with %s: %d difference(s), %d in flight",
            who.name,
            peer,
            len(rec.differences),
            len(rec.in_flight),
        )
    except UserError as exc:
        return await _sel_page(request, who, status=status_of(exc), error=say(request, exc))
    return await _sel_page(request, who, reconciliation=rec)


@routes.post(SEL + "/verify")
@admin_post
async def verify(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    report = await sel.verify(get_node(request), by=who)
    log.info(
        "%s verified the ledger: %d entries, %d problem(s)",
        who.name,
        report.entries,
        len(report.problems),
    )
    return await _sel_page(request, who, report=report)


@routes.post(SEL + "/export")
@admin_post
async def export(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    try:
        what = choice(form, "what", ("accounts", "exchanges"), label="Export")
    except UserError as exc:
        return await _sel_page(request, who, status=status_of(exc), error=say(request, exc))
    body = await sel.export_csv(get_node(request), what, by=who)
    log.info("%s exported the SEL %s", who.name, what)
    resp = web.Response(text=body, content_type="text/csv", charset="utf-8")
    resp.headers["Content-Disposition"] = f'attachment; filename="sel-{what}.csv"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


# ----------------------------------------------------------------------------- accounts


def _page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 6 and int(raw) > 0 else 1


async def _accounts_page(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    typed: Mapping[str, str] | None = None,
) -> web.Response:
    node = get_node(request)
    everyone = await sel.accounts(node, by=who)
    number = _page_number(request)
    shown = everyone[(number - 1) * SHOWN_ACCOUNTS : number * SHOWN_ACCOUNTS]
    return page(
        request,
        "ui/coord_sel_accounts.html",
        {
            "accounts": [line_of(a) for a in shown],
            "total": len(everyone),
            "number": number,
            "more": len(everyone) > number * SHOWN_ACCOUNTS,
            "typed": typed or {},
            "defaults": f"{h(node.config.sel_lower_minutes)} / {h(node.config.sel_upper_minutes)}",
        },
        status=status,
        error=error,
    )


@routes.get(SEL + "/accounts")
@admin
async def accounts_page(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _accounts_page(request, who)


@routes.post(SEL + "/accounts")
@admin_post
async def account_open(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    typed = typed_of(form, "code", "name", "lower", "upper")
    try:
        code = text(form, "code", limit=MAX_CODE, label="Account code", required=True)
        name = text(form, "name", limit=MAX_NAME, label="Holder's name")
        lower = duration(form, "lower", label="Lower limit (hours)")
        upper = duration(form, "upper", label="Upper limit (hours)")
        acc = await sel.account_open(
            get_node(request), code, name, lower or None, upper or None, by=who
        )
        log.info(
            "%s opened the SEL account %s, limits %s / %s",
            who.name,
            acc.code,
            hours(acc.lower_limit),
            hours(acc.upper_limit),
        )
    except UserError as exc:
        return await _accounts_page(
            request, who, status=status_of(exc), error=say(request, exc), typed=typed
        )
    raise done(request, f"{SEL}/accounts/{acc.code}", "sel-opened")


def _code(request: web.Request) -> str:
    code = request.match_info["name"]
    if len(code) > MAX_CODE or CONTROL.search(code):
        raise web.HTTPNotFound(text="no such SEL account")
    return code


async def _member_account(request: web.Request, who: Principal) -> Account:
    """The member account the path names (a peer's clearing account has no page)."""
    code = _code(request)
    for a in await sel.accounts(get_node(request), by=who):
        if a.code == code and a.kind == AccountKind.MEMBER:
            return a
    raise web.HTTPNotFound(text="no such SEL account")


async def _account_page(
    request: web.Request,
    who: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    typed: Mapping[str, str] | None = None,
) -> web.Response:
    acc = await _member_account(request, who)
    history = await sel.history(get_node(request), acc.code, by=who, limit=SHOWN_HISTORY + 1)
    return page(
        request,
        "ui/coord_sel_account.html",
        {
            "account": line_of(acc),
            "limits": typed
            if typed is not None
            else {"lower": hours_text(acc.lower_limit), "upper": hours_text(acc.upper_limit)},
            "at_zero": acc.balance == 0 and acc.held == 0,
            "history": history[:SHOWN_HISTORY],
            "more": len(history) > SHOWN_HISTORY,
            "hours": h,
            "cancellable": {
                line.exchange.uuid
                for line in history
                if line.exchange.role == Role.LOCAL and line.exchange.state == State.CONFIRMED
            },
        },
        status=status,
        error=error,
    )


@routes.get(SEL + "/accounts/{name}")
@admin
async def account_page(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _account_page(request, who)


@routes.post(SEL + "/accounts/{name}/limits")
@admin_post
async def account_limits(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    acc = await _member_account(request, who)
    typed = typed_of(form, "lower", "upper")
    try:
        lower = duration(form, "lower", label="Lower limit (hours)", required=True)
        upper = duration(form, "upper", label="Upper limit (hours)", required=True)
        changed = await sel.account_set(
            get_node(request), acc.code, lower=lower, upper=upper, by=who
        )
        log.info(
            "%s set the limits of %s to %s / %s",
            who.name,
            changed.code,
            hours(changed.lower_limit),
            hours(changed.upper_limit),
        )
    except UserError as exc:
        return await _account_page(
            request, who, status=status_of(exc), error=say(request, exc), typed=typed
        )
    raise done(request, f"{SEL}/accounts/{acc.code}", "sel-limits")


@routes.post(SEL + "/accounts/{name}/status")
@admin_post
async def account_status(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    acc = await _member_account(request, who)
    before = acc.status
    try:
        wanted = AccountStatus(choice(form, "status", STATUSES, label="Account status"))
        back = choice(form, "back", ("", "overview"), label="Action")
        if wanted == before:
            raise FormError(
                "the account is already open"
                if wanted == AccountStatus.OPEN
                else "the account is already closed"
            )
        changed = await sel.account_set(get_node(request), acc.code, status=wanted, by=who)
        log.info("%s moved the SEL account %s from %s to %s", who.name, acc.code, before, wanted)
    except UserError as exc:
        return await _account_page(request, who, status=status_of(exc), error=say(request, exc))
    code = (
        "sel-closed"
        if changed.status == AccountStatus.CLOSED
        else "sel-approved"
        if before == AccountStatus.REQUESTED
        else "sel-reopened"
    )
    # Approving from the overview's list goes back there.
    raise done(request, SEL if back == "overview" else f"{SEL}/accounts/{acc.code}", code)


@routes.post(SEL + "/accounts/{name}/cancel")
@admin_post
async def exchange_cancel(
    request: web.Request, who: Principal, form: MultiDictProxy[Any]
) -> web.StreamResponse:
    acc = await _member_account(request, who)
    try:
        ref = text(form, "exchange", limit=64, label="Exchange", required=True)
        if not UUID.fullmatch(ref):
            raise FormError("{field}: not one of the choices offered", field="Exchange")
        reason = text(form, "reason", limit=MAX_REASON, label="Reason", required=True)
        if choice(form, "confirm", ("", "yes"), label="Confirmation") != "yes":
            raise FormError("tick the box to confirm the cancellation")
        row = await sel.cancel(get_node(request), ref, reason, by=who)
        log.info("%s cancelled the exchange %s: %s", who.name, row.uri, reason)
    except UserError as exc:
        return await _account_page(request, who, status=status_of(exc), error=say(request, exc))
    raise done(request, f"{SEL}/accounts/{acc.code}", "sel-cancelled")
