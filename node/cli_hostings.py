"""CLI for the hostings mediators buy from the section: ``coopnet hosting …``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from typing import Any


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: write YYYY-MM-DD") from None


def add_parsers(sub: Any, data: Callable[[argparse.ArgumentParser], None]) -> None:
    hosting = sub.add_parser(
        "hosting",
        help="hostings mediators buy from the section (the charter: one a month)",
        description="The charter asks each mediator to buy one hosting a month from their "
        "section, six a semester. Record each purchase when it is paid; 'summary' shows who "
        "keeps the aim. Semesters are written 2026-S1 (January-June) and 2026-S2.",
    )
    hsub = hosting.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = hsub.add_parser("record", help="record a hosting a mediator bought")
    data(p)
    p.add_argument("--mediator", required=True, metavar="USERNAME")
    p.add_argument("--what", required=True, help="what was bought (a client's site, a domain…)")
    p.add_argument("--date", type=_day, metavar="YYYY-MM-DD", help="day of purchase (today)")
    p.add_argument("--price", default="", help="the sum paid, e.g. '10 EUR' (optional)")

    p = hsub.add_parser("cancel", help="cancel a purchase recorded by mistake (it stays listed)")
    data(p)
    p.add_argument("id", type=int, metavar="ID", help="the number 'hosting list' shows")
    p.add_argument("--reason", required=True)

    p = hsub.add_parser("list", help="the purchases of a semester, cancelled ones included")
    data(p)
    p.add_argument("--semester", metavar="YYYY-Sn", help="e.g. 2026-S2 (default: this one)")
    p.add_argument("--mediator", metavar="USERNAME")

    p = hsub.add_parser("summary", help="each mediator's count against the aim, per month")
    data(p)
    p.add_argument("--semester", metavar="YYYY-Sn", help="e.g. 2026-S2 (default: this one)")


async def run(args: argparse.Namespace, node: Any) -> int:
    from models.accounts import OPERATOR
    from models.charter.hostings import PER_MONTH, PER_SEMESTER, Semester
    from node.charter import hostings

    today = hostings.today_utc()
    semester = Semester.parse(args.semester) if getattr(args, "semester", None) else None
    semester = semester or Semester.of(today)
    a = args.action
    if a == "record":
        row = await hostings.hosting_record(
            node, args.mediator, args.date or today, args.what, args.price, by=OPERATOR
        )
        print(f"recorded #{row.id}: {args.mediator} bought {row.what!r} on {row.bought_on}")
        return 0
    if a == "cancel":
        row = await hostings.hosting_cancel(node, args.id, args.reason, by=OPERATOR)
        print(f"#{row.id} cancelled ({row.cancel_reason}); it no longer counts")
        return 0
    if a == "list":
        rows = await hostings.hosting_list(node, semester, by=OPERATOR, username=args.mediator)
        for name, r in rows:
            price = f"{r.amount} {r.currency}" if r.amount else "-"
            state = f"  CANCELLED: {r.cancel_reason}" if r.cancelled_at else ""
            print(f"#{r.id:<5} {r.bought_on}  {name:16} {price:>14}  {r.what}{state}")
        if not rows:
            print(f"no hosting recorded in {semester}")
        return 0
    if a == "summary":
        tallies = await hostings.hosting_tallies(node, semester, by=OPERATOR, today=today)
        print(f"{semester}: aim {PER_SEMESTER} a semester, {PER_MONTH} a month")
        months = " ".join(m[5:] for m in semester.months)
        print(f"{'mediator':16} {months}  total  state")
        for t in tallies:
            counts = " ".join(f"{n:>2}" for n in t.tally.per_month.values())
            state = (
                f"behind ({t.tally.total} of {t.tally.expected} due)" if t.tally.behind else "ok"
            )
            print(f"{t.username:16} {counts}  {t.tally.total:>5}  {state}")
        if not tallies:
            print("no mediators yet ('coopnet mediator add')")
        return 0
    raise ValueError(a)
