"""Declarative base, column types and the engine factory.

Times are stored as UTC and always come back timezone-aware, whatever the
backend does with them (SQLite keeps no zone), so that comparisons with
``datetime.now(UTC)`` never raise.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransactionOrigin
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


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; for SQLite, WAL and a busy timeout so that the CLI and
    a running server can write to the same file without 'database is locked'."""
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # SQLAlchemy emits BEGIN (below), so the driver must not.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

    return engine


@event.listens_for(Session, "after_begin")
def _take_write_lock_first(session: Session, transaction: Any, connection: Any) -> None:
    """On SQLite, an explicit ``session.begin()`` (our convention for a change)
    takes the write lock before its first read.

    A transaction that reads and then writes fails at once with "database is
    locked" if another connection (a worker, the CLI) committed in between:
    SQLite cannot upgrade a stale snapshot, and the busy timeout does not
    apply. A write that touches no row, as the first statement, takes the lock
    (waiting its turn) on a fresh snapshot. Read-only sessions (autobegin) keep
    SQLite's concurrent reads and never block.
    """
    if connection.dialect.name != "sqlite" or transaction.origin != SessionTransactionOrigin.BEGIN:
        return
    connection.exec_driver_sql("DELETE FROM alembic_version WHERE 0")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
