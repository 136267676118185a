"""CLI for the network between nodes: ``coopnet block``, ``unblock``, ``blocks``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def add_parsers(sub: Any, data: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "block",
        help="cut a domain off both ways, with a reason",
        description="Nothing is accepted from the domain and nothing is sent to it; its "
        "followers and our follows there end, its posts and messages are hidden, deliveries "
        "waiting for it are given up. A host covers its subdomains and every port; "
        "host:port covers that port only. Other processes of the node follow within 30 s.",
    )
    data(p)
    p.add_argument("domain", metavar="DOMAIN", help="spam.example (or a URL or name@host on it)")
    p.add_argument(
        "--reason", required=True, help="why (kept with the block, shown to coordinators)"
    )

    p = sub.add_parser("unblock", help="lift the block of a domain")
    data(p)
    p.add_argument("domain", metavar="DOMAIN")

    p = sub.add_parser("blocks", help="list the blocked domains and why")
    data(p)


async def run(args: argparse.Namespace, node: Any) -> int:
    from models.accounts import OPERATOR
    from node.network import blocks

    if args.command == "block":
        row, removed = await blocks.domain_block(node, args.domain, args.reason, by=OPERATOR)
        gone = ", ".join(f"{n} {what}" for what, n in removed.items() if n)
        print(f"{row.domain} blocked" + (f"; removed: {gone}" if gone else ""))
        return 0
    if args.command == "unblock":
        row = await blocks.domain_unblock(node, args.domain, by=OPERATOR)
        print(f"{row.domain} unblocked (what was removed does not come back)")
        return 0
    rows = await blocks.domain_blocks(node, by=OPERATOR)
    for r in rows:
        print(f"{r.domain:40} {r.created_at:%Y-%m-%d} {r.created_by:12} {r.reason}")
    if not rows:
        print("no domain is blocked")
    return 0
