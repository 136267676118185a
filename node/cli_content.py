"""CLI for what a node publishes: mediators, offers, bulletins, certifications."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


class UsageError(Exception):
    pass


def _date(value: str) -> datetime:
    """YYYY-MM-DD (midnight UTC) or a full ISO 8601 time with its zone."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-12-31") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc


def add_parsers(sub: Any, data: Callable[[argparse.ArgumentParser], None]) -> None:
    # Mediators
    med = sub.add_parser("mediator", help="manage the section's mediators (Person actors)")
    msub = med.add_subparsers(dest="action", metavar="ACTION", required=True)

    def profile_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--display-name", help="name shown on profiles")
        p.add_argument("--summary", help="a short presentation")
        p.add_argument("--skill", action="append", help="a skill (repeat for several)")
        p.add_argument("--area", help="area served, e.g. 'Lomé et environs'")
        p.add_argument("--contact", help="contact link: https://…, mailto:… or tel:…")
        p.add_argument("--avatar", help="URL of a picture")

    p = msub.add_parser("add", help="add a mediator (gets its own fediverse account)")
    data(p)
    p.add_argument("name", metavar="NAME", help="username: @NAME@host")
    profile_args(p)
    p = msub.add_parser("update", help="change a mediator's profile (followers see the update)")
    data(p)
    p.add_argument("name", metavar="NAME")
    profile_args(p)
    p = msub.add_parser("remove", help="remove a mediator: Delete sent, records kept")
    data(p)
    p.add_argument("name", metavar="NAME")
    p = msub.add_parser("list", help="list mediators")
    data(p)
    p.add_argument("--all", action="store_true", help="include removed mediators")

    # Offers
    off = sub.add_parser("offer", help="publish and manage offers of service")
    osub = off.add_subparsers(dest="action", metavar="ACTION", required=True)

    def offer_args(p: argparse.ArgumentParser, required: bool) -> None:
        p.add_argument("--title", required=required)
        text = p.add_mutually_exclusive_group(required=required)
        text.add_argument("--description", help="the text (Markdown)")
        text.add_argument("--file", type=Path, help="read the description from a Markdown file")
        p.add_argument("--category", help="hosting, training, website, telework, help, other")
        p.add_argument("--price", help="price in money, e.g. '25 EUR' or '5000 XOF'")
        p.add_argument("--sel-hours", help="price in SEL hours, e.g. 1.5")
        p.add_argument("--area", help="where the service is offered")
        p.add_argument("--contact", help="https://…, mailto:… or tel:…")
        p.add_argument("--valid-from", type=_date, metavar="DATE")
        p.add_argument("--valid-until", type=_date, metavar="DATE")

    p = osub.add_parser("publish", help="publish an offer (Create to followers)")
    data(p)
    offer_args(p, required=True)
    p.add_argument("--as", dest="author", metavar="MEDIATOR", help="publish as this mediator")
    p = osub.add_parser("update", help="change an offer (Update to followers)")
    data(p)
    p.add_argument("offer", metavar="OFFER", help="offer URL or id")
    offer_args(p, required=False)
    p = osub.add_parser("withdraw", help="withdraw an offer (Delete to followers)")
    data(p)
    p.add_argument("offer", metavar="OFFER", help="offer URL or id")
    p = osub.add_parser("list", help="list offers")
    data(p)
    p.add_argument("--remote", action="store_true", help="offers received from peer sections")
    p.add_argument("--all", action="store_true", help="include withdrawn and expired offers")

    # Bulletins
    bul = sub.add_parser("bulletin", help="publish the monthly bulletin (an Article)")
    bsub = bul.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = bsub.add_parser("publish", help="publish a bulletin written in Markdown")
    data(p)
    p.add_argument("--title", required=True)
    p.add_argument("--file", type=Path, required=True, help="the bulletin, in Markdown")
    p.add_argument("--summary", help="what Mastodon shows (default: the first paragraph)")
    p.add_argument("--as", dest="author", metavar="MEDIATOR", help="publish as this mediator")
    p = bsub.add_parser("update", help="change a bulletin (Update to followers)")
    data(p)
    p.add_argument("bulletin", metavar="BULLETIN", help="bulletin URL or id")
    p.add_argument("--title")
    p.add_argument("--file", type=Path)
    p.add_argument("--summary")
    p = bsub.add_parser("delete", help="delete a bulletin (Delete to followers)")
    data(p)
    p.add_argument("bulletin", metavar="BULLETIN", help="bulletin URL or id")
    p = bsub.add_parser("list", help="list bulletins")
    data(p)
    p.add_argument("--remote", action="store_true", help="bulletins received from peers")

    # Certification chain
    p = sub.add_parser("authorize", help="(seat) authorise a section to certify mediators")
    data(p)
    p.add_argument("section", metavar="SECTION", help="name@host or actor URL of the section")
    p = sub.add_parser("certify", help="(section) certify one of this section's mediators")
    data(p)
    p.add_argument("mediator", metavar="MEDIATOR", help="the mediator's username")
    p = sub.add_parser("revoke", help="revoke an authorisation or certification")
    data(p)
    p.add_argument("ref", metavar="REF", help="attestation URL, mediator name or section URL")
    p = sub.add_parser("verify", help="check the certification chain above an actor")
    data(p)
    p.add_argument("actor", metavar="ACTOR_URL", help="actor URL (or name@host)")
    p.add_argument("--seat", help="the network's seat actor URL (default: from the config)")


