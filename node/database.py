"""Moving a node's data: SQLite to PostgreSQL, backups, restores.

Everything a node is lives in its database (keys, followers, queues in
flight, the ledger) and its ``coopnet.toml``. A backup is one tar archive
holding both: the config, and either an SQLite copy made with SQLite's
online backup (consistent while the node runs) or a ``pg_dump`` archive in
its custom format (so ``pg_restore`` can also read it by hand). A restore
rebuilds a data directory from it and never overwrites a node.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

import models.all  # noqa: F401  (every table on the metadata)
from models import migrate
from models.base import Base, database_errors, is_sqlite, make_engine
from node.actions import ActionError
from node.config import CONFIG_NAME, DB_NAME, Config, database_url, load_config

log = logging.getLogger("coopnet.database")

SQLITE_MEMBER = DB_NAME
PG_MEMBER = "coopnet.pgdump"
CHUNK = 1000


@dataclass
class CopyReport:
    tables: dict[str, int]
    target: str


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(False)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def _schema_of(conn: AsyncConnection) -> tuple[str | None, str | None]:
    revision = await conn.run_sync(migrate.current_revision_sync)
    holder = await conn.run_sync(migrate.node_actor_sync) if revision else None
    return revision, holder


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name != "alembic_version"]


async def copy_database(config: Config, target: str) -> CopyReport:
    """Copy every row of the node's database into an empty one, then point the config at it.

    The node must be stopped: on SQLite the copy holds the write lock, so
    a running node would wait (and its requests fail) until it is done.
    The target is brought to the schema's head first; row counts are
    compared table by table before the config changes.
    """
    target = database_url(target)
    if target == config.database_url:
        raise ActionError("the target is the node's own database")
    source_engine = make_engine(config.database_url)
    target_engine = make_engine(target)
    counts: dict[str, int] = {}
    try:
        async with source_engine.connect() as src:
            revision, holder = await _schema_of(src)
            if revision != migrate.HEAD:
                raise ActionError(
                    f"the node's schema is at {revision}, not {migrate.HEAD}: run coopnet "
                    "migrate first"
                )
            try:
                async with target_engine.connect() as dst:
                    _, other = await _schema_of(dst)
            except database_errors() as exc:
                raise ActionError(f"cannot use {_shown(target)}: {exc}") from exc
            if other is not None:
                raise ActionError(
                    f"{_shown(target)} already holds a coopnet node (@{other}); give an empty "
                    "database. Nothing was changed."
                )
            await migrate.upgrade_async(target)
            await src.rollback()  # a fresh transaction for the copy
            if src.dialect.name == "sqlite":
                # Taking the write lock first: a consistent snapshot, and no
                # writer while we copy (as models/sqlite.py does for writes).
                await src.execute(text("DELETE FROM alembic_version WHERE 0"))
            else:
                await src.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            async with target_engine.begin() as dst:
                for table in _tables():
                    counts[table.name] = await _copy_table(src, dst, table)
                if dst.dialect.name == "postgresql":
                    await _reset_sequences(dst)
                for table in _tables():
                    got = (await dst.execute(select(func.count()).select_from(table))).scalar()
                    if got != counts[table.name]:
                        raise ActionError(
                            f"{table.name}: {got} rows arrived of {counts[table.name]}; the "
                            "copy was rolled back and the node still uses its old database"
                        )
            await src.rollback()
    finally:
        await source_engine.dispose()
        await target_engine.dispose()
    log.info("copied %d rows of %s (@%s)", sum(counts.values()), config.data_dir, holder)
    config.database_url = target
    config.save()
    return CopyReport(counts, _shown(target))


async def _copy_table(src: AsyncConnection, dst: AsyncConnection, table: Table) -> int:
    copied = 0
    key = list(table.primary_key.columns)
    result = await src.stream(select(table).order_by(*key))
    async for rows in result.mappings().partitions(CHUNK):
        await dst.execute(insert(table), [dict(r) for r in rows])
        copied += len(rows)
    return copied


async def _reset_sequences(dst: AsyncConnection) -> None:
    """Rows were inserted with their ids: each id sequence must continue after them."""
    for table in _tables():
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        await dst.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            ),
            {"t": table.name},
        )


# ------------------------------------------------------------------------------ backup


def _sqlite_backup(db_file: Path, into: Path) -> None:
    """SQLite's online backup: a consistent copy even while the node writes."""
    source = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(into)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _run(argv: list[str], what: str) -> None:
    tool = shutil.which(argv[0])
    if tool is None:
        raise ActionError(
            f"{argv[0]} is not installed; it is needed to {what} (apt-get install "
            "postgresql-client)"
        )
    proc = subprocess.run([tool, *argv[1:]], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ActionError(f"{argv[0]} failed to {what}: {proc.stderr.strip()[-2000:]}")


def _check_out(out: Path) -> None:
    if out.exists():
        raise ActionError(f"{out} exists; choose another file name (nothing was written)")
    if not out.parent.is_dir():
        raise ActionError(f"{out.parent} is not a directory")


def _write_archive(config: Config, member: Path, partial: Path) -> None:
    fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
        tar.add(config.data_dir / CONFIG_NAME, arcname=CONFIG_NAME)
        tar.add(member, arcname=member.name)


async def backup(config: Config, out: Path) -> Path:
    """One archive with the config and the database; written beside ``out``, then renamed."""
    await asyncio.to_thread(_check_out, out)
    db_file = config.data_dir / DB_NAME
    with tempfile.TemporaryDirectory(prefix="coopnet-backup-", dir=out.parent) as tmp:
        work = Path(tmp)
        if is_sqlite(config.database_url):
            if not await asyncio.to_thread(db_file.is_file):
                raise ActionError(f"{db_file} is missing: nothing to back up")
            member = work / SQLITE_MEMBER
            await asyncio.to_thread(_sqlite_backup, db_file, member)
        else:
            member = work / PG_MEMBER
            await asyncio.to_thread(
                _run,
                ["pg_dump", "--format=custom", "--no-owner", "--no-acl",
                 f"--file={member}", _libpq_url(config.database_url)],
                "back up the database",
            )  # fmt: skip
        partial = work / "archive.tar"
        await asyncio.to_thread(_write_archive, config, member, partial)
        await asyncio.to_thread(partial.replace, out)
    return out


def _unpack(data_dir: Path, archive: Path, work: Path) -> set[str]:
    """Check and extract a backup into ``work``; place its config in a new ``data_dir``."""
    if (data_dir / CONFIG_NAME).exists() or (data_dir / DB_NAME).exists():
        raise ActionError(
            f"{data_dir} already holds a node; restore into a new directory (nothing was changed)"
        )
    try:
        tar = tarfile.open(archive, mode="r")
    except (OSError, tarfile.TarError) as exc:
        raise ActionError(f"{archive} is not a coopnet backup: {exc}") from exc
    with tar:
        names = set(tar.getnames())
        if CONFIG_NAME not in names or not names & {SQLITE_MEMBER, PG_MEMBER}:
            raise ActionError(f"{archive} is not a coopnet backup (no {CONFIG_NAME} or database)")
        for name in names & {CONFIG_NAME, SQLITE_MEMBER, PG_MEMBER}:
            member = tar.getmember(name)
            source = tar.extractfile(member) if member.isfile() else None
            if source is None:
                raise ActionError(f"{archive}: {name} is not a file")
            with source, open(work / name, "wb") as dest:
                shutil.copyfileobj(source, dest)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    fd = os.open(data_dir / CONFIG_NAME, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as dest, open(work / CONFIG_NAME, "rb") as src:
        shutil.copyfileobj(src, dest)
    return names


def _place_sqlite(work: Path, target: Path) -> None:
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as dest, open(work / SQLITE_MEMBER, "rb") as src:
        shutil.copyfileobj(src, dest)


async def restore(data_dir: Path, archive: Path, database: str | None = None) -> Config:
    """Rebuild a data directory from a backup; refuses to overwrite anything.

    ``database``: restore a PostgreSQL backup into this (empty) database
    instead of the one its config names, e.g. on a new server.
    """
    with tempfile.TemporaryDirectory(prefix="coopnet-restore-") as tmp:
        work = Path(tmp)
        names = await asyncio.to_thread(_unpack, data_dir, archive, work)
        try:
            config = _relocated(load_config(data_dir), data_dir, database)
            if SQLITE_MEMBER in names:
                if not is_sqlite(config.database_url):
                    raise ActionError(
                        "this backup holds an SQLite database; --database is for PostgreSQL backups"
                    )
                await asyncio.to_thread(_place_sqlite, work, data_dir / DB_NAME)
            else:
                await _restore_postgresql(config, work / PG_MEMBER)
        except BaseException:
            # Nothing half-restored stays behind (the directory held no node before).
            for leftover in (CONFIG_NAME, DB_NAME):
                (data_dir / leftover).unlink(missing_ok=True)
            raise
    config.save()
    return config


def _relocated(config: Config, data_dir: Path, database: str | None) -> Config:
    """The restored config, pointing at this directory (and database, if given)."""
    if database:
        config.database_url = database_url(database)
    elif is_sqlite(config.database_url):
        config.database_url = f"sqlite+aiosqlite:///{data_dir / DB_NAME}"
    config.data_dir = data_dir
    return config


async def _restore_postgresql(config: Config, dump: Path) -> None:
    engine = make_engine(config.database_url)
    try:
        async with engine.connect() as conn:
            revision, holder = await _schema_of(conn)
    except database_errors() as exc:
        raise ActionError(f"cannot use {_shown(config.database_url)}: {exc}") from exc
    finally:
        await engine.dispose()
    if revision is not None:
        raise ActionError(
            f"{_shown(config.database_url)} is not empty"
            + (f" (it holds @{holder})" if holder else "")
            + "; restore into an empty database (--database URL)"
        )
    await asyncio.to_thread(
        _run,
        ["pg_restore", "--no-owner", "--no-acl", "--exit-on-error",
         f"--dbname={_libpq_url(config.database_url)}", str(dump)],
        "restore the database",
    )  # fmt: skip
