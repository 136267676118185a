"""Real nodes on loopback ports, each with a database of its own on the backend under test.

``make_node`` initialises a data directory exactly as ``coopnet init``
does and serves it with the real application on a socket bound before
the URL is chosen (so no port race). Workers run as in production unless
a test asks to step them by hand (``run_workers=False``).

``./dev test`` runs the suite on SQLite, then on PostgreSQL
(``COOPNET_TEST_DB``, tests/pg.py). A test marked ``sqlite_only`` (about
SQLite itself) is deselected in the PostgreSQL pass, and one marked
``postgresql_only`` (its PostgreSQL counterpart) in the SQLite pass. One
marked ``own_backends`` starts both backends itself, whatever the pass, so
it runs once: in the SQLite pass.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from node.actions import init_node
from node.app import create_app, make_runner
from node.config import Config
from node.context import Node
from node.web import NODE
from tests.pg import BACKEND, database_url, on_postgresql


def pytest_configure(config: pytest.Config) -> None:
    if BACKEND not in ("sqlite", "postgresql"):
        raise pytest.UsageError(f"COOPNET_TEST_DB={BACKEND!r}: use sqlite or postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (not skip) what does not apply to the backend under test."""
    other = ("sqlite_only", "own_backends") if on_postgresql() else ("postgresql_only",)

    def applies(item: pytest.Item) -> bool:
        return all(item.get_closest_marker(name) is None for name in other)

    keep = [item for item in items if applies(item)]
    dropped = [item for item in items if not applies(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@dataclass
class RunningNode:
    config: Config
    app: web.Application
    runner: web.AppRunner

    @property
    def url(self) -> str:
        return self.config.url

    @property
    def node(self) -> Node:
        node = self.app[NODE].node
        assert node is not None
        return node

    @property
    def actor_id(self) -> str:
        return f"{self.url}/users/{self.config.name}"

    @property
    def acct(self) -> str:
        return f"{self.config.name}@{self.url.split('://', 1)[1]}"

    async def count(self, model: Any, *where: Any) -> int:
        async with self.node.sessions() as session:
            q = select(func.count()).select_from(model)
            if where:
                q = q.where(*where)
            return int((await session.execute(q)).scalar_one())


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


MakeNode = Callable[..., Awaitable[RunningNode]]


@asynccontextmanager
async def node_maker(tmp_path: Path) -> AsyncIterator[MakeNode]:
    """What ``make_node`` yields, for a fixture on another event loop (tests/browser)."""
    running: list[RunningNode] = []

    async def make(
        name: str = "lome",
        role: str = "section",
        *,
        run_workers: bool = True,
        **overrides: Any,
    ) -> RunningNode:
        sock = bound_socket()
        port = sock.getsockname()[1]
        data = tmp_path / f"{name}-{port}"
        config = await init_node(
            data, f"http://127.0.0.1:{port}", name, role, database=await database_url()
        )
        for key, value in overrides.items():
            setattr(config, key, value)
        config.delivery_poll_seconds = min(config.delivery_poll_seconds, 0.1)
        config.save()  # the CLI, run against the same directory, sees the same settings
        app = create_app(config, run_workers=run_workers)
        runner = make_runner(app, config)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        rn = RunningNode(config, app, runner)
        running.append(rn)
        return rn

    try:
        yield make
    finally:
        for rn in reversed(running):
            await rn.runner.cleanup()


@pytest.fixture
async def make_node(tmp_path: Path) -> AsyncIterator[MakeNode]:
    async with node_maker(tmp_path) as make:
        yield make


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        yield session
