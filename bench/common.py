"""Shared plumbing: figures, server subprocesses, readiness, read-only SQLite polls."""

from __future__ import annotations

import asyncio
import contextlib
import os
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
from typing import Any
from urllib.parse import urlsplit

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LOOPBACK = "127.0.0.1"


class BenchError(Exception):
    """The run cannot give an honest figure (a check failed, a server died)."""


def note(message: str) -> None:
    """Diagnostics go to stderr, so stdout holds exactly one line per figure."""
    print(f"# {message}", file=sys.stderr, flush=True)


@dataclass
class Figures:
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, value: float, unit: str, digits: int = 1) -> float:
        value = round(float(value), digits)
        self.values[name] = {"value": value, "unit": unit}
        print(f"{name}: {value:g} {unit}", flush=True)
        return value


def free_port() -> int:
    """A port free right now on loopback (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


class Server:
    """A server in its own process; its output goes to a log file, never to a pipe
    (a pipe nobody drains would eventually block the server)."""

    def __init__(self, name: str, args: Sequence[str], log: Path) -> None:
        self.name = name
        self.args = list(args)
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

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
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 20.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
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


class ReadOnlyDb:
    """The node's SQLite file, opened read-only by the benchmark (WAL lets it
    read while the node writes, without taking any lock the node waits on)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)

    def scalar(self, sql: str, *params: Any) -> int:
        row = self.conn.execute(sql, params).fetchone()
        return int(row[0])

    def counts(self, table: str, column: str = "state") -> Counter[str]:
        rows = self.conn.execute(f"select {column}, count(*) from {table} group by {column}")
        return Counter({str(k): int(n) for k, n in rows})

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()


def node_server(data_dir: Path, log: Path) -> Server:
    """The node as a self-hoster runs it: `python -m node serve --data DIR`."""
    return Server("node", [PYTHON, "-m", "node", "serve", "--data", str(data_dir)], log)


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
