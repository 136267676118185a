"""CLI for alliances between nodes: ``coopnet peer add|approve|reject|list|remove``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

ACTIONS = {
    "add": "ask a node (name@host or actor URL) for an alliance; it becomes one when its "
    "coordinator approves",
    "approve": "accept the alliance a node asked for",
    "reject": "refuse the alliance a node asked for (--note: the reason, sent to it)",
    "remove": "end an alliance, or withdraw our request still waiting (the follows between "
    "the two nodes end; SEL clearing accounts stay for the books)",
}


def add_parsers(sub: Any, data: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "peer",
        help="alliances with other nodes: ask, approve, reject, list, remove",
        description="Two nodes become peers (allies) when both coordinators agree. Allies "
        "follow each other (offers and bulletins flow) and may open SEL peering "
        "('coopnet sel peer'). A section allies with its seat, the seat lists its sections.",
    )
    psub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, text in ACTIONS.items():
        s = psub.add_parser(action, help=text, description=text)
        data(s)
        s.add_argument("target", metavar="ACCOUNT_OR_URL", help="name@host or actor URL")
        if action != "approve":
            s.add_argument(
                "--note",
                default="",
                help="a note sent with it (the reason, for reject and remove); 500 characters",
            )
    s = psub.add_parser("list", help="list the alliances: state, role, since when")
    data(s)


async def run(args: argparse.Namespace, node: Any) -> int:
    from models.accounts import OPERATOR
    from models.html import plain_line
    from models.network.alliance_protocol import since
    from node.network import alliances

    if args.action == "add":
        asked = await alliances.peer_ask(node, args.target, args.note, by=OPERATOR)
        row = asked.alliance
        if asked.accepted:
            print(plain_line(f"accepted: {row.peer_handle} had asked first; you are now allies"))
        else:
            print(plain_line(f"requested: {row.peer_handle} ({row.peer_role}); waiting for "
                             "its coordinator to approve"))  # fmt: skip
        return 0
    if args.action == "approve":
        row = await alliances.peer_approve(node, args.target, by=OPERATOR)
        print(plain_line(f"accepted: {row.peer_handle} ({row.peer_role}) is now an ally"))
        return 0
    if args.action == "reject":
        row = await alliances.peer_reject(node, args.target, args.note, by=OPERATOR)
        print(plain_line(f"rejected: the request of {row.peer_handle}"))
        return 0
    if args.action == "remove":
        row = await alliances.peer_remove(node, args.target, args.note, by=OPERATOR)
        print(plain_line(f"ended: the alliance with {row.peer_handle}"))
        return 0
    rows = await alliances.peer_list(node, by=OPERATOR)
    for r in rows:
        who = "us" if r.asked_by_us else "them"
        note = f"  ({r.note})" if r.note else ""
        # Handles and notes come from remote servers: no terminal escapes get through.
        print(plain_line(
            f"{r.state:9} {r.peer_role:8} {r.peer_handle or r.peer_uri:40} since {since(r)}"
            f"  asked by {who}{note}"
        ))  # fmt: skip
    if not rows:
        print("no alliance yet: 'coopnet peer add --data DIR name@host' asks a node")
    return 0
