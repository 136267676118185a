"""What only the SQLite path needs, loaded only for an SQLite database.

SQLite has one writer at a time and cannot upgrade a stale read snapshot to
a write. Three things make that invisible to the rest of the code: WAL mode
with a busy timeout (the CLI and a running server share the file), a write
transaction that takes the lock before its first read, and, inside one
process, an asyncio lock so that writers queue without sleeping in SQLite's
busy handler. None of it applies to PostgreSQL, where concurrent writers
are the database's job (row locks, ``SKIP LOCKED``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session, SessionTransactionOrigin


def configure_engine(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
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


class SqliteSession(Session):
    """A session whose explicit transactions write-lock first (see below)."""


@event.listens_for(SqliteSession, "after_begin")
def _take_write_lock_first(session: Session, transaction: Any, connection: Any) -> None:
    """An explicit ``session.begin()`` (our convention for a change) takes the
    write lock before its first read.

    A transaction that reads and then writes fails at once with "database is
    locked" if another connection (a worker, the CLI) committed in between:
    SQLite cannot upgrade a stale snapshot, and the busy timeout does not
    apply. A write that touches no row, as the first statement, takes the lock
    (waiting its turn) on a fresh snapshot. Read-only sessions (autobegin) keep
    SQLite's concurrent reads and never block.
    """
    if transaction.origin != SessionTransactionOrigin.BEGIN:
        return
    connection.exec_driver_sql("DELETE FROM alembic_version WHERE 0")


class WriterQueue:
    """One writer at a time in this process: waiting here costs nothing, while
    waiting in SQLite's busy handler sleeps in steps of up to 100 ms.

    An ``urgent`` writer (the inbox's, whose senders wait for their 202)
    goes before writers already waiting (the queue workers' batches), so
    accepting an activity never waits behind more than the batch in
    progress.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._urgent = 0

    @contextlib.asynccontextmanager
    async def turn(self, urgent: bool = False) -> AsyncIterator[None]:
        if urgent:
            self._urgent += 1
            try:
                await self._lock.acquire()
            finally:
                self._urgent -= 1
        else:
            while True:
                await self._lock.acquire()
                if not self._urgent:
                    break
                # An urgent writer is waiting: let it go first.
                self._lock.release()
                await asyncio.sleep(0)
        try:
            yield
        finally:
            self._lock.release()
