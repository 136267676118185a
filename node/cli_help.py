"""CLI for Club Aide: ``coopnet help list`` (the operator's counts and states).

Counts only: the operator reads the database anyway, but the command has no
reason to print who asked (docs/decisions.md, help requests).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def add_parsers(sub: Any, data: Callable[[argparse.ArgumentParser], None]) -> None:
    club = sub.add_parser(
        "club-aide",
        help="Club Aide help requests: counts and states",
        description="Members ask the allied sections for help without their names; responders "
        "offer help; the requester accepts an offer (first meeting free) and reports the "
        "outcome. 'list' shows how many requests and offers are in each state, never who.",
    )
    hsub = club.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = hsub.add_parser("list", help="requests (ours, received) and offers by state")
    data(p)


async def run(args: argparse.Namespace, node: Any) -> int:
    from models.accounts import OPERATOR
    from node.network import help

    counts = await help.counts(node, OPERATOR)
    titles = {
        "ours": "requests asked by our members",
        "received": "requests received from allies",
        "offers": "offers of help",
    }
    for key, title in titles.items():
        states = counts.get(key, {})
        line = ", ".join(f"{state}: {n}" for state, n in sorted(states.items())) or "none"
        print(f"{title:32} {line}")
    return 0