def _profile(args: argparse.Namespace) -> Any:
    from models.mediators import Profile

    return Profile(
        name=args.display_name,
        summary=args.summary,
        skills=args.skill,
        area=args.area,
        contact=args.contact,
        avatar=args.avatar,
    )


def _draft_changes(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if args.title is not None:
        changes["title"] = args.title
    if args.description is not None:
        changes["description"] = args.description
    if args.file is not None:
        changes["description"] = _read(args.file)
    for key in ("category", "price", "sel_hours", "area", "contact", "valid_from", "valid_until"):
        value = getattr(args, key)
        if value is not None:
            changes[key] = value
    return changes


async def run(args: argparse.Namespace, node: Any) -> int:
    from models.accounts import OPERATOR
    from models.html import plain_line
    from node import certification, content

    cmd, action = args.command, getattr(args, "action", None)
    if cmd == "mediator":
        if action == "add":
            actor = await content.mediator_add(node, args.name, _profile(args), by=OPERATOR)
            print(f"added @{actor.username}@{node.urls.host}  {node.urls.actor(actor.username)}")
        elif action == "update":
            actor = await content.mediator_update(node, args.name, _profile(args), by=OPERATOR)
            print(f"updated {node.urls.actor(actor.username)}")
        elif action == "remove":
            actor = await content.mediator_remove(node, args.name, by=OPERATOR)
            print(f"removed {node.urls.actor(actor.username)} (Delete sent; records kept)")
        else:
            rows = await content.mediator_list(node, include_removed=args.all)
            for a in rows:
                state = "removed" if a.deleted_at else "active"
                print(
                    f"{state:8} @{a.username}@{node.urls.host:24} {a.name}  "
                    f"[{', '.join(a.skill_list)}] {a.area}"
                )
            if not rows:
                print("no mediators yet", file=sys.stderr)
        return 0
    if cmd == "offer":
        from models.offers import OfferDraft

        if action == "publish":
            c = _draft_changes(args)
            offer = await content.offer_publish(
                node,
                OfferDraft(
                    title=c.pop("title"),
                    description=c.pop("description"),
                    category=c.pop("category", "other"),
                    **c,
                ),
                author=args.author,
                by=OPERATOR,
            )
            print(offer.uri)
        elif action == "update":
            changes = _draft_changes(args)
            if not changes:
                raise UsageError("nothing to change: give at least one option (see --help)")
            print((await content.offer_update(node, args.offer, changes, by=OPERATOR)).uri)
        elif action == "withdraw":
            print(f"withdrawn: {(await content.offer_withdraw(node, args.offer, by=OPERATOR)).uri}")
        elif args.remote:
            remote = await content.remote_list(node, "offer")
            for r in remote:
                print(plain_line(f"{r.name or '(untitled)':40} {r.actor_uri}  {r.uri}"))
            if not remote:
                print("no offers received from peers yet", file=sys.stderr)
        else:
            offers = await content.offer_list(node, include_ended=args.all)
            for o in offers:
                price = " + ".join(
                    x
                    for x in (
                        f"{o.price_amount} {o.price_currency}" if o.price_amount else "",
                        f"{o.sel_hours} h SEL" if o.sel_minutes is not None else "",
                    )
                    if x
                )
                print(f"{o.state:9} {o.title[:40]:40} {o.category:9} {price:20} {o.uri}")
            if not offers:
                print("no offers yet", file=sys.stderr)
        return 0
    if cmd == "bulletin":
        if action == "publish":
            b = await content.bulletin_publish(
                node, args.title, _read(args.file), args.summary, author=args.author, by=OPERATOR
            )
            print(b.uri)
        elif action == "update":
            if args.title is None and args.file is None and args.summary is None:
                raise UsageError("nothing to change: give --title, --file or --summary")
            b = await content.bulletin_update(
                node,
                args.bulletin,
                title=args.title,
                markdown=_read(args.file) if args.file else None,
                summary=args.summary,
                by=OPERATOR,
            )
            print(b.uri)
        elif action == "delete":
            print(
                f"deleted: {(await content.bulletin_delete(node, args.bulletin, by=OPERATOR)).uri}"
            )
        elif args.remote:
            remote = await content.remote_list(node, "bulletin")
            for r in remote:
                print(plain_line(f"{r.name or '(untitled)':40} {r.actor_uri}  {r.uri}"))
            if not remote:
                print("no bulletins received from peers yet", file=sys.stderr)
        else:
            bulletins = await content.bulletin_list(node, by=OPERATOR)
            for b in bulletins:
                print(f"{b.published:%Y-%m-%d} {b.title[:50]:50} {b.uri}")
            if not bulletins:
                print("no bulletins yet", file=sys.stderr)
        return 0
    if cmd == "authorize":
        row = await certification.authorize(node, args.section, by=OPERATOR)
        print(f"authorised {row.subject_uri}: {row.uri}")
        return 0
    if cmd == "certify":
        row = await certification.certify(node, args.mediator, by=OPERATOR)
        print(f"certified {row.subject_uri}: {row.uri}")
        return 0
    if cmd == "revoke":
        row = await certification.revoke_attestation(node, args.ref, by=OPERATOR)
        print(f"revoked {row.uri} ({row.kind} of {row.subject_uri})")
        return 0
    if cmd == "verify":
        report = await certification.verify(node, args.actor, args.seat)
        for line in report.lines():
            print(plain_line(line))
        return 0 if report.ok else 1
    raise UsageError(f"unknown command {cmd}")
