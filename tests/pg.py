"""A throw-away PostgreSQL server for the tests, started from the machine's binaries.

``./dev test`` runs the suite twice, the second time with
``COOPNET_TEST_DB=postgresql``; then every node the tests create gets a
database of its own on one server per test process (xdist worker), cloned
from a template already migrated to head. The server runs from a temporary
directory with fsync off (it is thrown away) and is stopped at exit;
``Server(durable=True)`` keeps PostgreSQL's own durability defaults instead
(the benchmarks use it, so that their commits cost what they cost in production).

PostgreSQL refuses to run as root: when the tests run as root (CI does),
the server runs as the machine's ``postgres`` user through ``runuser``.
Under ``CI=true`` a missing PostgreSQL is a failure, never a skip.
"""

from __future__ import annotations

import atexit
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import asyncpg

BACKEND = os.environ.get("COOPNET_TEST_DB", "sqlite")
USER = "coopnet"
TEMPLATE = "coopnet_template"


def on_postgresql() -> bool:
    return BACKEND == "postgresql"


def _bin_dir() -> Path:
    """The machine's PostgreSQL, else the one the pgserver package carries."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if versions:
        return versions[-1].parent
    try:
        import pgserver  # type: ignore[import-untyped]
    except ImportError:
        pass
    else:
        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin"
        if (bundled / "pg_ctl").exists():
            return bundled
    raise RuntimeError(
        "no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql, "
        "or pip install pgserver"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, *, durable: bool = False) -> None:
        #: fsync, synchronous_commit and full_page_writes as PostgreSQL ships them
        #: (on) rather than off as the tests want them.
        self.durable = durable
        self.bin = _bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="coopnet-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._names = itertools.count(1)

    def _run(self, *argv: str) -> None:
        proc = subprocess.run(
            [*self.as_user, *argv], capture_output=True, text=True, timeout=120, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{proc.stdout}\n{proc.stderr}")

    def start(self) -> None:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "--auth=trust",
            "--no-sync", "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c max_connections=300"
        )
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.root / "log"), "-w", "start",
        )  # fmt: skip
        atexit.register(self.stop)

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run(
                [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m",
                 "immediate", "stop"],
                capture_output=True, timeout=60, check=False,
            )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://{USER}@127.0.0.1:{self.port}/{database}"

    async def admin(self, *statements: str) -> None:
        conn = await asyncpg.connect(self.url("postgres", "postgresql"))
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def new_database(self, template: str | None = TEMPLATE) -> str:
        """A fresh empty database (or a clone of the migrated template): its URL."""
        name = f"node_{os.getpid()}_{next(self._names)}"
        clause = f" TEMPLATE {template}" if template else ""
        await self.admin(f"CREATE DATABASE {name}{clause}")
        return self.url(name)


_server: Server | None = None


async def server() -> Server:
    """This process's server, started (and its template migrated) on first use."""
    global _server
    if _server is None:
        from models.migrate import upgrade_async

        started = Server()
        started.start()
        await started.admin(f"CREATE DATABASE {TEMPLATE}")
        await upgrade_async(started.url(TEMPLATE))
        _server = started
    return _server


async def database_url() -> str | None:
    """A fresh database at head for one node on the backend under test; None on SQLite."""
    if not on_postgresql():
        return None
    return await (await server()).new_database()
