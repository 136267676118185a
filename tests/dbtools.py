"""SQL on a node's own database, whichever backend it is configured with.

Tests that look at (or tamper with) the database directly, rather than
through the product's models, go through here: given a data directory, the
statement runs on the database named by the node's ``coopnet.toml`` (SQLite
file or PostgreSQL), with SQLAlchemy's ``text()``. Statements may keep the
``?`` placeholders of the ``sqlite3`` module; a ``datetime`` parameter is
stored as the product stores it on each backend.

Every query runs on one event loop of its own, in a background thread, with
one engine per database (the last few are kept; SQLite is never pooled, so
no connection stays open on a file between two calls). So the same helpers
serve sync tests (``rows``), async tests (``await arows``), and sync code
called from inside a running loop (a polling predicate), which blocks the
loop for the query as the ``sqlite3`` module did.

``init_database_args`` gives the extra ``coopnet init`` arguments that put a
new node on the backend under test: ``--database URL`` of a fresh database
on PostgreSQL, nothing on SQLite.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Coroutine, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from node.config import load_config
from tests import pg

T = TypeVar("T")

#: A data directory (its configured database) or a database URL.
Target = Path | str

#: How the product's SQLite DateTime columns hold a moment (naive UTC).
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
#: Engines kept open (PostgreSQL: each holds a connection or two).
KEEP_ENGINES = 6


def url_of(target: Target) -> str:
    """The SQLAlchemy URL of a data directory's database (or the URL given)."""
    if isinstance(target, Path):
        return load_config(target).database_url
    return target


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_file(target: Target) -> Path | None:
    """The database file of an SQLite node; None on PostgreSQL."""
    url = url_of(target)
    prefix = "sqlite+aiosqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) else None


# ----------------------------------------------------------------------------- the loop


class _Portal:
    """An event loop in a daemon thread, and the engines opened on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="dbtools", daemon=True)
        self.thread.start()
        self.engines: OrderedDict[str, AsyncEngine] = OrderedDict()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError("tests.dbtools called from its own loop")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    async def engine(self, url: str) -> AsyncEngine:
        engine = self.engines.pop(url, None)
        if engine is None:
            # (Re)registered after the database's server started (tests/pg.py registers
            # its stop then): at exit the connections close while the server answers.
            atexit.unregister(self.close)
            atexit.register(self.close)
            if is_sqlite_url(url):
                engine = create_async_engine(url, poolclass=NullPool, connect_args={"timeout": 10})
            else:
                # No statement cache: a test may change the schema (migrations)
                # under a pooled connection.
                engine = create_async_engine(
                    url,
                    pool_size=1,
                    max_overflow=2,
                    connect_args={"statement_cache_size": 0, "prepared_statement_cache_size": 0},
                )
        self.engines[url] = engine
        while len(self.engines) > KEEP_ENGINES:
            _, old = self.engines.popitem(last=False)
            await old.dispose()
        return engine

    async def forget(self, url: str) -> None:
        engine = self.engines.pop(url, None)
        if engine is not None:
            await engine.dispose()

    async def _dispose_all(self) -> None:
        while self.engines:
            _, engine = self.engines.popitem()
            await engine.dispose()

    def close(self) -> None:
        if not self.thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._dispose_all(), self.loop).result(10)
        except Exception:  # at exit, the server may already be gone
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()


_portal: _Portal | None = None
_portal_lock = threading.Lock()


def _the_portal() -> _Portal:
    global _portal
    with _portal_lock:
        if _portal is None:
            _portal = _Portal()
        return _portal


def blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the helpers' loop and wait for it (from sync code, loop or not)."""
    return _the_portal().submit(coro).result()


