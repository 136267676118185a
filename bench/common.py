"""Shared plumbing: setups, figures, node processes, readiness, CPU clocks, database polls.

A setup is one way of running the node (see SETUPS): `sqlite`, one
`python -m node serve --data DIR` process doing both web and queue work;
`postgresql-N`, the node on PostgreSQL as one `serve --no-workers` web
process plus N `python -m node worker` processes. Every phase runs each
selected setup in turn; the PostgreSQL setups share one throw-away server
(tests/pg.py, with PostgreSQL's default durability), each node with a
fresh database of its own.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

if TYPE_CHECKING:
    from tests.pg import Server as PgServer

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LOOPBACK = "127.0.0.1"


class BenchError(Exception):
    """The run cannot give an honest figure (a check failed, a server died)."""


def note(message: str) -> None:
    """Diagnostics go to stderr, so stdout holds exactly one line per figure."""
    print(f"# {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Setup:
    """How the node under test runs; `workers` = 0: the serve process runs the queue workers."""

    name: str
    workers: int
    description: str

    @property
    def postgresql(self) -> bool:
        return self.workers > 0


SETUPS = (
    Setup("sqlite", 0, "SQLite file; one `serve` process: web and queue workers"),
    Setup(
        "postgresql-1",
        1,
        "PostgreSQL; one `serve --no-workers` web process and one `worker` process",
    ),
    Setup(
        "postgresql-2",
        2,
        "PostgreSQL; one `serve --no-workers` web process and two `worker` processes",
    ),
)


@dataclass
class Figures:
    """Run-wide figures (measured once: no node involved) and figures per setup."""

    run_wide: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_setup: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def add(
        self, name: str, value: float, unit: str, digits: int = 1, setup: Setup | None = None
    ) -> float:
        """Record a figure and print it: `name: value unit`, or `setup name: value unit`."""
        value = round(float(value), digits)
        figure = {"value": value, "unit": unit}
        if setup is None:
            self.run_wide[name] = figure
            label = name
        else:
            self.by_setup.setdefault(setup.name, {})[name] = figure
            label = f"{setup.name} {name}"
        print(f"{label}: {value:g} {unit}", flush=True)
        return value


def free_port() -> int:
    """A port free right now on loopback (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


class Server:
    """A server in its own process; its output goes to a log file, never to a pipe
    (a pipe nobody drains would eventually block the server)."""

    def __init__(self, name: str, args: Sequence[str], log: Path, kind: str = "") -> None:
        self.name = name
        self.args = list(args)
        self.log = log
        #: For a node's processes: "web" or "worker" (what CPU and memory are reported by).
        self.kind = kind
        self.proc: subprocess.Popen[bytes] | None = None
        self.terminated = False

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> Server:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env
            )
        return self

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise BenchError(f"{self.name} exited with code {self.proc.returncode}:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.text().splitlines()[-lines:])

    def text(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 20.0) -> None:
        self.terminate()
        self.wait_stopped(timeout)

    def terminate(self) -> None:
        """SIGTERM (once): the node finishes what it has in hand and exits."""
        if self.proc is not None and self.proc.poll() is None and not self.terminated:
            self.proc.send_signal(signal.SIGTERM)
            self.terminated = True

    def wait_stopped(self, timeout: float = 20.0) -> None:
        proc, self.proc = self.proc, None
        self.terminated = False
        if proc is None or proc.poll() is not None:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            note(f"{self.name} did not stop within {timeout:.0f}s; killing it")
            proc.kill()
            proc.wait(5)


async def wait_http(
    url: str, server: Server, within: float = 30.0, headers: dict[str, str] | None = None
) -> None:
    """Until `url` answers 200, or fail early if the server process died."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while True:
            server.check_alive()
            try:
                async with session.get(url, headers=headers) as resp:
                    if resp.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"{server.name} not answering {url} after {within:.0f}s")
            await asyncio.sleep(0.05)


async def wait_until(
    what: str,
    probe: Callable[[], Awaitable[bool]],
    within: float,
    servers: Iterable[Server] = (),
    interval: float = 0.01,
) -> float:
    """Poll `probe` until true; returns time.time() at the first true poll."""
    deadline = time.monotonic() + within
    while True:
        if await probe():
            return time.time()
        for server in servers:
            server.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(interval)


async def wait_log(server: Server, text: str, within: float = 30.0) -> None:
    """Until `text` appears in the server's log (it says it is ready)."""
    deadline = time.monotonic() + within
    while text not in server.text():
        server.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(f"{server.name}: no {text!r} in its log after {within:.0f}s")
        await asyncio.sleep(0.05)


class NodeDb(abc.ABC):
    """The benchmark's read-only view of a node's database, for polls and final checks.

    `open_db` picks the implementation from the node's database URL. Only
    plain counting SQL (no parameters) that both SQLite and PostgreSQL accept.
    """

    @abc.abstractmethod
    async def scalar(self, sql: str) -> int: ...

    @abc.abstractmethod
    async def counts(self, table: str, column: str = "state") -> Counter[str]: ...

    @abc.abstractmethod
    async def close(self) -> None: ...


class SqliteDb(NodeDb):
    """The node's SQLite file, opened read-only (WAL lets it read while the node
    writes, without taking any lock the node waits on). Reads are quick local
    calls, made in this thread."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)

    async def scalar(self, sql: str) -> int:
        row = self.conn.execute(sql).fetchone()
        return int(row[0])

    async def counts(self, table: str, column: str = "state") -> Counter[str]:
        rows = self.conn.execute(f"select {column}, count(*) from {table} group by {column}")
        return Counter({str(k): int(n) for k, n in rows})

    async def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()


class PostgresDb(NodeDb):
    """One asyncpg connection to the node's database, its transactions read-only
    (read committed: each poll sees what the node has committed)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    @classmethod
    async def connect(cls, database_url: str) -> PostgresDb:
        import asyncpg

        from node.wakeups import asyncpg_dsn

        conn = await asyncpg.connect(asyncpg_dsn(database_url), timeout=10)
        await conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        return cls(conn)

    async def scalar(self, sql: str) -> int:
        return int(await self.conn.fetchval(sql))

    async def counts(self, table: str, column: str = "state") -> Counter[str]:
        rows = await self.conn.fetch(f"select {column}, count(*) from {table} group by {column}")
        return Counter({str(r[0]): int(r[1]) for r in rows})

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.conn.close(timeout=5)


async def open_db(database_url: str) -> NodeDb:
    from node.context import sqlite_path

    path = sqlite_path(database_url)
    if path is not None:
        return SqliteDb(path)
    return await PostgresDb.connect(database_url)


class Backends:
    """Where the nodes keep their data: SQLite files in their data directories, or
    databases on one PostgreSQL server started for the whole run (tests/pg.py's
    Server, reused as it is: a throw-away cluster in a temp dir, run as the
    `postgres` user when we are root), with PostgreSQL's default durability
    (fsync, synchronous_commit and full_page_writes on)."""

    def __init__(self, pg: PgServer | None) -> None:
        self.pg = pg
        self.settings: dict[str, Any] = {}

    @classmethod
    async def start(cls, setups: Sequence[Setup]) -> Backends:
        if not any(s.postgresql for s in setups):
            return cls(None)
        from tests.pg import Server as PgServer

        try:
            pg = PgServer(durable=True)
        except RuntimeError as exc:  # no server binaries on this machine
            raise BenchError(f"{exc} (or run only --setups sqlite)") from exc
        try:
            pg.start()
        except BaseException:
            pg.stop()
            raise
        backends = cls(pg)
        try:
            import asyncpg

            conn = await asyncpg.connect(pg.url("postgres", "postgresql"))
            try:
                names = [
                    "server_version",
                    "fsync",
                    "synchronous_commit",
                    "full_page_writes",
                    "shared_buffers",
                    "max_connections",
                ]
                backends.settings = {n: await conn.fetchval(f"SHOW {n}") for n in names}
            finally:
                await conn.close()
        except BaseException:
            pg.stop()
            raise
        backends.settings["server"] = (
            "throw-away cluster (tests/pg.py Server(durable=True)) on this machine, "
            "otherwise PostgreSQL's defaults; a fresh database per node"
        )
        note(f"postgresql: {backends.settings}")
        return backends

    async def database_url(self, setup: Setup) -> str | None:
        """None (the node's own SQLite file), or the URL of a new empty database."""
        if not setup.postgresql:
            return None
        assert self.pg is not None
        return await self.pg.new_database(template=None)

    def postmaster_pid(self, setup: Setup) -> int | None:
        """The PostgreSQL server's main process, for a setup that uses it."""
        if not setup.postgresql or self.pg is None:
            return None
        first = (self.pg.data / "postmaster.pid").read_text(encoding="ascii").split("\n", 1)[0]
        return int(first)

    def stop(self, keep_log_in: Path | None = None) -> None:
        """Stop the server (its cluster is deleted), keeping a copy of its log."""
        if self.pg is None:
            return
        log = self.pg.root / "log"
        if keep_log_in is not None and log.exists():
            with contextlib.suppress(OSError):
                shutil.copyfile(log, keep_log_in / "postgresql.log")
        self.pg.stop()


class NodeProcesses:
    """One node as its setup runs it: `serve` alone (SQLite: web and queue workers
    in one process), or `serve --no-workers` plus `setup.workers` `worker`
    processes sharing its PostgreSQL database. Their output goes to log files
    named after `label` in `log_dir`."""

    def __init__(self, setup: Setup, data: Path, log_dir: Path, label: str) -> None:
        node = [PYTHON, "-m", "node"]
        serve = [*node, "serve", "--data", str(data)]
        if setup.postgresql:
            serve.append("--no-workers")
        self.setup = setup
        self.label = label
        self.web = Server(f"{label} web", serve, log_dir / f"{label}-web.log", "web")
        self.workers = [
            Server(
                f"{label} worker {i}",
                [*node, "worker", "--data", str(data)],
                log_dir / f"{label}-worker{i}.log",
                "worker",
            )
            for i in range(1, setup.workers + 1)
        ]

    @property
    def servers(self) -> list[Server]:
        return [self.web, *self.workers]

    def start(self) -> NodeProcesses:
        for server in self.servers:
            server.start()
        return self

    async def ready(self, url: str, headers: dict[str, str] | None = None) -> None:
        """The web process answers `url` and every worker process runs its workers."""
        await wait_http(url, self.web, headers=headers)
        for worker in self.workers:
            await wait_log(worker, "queue workers of")

    def check_alive(self) -> None:
        for server in self.servers:
            server.check_alive()

    def tail(self, lines: int = 20) -> str:
        return "\n".join(f"--- {s.name}\n{s.tail(lines)}" for s in self.servers)

    def groups(self, prefix: str = "") -> dict[str, list[int]]:
        """Process ids by kind, for CpuClock: `web` and (PostgreSQL) `worker`."""
        out: dict[str, list[int]] = {f"{prefix}web": [self.web.pid]}
        if self.workers:
            out[f"{prefix}worker"] = [w.pid for w in self.workers]
        return out

    def stop(self) -> None:
        """All processes at once: SIGTERM to each, then wait for each."""
        for server in self.servers:
            server.terminate()
        for server in self.servers:
            server.wait_stopped()


@dataclass
class Blast:
    """Outcome of sending a list of requests: statuses and wall-clock bounds."""

    statuses: Counter[int]
    started: float
    finished: float
    cpu_seconds: float

    @property
    def seconds(self) -> float:
        return self.finished - self.started


#: (path, headers, body) of a POST, headers already signed.
PreparedRequest = tuple[str, dict[str, str], bytes]


def http_bytes(path: str, headers: dict[str, str], body: bytes) -> bytes:
    """The exact bytes of an HTTP/1.1 keep-alive POST (Host comes from `headers`)."""
    lines = [f"POST {path} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["User-Agent: coopnet-bench", f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


class _KeepAlive(asyncio.Protocol):
    """One keep-alive connection sending the next request as soon as the
    previous response is complete. Deliberately minimal (Content-Length
    responses only) so that the load generator costs far less CPU than the
    server it measures: an aiohttp client would cost about as much as an
    aiohttp server and could become the bottleneck of the ceiling."""

    def __init__(self, queue: Iterator[bytes], statuses: Counter[int]) -> None:
        self.queue = queue
        self.statuses = statuses
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send_next(self) -> None:
        request = next(self.queue, None)
        if request is None:
            self.busy = False
            if not self.done.done():
                self.done.set_result(None)
            return
        self.busy = True
        assert self.transport is not None
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "transfer-encoding":
                    self._fail(f"unexpected Transfer-Encoding: {value.strip()}")
                    return
            if len(self.buffer) < end + 4 + length:
                return
            del self.buffer[: end + 4 + length]
            self.statuses[int(head[0].split()[1])] += 1
            self.send_next()

    def _fail(self, why: str) -> None:
        if not self.done.done():
            self.done.set_exception(BenchError(why))
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(BenchError(f"server closed a keep-alive connection: {exc}"))


async def blast(base_url: str, requests: Sequence[PreparedRequest], concurrency: int) -> Blast:
    """POST every prepared request, `concurrency` at a time, each connection
    sending its next request when the previous answer is in. The connections
    are opened first; `started` is taken just before the first request is
    written, `finished` when the last response has been read."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or LOOPBACK, parts.port or 80
    payloads = [http_bytes(path, headers, body) for path, headers, body in requests]
    statuses: Counter[int] = Counter()
    queue = iter(payloads)
    loop = asyncio.get_running_loop()
    conns: list[_KeepAlive] = []
    try:
        for _ in range(min(concurrency, len(payloads))):
            _, proto = await loop.create_connection(lambda: _KeepAlive(queue, statuses), host, port)
            conns.append(proto)
        cpu = time.process_time()
        started = time.time()
        for conn in conns:
            conn.send_next()
        async with asyncio.timeout(300):
            await asyncio.gather(*(c.done for c in conns))
        finished = time.time()
        cpu = time.process_time() - cpu
    finally:
        for conn in conns:
            if conn.transport is not None:
                conn.transport.close()
    if sum(statuses.values()) != len(payloads):
        raise BenchError(f"{len(payloads)} requests sent but {sum(statuses.values())} answered")
    return Blast(statuses, started, finished, cpu)


def process_cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def postgresql_cpu_seconds(postmaster: int) -> float:
    """CPU used so far by the whole PostgreSQL server: the postmaster, its live
    children (backends, walwriter, checkpointer...) and, through the
    postmaster's children_* times, every child it has already reaped."""
    import psutil

    main = psutil.Process(postmaster)
    times = main.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in main.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            ct = child.cpu_times()
            total += ct.user + ct.system
    return float(total)


@dataclass
class CpuReading:
    wall: float
    #: CPU seconds per group, one entry per process (PostgreSQL: one for the server).
    seconds: dict[str, list[float]]


class CpuClock:
    """CPU seconds used by groups of processes, read at the bounds of a timed phase.

    Groups are a node's process kinds (`web`, `worker`, each possibly several
    processes), helpers such as the fan-out receivers, the PostgreSQL server
    as a whole (every one of its processes, so also the backend answering this
    process's polls), and `bench` (this process: the load generator, the
    polls, the post or exchanges it writes). A share of 100% is one core
    busy for the whole phase; the machine has os.cpu_count() of them.
    """

    def __init__(self, groups: dict[str, list[int]], postmaster: int | None = None) -> None:
        self.groups = groups
        self.postmaster = postmaster

    def read(self) -> CpuReading:
        seconds = {
            name: [process_cpu_seconds(p) for p in pids] for name, pids in self.groups.items()
        }
        if self.postmaster is not None:
            seconds["postgresql"] = [postgresql_cpu_seconds(self.postmaster)]
        seconds["bench"] = [time.process_time()]
        return CpuReading(time.time(), seconds)

    @staticmethod
    def shares(before: CpuReading, after: CpuReading) -> str:
        """`web 97%, worker 120% (61%+59%), postgresql 40%, bench 5%` over the interval."""
        wall = max(after.wall - before.wall, 1e-9)
        parts = []
        for name, ends in after.seconds.items():
            used = [e - b for b, e in zip(before.seconds[name], ends, strict=True)]
            text = f"{name} {sum(used) / wall:.0%}"
            if len(used) > 1:
                text += " (" + "+".join(f"{u / wall:.0%}" for u in used) + ")"
            parts.append(text)
        return ", ".join(parts)
