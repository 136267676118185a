"""CLI for the SEL (time bank): accounts, exchanges, peers, audit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from models.accounts import OPERATOR


def _expiry(value: str) -> timedelta:
    from models.sel.accounts import LedgerError

    try:
        hours = float(value)
    except ValueError:
        raise LedgerError(f"--expires-in {value!r} is not a number of hours") from None
    if not 1 / 60 <= hours <= 30 * 24:  # also false for nan
        raise LedgerError(
            f"--expires-in {value}: the expiry must be between one minute and 30 days"
        )
    return timedelta(hours=hours)


def add_parsers(sub: Any, data: Callable[[argparse.ArgumentParser], None]) -> None:
    sel = sub.add_parser("sel", help="the SEL: members' time accounts and exchanges")
    ssub = sel.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = ssub.add_parser("account", help="open a member account, or change one")
    data(p)
    p.add_argument("code", metavar="CODE", help="account code, e.g. alice")
    p.add_argument("--name", default="", help="the holder's name")
    p.add_argument("--lower", metavar="HOURS", help="lower limit, e.g. -20 (default from config)")
    p.add_argument("--upper", metavar="HOURS", help="upper limit, e.g. 20")
    state = p.add_mutually_exclusive_group()
    state.add_argument("--request", action="store_true", help="open as requested (to approve)")
    state.add_argument("--approve", action="store_true", help="approve a requested account")
    state.add_argument("--close", action="store_true", help="close an account at zero")

    p = ssub.add_parser("peer", help="allow exchanges with a peer section, within limits")
    data(p)
    p.add_argument("section", metavar="SECTION", help="name@host or actor URL")
    p.add_argument(
        "--our-spending",
        "--max-surplus",
        dest="our_spending",
        required=True,
        metavar="HOURS",
        help="how many hours our members may spend at that section, net of what its "
        "members spend here (the clearing account's upper limit; also --max-surplus)",
    )
    p.add_argument(
        "--their-spending",
        "--max-deficit",
        dest="their_spending",
        required=True,
        metavar="HOURS",
        help="how many hours that section's members may spend here, net of what ours "
        "spend there (the clearing account's lower limit; also --max-deficit)",
    )

    p = ssub.add_parser("exchange", help="record an exchange (payer pays payee)")
    data(p)
    p.add_argument(
        "--from",
        dest="payer",
        required=True,
        metavar="PAYER",
        help="who received the service and pays",
    )
    p.add_argument(
        "--to",
        dest="payee",
        required=True,
        metavar="PAYEE",
        help="who gave the service (code, or code@host in a peer section)",
    )
    p.add_argument("--hours", required=True, help="duration: 1.5, 1h30 or 90m")
    p.add_argument("--description", required=True)
    p.add_argument("--category", default="other")
    p.add_argument(
        "--recorded-by",
        choices=["payer", "payee"],
        default="payer",
        help="who records it; the other confirms (default: payer)",
    )
    p.add_argument(
        "--expires-in",
        default="24",
        metavar="HOURS",
        help="with another section: how long the peer has to decide (default 24)",
    )

    for name, helptext in (
        ("confirm", "confirm an exchange (it posts)"),
        ("reject", "reject a pending exchange"),
    ):
        p = ssub.add_parser(name, help=helptext)
        data(p)
        p.add_argument("exchange", metavar="EXCHANGE", help="exchange id or URL")
        p.add_argument(
            "--as",
            dest="member",
            metavar="MEMBER",
            help="the member answering (default: the section's admin)",
        )
        if name == "reject":
            p.add_argument("--reason", default="")

    p = ssub.add_parser("cancel", help="(admin) cancel a confirmed exchange with a reversal")
    data(p)
    p.add_argument("exchange", metavar="EXCHANGE")
    p.add_argument("--reason", default="")

    p = ssub.add_parser("history", help="exchanges, newest first")
    data(p)
    p.add_argument("--account", metavar="CODE", help="only this account's")

    p = ssub.add_parser("balances", help="every account's balance and limits")
    data(p)

    p = ssub.add_parser("verify", help="check the hash chain, balances and zero sum")
    data(p)

    p = ssub.add_parser("reconcile", help="compare our clearing with a peer section's view")
    data(p)
    p.add_argument("peer", metavar="PEER", help="name@host or actor URL")

    p = ssub.add_parser("export", help="CSV export")
    data(p)
    p.add_argument("what", choices=["accounts", "exchanges"])
    p.add_argument("--out", type=Path, help="file to write (default: standard output)")


async def run(args: argparse.Namespace, node: Any) -> int:
    from models.sel.accounts import AccountStatus, hours
    from node import sel

    a = args.action
    if a == "account":
        from models.sel.accounts import LedgerError

        accounts = {acc.code: acc for acc in await sel.accounts(node, by=OPERATOR)}
        if args.code not in accounts:
            if args.approve or args.close:
                raise LedgerError(f"no SEL account {args.code!r}")
            acc = await sel.account_open(
                node,
                args.code,
                args.name,
                args.lower,
                args.upper,
                requested=args.request,
                by=OPERATOR,
            )
            print(
                f"opened {acc.code} ({acc.status}), limits {hours(acc.lower_limit)} / "
                f"{hours(acc.upper_limit)}"
            )
        else:
            status = (
                AccountStatus.OPEN if args.approve else AccountStatus.CLOSED if args.close else None
            )
            if args.lower is None and args.upper is None and status is None:
                raise LedgerError(
                    f"the account {args.code!r} already exists; "
                    "give --lower/--upper, --approve or --close to change it"
                )
            acc = await sel.account_set(
                node, args.code, lower=args.lower, upper=args.upper, status=status, by=OPERATOR
            )
            print(
                f"{acc.code} ({acc.status}), limits {hours(acc.lower_limit)} / "
                f"{hours(acc.upper_limit)}"
            )
        return 0
    if a == "peer":
        acc = await sel.peer_add(
            node,
            args.section,
            our_spending=args.our_spending,
            their_spending=args.their_spending,
            by=OPERATOR,
        )
        print(
            f"SEL peer {acc.peer_uri}: clearing between {hours(acc.lower_limit)} "
            f"and {hours(acc.upper_limit)}"
        )
        return 0
    if a == "exchange":
        row, warnings = await sel.exchange(
            node,
            args.payer,
            args.payee,
            args.hours,
            args.description,
            args.category,
            recorded_by=args.recorded_by,
            expires_in=_expiry(args.expires_in),
            by=OPERATOR,
        )
        for w in warnings:
            print(w, file=sys.stderr)
        print(f"{row.state}: {row.uri}")
        return 0
    if a == "confirm":
        row, warnings = await sel.confirm(node, args.exchange, args.member, by=OPERATOR)
        for w in warnings:
            print(w, file=sys.stderr)
        print(f"{row.state}: {row.uri}")
        return 0
    if a == "reject":
        row = await sel.reject(node, args.exchange, args.member, args.reason, by=OPERATOR)
        print(f"{row.state}: {row.uri}")
        return 0
    if a == "cancel":
        row = await sel.cancel(node, args.exchange, args.reason, by=OPERATOR)
        print(f"{row.state}: {row.uri}")
        return 0
    if a == "history":
        lines = await sel.history(node, args.account, by=OPERATOR)
        for line in lines:
            e = line.exchange
            print(
                f"{e.performed_on} {e.state:9} {line.payer:>20} → {line.payee:<24} "
                f"{hours(e.amount):>8} {e.category:9} {e.description[:40]}  {e.uuid}"
            )
        if not lines:
            print("no exchanges yet", file=sys.stderr)
        return 0
    if a == "balances":
        total = 0
        for acc in await sel.accounts(node, by=OPERATOR):
            total += acc.balance
            held = f" (reserved {hours(acc.held)})" if acc.held else ""
            print(
                f"{acc.kind:8} {acc.code[:50]:50} {hours(acc.balance):>9}{held}  "
                f"[{hours(acc.lower_limit)}, {hours(acc.upper_limit)}] {acc.status}"
            )
        print(f"total: {hours(total)}")
        return 0
    if a == "verify":
        report = await sel.verify(node, by=OPERATOR)
        for problem in report.problems:
            print(f"problem: {problem}")
        print(
            f"{report.entries} entries checked: "
            + (
                "ledger verified (chain intact, balances derived, sum zero)"
                if report.ok
                else f"{len(report.problems)} problem(s)"
            )
        )
        return 0 if report.ok else 1
    if a == "reconcile":
        rec = await sel.reconcile(node, args.peer, by=OPERATOR)
        for note in rec.in_flight:
            print(f"in flight: {note}")
        for diff in rec.differences:
            print(f"difference: {diff}")
        print(
            f"clearing here {hours(rec.ours.get('balance', 0))}, at the peer "
            f"{hours(rec.theirs.get('balance', 0))}: "
            + (
                "in agreement"
                if rec.ok and not rec.in_flight
                else "settling"
                if rec.ok
                else "DISAGREEMENT"
            )
        )
        return 0 if rec.ok else 1
    if a == "export":
        text = await sel.export_csv(node, args.what, by=OPERATOR)
        if args.out:
            args.out.write_text(text, encoding="utf-8")
            print(f"wrote {args.out}")
        else:
            sys.stdout.write(text)
        return 0
    raise ValueError(a)
