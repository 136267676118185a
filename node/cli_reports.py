"""CLI for the semi-annual report to the seat: ``coopnet report compose|show|send|list``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from models.network.reports import ReportError

MAX_TEXT_FILE = 200_000


def add_parsers(sub: Any, data: Callable[[argparse.ArgumentParser], None]) -> None:
    report = sub.add_parser(
        "report",
        help="the section's semi-annual report to the seat (figures from data, plus a text)",
        description="A section sends its seat a report each semester: figures counted from "
        "the node's own data (mediators, hostings, contracts, receipts, satisfaction, SEL, "
        "bulletins) and the coordinator's text in Markdown. It goes to the seat only (never "
        "public, never to followers); sending again replaces the earlier one. On the seat, "
        "'list' shows the reports received. Semesters are written 2026-S1 (January-June) "
        "and 2026-S2.",
    )
    rsub = report.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = rsub.add_parser("compose", help="count the figures (again) and keep the text")
    data(p)
    _semester(p)
    p.add_argument(
        "--text", metavar="FILE", help="the coordinator's text, a Markdown file ('-': stdin)"
    )

    p = rsub.add_parser("show", help="print the report of a semester (composed or received)")
    data(p)
    _semester(p)
    p.add_argument("--section", metavar="URL", help="(seat) the section whose report to show")

    p = rsub.add_parser("send", help="send the report to the seat (composing it if needed)")
    data(p)
    _semester(p)

    p = rsub.add_parser("list", help="reports with their state (received ones on a seat)")
    data(p)


def _semester(p: argparse.ArgumentParser) -> None:
    p.add_argument("--semester", metavar="YYYY-Sn", help="e.g. 2026-S2 (default: the current one)")


def _read_text(path: str) -> str:
    try:
        if path == "-":
            raw = sys.stdin.buffer.read(MAX_TEXT_FILE + 1)
        else:
            with Path(path).open("rb") as f:
                raw = f.read(MAX_TEXT_FILE + 1)
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_TEXT_FILE:
        raise ReportError(f"{path} is over {MAX_TEXT_FILE} bytes: the text must be shorter")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ReportError(f"{path} is not UTF-8 text") from None


def _print_report(row: Any) -> None:
    from models.html import html_to_text, plain_line
    from models.network.reports import ReportDirection
    from node.network.reports import figure_rows

    print(f"{plain_line(row.section_name)} · {row.period} · {row.state}")
    if row.as_of:
        print(f"figures as of {row.as_of}")
    width = max(len(label) for _, label, _ in figure_rows(row.figures)) + 2
    for _, label, value in figure_rows(row.figures):
        print(f"  {label:{width}} {plain_line(value)}")
    text = row.text if row.direction == ReportDirection.SENT else html_to_text(row.text)
    print()
    print(plain_line(text).strip() or "(no text)")


async def run(args: argparse.Namespace, node: Any) -> int:
    from models.accounts import OPERATOR
    from models.charter.hostings import Semester
    from models.network.reports import ReportDirection
    from node.network import reports

    today = reports.today_utc()
    semester = Semester.parse(args.semester) if getattr(args, "semester", None) else None
    semester = semester or Semester.of(today)
    a = args.action
    if a == "compose":
        text = _read_text(args.text) if args.text else None
        row = await reports.report_compose(node, semester, text, by=OPERATOR, today=today)
        print(f"report {row.period} composed (figures as of {row.as_of}); 'report send' sends it")
        return 0
    if a == "send":
        row = await reports.report_send(node, semester, by=OPERATOR, today=today)
        seat = await reports.seat_name(node, by=OPERATOR)
        print(
            f"report {row.period} queued for the seat {seat}; 'report list' shows when the "
            "seat acknowledges it"
        )
        return 0
    if a == "show":
        if args.section:
            rows = [
                r
                for r in await reports.report_list(
                    node, by=OPERATOR, direction=ReportDirection.RECEIVED
                )
                if r.period == str(semester) and r.section_uri == args.section
            ]
            if not rows:
                raise ReportError(f"no report from {args.section} for {semester}")
            _print_report(rows[0])
            return 0
        own = await reports.report_of(node, semester, by=OPERATOR)
        if own is None:
            raise ReportError(f"no report composed for {semester}: run 'coopnet report compose'")
        _print_report(own)
        return 0
    if a == "list":
        sent = await reports.report_list(node, by=OPERATOR, direction=ReportDirection.SENT)
        received = await reports.report_list(node, by=OPERATOR, direction=ReportDirection.RECEIVED)
        for r in sent:
            when = f"sent {r.sent_at:%Y-%m-%d %H:%M}" if r.sent_at else "not sent"
            ack = (
                f"acknowledged {r.acknowledged_at:%Y-%m-%d %H:%M}"
                if r.acknowledged_at
                else "not acknowledged"
            )
            print(f"{r.period}  {r.state:12}  {when}  {ack}")
        for r in received:
            from models.html import plain_line

            print(
                f"{r.period}  received {r.received_at:%Y-%m-%d %H:%M}  "
                f"{plain_line(r.section_name)}  {r.section_uri}"
            )
        if not sent and not received:
            print("no report yet ('coopnet report compose')")
        return 0
    raise ValueError(a)
