"""The ``coopnet`` command line.

Each subcommand is a thin shell over an async function the web interface
will call too: ``node.actions`` (node, follows), ``node.content`` and
``node.certification`` (mediators, offers, bulletins, the chain),
``node.sel`` (the SEL). User mistakes end with one line on stderr and a
non-zero exit; only bugs print a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from node.config import ConfigError, load_config
from node.terminal import safe_streams, undecodable_argument

EXIT_USAGE = 2
EXIT_FAIL = 1
#: What a shell reports for a program ended by SIGPIPE (128 + 13).
EXIT_BROKEN_PIPE = 141


class CliError(Exception):
    pass


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        stream=sys.stderr,
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def _data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", required=True, type=Path, metavar="DIR", help="the node's data directory"
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="coopnet",
        description="Run a coopnet node: an ActivityPub server for a section or the seat "
        "of a cooperative network.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("init", help="create a data directory for a new node")
    _data(s)
    s.add_argument(
        "--url",
        required=True,
        help="public base URL, e.g. https://lome.example (http://127.0.0.1:PORT for local use)",
    )
    s.add_argument("--name", required=True, help="the node actor's username, e.g. lome")
    s.add_argument("--role", required=True, choices=["section", "seat"])
    s.add_argument("--title", help="display name (default: the name, capitalised)")
    s.add_argument(
        "--database",
        metavar="URL",
        help="PostgreSQL instead of the embedded SQLite: postgresql://USER[:PASSWORD]@HOST/NAME "
        "(an existing, empty database)",
    )
    s.add_argument(
        "--seat",
        metavar="ACCOUNT_OR_URL",
        help="(section) the network's seat, e.g. siege@siege.example: the only actor whose "
        "authorisation this section accepts, and the anchor of 'coopnet verify'",
    )

    s = sub.add_parser(
        "migrate",
        help="bring the database's schema to this version (after an upgrade; back up first)",
    )
    _data(s)

    s = sub.add_parser(
        "serve",
        help="serve the node (and, unless told otherwise, run its queue workers)",
        description="One process serves the node and runs its queue workers (the default, "
        "fine for a section on a small machine). On PostgreSQL, --workers N runs N web "
        "processes on one port plus a queue-worker process; --no-workers serves only, for "
        "machines whose workers run elsewhere ('coopnet worker').",
    )
    _data(s)
    s.add_argument("--host", help="address to listen on (default: from the config, 127.0.0.1)")
    s.add_argument("--port", type=int, help="port to listen on (default: from the config)")
    mode = s.add_mutually_exclusive_group()
    mode.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="(PostgreSQL) N web processes on the port, plus one queue-worker process",
    )
    mode.add_argument(
        "--no-workers",
        action="store_true",
        help="(PostgreSQL) serve only; queue workers run elsewhere ('coopnet worker')",
    )
    s.add_argument(
        "--reuse-port",
        action="store_true",
        help="share the port with other coopnet processes (SO_REUSEPORT)",
    )

    s = sub.add_parser(
        "worker",
        help="(PostgreSQL) run the queue workers only: deliveries, inbox, chores",
        description="Run a node's queue workers without serving HTTP. Any number of worker "
        "processes, on any number of machines, can share the node's PostgreSQL database.",
    )
    _data(s)

    s = sub.add_parser(
        "backup",
        help="write one archive with the node's config and database (safe while it runs)",
    )
    _data(s)
    s.add_argument("--out", required=True, type=Path, metavar="FILE", help="the archive to write")

    s = sub.add_parser(
        "restore", help="rebuild a data directory from a backup (never overwrites a node)"
    )
    _data(s)
    s.add_argument("archive", type=Path, metavar="FILE", help="an archive made by coopnet backup")
    s.add_argument(
        "--database",
        metavar="URL",
        help="(PostgreSQL backup) restore into this empty database instead of the one in the "
        "backup's config",
    )

    s = sub.add_parser("db", help="move the node's database (SQLite to PostgreSQL)")
    dsub = s.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    s = dsub.add_parser(
        "copy",
        help="copy every table into an empty PostgreSQL database, then use it",
        description="Stop the node first. Copies every row (keys, followers, queues in flight, "
        "the ledger) into an empty database, checks the counts, then points coopnet.toml at "
        "it. The old database is left as it was.",
    )
    _data(s)
    s.add_argument("--to", required=True, metavar="URL", help="postgresql://USER@HOST/NAME")

    s = sub.add_parser("post", help="publish a public Note from the node actor")
    _data(s)
    s.add_argument("text", metavar="TEXT", help="the text to post (plain text; links are linked)")

    s = sub.add_parser("follow", help="follow a remote actor (name@host or actor URL)")
    _data(s)
    s.add_argument("target", metavar="ACCOUNT_OR_URL")

    s = sub.add_parser("following", help="list the actors the node follows, with their state")
    _data(s)

    s = sub.add_parser("followers", help="list the node's followers")
    _data(s)

    s = sub.add_parser("deliveries", help="show the delivery queue (pending, delivered, dead)")
    _data(s)
    s.add_argument("--state", choices=["pending", "delivered", "dead"], help="only this state")
    s.add_argument("--limit", type=int, default=50, help="rows to show (default 50)")
    s.add_argument("--retry-dead", action="store_true", help="queue every dead delivery again")

    from node import (
        cli_content,
        cli_contracts,
        cli_help,
        cli_hostings,
        cli_network,
        cli_obligations,
        cli_peers,
        cli_polls,
        cli_receipts,
        cli_reports,
        cli_sel,
        cli_users,
    )

    cli_content.add_parsers(sub, _data)
    cli_contracts.add_parsers(sub, _data)
    cli_hostings.add_parsers(sub, _data)
    cli_help.add_parsers(sub, _data)
    cli_network.add_parsers(sub, _data)
    cli_obligations.add_parsers(sub, _data)
    cli_peers.add_parsers(sub, _data)
    cli_sel.add_parsers(sub, _data)
    cli_users.add_parsers(sub, _data)
    cli_polls.add_parsers(sub, _data)
    cli_receipts.add_parsers(sub, _data)
    cli_reports.add_parsers(sub, _data)

    s = sub.add_parser(
        "demo", help="run a local network: a seat and two sections that follow each other"
    )
    s.add_argument(
        "--dir", type=Path, default=Path("demo"), help="where the nodes live (default ./demo)"
    )
    s.add_argument(
        "--base-port", type=int, default=8001, help="first of three ports (default 8001)"
    )
    s.add_argument(
        "--check",
        action="store_true",
        help="set up, check that a post reaches every node, then exit",
    )
    return p


async def _with_node(data: Path, fn: Callable[[Any], Awaitable[int]]) -> int:
    from node.context import Node

    config = load_config(data)
    node = await Node.open(config)
    try:
        return await fn(node)
    finally:
        await node.close()


async def cmd_init(args: argparse.Namespace) -> int:
    from node.actions import init_node, resolve_seat
    from node.config import Config

    seat = None
    if args.seat:
        if args.role == "seat":
            raise CliError("--seat is for a section; the seat is its own trust anchor")
        # Checked before anything is created: a bad seat leaves no directory behind.
        draft = Config.new(args.data, args.url, args.name, args.role, args.title)
        seat = await resolve_seat(args.seat, draft)
    config = await init_node(
        args.data, args.url, args.name, args.role, args.title, seat, args.database
    )
    print(
        f"initialised {args.data}: @{config.name}@{config.url.split('://', 1)[1]} ({config.role})"
    )
    if config.role == "section" and not seat:
        print(
            "note: no seat given; set [network] seat in coopnet.toml before the seat "
            "authorises this section (an authorisation is only accepted from it)",
            file=sys.stderr,
        )
    elif seat:
        print(f"trusting the seat {seat}")
    print(f"start it with: coopnet serve --data {args.data}")
    return 0


async def cmd_backup(args: argparse.Namespace) -> int:
    from node.database import backup

    out = await backup(load_config(args.data), args.out)
    print(f"wrote {out}")
    return 0


async def cmd_restore(args: argparse.Namespace) -> int:
    from node.database import restore

    config = await restore(args.data, args.archive, args.database)
    print(f"restored @{config.name} ({config.url}) into {args.data}")
    print(f"start it with: coopnet serve --data {args.data}")
    return 0


async def cmd_db(args: argparse.Namespace) -> int:
    from node.database import copy_database

    config = load_config(args.data)
    report = await copy_database(config, args.to)
    print(f"copied {sum(report.tables.values())} rows in {len(report.tables)} tables to "
          f"{report.target}")  # fmt: skip
    print(f"{args.data}/coopnet.toml now uses it; start the node again with coopnet serve")
    return 0


async def cmd_migrate(args: argparse.Namespace) -> int:
    from models import migrate
    from models.base import database_errors, make_engine

    config = load_config(args.data)
    setup_logging(config.log_level)
    engine = make_engine(config.database_url)
    try:
        async with engine.connect() as conn:
            before = await conn.run_sync(migrate.current_revision_sync)
    except database_errors() as exc:
        raise CliError(f"cannot reach the database: {exc}") from exc
    finally:
        await engine.dispose()
    if before == migrate.HEAD:
        print(f"the schema is already at {migrate.HEAD}; nothing to do")
        return 0
    if before is None:
        raise CliError(
            "the database is empty: create a node with coopnet init, or restore a backup"
        )
    from alembic.util import CommandError

    try:
        await migrate.upgrade_async(config.database_url)
    except CommandError as exc:
        raise CliError(
            f"the schema is at {before}, which this coopnet does not know (it knows up to "
            f"{migrate.HEAD}): was the database used by a newer version? ({exc})"
        ) from exc
    print(f"migrated the schema from {before} to {migrate.HEAD}")
    return 0


def _needs_postgresql(config: Any, what: str) -> None:
    if config.database_url.startswith("sqlite"):
        raise CliError(
            f"{what} needs PostgreSQL: on SQLite one process serves and works "
            "(move up with: coopnet db copy --data DIR --to postgresql://...)"
        )


async def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from node.app import create_app, make_runner

    config = load_config(args.data)
    setup_logging(config.log_level)
    host = args.host or config.host
    port = args.port if args.port is not None else config.port
    if args.workers is not None:
        if args.workers < 1:
            raise CliError("--workers must be 1 or more")
        _needs_postgresql(config, "--workers")
        from node.supervisor import supervise

        await _check_schema(config)
        return await supervise(args.data, args.workers, host, port)
    if args.no_workers:
        _needs_postgresql(config, "--no-workers")
    runner = make_runner(create_app(config, run_workers=not args.no_workers), config)
    try:
        await runner.setup()
    except Exception:
        await runner.cleanup()
        raise
    site = web.TCPSite(runner, host, port, reuse_port=args.reuse_port or None)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    logging.getLogger("coopnet").info(
        "serving %s (%s) on http://%s:%d%s",
        config.url,
        config.role,
        host,
        port,
        "" if not args.no_workers else " (no queue workers here)",
    )
    await _wait_for_signal()
    logging.getLogger("coopnet").info("shutting down; queued deliveries stay in the database")
    await runner.cleanup()
    return 0


async def _check_schema(config: Any) -> None:
    """Refuse early, in the parent, rather than in every child process."""
    from node.context import Node

    node = await Node.open(config)
    await node.close()


async def cmd_worker(args: argparse.Namespace) -> int:
    from node.context import Node
    from node.worker import start_workers, stop_workers

    config = load_config(args.data)
    setup_logging(config.log_level)
    _needs_postgresql(config, "a separate worker process")
    node = await Node.open(config)
    stop = asyncio.Event()
    tasks = start_workers(node, stop)
    logging.getLogger("coopnet").info("queue workers of %s running", config.url)
    try:
        await _wait_for_signal()
    finally:
        logging.getLogger("coopnet").info("stopping; the batch in flight is finished first")
        stop.set()
        await stop_workers(tasks)
        await node.close()
    return 0


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def cmd_post(args: argparse.Namespace) -> int:
    from models.accounts import OPERATOR
    from models.posts import PostError
    from node.actions import post_note

    async def run(node: Any) -> int:
        try:
            obj = await post_note(node, args.text, by=OPERATOR)
        except PostError as exc:
            raise CliError(str(exc)) from exc
        print(obj.uri)
        return 0

    return await _with_node(args.data, run)


async def cmd_follow(args: argparse.Namespace) -> int:
    from models.accounts import OPERATOR
    from node.actions import ActionError, follow

    async def run(node: Any) -> int:
        try:
            remote, row = await follow(node, args.target, by=OPERATOR)
        except ActionError as exc:
            raise CliError(str(exc)) from exc
        print(f"{row.state}: {remote.handle} ({remote.uri})")
        return 0

    return await _with_node(args.data, run)


async def cmd_relations(args: argparse.Namespace) -> int:
    from models.accounts import OPERATOR
    from models.html import plain_line
    from node.actions import list_followers, list_following

    async def run(node: Any) -> int:
        listing = list_followers if args.command == "followers" else list_following
        rows = await listing(node, by=OPERATOR)
        for r in rows:
            # Handles come from remote servers: no terminal escapes get through.
            print(plain_line(f"{r.state:9} {r.handle:40} {r.uri}  since {r.since}"))
        if not rows:
            print(f"no {args.command} yet", file=sys.stderr)
        return 0

    return await _with_node(args.data, run)


async def cmd_deliveries(args: argparse.Namespace) -> int:
    from models.accounts import OPERATOR
    from models.outbox import DeliveryState
    from node.actions import deliveries, retry_dead_deliveries

    async def run(node: Any) -> int:
        if args.retry_dead:
            n = await retry_dead_deliveries(node, by=OPERATOR)
            print(f"{n} dead deliveries queued again")
        report = await deliveries(
            node,
            by=OPERATOR,
            state=DeliveryState(args.state) if args.state else None,
            limit=max(args.limit, 1),
        )
        counts, rows = report.counts, report.rows
        print("  ".join(f"{s}: {counts.get(s, 0)}" for s in ("pending", "delivered", "dead")))
        for d in rows:
            status = d.last_status if d.last_status is not None else "-"
            when = d.next_attempt_at if d.state == "pending" else d.finished_at
            print(
                f"{d.state:9} {d.activity.type:8} tries={d.attempts:<2} last={status!s:4} "
                f"{(when.isoformat(timespec='seconds') if when else ''):25} {d.inbox}"
                + (f"  ({d.last_error})" if d.last_error else "")
            )
        return 0

    return await _with_node(args.data, run)


async def cmd_demo(args: argparse.Namespace) -> int:
    from node.demo import run_demo

    setup_logging("INFO")
    return await run_demo(args.dir, args.base_port, check=args.check)


async def cmd_content(args: argparse.Namespace) -> int:
    from node.cli_content import UsageError, run
    from node.content import content_errors

    async def go(node: Any) -> int:
        errors: tuple[type[Exception], ...] = (UsageError, *content_errors())
        try:
            return await run(args, node)
        except errors as exc:
            raise CliError(str(exc)) from exc

    return await _with_node(args.data, go)


async def cmd_sel(args: argparse.Namespace) -> int:
    from models.sel.accounts import LedgerError
    from node.cli_sel import run

    async def go(node: Any) -> int:
        try:
            return await run(args, node)
        except LedgerError as exc:
            raise CliError(str(exc)) from exc
        except BrokenPipeError:
            raise  # the reader went away: main stops quietly
        except OSError as exc:
            raise CliError(f"{exc.strerror or exc}") from exc

    return await _with_node(args.data, go)


async def cmd_hosting(args: argparse.Namespace) -> int:
    from node.cli_hostings import run

    return await _with_node(args.data, lambda node: run(args, node))


async def cmd_help(args: argparse.Namespace) -> int:
    from node.cli_help import run

    return await _with_node(args.data, lambda node: run(args, node))


async def cmd_network(args: argparse.Namespace) -> int:
    from node.cli_network import run

    return await _with_node(args.data, lambda node: run(args, node))


async def cmd_obligations(args: argparse.Namespace) -> int:
    from node.cli_obligations import run

    return await _with_node(args.data, lambda node: run(args, node))


async def cmd_peer(args: argparse.Namespace) -> int:
    from node.cli_peers import run

    return await _with_node(args.data, lambda node: run(args, node))


async def cmd_user(args: argparse.Namespace) -> int:
    from node.cli_users import run

    return await _with_node(args.data, lambda node: run(args, node))


async def cmd_contract(args: argparse.Namespace) -> int:
    from node.cli_contracts import run

    return await _with_node(args.data, lambda node: run(args, node))


async def cmd_poll(args: argparse.Namespace) -> int:
    from node.cli_polls import run

    return await _with_node(args.data, lambda node: run(args, node))


async def cmd_report(args: argparse.Namespace) -> int:
    from node.cli_reports import run

    return await _with_node(args.data, lambda node: run(args, node))


async def cmd_receipt(args: argparse.Namespace) -> int:
    from node import cli_receipts

    if args.action == "verify":
        return await cli_receipts.verify(args)
    return await _with_node(args.data, lambda node: cli_receipts.run(args, node))


COMMANDS: dict[str, Callable[[argparse.Namespace], Coroutine[Any, Any, int]]] = {
    "init": cmd_init,
    "migrate": cmd_migrate,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "db": cmd_db,
    "serve": cmd_serve,
    "worker": cmd_worker,
    "post": cmd_post,
    "follow": cmd_follow,
    "following": cmd_relations,
    "followers": cmd_relations,
    "deliveries": cmd_deliveries,
    "demo": cmd_demo,
    "sel": cmd_sel,
    "user": cmd_user,
    "hosting": cmd_hosting,
    "club-aide": cmd_help,
    **dict.fromkeys(("block", "unblock", "blocks"), cmd_network),
    "poll": cmd_poll,
    **dict.fromkeys(("obligations", "obligation"), cmd_obligations),
    "peer": cmd_peer,
    "receipt": cmd_receipt,
    "report": cmd_report,
    "contract": cmd_contract,
    "satisfaction": cmd_contract,
    **dict.fromkeys(
        ("mediator", "offer", "bulletin", "authorize", "certify", "revoke", "verify"), cmd_content
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    bad = undecodable_argument(args_list)
    if bad is not None:
        print(f"coopnet: error: {bad}: the value is not valid UTF-8", file=sys.stderr)
        return EXIT_USAGE
    if args_list[:1] == ["help"]:
        # 'coopnet help' and 'coopnet help sel' read as what people mean by them.
        args_list = [*args_list[1:2], "--help"]
    parser = build_parser()
    # Whatever a command creates (database, exports) is for the node's user only.
    umask = os.umask(0o077)
    try:
        with safe_streams():
            args = parser.parse_args(args_list)
            return _run(args)
    finally:
        os.umask(umask)


def _run(args: argparse.Namespace) -> int:
    from models.actors import NoNodeActor
    from models.errors import UserError
    from node.actions import ActionError
    from node.context import NodeError

    try:
        with contextlib.suppress(KeyboardInterrupt):
            return asyncio.run(COMMANDS[args.command](args))
        return 130
    except (CliError, ConfigError, ActionError, NodeError, NoNodeActor, UserError) as exc:
        print(f"coopnet {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except BrokenPipeError:
        # `coopnet ... | head`: the reader has what it wanted. Stop quietly, as
        # Unix tools do; what is still buffered goes nowhere instead of
        # raising again when Python flushes stdout on exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
