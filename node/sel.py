"""SEL actions (CLI and, later, web UI) and the peer-only reconciliation route."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, DecimalException
from typing import Any

from aiohttp import web
from sqlalchemy import select

from federation.http import FetchError
from federation.inbox import InboxError, KeyGone, verify_request
from models.accounts import Principal
from models.actors import get_node_actor
from models.errors import Forbidden
from models.network.alliances import is_ally
from models.sel import exchanges as ex_model
from models.sel import local, origin, responder
from models.sel.accounts import (
    Account,
    AccountStatus,
    LedgerError,
    check_limits,
    clearing_account,
    get_account,
    hours,
    open_account,
    open_clearing,
)
from models.sel.exchanges import Exchange
from models.sel.ledger import LedgerReport, verify_ledger
from models.sel.reconcile import clearing_view, compare_views
from node.actions import ActionError, key_resolver, resolve_actor_doc
from node.context import Node
from node.web import error, get_node, json_response, target_uri

routes = web.RouteTableDef()


async def _account_id(node: Node, code: str) -> int:
    async with node.sessions() as session:
        return (await get_account(session, code)).id


async def _may_record(node: Node, by: Principal, recorder: str) -> None:
    """Members record exchanges for their own account; the operator for anyone."""
    if not by.operator:
        by.require_account(await _account_id(node, recorder))


async def _answering_member(node: Node, by: Principal, member: str | None) -> str | None:
    """Who answers a pending exchange: the named member (checked against the
    person), or the section itself (``None``) when the operator or a
    coordinator answers for the section."""
    if member is None:
        if not by.coordinator:
            raise Forbidden("name the member who answers")
        return None
    if not by.operator:
        by.require_account(await _account_id(node, member))
    return member


async def _may_read(node: Node, by: Principal, account: str | None) -> None:
    if account is None or by.coordinator:
        if not by.coordinator:
            raise Forbidden("only a coordinator sees every account's history")
        return
    by.require_account(await _account_id(node, account))


def parse_hours(value: str, what: str = "duration") -> int:
    """'1.5', '1,5', '1h30', '90m' → minutes."""
    text = value.strip().lower().replace(",", ".")
    bad = LedgerError(f"{what} {value!r}: write hours like 1.5, 1h30 or 90m")
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    # Digits and one dot per part only: no exponent, underscore or inner sign.
    if not re.fullmatch(r"(\d+(\.\d+)?m|\d+(\.\d+)?h(\d+(\.\d+)?)?|\d+(\.\d+)?)", text):
        raise bad
    try:
        if text.endswith("m"):
            minutes = Decimal(text[:-1])
        elif "h" in text:
            h, _, m = text.partition("h")
            minutes = Decimal(h) * 60 + Decimal(m or "0")
        else:
            minutes = Decimal(text) * 60
    except DecimalException as exc:
        raise bad from exc
    if len(text) > 12:
        raise LedgerError(f"{what} {value!r} is too large")
    return sign * int(minutes.to_integral_value())


async def account_open(
    node: Node,
    code: str,
    name: str,
    lower: str | None,
    upper: str | None,
    *,
    requested: bool = False,
    by: Principal,
) -> Account:
    by.require_coordinator()
    async with node.write() as session:
        return await open_account(
            session,
            code,
            name,
            lower=parse_hours(lower, "lower limit") if lower else node.config.sel_lower_minutes,
            upper=parse_hours(upper, "upper limit") if upper else node.config.sel_upper_minutes,
            status=AccountStatus.REQUESTED if requested else AccountStatus.OPEN,
        )


async def account_set(
    node: Node,
    code: str,
    *,
    lower: str | None = None,
    upper: str | None = None,
    status: AccountStatus | None = None,
    by: Principal,
) -> Account:
    by.require_coordinator()
    async with node.write() as session:
        acc = await get_account(session, code)
        new_lower = parse_hours(lower, "lower limit") if lower else acc.lower_limit
        new_upper = parse_hours(upper, "upper limit") if upper else acc.upper_limit
        check_limits(new_lower, new_upper)
        if not new_lower <= acc.balance - acc.held or acc.balance > new_upper:
            raise LedgerError(
                f"{code}: balance {hours(acc.balance)} is outside the new limits; "
                "settle exchanges first"
            )
        acc.lower_limit, acc.upper_limit = new_lower, new_upper
        if status is not None:
            if status == AccountStatus.CLOSED and (acc.balance or acc.held):
                raise LedgerError(f"{code}: only an account at zero, with nothing held, can close")
            acc.status = status
        return acc


async def accounts(node: Node, *, by: Principal) -> list[Account]:
    by.require_coordinator()
    async with node.sessions() as session:
        return list(
            (await session.execute(select(Account).order_by(Account.kind, Account.code)))
            .scalars()
            .all()
        )


async def peer_add(
    node: Node, target: str, their_spending: str, our_spending: str, *, by: Principal
) -> Account:
    """Allow SEL exchanges with a peer section, within a trade-balance window.

    Our members paying there raise the clearing account's balance, so
    ``our_spending`` is its upper limit; their members paying here lower it,
    so ``their_spending`` is its lower limit (as a negative).
    """
    by.require_coordinator()
    remote, doc = await resolve_actor_doc(node, target)
    if node.urls.is_local(remote.uri):
        raise ActionError("a section cannot be its own SEL peer")
    if doc.get("role") not in ("section", "seat"):
        raise ActionError(f"{remote.handle} is not a coopnet section")
    async with node.write() as session:
        if not await is_ally(session, remote.uri):
            raise ActionError(
                f"{remote.handle} is not an ally of this node: SEL peering builds on an "
                f"alliance. Run 'coopnet peer add {remote.handle}' first and wait for its "
                "coordinator to approve"
            )
        return await open_clearing(
            session,
            remote.uri,
            remote.name or remote.handle,
            max_deficit=parse_hours(their_spending, "their members' spending here"),
            max_surplus=parse_hours(our_spending, "our members' spending there"),
        )


async def exchange(
    node: Node,
    payer: str,
    payee: str,
    amount: str,
    description: str,
    category: str = "other",
    *,
    recorded_by: str = "payer",
    expires_in: timedelta | None = None,
    by: Principal,
) -> tuple[Exchange, list[str]]:
    await _may_record(node, by, payer if recorded_by == "payer" else payee)
    minutes = parse_hours(amount, "duration")
    if minutes <= 0:
        raise LedgerError(f"duration {amount!r}: must be positive (more than zero minutes)")
    async with node.write() as session:
        if "@" in payee:
            if recorded_by != "payer":
                raise LedgerError("with another section, the payer's section records the exchange")
            me = await get_node_actor(session)
            row = await origin.start(
                session,
                node.urls,
                me,
                payer=payer,
                payee=payee,
                amount=minutes,
                description=description,
                category=category,
                expires_in=expires_in or origin.DEFAULT_EXPIRY,
            )
            warnings: list[str] = []
        else:
            row, warnings = await local.record_local(
                session,
                node.urls.base,
                payer=payer,
                payee=payee,
                amount=minutes,
                description=description,
                category=category,
                recorded_by=recorded_by,
            )
    node.wake_delivery.set()
    return row, warnings


async def confirm(
    node: Node, ref: str, member: str | None, *, by: Principal
) -> tuple[Exchange, list[str]]:
    member = await _answering_member(node, by, member)
    async with node.write() as session:
        awaiting = await _awaiting(session, ref)
        if awaiting is None:
            return await local.confirm_local(session, ref, member)
        ex = await _answer_peer(node, session, awaiting, member, confirm=True)
    node.wake_delivery.set()
    if ex.state != ex_model.State.COMMITTED:
        raise LedgerError(
            f"this exchange could not be confirmed ({ex.reason}); the other section is told"
        )
    return ex, []


async def reject(
    node: Node, ref: str, member: str | None, reason: str, *, by: Principal
) -> Exchange:
    member = await _answering_member(node, by, member)
    async with node.write() as session:
        awaiting = await _awaiting(session, ref)
        if awaiting is None:
            return await local.reject_local(session, ref, member, reason)
        ex = await _answer_peer(node, session, awaiting, member, confirm=False)
    node.wake_delivery.set()
    return ex


async def _awaiting(session: Any, ref: str) -> Exchange | None:
    """The exchange offered by a peer section, if ``ref`` names one (else None)."""
    ex = await ex_model.get_exchange(session, ref)
    return ex if ex.role == ex_model.Role.RESPONDER else None


async def _answer_peer(
    node: Node, session: Any, ex: Exchange, member: str | None, *, confirm: bool
) -> Exchange:
    payee = await session.get(Account, ex.payee_id) if ex.payee_id else None
    code = member if member is not None else payee.code if payee is not None else ""
    return await responder.answer_awaiting(
        session, node.urls, await get_node_actor(session), ex, code, confirm=confirm
    )


async def withdraw(node: Node, ref: str, member: str, *, by: Principal) -> Exchange:
    if not by.operator:
        by.require_account(await _account_id(node, member))
    async with node.write() as session:
        return await local.withdraw_local(session, ref, member)


async def cancel(node: Node, ref: str, reason: str, *, by: Principal) -> Exchange:
    by.require_coordinator()
    async with node.write() as session:
        return await local.cancel_local(session, ref, reason)


@dataclass
class HistoryLine:
    exchange: Exchange
    payer: str
    payee: str


async def history(
    node: Node, account: str | None = None, *, by: Principal, limit: int | None = 200
) -> list[HistoryLine]:
    """Exchanges, newest first: the latest ``limit`` (``None``: every one)."""
    await _may_read(node, by, account)
    async with node.sessions() as session:
        rows = await ex_model.history(session, account, limit)
        names: dict[int | None, str] = {
            a.id: a.code for a in (await session.execute(select(Account))).scalars()
        }
    out = []
    for e in rows:
        payer, payee = names.get(e.payer_id, "?"), names.get(e.payee_id, "?")
        if e.remote_party:
            if e.role == ex_model.Role.ORIGIN:
                payee = e.remote_party
            else:
                payer = e.remote_party
        out.append(HistoryLine(e, payer, payee))
    return out


async def verify(node: Node, *, by: Principal) -> LedgerReport:
    by.require_coordinator()
    async with node.sessions() as session:
        return await verify_ledger(session)


async def export_csv(node: Node, what: str, *, by: Principal, account: str | None = None) -> str:
    """CSV of the accounts (coordinators) or of the exchanges: all of them, or one
    account's (its holder may export their own)."""
    buf = io.StringIO()
    writer = _SafeWriter(csv.writer(buf))
    if what == "accounts":
        writer.writerow(
            [
                "code",
                "kind",
                "name",
                "status",
                "balance_minutes",
                "held_minutes",
                "lower_limit_minutes",
                "upper_limit_minutes",
                "peer",
            ]
        )
        for a in await accounts(node, by=by):
            writer.writerow(
                [
                    a.code,
                    a.kind,
                    a.name,
                    a.status,
                    a.balance,
                    a.held,
                    a.lower_limit,
                    a.upper_limit,
                    a.peer_uri or "",
                ]
            )
    else:
        writer.writerow(
            [
                "id",
                "role",
                "state",
                "date",
                "payer",
                "payee",
                "minutes",
                "category",
                "description",
                "reason_code",
                "reason",
                "created_at",
            ]
        )
        for line in reversed(await history(node, account, by=by, limit=None)):
            e = line.exchange
            writer.writerow(
                [
                    e.uri,
                    e.role,
                    e.state,
                    e.performed_on,
                    line.payer,
                    line.payee,
                    e.amount,
                    e.category,
                    e.description,
                    e.reason_code or "",
                    e.reason or "",
                    e.created_at.isoformat(timespec="seconds"),
                ]
            )
    return buf.getvalue()


