"""Schema migrations (Alembic), callable from the CLI and from tests.

Every table has a migration from the first one on; ``upgrade`` brings any
database to head. Alembic's env runs its own event loop, so when we are
already inside one (tests, a running server) it runs on a worker thread.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
#: The newest revision; a test checks it against Alembic's own view of the
#: scripts. Known here so that opening a node does not import Alembic (10 MB).
HEAD = "0021"


def alembic_config(db_url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db_url)
    return cfg


def upgrade(db_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(db_url), revision)


async def upgrade_async(db_url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, db_url, revision)


def head_revision() -> str | None:
    """Alembic's head, read from the scripts (slow; the app uses HEAD)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision_sync(connection: Any) -> str | None:
    """The revision stamped in the database, or None for an empty one."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row else None


def node_actor_sync(connection: Any) -> str | None:
    """The username of the node actor a database holds, if any."""
    if not inspect(connection).has_table("local_actors"):
        return None
    row = connection.execute(
        text("SELECT username FROM local_actors WHERE is_node ORDER BY id LIMIT 1")
    ).first()
    return str(row[0]) if row else None
