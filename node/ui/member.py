"""A member's time account in the browser: balance, history, exchanges to answer.

Every change goes through node/sel.py with the logged-in person as the
principal, so a member can only record, confirm, reject or withdraw for
the account they hold, exactly as the actions check for any caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import ColumnElement, and_, or_, select

from models.accounts import Principal
from models.errors import Forbidden, UserError
from models.sel.accounts import Account, AccountKind, AccountStatus
from models.sel.exchanges import CATEGORIES, Exchange, Role, State
from node import sel
from node.i18n import register, show_hours
from node.ui.auth import read_form, render, require_login
from node.ui.member_messages import EN, FR
from node.web import get_node

register("fr", FR)
register("en", EN)

routes = web.RouteTableDef()

HISTORY_ON_PAGE = 50


@dataclass
class AccountView:
    account: Account
    balance: str
    held: str
    lower: str
    upper: str
    to_answer: list[Exchange]
    mine_pending: list[Exchange]
    history: list[sel.HistoryLine]


def _waiting(ids: list[int]) -> ColumnElement[bool]:
    """Exchanges of these accounts that wait for a member: local ones not yet
    answered, and those a peer section offered that wait for our member."""
    return or_(
        and_(
            Exchange.role == Role.LOCAL,
            Exchange.state == State.PENDING,
            or_(Exchange.payer_id.in_(ids), Exchange.payee_id.in_(ids)),
        ),
        and_(
            Exchange.role == Role.RESPONDER,
            Exchange.state == State.AWAITING,
            Exchange.payee_id.in_(ids),
        ),
    )


def _hours(minutes: int) -> str:
    return show_hours(minutes)


async def _held_accounts(request: web.Request, who: Principal) -> list[Account]:
    if not who.accounts:
        raise Forbidden("this page is for members of the section's time bank")
    async with get_node(request).sessions() as session:
        rows = await session.scalars(
            select(Account).where(Account.id.in_(who.accounts)).order_by(Account.code)
        )
        return list(rows.all())


async def _view(request: web.Request, who: Principal, account: Account) -> AccountView:
    node = get_node(request)
    async with node.sessions() as session:
        pending = (
            await session.scalars(
                select(Exchange).where(_waiting([account.id])).order_by(Exchange.created_at.desc())
            )
        ).all()
    recorder = {e.id: e.payer_id if e.recorded_by == "payer" else e.payee_id for e in pending}
    return AccountView(
        account=account,
        balance=_hours(account.balance),
        held=_hours(account.held),
        lower=_hours(account.lower_limit),
        upper=_hours(account.upper_limit),
        to_answer=[e for e in pending if recorder[e.id] != account.id],
        mine_pending=[e for e in pending if recorder[e.id] == account.id],
        history=(await sel.history(node, account.code, by=who))[:HISTORY_ON_PAGE],
    )


async def _choices(request: web.Request, account: Account) -> dict[str, Any]:
    """Who a member can record an exchange with: members here, and peer sections."""
    async with get_node(request).sessions() as session:
        members = (
            await session.scalars(
                select(Account)
                .where(
                    Account.kind == AccountKind.MEMBER,
                    Account.status == AccountStatus.OPEN,
                    Account.id != account.id,
                )
                .order_by(Account.name, Account.code)
            )
        ).all()
        peers = (
            await session.scalars(
                select(Account)
                .where(Account.kind == AccountKind.CLEARING, Account.status == AccountStatus.OPEN)
                .order_by(Account.name)
            )
        ).all()
    return {
        "members": members,
        "peers": [(urlsplit(p.peer_uri or "").netloc, p.name or p.peer_uri) for p in peers],
        "categories": CATEGORIES,
    }


async def _page(
    request: web.Request,
    who: Principal,
    *,
    error: str | None = None,
    notice: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    views = [await _view(request, who, a) for a in await _held_accounts(request, who)]
    return render(
        "ui/member.html",
        request,
        {
            "views": views,
            "error": error,
            "notice": notice,
            "form": form or {},
            **(await _choices(request, views[0].account)),
        },
        status=status,
    )


def _own_code(who: Principal, accounts: list[Account], code: str) -> str:
    for a in accounts:
        if a.code == code:
            return code
    raise Forbidden("you may act only on your own SEL account")


async def to_confirm_count(request: web.Request, who: Principal) -> int:
    """Exchanges waiting for this person's answer (shown on their dashboard)."""
    if not who.accounts:
        return 0
    ids = list(who.accounts)
    async with get_node(request).sessions() as session:
        pending = (await session.scalars(select(Exchange).where(_waiting(ids)))).all()
    return sum(
        1
        for e in pending
        if (e.payee_id if e.recorded_by == "payer" else e.payer_id) in who.accounts
    )


