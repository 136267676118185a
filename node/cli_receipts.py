"""CLI for receipts: ``coopnet receipt issue|cancel|list|show|verify``.

``verify`` needs no data directory: anyone holding a receipt (its URL or
its JSON saved in a file) checks it against the node that issued it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from models.charter.receipts import METHOD_LABELS, Method


def add_parsers(sub: Any, data: Callable[[argparse.ArgumentParser], None]) -> None:
    receipt = sub.add_parser(
        "receipt",
        help="receipts for sums mediators receive: issue, cancel, list, show, verify",
        description="Every sum a mediator receives from a client gets a receipt: numbered "
        "without gaps per year (LOME-2026-0007), signed with the node's key, never changed. "
        "A mistake is corrected by a cancelling receipt. Anyone can check a receipt with "
        "'coopnet receipt verify'.",
    )
    rsub = receipt.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = rsub.add_parser(
        "issue",
        help="issue a receipt for a sum a mediator received; prints its number and URL",
        description="Issue a signed receipt in the name of a mediator of this node.",
    )
    data(p)
    p.add_argument("--mediator", required=True, metavar="USERNAME", help="who received the sum")
    p.add_argument("--payer", required=True, metavar="NAME", help="who paid (person or body)")
    p.add_argument(
        "--contact", default="", metavar="TEXT", help="the payer's address, phone or e-mail"
    )
    p.add_argument(
        "--amount",
        required=True,
        metavar="AMOUNT",
        help="e.g. '120 EUR', '120,50 €', '5000 XOF' (EUR when no currency is given)",
    )
    p.add_argument("--for", dest="purpose", required=True, metavar="TEXT", help="what it pays for")
    methods = ", ".join(f"{m.value} ({METHOD_LABELS[m].lower()})" for m in Method)
    p.add_argument(
        "--method",
        default=Method.CASH.value,
        metavar="METHOD",
        help=f"how it was paid: {methods}; default cash",
    )
    p.add_argument(
        "--date", default="", metavar="YYYY-MM-DD", help="when it was received (default today)"
    )
    p.add_argument("--contract", default="", metavar="UUID", help="the contract it pays, if any")

    p = rsub.add_parser(
        "cancel",
        help="cancel a receipt by issuing the receipt that cancels it",
        description="A receipt is never changed: cancelling issues a new receipt (the next "
        "number) that refers to it, with the reason. A receipt is cancelled once; a "
        "cancelling receipt cannot be cancelled.",
    )
    data(p)
    p.add_argument("ref", metavar="NUMBER_OR_UUID", help="e.g. LOME-2026-0007")
    p.add_argument("--reason", required=True, metavar="TEXT", help="why it is cancelled")

    p = rsub.add_parser("list", help="list receipts, newest first, with their state")
    data(p)
    p.add_argument("--year", type=int, metavar="YYYY", help="one year (default: the current one)")
    p.add_argument("--mediator", metavar="USERNAME", help="only this mediator's receipts")

    p = rsub.add_parser("show", help="show one receipt and where it stands")
    data(p)
    p.add_argument("ref", metavar="NUMBER_OR_UUID")
    p.add_argument(
        "--json", action="store_true", help="print what its URL serves as JSON (to keep a copy)"
    )

    p = rsub.add_parser(
        "verify",
        help="check that a receipt is genuine, unaltered and still valid (no --data needed)",
        description="URL: fetch the receipt from its node and check the node's signature. "
        "FILE: a receipt's JSON saved earlier: check its signature, then compare it with "
        "what the node holds at its URL. Exit status 0 only for a genuine receipt that "
        "still stands.",
    )
    p.add_argument("source", metavar="URL_OR_FILE")


def _line(view: Any) -> str:
    r = view.receipt
    state = {
        "valid": "valid",
        "cancelled": f"CANCELLED by {view.cancelled_by_number}",
        "cancelling": f"cancels {view.cancels_number}",
    }[view.state]
    return (
        f"{view.number}  {r.received_on.isoformat()}  {r.amount_text:>16}  "
        f"{view.mediator:12} {r.payer_name}  [{state}]"
    )


async def run(args: argparse.Namespace, node: Any) -> int:
    from models.accounts import OPERATOR
    from models.charter.receipts import ReceiptDraft
    from node.charter import receipts

    a = args.action
    if a == "issue":
        draft = ReceiptDraft(
            payer=args.payer,
            amount=args.amount,
            purpose=args.purpose,
            contact=args.contact,
            method=args.method,
            received=args.date,
            contract=args.contract,
        )
        view = await receipts.issue(node, args.mediator, draft, by=OPERATOR)
        print(f"{view.number}: {view.receipt.amount_text} from {view.receipt.payer_name}")
        print(view.url)
        return 0
    if a == "cancel":
        view = await receipts.cancel(node, args.ref, args.reason, by=OPERATOR)
        print(f"{view.cancels_number} cancelled by {view.number}")
        print(view.url)
        return 0
    if a == "list":
        book = await receipts.section_book(
            node, by=OPERATOR, year=args.year, mediator=args.mediator, limit=None
        )
        for view in book.receipts:
            print(_line(view))
        if not book.receipts:
            print(f"no receipts in {book.year}")
        for t in book.totals:
            print(f"total {book.year} {t.mediator}: {t.amount} ({t.count} receipts)")
        return 0
    if a == "show":
        view = await receipts.get(node, args.ref, by=OPERATOR)
        if args.json:
            print(json.dumps(view.envelope(node.urls), ensure_ascii=False, indent=2))
            return 0
        r = view.receipt
        print(f"receipt {view.number}  ({view.state})")
        print(f"  url:       {view.url}")
        print(f"  mediator:  {view.mediator_name} ({view.mediator})")
        print(f"  payer:     {r.payer_name}" + (f" <{r.payer_contact}>" if r.payer_contact else ""))
        print(f"  amount:    {r.amount_text}")
        print(f"  for:       {r.purpose}")
        print(f"  received:  {r.received_on.isoformat()} ({r.method})")
        if r.contract_ref:
            print(f"  contract:  {r.contract_ref}")
        print(f"  issued:    {r.created_at.isoformat(timespec='seconds')}")
        if view.cancels_number:
            print(f"  cancels:   {view.cancels_number} ({r.reason})")
        if view.cancelled_by is not None:
            print(f"  CANCELLED by {view.cancelled_by_number}: {view.cancelled_by.reason}")
        return 0
    raise ValueError(a)


async def verify(args: argparse.Namespace) -> int:
    """Exit 0: genuine and standing; 1: not genuine, unreachable, or cancelled."""
    import sys

    from node.charter.receipts import verify as check

    verdict = await check(args.source)
    v = verdict.verified
    facts = f"{v.number}, {v.amount}, received {v.received} from {v.payer}"
    if v.cancels:
        facts += f", cancelling {v.cancels}"
    if verdict.state == "cancelled":
        print(
            f"cancelled: {facts} is genuine but was cancelled by {verdict.cancelled_by}"
            + (f" ({verdict.reason})" if verdict.reason else ""),
        )
        print("coopnet receipt: this receipt no longer stands", file=sys.stderr)
        return 1
    print(f"genuine: {facts}")
    print(f"issued by {v.issuer}")
    return 0
