"""CLI for hosting contracts and client satisfaction: ``coopnet contract …``,
``coopnet satisfaction …``.

The operator acts with every right (``OPERATOR``); each command calls the
same action as the web pages (node/charter/contracts.py).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from models.errors import UserError
from models.html import plain_line


class UsageError(UserError):
    """Arguments that cannot go together, or a file that cannot be read."""


def add_parsers(sub: Any, data: Callable[[argparse.ArgumentParser], None]) -> None:
    contract = sub.add_parser(
        "contract",
        help="hosting contracts: the section's models, contracts signed by clients, hand-in",
        description="The section's two documents (hosting-contract model and general "
        "conditions, Markdown with placeholders), and the contracts mediators make from "
        "them. The client signs through a one-time link; the node stores the exact text "
        "signed and signs it with its key.",
    )
    csub = contract.add_subparsers(dest="action", metavar="ACTION", required=True)

    model = csub.add_parser("model", help="the contract model and the general conditions")
    msub = model.add_subparsers(dest="model_action", metavar="ACTION", required=True)
    p = msub.add_parser(
        "set",
        help="save a new version of one document from a Markdown file",
        description="Placeholders: {client} {mediator} {service} {price} {duration} {start} "
        "{end} {share}. Each save is a new version; signed contracts keep theirs.",
    )
    data(p)
    p.add_argument("--kind", required=True, choices=["contract", "conditions"])
    p.add_argument("--file", required=True, type=Path, metavar="F", help="a UTF-8 Markdown file")
    p = msub.add_parser("show", help="print the current text and the versions of the documents")
    data(p)
    p.add_argument("--kind", choices=["contract", "conditions"], help="only this document")

    p = csub.add_parser(
        "create",
        help="make a contract for a client and print the client's signing link",
        description="From one of the mediator's offers (--offer: its title and price) or from "
        "scratch (--service and --price). Dates are YYYY-MM-DD; sums like '120 EUR' or "
        "'50000 XOF' (the share in the contract's currency).",
    )
    data(p)
    p.add_argument("--mediator", required=True, metavar="U", help="the mediator's username")
    p.add_argument("--client", required=True, metavar="NAME", help="the client's name")
    p.add_argument("--offer", metavar="UUID", help="one of the mediator's offers")
    p.add_argument("--service", metavar="TEXT", help="the service (default: the offer's title)")
    p.add_argument("--price", metavar="SUM", help="the price (default: the offer's)")
    p.add_argument("--duration", required=True, help="e.g. '12 mois'")
    p.add_argument("--start", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--end", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--share", required=True, metavar="SUM", help="the section's share")

    for name, text in (
        ("link", "print a new one-time signing link (the earlier one stops working)"),
        ("show", "print a contract, its state and (once signed) its verification"),
        ("end", "end a signed contract and print the client's satisfaction link"),
        ("cancel", "cancel a contract not yet signed (its link stops working)"),
        ("verify", "check a signed contract: its text, hash, details and the node's signature"),
        ("satisfaction", "print a new satisfaction link for the client of a signed contract"),
    ):
        p = csub.add_parser(name, help=text)
        data(p)
        p.add_argument("uuid", metavar="UUID")

    p = csub.add_parser("hand-in", help="mark a signed contract handed in with the share paid")
    data(p)
    p.add_argument("uuid", metavar="UUID")
    p.add_argument("--share", required=True, metavar="SUM", help="the share paid to the section")

    p = csub.add_parser("list", help="list contracts, their state, and the shares due")
    data(p)
    p.add_argument("--mediator", metavar="U", help="only this mediator's")

    sat = sub.add_parser(
        "satisfaction",
        help="client satisfaction: ratings and comments received",
        description="Ratings clients gave through their one-time link, newest first.",
    )
    ssub = sat.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = ssub.add_parser("list", help="list the ratings and each mediator's indicator")
    data(p)
    p.add_argument("--mediator", metavar="U", help="only this mediator's")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text") from exc


async def run(args: argparse.Namespace, node: Any) -> int:
    from models.accounts import OPERATOR
    from models.charter.contracts import ContractDraft
    from node.charter import contracts as act

    if args.command == "satisfaction":
        return await _satisfaction(args, node)
    a = args.action
    if a == "model":
        if args.model_action == "set":
            try:
                text = _read(args.file)
            except OSError as exc:
                print(f"coopnet contract: error: {args.file}: {exc.strerror}", file=sys.stderr)
                return 1
            version = await act.model_save(node, OPERATOR, args.kind, text)
            print(f"{args.kind}: version {version.number} saved")
            return 0
        for kind in [args.kind] if args.kind else ["contract", "conditions"]:
            versions = await act.model_versions(node, OPERATOR, kind)
            if not versions:
                print(f"== {kind}: not written yet ('coopnet contract model set')")
                continue
            top = versions[0]
            print(
                f"== {kind}: version {top.number} ({top.author}, {top.created_at:%Y-%m-%d %H:%M})"
            )
            print(plain_line(versions[0].text))
            for r in versions[1:]:
                print(f"   earlier: version {r.number} ({r.author}, {r.created_at:%Y-%m-%d %H:%M})")
        return 0
    if a == "create":
        if not args.offer and not (args.service and args.price):
            raise UsageError("give --offer UUID, or both --service and --price")
        draft = ContractDraft(
            client=args.client,
            service=args.service or "",
            price=args.price or "",
            duration=args.duration,
            start=args.start,
            end=args.end,
            share=args.share,
        )
        if args.offer:
            pre = await act.draft_from_offer(node, OPERATOR, args.mediator, args.offer)
            draft.service = draft.service or pre.service
            draft.price = draft.price or pre.price
        contract = await act.contract_create(node, OPERATOR, args.mediator, draft, args.offer)
        _, link = await act.contract_link(node, OPERATOR, contract.uuid)
        print(f"contract {contract.uuid} for {plain_line(contract.client_name)}")
        print("give the client this link (works once, for 30 days):")
        print(link)
        return 0
    if a == "link":
        _, link = await act.contract_link(node, OPERATOR, args.uuid)
        print("new signing link (the earlier one stops working):")
        print(link)
        return 0
    if a == "list":
        listed = await act.contract_list(node, OPERATOR, args.mediator)
        names = await act.mediator_names(node)
        for c in listed:
            print(
                f"{c.uuid}  {c.state:10} {names.get(c.actor_id, '?'):16} "
                f"{plain_line(c.client_name)[:30]:30} {c.price:>14}  share {c.share}"
                + (f" (paid {c.share_paid})" if c.share_paid else "")
            )
        if not listed:
            print("no contracts yet ('coopnet contract create' makes one)")
        from models.charter.contracts import shares_due

        due = act.totals(shares_due(listed))
        print("shares due (signed, not handed in): " + (", ".join(due) if due else "none"))
        return 0
    if a == "show":
        view = await act.contract_view(node, OPERATOR, args.uuid)
        c = view.contract
        print(f"contract {c.uuid}: {c.state}")
        print(f"mediator {view.mediator.username}; client {plain_line(c.client_name)}")
        print(f"{plain_line(c.service)}: {c.price}, {plain_line(c.duration)}")
        print(f"from {c.start_date} to {c.end_date}")
        print(f"section's share {c.share}" + (f", paid {c.share_paid}" if c.share_paid else ""))
        print(
            f"on contract model version {view.contract_version.number} and general "
            f"conditions version {view.conditions_version.number}"
        )
        if c.signed_at:
            print(f"signed {c.signed_at:%Y-%m-%d %H:%M} UTC by {plain_line(c.typed_name or '')}")
            print(f"sha256 {c.signed_sha256}")
            assert view.verification is not None
            print("verification: " + ("intact" if view.verification.ok else "ALTERED"))
        print()
        print(plain_line(view.text))
        return 0 if view.verification is None or view.verification.ok else 1
    if a == "verify":
        result = await act.contract_verify(node, OPERATOR, args.uuid)
        if result.ok:
            print(f"contract {args.uuid}: intact (text, hash, details and the node's signature)")
            return 0
        print(f"contract {args.uuid}: ALTERED or not verifiable:")
        for problem in result.problems:
            print(f"  - {problem}")
        return 1
    if a == "hand-in":
        c = await act.contract_hand_in(node, OPERATOR, args.uuid, args.share)
        print(f"contract {c.uuid} handed in; share paid {c.share_paid}")
        return 0
    if a == "end":
        c, link = await act.contract_end(node, OPERATOR, args.uuid)
        print(f"contract {c.uuid} ended; give the client this satisfaction link (works once):")
        print(link)
        return 0
    if a == "cancel":
        c = await act.contract_cancel(node, OPERATOR, args.uuid)
        print(f"contract {c.uuid} cancelled; its signing link no longer works")
        return 0
    if a == "satisfaction":
        link = await act.satisfaction_ask(node, OPERATOR, args.uuid)
        print("give the client this satisfaction link (works once; an earlier one stops):")
        print(link)
        return 0
    raise ValueError(a)


async def _satisfaction(args: argparse.Namespace, node: Any) -> int:
    from models.accounts import OPERATOR
    from node.charter import contracts as act

    rows = await act.satisfaction_answers(node, OPERATOR, args.mediator)
    for row, name in rows:
        assert row.answered_at is not None
        comment = plain_line((row.comment or "").replace("\n", " "))
        print(f"{row.answered_at:%Y-%m-%d}  {name:16} {row.rating}/5  {comment}")
    if not rows:
        print("no ratings yet")
    for actor, ind in await act.satisfaction_all(node, OPERATOR):
        if args.mediator and actor.username != args.mediator:
            continue
        avg = f"average {ind.average}/5" if ind.average else "no rating yet"
        print(f"{actor.username}: {ind.count} rating(s), {avg}")
    return 0