@routes.get("/me/sel")
async def member_home(request: web.Request) -> web.StreamResponse:
    who = require_login(request)
    notice = {"recorded": "Exchange recorded.", "done": "Done."}.get(
        request.query.get("ok", ""), None
    )
    return await _page(request, who, notice=notice)


@routes.post("/me/sel/record")
async def member_record(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    who = require_login(request)
    held = await _held_accounts(request, who)
    fields = {
        k: str(form.get(k, ""))[:600]
        for k in ("account", "direction", "with", "remote", "hours", "description", "category")
    }
    try:
        mine = _own_code(who, held, fields["account"] or held[0].code)
        other = fields["with"]
        if other.startswith("peer:"):
            code = fields["remote"].strip().lower()
            if not code:
                raise UserError("give the account of the member at the other section")
            if fields["direction"] != "received":
                raise UserError(
                    "with another section, the member who received the service records it"
                )
            payer, payee = mine, f"{code}@{other.removeprefix('peer:')}"
            recorded_by = "payer"
        elif other.startswith("member:"):
            code = other.removeprefix("member:")
            if fields["direction"] == "received":
                payer, payee, recorded_by = mine, code, "payer"
            elif fields["direction"] == "gave":
                payer, payee, recorded_by = code, mine, "payee"
            else:
                raise UserError("say whether you received or gave the service")
        else:
            raise UserError("choose who the exchange was with")
        await sel.exchange(
            get_node(request),
            payer,
            payee,
            fields["hours"],
            fields["description"],
            fields["category"] or "other",
            recorded_by=recorded_by,
            by=who,
        )
    except Forbidden as exc:
        return await _page(request, who, error=str(exc), form=fields, status=403)
    except UserError as exc:
        return await _page(request, who, error=str(exc), form=fields, status=400)
    raise web.HTTPSeeOther("/me/sel?ok=recorded")


@routes.post("/me/sel/exchanges/{uuid}/{action:confirm|reject|withdraw}")
async def member_answer(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    who = require_login(request)
    held = await _held_accounts(request, who)
    node = get_node(request)
    ref, action = request.match_info["uuid"][:64], request.match_info["action"]
    try:
        member = _own_code(who, held, str(form.get("account", "")) or held[0].code)
        if action == "confirm":
            await sel.confirm(node, ref, member, by=who)
        elif action == "reject":
            await sel.reject(node, ref, member, str(form.get("reason", ""))[:500], by=who)
        else:
            await sel.withdraw(node, ref, member, by=who)
    except Forbidden as exc:
        return await _page(request, who, error=str(exc), status=403)
    except UserError as exc:
        return await _page(request, who, error=str(exc), status=400)
    raise web.HTTPSeeOther("/me/sel?ok=done")


@routes.get("/me/sel/export.csv")
async def member_export(request: web.Request) -> web.StreamResponse:
    who = require_login(request)
    held = await _held_accounts(request, who)
    code = _own_code(who, held, request.query.get("account", "") or held[0].code)
    text = await sel.export_csv(get_node(request), "exchanges", account=code, by=who)
    resp = web.Response(text=text, content_type="text/csv", charset="utf-8")
    resp.headers["Content-Disposition"] = f'attachment; filename="sel-{code}.csv"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
