"""Every table has a migration: the database built by Alembic is exactly the models.

On the backend under test: a file on SQLite, an empty database on PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

import models.all  # noqa: F401
from models.base import Base
from models.migrate import HEAD, head_revision, upgrade
from tests import dbtools


def empty_database(tmp_path: Path) -> str:
    """The URL of a database with nothing in it, on the backend under test."""
    url = dbtools.blocking(dbtools.database_for_init(empty=True))
    return url or f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"


async def revision_and_diff(url: str) -> tuple[str | None, list[Any]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn: Any) -> tuple[str | None, list[Any]]:
                ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return ctx.get_current_revision(), compare_metadata(ctx, Base.metadata)

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


def test_migrations_match_models(tmp_path: Path) -> None:
    url = empty_database(tmp_path)
    upgrade(url)
    revision, diff = dbtools.blocking(revision_and_diff(url))
    assert revision == head_revision()
    assert diff == []


def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    url = empty_database(tmp_path)
    upgrade(url)
    upgrade(url)
    assert dbtools.rows(url, "SELECT version_num FROM alembic_version") == [(HEAD,)]


def test_head_constant_matches_the_scripts() -> None:
    """Node.open compares the database with HEAD without importing Alembic."""
    assert HEAD == head_revision()


def test_upgrade_keeps_data_across_every_revision(tmp_path: Path) -> None:
    """A node created at the first revision, with rows that other tables reference,
    upgrades to head without losing or orphaning anything (SQLite table rebuilds
    must not drop a referenced table)."""
    url = empty_database(tmp_path)
    upgrade(url, "0001")
    for statement in (
        "INSERT INTO local_actors (id, username, type, name, summary, private_key_pem,"
        " public_key_pem, is_node, created_at) VALUES (1, 'lome', 'Organization', 'Lomé', '',"
        " 'k', 'p', TRUE, '2026-01-01 00:00:00')",
        "INSERT INTO remote_actors (id, uri, type, preferred_username, name, inbox, fetched_at)"
        " VALUES (1, 'https://m.example/users/a', 'Person', 'a', '', 'https://m.example/inbox',"
        " '2026-01-01 00:00:00')",
        "INSERT INTO followers (local_actor_id, remote_actor_id, follow_uri, created_at)"
        " VALUES (1, 1, 'https://m.example/f/1', '2026-01-01 00:00:00')",
    ):
        assert dbtools.execute(url, statement) == 1
    upgrade(url)
    assert dbtools.rows(url, "SELECT version_num FROM alembic_version") == [(HEAD,)]
    assert dbtools.rows(url, "SELECT count(*) FROM followers") == [(1,)]
    ((key,),) = dbtools.rows(url, "SELECT integrity_key_pem FROM local_actors")
    assert key and "PRIVATE KEY" in key  # 0002 gave the old actor its Ed25519 key
    if dbtools.is_sqlite_url(url):
        assert dbtools.rows(url, "PRAGMA foreign_key_check") == []
    else:
        # PostgreSQL enforces foreign keys itself: they must still be there.
        keys = dbtools.rows(
            url,
            "SELECT confrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = 'followers'::regclass ORDER BY 1",
        )
        assert keys == [("local_actors",), ("remote_actors",)], keys
