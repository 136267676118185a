"""Deliveries survive the server dying: ``kill -9`` mid-send, and a clean SIGTERM.

Everything runs as an operator would run it: ``coopnet init``, ``coopnet post`` and
``coopnet serve`` are subprocesses (``python -m node``), the remote is a small aiohttp
receiver in the test process, and the queue is inspected with plain SQL on the node's
database (SQLite or PostgreSQL, tests/dbtools.py), not through the product's models.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from models.accounts import OPERATOR
from models.actors import get_node_actor, upsert_remote_actor
from models.base import make_engine, make_sessionmaker
from models.follows import add_follower
from node.actions import init_node, post_note
from node.config import Config, load_config
from node.context import Node
from tests import dbtools
from tests.conftest import bound_socket
from tests.pg import database_url
from tests.procs import coopnet, free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
AS = "https://www.w3.org/ns/activitystreams"
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# The remote side
# --------------------------------------------------------------------------------------------


class Remote:
    """Holds requests (up to ``hold_seconds``) while ``holding``; answers 202 at once after."""

    def __init__(self, hold_seconds: float = 5.0) -> None:
        self.holding = True
        self.hold_seconds = hold_seconds
        self.release = asyncio.Event()
        self.held: list[tuple[str, str]] = []
        self.got: list[tuple[str, str]] = []
        self.url = ""
        self.runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        entry = (request.path, str(json.loads(body).get("id")))
        if self.holding:
            self.held.append(entry)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), self.hold_seconds)
            return web.Response(status=202)
        self.got.append(entry)
        return web.Response(status=202)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self.runner.setup()
        sock = bound_socket()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        await web.SockSite(self.runner, sock).start()

    def answer_now(self) -> None:
        self.holding = False
        self.release.set()

    async def close(self) -> None:
        self.release.set()
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def remote() -> AsyncIterator[Remote]:
    r = Remote()
    await r.start()
    yield r
    await r.close()


# --------------------------------------------------------------------------------------------
# Driving the node as an operator does
# --------------------------------------------------------------------------------------------


class Server:
    """``coopnet serve`` as a subprocess, its log in a file."""

    def __init__(self, data: Path, port: int, log: Path) -> None:
        self.data = data
        self.port = port
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "node",
                "serve",
                "--data",
                str(self.data),
                "--port",
                str(self.port),
                cwd=ROOT,
                stdout=log,
                stderr=log,
            )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.proc.wait(), 15)

    async def term(self, within: float = 15.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), within)
        except TimeoutError:
            pytest.fail(f"serve did not exit within {within} s of SIGTERM\n{self.log_text()}")

    async def stop_if_running(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.kill()
            await self.proc.wait()


@pytest.fixture
async def servers() -> AsyncIterator[list[Server]]:
    started: list[Server] = []
    yield started
    for s in started:
        await s.stop_if_running()


def db_rows(data: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dbtools.Row]:
    """The node's database, read with plain SQL (sync: also from a polling predicate)."""
    return dbtools.rows(data, sql, *params)


def db_exec(data: Path, sql: str, params: tuple[Any, ...] = ()) -> int:
    return dbtools.execute(data, sql, *params)


DELIVERIES = """
    SELECT d.id, d.inbox, d.state, d.attempts, d.locked_until, d.finished_at,
           d.last_status, d.last_error, a.uri AS activity
    FROM deliveries d JOIN activities a ON a.id = d.activity_id ORDER BY d.id
"""