class _SafeWriter:
    """CSV rows that a spreadsheet will not run: a cell starting like a formula
    (text from members or peers may) gets a leading apostrophe."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer

    def writerow(self, row: list[Any]) -> None:
        self.writer.writerow(
            [
                "'" + c if isinstance(c, str) and c[:1] in ("=", "+", "-", "@", "\t", "\r") else c
                for c in row
            ]
        )


@dataclass
class Reconciliation:
    peer: str
    differences: list[str] = field(default_factory=list)
    in_flight: list[str] = field(default_factory=list)
    ours: dict[str, Any] = field(default_factory=dict)
    theirs: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.differences


async def reconcile(node: Node, target: str, *, by: Principal) -> Reconciliation:
    """Ask a peer for its view of our mutual clearing, compare with ours."""
    by.require_coordinator()
    remote, _ = await resolve_actor_doc(node, target)
    async with node.sessions() as session:
        if await clearing_account(session, remote.uri) is None:
            raise ActionError(f"{remote.handle} is not a SEL peer of this section")
        ours = await clearing_view(session, remote.uri)
    base = remote.uri.split("/users/", 1)[0]
    try:
        theirs = await node.client.get_json(f"{base}/sel/clearing", accept="application/json")
    except FetchError as exc:
        raise ActionError(f"cannot get {remote.handle}'s view: {exc}") from exc
    if not isinstance(theirs, dict) or theirs.get("peer") != node.urls.actor(node.node_username):
        raise ActionError(f"{remote.handle} answered with something that is not our clearing view")
    diffs, flight = compare_views(ours, theirs)
    return Reconciliation(remote.uri, diffs, flight, ours, theirs)


@routes.get("/sel/clearing")
async def clearing_route(request: web.Request) -> web.Response:
    """A peer's view of its clearing with us: only for that peer, proven by its signature."""
    node = get_node(request)
    try:
        key = await verify_request(
            "GET",
            target_uri(request),
            request.headers,
            None,
            key_resolver(node),
            datetime.now(UTC),
            node.config.signature_window_seconds,
        )
    except InboxError as exc:
        return error(401, exc.reason)
    except KeyGone:
        return error(401, "signature: the signing actor is gone")
    async with node.sessions() as session:
        if await clearing_account(session, key.owner) is None:
            return error(403, "only a SEL peer of this section may see its clearing")
        view = await clearing_view(session, key.owner)
    return json_response(view)
