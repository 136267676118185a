"""CLI for the charter's obligations: ``coopnet obligations`` and ``coopnet obligation …``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from typing import Any

from models.network.obligation_records import ObligationError

STATE_WORDS = {"late": "LATE", "due": "due", "done": "done", "not applicable": "n/a"}


def _day(value: str | None, what: str) -> date | None:
    """Parsed here, not by argparse: a bad date is a refusal (exit 1) that says how to write it."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ObligationError(f"{what}: {value[:20]!r} is not a date: write YYYY-MM-DD") from None


def add_parsers(sub: Any, data: Callable[[argparse.ArgumentParser], None]) -> None:
    from models.network.obligations import CATALOGUE

    p = sub.add_parser(
        "obligations",
        help="the charter's obligations: what is due, done and late",
        description="Every obligation of the charter this node tracks, per period, as seen on "
        "a day (today unless --as-of): computed from the node's data (bulletins, reports, "
        "hostings, contracts, receipts, certifications) or recorded by hand ('coopnet "
        "obligation record'). On the seat, each allied section follows the seat's own. "
        "Late ones come first.",
    )
    data(p)
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="look as on this day (default today)")
    p.add_argument("--late", action="store_true", help="only the late ones")

    manual = sorted(k for k, o in CATALOGUE.items() if o.manual)
    o = sub.add_parser(
        "obligation",
        help="record or cancel an obligation no data shows (coordination attended…)",
        description="Obligations that no data of the node shows are recorded by hand: "
        + ", ".join(manual)
        + ". A monthly one takes --period 2026-09, a semi-annual one 2026-S2, a one-time "
        "one none.",
    )
    osub = o.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = osub.add_parser("record", help="record an obligation as done")
    data(p)
    p.add_argument("key", metavar="OBLIGATION", help="e.g. mediator.coordination")
    p.add_argument("--period", default="", help="2026-09 (monthly), 2026-S2 (semi-annual)")
    p.add_argument(
        "--who",
        default="",
        help="a mediator's username, or an allied section's name@host (not for the node itself)",
    )
    p.add_argument("--done-on", metavar="YYYY-MM-DD", help="the day it was done (today)")
    p.add_argument("--note", default="", help="a short note kept with the record")

    p = osub.add_parser("cancel", help="cancel a record made by mistake (it stays listed)")
    data(p)
    p.add_argument("id", type=int, metavar="ID", help="the number 'obligation list' shows")
    p.add_argument("--reason", required=True)

    p = osub.add_parser("list", help="the records, cancelled ones included")
    data(p)


async def run(args: argparse.Namespace, node: Any) -> int:
    from models.accounts import OPERATOR
    from models.network.obligations import RELATION_LABELS
    from node.network import obligations

    if args.command == "obligations":
        as_of = _day(args.as_of, "--as-of")
        items = await obligations.obligations_of(node, by=OPERATOR, as_of=as_of)
        if args.late:
            items = [i for i in items if i.state == "late"]
        day = as_of or obligations.today()
        print(f"obligations as of {day.isoformat()} ({node.config.role} {node.config.name})")
        rows = [
            (
                RELATION_LABELS[i.relation],
                i.title + (" [by hand]" if i.manual else ""),
                i.period,
                (f"{i.section}: " if i.section and i.section != i.who else "") + i.who,
                STATE_WORDS[i.state],
                i.detail,
            )
            for i in items
        ]
        head = ("relation", "obligation", "period", "who", "state", "detail")
        widths = [max(len(r[n]) for r in [head, *rows]) for n in range(5)]
        for line in [head, *rows]:
            cells = zip(line, widths, strict=False)
            print("  ".join(c.ljust(w) for c, w in cells) + "  " + line[5])
        if not rows:
            print("nothing late" if args.late else "nothing tracked yet")
        return 0
    a = args.action
    if a == "record":
        row = await obligations.obligation_record(
            node,
            args.key,
            args.period,
            args.who,
            _day(args.done_on, "--done-on"),
            args.note,
            by=OPERATOR,
        )
        who = f" for {row.subject}" if row.subject else ""
        print(f"recorded #{row.id}: {row.key} {row.period}{who} done on {row.done_on}")
        return 0
    if a == "cancel":
        row = await obligations.obligation_cancel(node, args.id, args.reason, by=OPERATOR)
        print(f"#{row.id} cancelled ({row.cancel_reason}); {row.key} {row.period} no longer done")
        return 0
    if a == "list":
        records = await obligations.obligation_records(node, by=OPERATOR)
        for r in records:
            state = f"  CANCELLED: {r.cancel_reason}" if r.cancelled_at else ""
            who = r.subject or "-"
            print(
                f"#{r.id:<5} {r.key:28} {r.period:8} {who:24} {r.done_on}  {r.recorded_by}"
                + (f"  {r.note}" if r.note else "")
                + state
            )
        if not records:
            print("nothing recorded by hand yet")
        return 0
    raise ValueError(a)
