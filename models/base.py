"""Declarative base, column types and the engine factory.

Times are stored as UTC and always come back timezone-aware, whatever the
backend does with them (SQLite keeps no zone), so that comparisons with
``datetime.now(UTC)`` never raise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Table, insert
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime that refuses naive values and returns aware UTC ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _system_clock() -> datetime:
    return datetime.now(UTC)


#: Where every "now" of the domain code comes from. A context variable, so a
#: test (or a simulation) sets it once around the code it drives, including
#: the tasks that code starts, and moves time forward instead of waiting.
CLOCK: ContextVar[Callable[[], datetime]] = ContextVar("coopnet_clock", default=_system_clock)


def utcnow() -> datetime:
    """The current time, from CLOCK (the system clock unless one was set)."""
    return CLOCK.get()()


@contextmanager
def clock(now: Callable[[], datetime]) -> Iterator[None]:
    """Use ``now`` as the clock within the block (and in tasks started there)."""
    token = CLOCK.set(now)
    try:
        yield
    finally:
        CLOCK.reset(token)


def database_errors() -> tuple[type[BaseException], ...]:
    """What failing to reach or use the database raises, whichever the driver.

    SQLAlchemy wraps most driver errors in DBAPIError, but asyncpg's refusals
    at connect time (no such database, no such role, bad password) come
    through as asyncpg's own, and a server that is down as OSError.
    """
    from sqlalchemy.exc import DBAPIError

    errors: tuple[type[BaseException], ...] = (OSError, DBAPIError)
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - a dependency
        return errors
    return (*errors, asyncpg.PostgresError, asyncpg.InterfaceError)


def database_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or was busy, as opposed to a bug.

    A web request that meets this is answered 503 (the caller retries: a
    sender's delivery queue does), not 500: a restarted PostgreSQL or a
    locked SQLite file is an outage of the moment, not a fault of the request.
    """
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - a dependency
        return isinstance(exc, OSError)
    return isinstance(
        exc,
        OSError
        | asyncpg.InterfaceError
        | asyncpg.CannotConnectNowError
        | asyncpg.ConnectionDoesNotExistError,
    )


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for a node's database URL (SQLite or PostgreSQL).

    SQLite's own machinery (WAL, busy timeout, write-first transactions)
    lives in models/sqlite.py and is loaded only for an SQLite URL.
    """
    if url.startswith("postgresql"):
        # No pre-ping: it cost a round trip or more on every checkout (a
        # third of the statements of a busy inbox). After a database restart
        # the first statement on a dead connection fails, SQLAlchemy then
        # drops every pooled connection at once, and that one request or
        # batch is retried (senders retry a 5xx; workers retry their batch).
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        from models import sqlite

        sqlite.configure_engine(engine)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    if engine.dialect.name == "sqlite":
        from models.sqlite import SqliteSession

        return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=SqliteSession)
    return async_sessionmaker(engine, expire_on_commit=False)


def insert_or_skip(session: AsyncSession, table: Table, key: str) -> Any:
    """INSERT that skips a row whose ``key`` is already stored (another worker may
    store the same remote object at the same moment) and returns the new row's id.

    Built the same way every time and given its values as parameters, so
    SQLAlchemy compiles it once (SQLite's ``OR IGNORE`` form is cached; its
    ``ON CONFLICT`` form is not).
    """
    if session.bind.dialect.name == "postgresql":
        return (
            postgresql.insert(table)
            .on_conflict_do_nothing(index_elements=[key])
            .returning(table.c.id)
        )
    return insert(table).prefix_with("OR IGNORE").returning(table.c.id)
