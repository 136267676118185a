"""Every table has a migration: the database built by Alembic is exactly the models.

On the backend under test: a file on SQLite, an empty database on PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

import models.all  # noqa: F401
from models.base import Base
from models.migrate import HEAD, alembic_config, head_revision, upgrade
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


@pytest.mark.sqlite_only  # the data-moving SQL is checked on SQLite; PG runs the same upgrade
def test_refusals_stored_as_code_and_message_are_split(tmp_path: Path) -> None:
    """Before 0006 a refusal kept "code: message" in ``reason``; the migration moves the
    code to ``reason_code`` and leaves the message. A member's words on a local
    exchange, and text that does not start with a code sections send, stay whole."""
    import sqlite3

    from alembic import command

    db = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{db}"
    upgrade(url, "0005")
    limit = "'bob' would go above its limit of 20 h (balance 19.5 h)"
    rows = {
        # uri: (role, state, reason as written before 0006)
        "r-limit": ("responder", "refused", f"limit: {limit}"),
        "r-member": ("responder", "refused", "unknown_member: no member 'zoé' in this section"),
        "r-peer": (
            "responder",
            "refused",
            "not_peer: this section does not exchange with yours (not a SEL peer)",
        ),
        "r-bad": ("responder", "refused", "amount: the amount 'x: 1' is not a positive number"),
        "o-amount": ("origin", "rejected", "amount: the amount must be between 1 and 60000"),
        "o-expired": ("origin", "expired", "expired: the agreement expired before it was decided"),
        "o-expired-words": ("origin", "expired", "too late, sorry"),
        "o-other": ("origin", "rejected", "busy: not today"),
        "o-nospace": ("origin", "rejected", "limit:no space"),
        "l-rejected": ("local", "rejected", "limit: I never had the lesson"),
        "l-confirmed": ("local", "confirmed", None),
        "r-committed": ("responder", "committed", None),
    }
    con = sqlite3.connect(db)
    for n, (uri, (role, state, reason)) in enumerate(rows.items()):
        con.execute(
            "INSERT INTO sel_exchanges (uuid, uri, role, state, amount, description, category,"
            " performed_on, recorded_by, created_at, reason) VALUES (?, ?, ?, ?, 60, '',"
            " 'other', '2026-01-01', 'payer', '2026-01-01 00:00:00', ?)",
            (f"u{n}", uri, role, state, reason),
        )
    con.commit()
    con.close()

    def stored() -> dict[str, tuple[str | None, str | None]]:
        con = sqlite3.connect(db)
        try:
            query = "SELECT uri, reason_code, reason FROM sel_exchanges"
            return {uri: (code, reason) for uri, code, reason in con.execute(query)}
        finally:
            con.close()

    upgrade(url)
    assert stored() == {
        "r-limit": ("limit", limit),
        "r-member": ("unknown_member", "no member 'zoé' in this section"),
        "r-peer": ("not_peer", "this section does not exchange with yours (not a SEL peer)"),
        "r-bad": ("amount", "the amount 'x: 1' is not a positive number"),
        "o-amount": ("amount", "the amount must be between 1 and 60000"),
        "o-expired": ("expired", "the agreement expired before it was decided"),
        # The origin marks an exchange expired only on a Reject whose reason was "expired".
        "o-expired-words": ("expired", "too late, sorry"),
        "o-other": (None, "busy: not today"),
        "o-nospace": (None, "limit:no space"),
        "l-rejected": (None, "limit: I never had the lesson"),
        "l-confirmed": (None, None),
        "r-committed": (None, None),
    }

    # Downgrading puts the code back in front of the message.
    command.downgrade(alembic_config(url), "0005")
    con = sqlite3.connect(db)
    try:
        before = dict(con.execute("SELECT uri, reason FROM sel_exchanges").fetchall())
    finally:
        con.close()
    assert before == {uri: reason for uri, (_, _, reason) in rows.items()} | {
        "o-expired-words": "expired: too late, sorry"
    }