async def wait_until(
    what: str, pred: Callable[[], bool], server: Server | None, within: float = 30.0
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not pred():
        if server is not None and not server.alive():
            pytest.fail(f"serve exited while waiting for {what}\n{server.log_text()}")
        if loop.time() > deadline:
            log = server.log_text() if server is not None else ""
            pytest.fail(f"timed out after {within} s waiting for {what}\n{log}")
        await asyncio.sleep(0.05)


def follower_docs(inbox_base: str) -> list[dict[str, Any]]:
    """Three followers at ``inbox_base``: two share an inbox, carol has her own."""
    shared = f"{inbox_base}/inbox"
    return [
        {
            "@context": AS,
            "id": f"{inbox_base}/users/{name}",
            "type": "Person",
            "preferredUsername": name,
            "inbox": f"{inbox_base}/users/{name}/inbox",
            **({"endpoints": {"sharedInbox": shared}} if name != "carol" else {}),
        }
        for name in ("alice", "bob", "carol")
    ]


async def add_followers(config: Config, inbox_base: str) -> None:
    engine = make_engine(config.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            actor = await get_node_actor(session)
            for doc in follower_docs(inbox_base):
                remote = await upsert_remote_actor(session, doc)
                await add_follower(session, actor.id, remote, f"{doc['id']}#follow")
    finally:
        await engine.dispose()


TEXTS = ("Réunion du bureau lundi.", "Marché solidaire samedi.")


async def cli_node_with_two_posts(tmp_path: Path, inbox_base: str) -> tuple[Path, int]:
    """``coopnet init``, followers, then ``coopnet post`` twice, all while no server runs."""
    data = tmp_path / "lome"
    port = free_port()
    code, out, err = await coopnet(
        "init",
        "--data",
        str(data),
        "--url",
        f"http://127.0.0.1:{port}",
        "--name",
        "lome",
        "--role",
        "section",
        *await dbtools.ainit_database_args(),
    )
    assert code == 0, err
    await add_followers(load_config(data), inbox_base)
    for text in TEXTS:
        code, out, err = await coopnet("post", "--data", str(data), text)
        assert code == 0, err
        assert out.strip().startswith(f"http://127.0.0.1:{port}/")
    return data, port


async def node_with_two_posts(tmp_path: Path, inbox_base: str) -> tuple[Path, int]:
    """The same state built in-process with the functions the CLI calls (saves three
    interpreter start-ups where the CLI itself is not what is being tested)."""
    data = tmp_path / "lome"
    port = free_port()
    config = await init_node(
        data, f"http://127.0.0.1:{port}", "lome", "section", database=await database_url()
    )
    await add_followers(config, inbox_base)
    async with await Node.open(load_config(data)) as node:
        for text in TEXTS:
            await post_note(node, text, by=OPERATOR)
    return data, port


# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------


async def test_kill_9_mid_delivery_loses_nothing(
    tmp_path: Path, remote: Remote, servers: list[Server]
) -> None:
    data, port = await cli_node_with_two_posts(tmp_path, remote.url)
    rows = db_rows(data, DELIVERIES)
    # Two Creates, each to the shared inbox and to carol's own inbox.
    assert len(rows) == 4
    assert {r["inbox"] for r in rows} == {f"{remote.url}/inbox", f"{remote.url}/users/carol/inbox"}
    assert {r["state"] for r in rows} == {"pending"}
    expected = sorted((r["inbox"].removeprefix(remote.url), r["activity"]) for r in rows)

    server = Server(data, port, tmp_path / "serve.log")
    servers.append(server)
    await server.start()
    await wait_until("a delivery in flight", lambda: len(remote.held) >= 1, server)
    await server.kill9()

    rows = db_rows(data, DELIVERIES)
    assert len(rows) == 4
    assert [r["state"] for r in rows] == ["pending"] * 4, [dict(r) for r in rows]
    assert all(r["finished_at"] is None for r in rows)
    # The worker had leased the rows it was sending when it died.
    assert any(r["locked_until"] is not None for r in rows)

    # The remote is back and quick; the two-minute lease has run out.
    remote.answer_now()
    assert (
        db_exec(
            data,
            "UPDATE deliveries SET next_attempt_at = ?, locked_until = ?",
            (LONG_AGO, LONG_AGO),
        )
        == 4
    )

    server2 = Server(data, port, tmp_path / "serve2.log")
    servers.append(server2)
    await server2.start()
    await wait_until(
        "every delivery delivered",
        lambda: [r["state"] for r in db_rows(data, DELIVERIES)] == ["delivered"] * 4,
        server2,
    )
    assert sorted(remote.got) == expected
    rows = db_rows(data, DELIVERIES)
    assert all(r["last_status"] == 202 and r["finished_at"] is not None for r in rows)

    code = await server2.term()
    assert code == 0, server2.log_text()


async def test_sigterm_with_pending_deliveries_keeps_them(
    tmp_path: Path, servers: list[Server]
) -> None:
    # The remote is down: its port is bound but nothing listens, so connections are refused.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as down:
        down.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{down.getsockname()[1]}"
        data, port = await node_with_two_posts(tmp_path, base)
        assert len(db_rows(data, DELIVERIES)) == 4

        server = Server(data, port, tmp_path / "serve.log")
        servers.append(server)
        await server.start()
        await wait_until(
            "a failed attempt on every delivery",
            lambda: all(r["attempts"] >= 1 for r in db_rows(data, DELIVERIES)),
            server,
        )
        code = await server.term()
    assert code == 0, server.log_text()

    rows = db_rows(data, DELIVERIES)
    assert len(rows) == 4
    assert [r["state"] for r in rows] == ["pending"] * 4
    assert all(r["last_error"] for r in rows)
    assert all(r["finished_at"] is None for r in rows)


async def test_sigterm_during_a_send_finishes_the_batch(
    tmp_path: Path, remote: Remote, servers: list[Server]
) -> None:
    """The batch in flight at shutdown is answered and recorded, not dropped or killed."""
    remote.hold_seconds = 2.0
    data, port = await node_with_two_posts(tmp_path, remote.url)

    server = Server(data, port, tmp_path / "serve.log")
    servers.append(server)
    await server.start()
    await wait_until("every delivery in flight", lambda: len(remote.held) >= 4, server)
    code = await server.term()
    assert code == 0, server.log_text()

    rows = db_rows(data, DELIVERIES)
    assert len(rows) == 4
    assert "dead" not in {r["state"] for r in rows}
    assert [r["state"] for r in rows] == ["delivered"] * 4, [dict(r) for r in rows]