async def on_portal(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the helpers' loop without blocking the caller's loop."""
    return await asyncio.wrap_future(_the_portal().submit(coro))


# ----------------------------------------------------------------------------- statements


class Row(tuple[Any, ...]):
    """A result row: a tuple (compares equal to one) that also answers ``row["column"]``
    and ``dict(row)``, as ``sqlite3.Row`` does."""

    _keys: tuple[str, ...]

    def __new__(cls, values: Iterable[Any], keys: Sequence[str]) -> Row:
        row = super().__new__(cls, values)
        row._keys = tuple(keys)
        return row

    def keys(self) -> tuple[str, ...]:
        return self._keys

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._keys.index(key))
            except ValueError:
                raise KeyError(key) from None
        return tuple.__getitem__(self, key)


_QUOTED_OR_MARK = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?|:")


def _statement(sql: str, params: Sequence[Any], sqlite: bool) -> tuple[Any, dict[str, Any]]:
    """``text()`` of ``sql`` with its ``?`` marks bound to ``params`` (colons left as they are)."""
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            names.append(f"p{len(names)}")
            return f":{names[-1]}"
        if token == ":":
            return r"\:"
        return token.replace(":", r"\:")

    converted = _QUOTED_OR_MARK.sub(replace, sql)
    if len(names) != len(params):
        raise ValueError(f"{len(names)} placeholders, {len(params)} parameters: {sql}")
    return text(converted), {n: _param(v, sqlite) for n, v in zip(names, params, strict=True)}


def _param(value: Any, sqlite: bool) -> Any:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        if sqlite:
            return moment.astimezone(UTC).replace(tzinfo=None).strftime(SQLITE_TIME)
        return moment
    return value


async def _run(url: str, sql: str, params: Sequence[Any], write: bool) -> tuple[list[Row], int]:
    engine = await _the_portal().engine(url)
    statement, bound = _statement(sql, params, is_sqlite_url(url))
    async with engine.begin() if write else engine.connect() as conn:
        result = await conn.execute(statement, bound)
        if result.returns_rows:
            keys = list(result.keys())
            return [Row(r, keys) for r in result.fetchall()], result.rowcount
        return [], result.rowcount


async def arows(target: Target, sql: str, *params: Any) -> list[Row]:
    """The rows a query returns (read only)."""
    return (await on_portal(_run(url_of(target), sql, params, write=False)))[0]


async def aexecute(target: Target, sql: str, *params: Any) -> int:
    """Run a statement in a transaction of its own, committed: the rows it changed."""
    return (await on_portal(_run(url_of(target), sql, params, write=True)))[1]


def rows(target: Target, sql: str, *params: Any) -> list[Row]:
    return blocking(_run(url_of(target), sql, params, write=False))[0]


def execute(target: Target, sql: str, *params: Any) -> int:
    return blocking(_run(url_of(target), sql, params, write=True))[1]


def forget(target: Target) -> None:
    """Close this module's connections to a database (before dropping it)."""
    blocking(_the_portal().forget(url_of(target)))


# ----------------------------------------------------------------------------- dump

_PG_SCHEMA = {
    "column": """
        SELECT table_name, column_name, data_type, is_nullable, column_default
        FROM information_schema.columns WHERE table_schema = 'public'
    """,
    "index": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "constraint": """
        SELECT t.relname, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'
    """,
    "trigger": """
        SELECT t.relname, g.tgname, pg_get_triggerdef(g.oid)
        FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = 'public' AND NOT g.tgisinternal
    """,
}


async def _dump(url: str, tables: Sequence[str] | None) -> list[str]:
    engine = await _the_portal().engine(url)
    lines: list[str] = []
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: sorted(inspect(c).get_table_names()))
        wanted = [n for n in names if tables is None or n in tables]
        # The schema: what CREATE statements would say.
        if is_sqlite_url(url):
            schema = await conn.execute(
                text("SELECT tbl_name, type, name, sql FROM sqlite_master WHERE tbl_name != ''")
            )
            lines += [f"{r[0]}\tschema\t{tuple(r[1:])!r}" for r in schema]
        else:
            for kind, query in _PG_SCHEMA.items():
                result = await conn.execute(text(query))
                lines += [f"{r[0]}\t{kind}\t{tuple(r[1:])!r}" for r in result]
        if tables is not None:
            lines = [line for line in lines if line.split("\t", 1)[0] in tables]
        # Every row of every table.
        for name in wanted:
            quoted = conn.dialect.identifier_preparer.quote(name)
            result = await conn.execute(text(f"SELECT * FROM {quoted}"))
            lines += [f"{name}\trow\t{tuple(r)!r}" for r in result]
    return sorted(lines)


async def adump(target: Target, tables: Sequence[str] | None = None) -> list[str]:
    """The schema and every row of every table (or of ``tables``), as sorted lines:
    equal dumps mean an unchanged database."""
    return await on_portal(_dump(url_of(target), tables))


def dump(target: Target, tables: Sequence[str] | None = None) -> list[str]:
    return blocking(_dump(url_of(target), tables))


def file_digest(target: Target) -> str | None:
    """SQLite: the database file's SHA-256 (a byte-for-byte check); None on PostgreSQL."""
    path = sqlite_file(target)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path else None


# ----------------------------------------------------------------------------- new nodes


async def database_for_init(*, empty: bool = False) -> str | None:
    """A database for a new node on the backend under test (None on SQLite): a clone of
    the template at head, or with ``empty`` a database with nothing in it at all."""
    if not pg.on_postgresql():
        return None
    server = await pg.server()
    return await server.new_database(template=None if empty else pg.TEMPLATE)


async def ainit_database_args(*, empty: bool = False) -> list[str]:
    """The arguments that put ``coopnet init``'s node on the backend under test."""
    url = await database_for_init(empty=empty)
    return ["--database", url] if url else []


def init_database_args(*, empty: bool = False) -> list[str]:
    """``ainit_database_args`` for sync code."""
    if not pg.on_postgresql():
        return []
    return blocking(ainit_database_args(empty=empty))
