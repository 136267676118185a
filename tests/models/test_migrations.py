"""Every table has a migration: the database built by Alembic is exactly the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

import models.all  # noqa: F401
from models.base import Base
from models.migrate import HEAD, head_revision, upgrade


def test_migrations_match_models(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    upgrade(f"sqlite+aiosqlite:///{db}")
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert ctx.get_current_revision() == head_revision()
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    upgrade(url)


def test_head_constant_matches_the_scripts() -> None:
    """Node.open compares the database with HEAD without importing Alembic."""
    assert HEAD == head_revision()


def test_upgrade_keeps_data_across_every_revision(tmp_path: Path) -> None:
    """A node created at the first revision, with rows that other tables reference,
    upgrades to head without losing or orphaning anything (SQLite table rebuilds
    must not drop a referenced table)."""
    import sqlite3

    db = tmp_path / "old.db"
    upgrade(f"sqlite+aiosqlite:///{db}", "0001")
    con = sqlite3.connect(db)
    con.execute(
        "INSERT INTO local_actors (id, username, type, name, summary, private_key_pem,"
        " public_key_pem, is_node, created_at) VALUES (1, 'lome', 'Organization', 'Lomé', '',"
        " 'k', 'p', 1, '2026-01-01 00:00:00')"
    )
    con.execute(
        "INSERT INTO remote_actors (id, uri, type, preferred_username, name, inbox, fetched_at)"
        " VALUES (1, 'https://m.example/users/a', 'Person', 'a', '', 'https://m.example/inbox',"
        " '2026-01-01 00:00:00')"
    )
    con.execute(
        "INSERT INTO followers (local_actor_id, remote_actor_id, follow_uri, created_at)"
        " VALUES (1, 1, 'https://m.example/f/1', '2026-01-01 00:00:00')"
    )
    con.commit()
    con.close()
    upgrade(f"sqlite+aiosqlite:///{db}")
    con = sqlite3.connect(db)
    try:
        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD
        assert con.execute("SELECT count(*) FROM followers").fetchone()[0] == 1
        key = con.execute("SELECT integrity_key_pem FROM local_actors").fetchone()[0]
        assert key and "PRIVATE KEY" in key  # 0002 gave the old actor its Ed25519 key
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        con.close()
