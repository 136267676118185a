"""CLI for polls: ``coopnet poll open|list|show|close``.

The command line acts as the operator (a coordinator): it opens and closes
polls and reads their counts and ballots; members vote in the browser.
Closing times are written YYYY-MM-DDTHH:MM in the node's time zone
(``timezone`` in coopnet.toml, UTC unless set) and shown in it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from models.charter.polls import MAX_OPTIONS, PollError


def closing_time(value: str) -> datetime:
    """YYYY-MM-DDTHH:MM, as argparse reads it: naive until the node's time zone is known."""
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r}: write the closing time as YYYY-MM-DDTHH:MM, e.g. 2027-01-31T18:00"
        ) from None


def add_parsers(sub: Any, data: Callable[[argparse.ArgumentParser], None]) -> None:
    poll = sub.add_parser(
        "poll",
        help="polls of the section's members (and the fediverse): open, list, show, close",
        description="A poll asks the section's members one question: one member, one vote; "
        "who voted is kept apart from what they chose, and every ballot is listed by its "
        "code so anyone can recount. A public poll is also published on the fediverse "
        "as a Question that Mastodon users answer; their votes are counted apart.",
    )
    psub = poll.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = psub.add_parser(
        "open",
        help="open a poll",
        description=f"Open a poll with 2 to {MAX_OPTIONS} options. Members vote at /me/polls.",
    )
    data(p)
    p.add_argument("question", metavar="QUESTION", help="the question, one line")
    p.add_argument(
        "--option",
        action="append",
        required=True,
        metavar="TEXT",
        help=f"an option; repeat for each (2 to {MAX_OPTIONS})",
    )
    p.add_argument(
        "--multiple", action="store_true", help="several options may be chosen (default: one)"
    )
    p.add_argument(
        "--closes",
        required=True,
        type=closing_time,
        metavar="YYYY-MM-DDTHH:MM",
        help="when voting ends, in the node's time zone (timezone in coopnet.toml; UTC unless set)",
    )
    p.add_argument(
        "--public",
        action="store_true",
        help="also publish it on the fediverse (default: members of this section only)",
    )

    p = psub.add_parser("list", help="list the polls with their counts")
    data(p)

    p = psub.add_parser(
        "show", help="one poll: counts of members and fediverse apart, and every ballot"
    )
    data(p)
    p.add_argument("uuid", metavar="UUID")

    p = psub.add_parser(
        "close", help="close a poll before its closing time (the result is published)"
    )
    data(p)
    p.add_argument("uuid", metavar="UUID")


async def run(args: argparse.Namespace, node: Any) -> int:
    from models.accounts import OPERATOR
    from node.charter import polls
    from node.i18n import local_time

    def _when(dt: datetime | None) -> str:
        return local_time(dt, node.config.zone) if dt else "-"

    a = args.action
    if a == "open":
        poll = await polls.poll_open(
            node,
            args.question,
            args.option,
            multiple=args.multiple,
            closes_at=args.closes.replace(tzinfo=node.config.zone).astimezone(UTC),
            audience="public" if args.public else "members",
            by=OPERATOR,
        )
        print(f"poll {poll.uuid} open until {_when(poll.closes_at)}")
        if poll.is_public:
            print(f"published on the fediverse: {node.urls.poll(poll.uuid)}")
        return 0
    if a == "list":
        views = await polls.poll_list(node, by=OPERATOR)
        for v in views:
            p = v.poll
            print(
                f"{p.uuid}  {p.state:6}  {p.audience:7}  closes {_when(p.closes_at)}  "
                f"members {v.counts.member_voters}  fediverse {v.counts.fedi_voters}  "
                f"{p.question[:60]}"
            )
        if not views:
            print("no polls yet ('coopnet poll open' opens one)")
        return 0
    if a == "show":
        v = await polls.poll_show(node, args.uuid, by=OPERATOR)
        p = v.poll
        kind = "several choices" if p.multiple else "one choice"
        print(p.question)
        print(f"{p.state}, {p.audience}, {kind}; closes {_when(p.closes_at)}")
        if p.closed_at:
            print(f"closed {_when(p.closed_at)}")
        print(
            f"voters: {v.counts.member_voters} member(s), {v.counts.fedi_voters} on the fediverse"
        )
        print(f"{'option':40} {'members':>8} {'fediverse':>10} {'total':>6}")
        for o in v.counts.options:
            print(f"{o.name[:40]:40} {o.members:8} {o.fediverse:10} {o.total:6}")
        print("ballots (code: choices):")
        for code, names in v.ballots:
            print(f"  {code}: {'; '.join(names)}")
        if not v.ballots:
            print("  none yet")
        return 0
    if a == "close":
        poll = await polls.poll_close(node, args.uuid, by=OPERATOR)
        print(f"poll {poll.uuid} closed" + ("; the result is published" if poll.is_public else ""))
        return 0
    raise PollError(f"unknown action {a!r}")
