"""``coopnet serve --workers N``: several web processes on one port, and the queue workers.

Each web process is ``coopnet serve --no-workers --reuse-port`` (the kernel
spreads connections over the processes bound to the port with
SO_REUSEPORT); the queue workers are one ``coopnet worker`` process. This
parent only starts them, restarts one that dies, and passes SIGTERM on.
Nothing correct depends on it: the processes share nothing but the
PostgreSQL database, so the same commands can run on several machines.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("coopnet.supervisor")

#: A child that dies sooner than this after starting counts as failing to start.
QUICK_EXIT = 5.0
#: Failed starts in a row after which the whole server stops.
MAX_FAILED_STARTS = 3
#: Seconds children have to stop after SIGTERM before they are killed.
STOP_GRACE = 30.0


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: asyncio.subprocess.Process | None = None
    started: float = 0.0
    failed_starts: int = 0
    restarts: int = field(default=0)


def _parent_death_signal() -> None:  # pragma: no cover - runs in the child
    """Linux: a child gets SIGTERM if the supervisor itself is killed (kill -9)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


async def _start(child: Child) -> None:
    loop = asyncio.get_running_loop()
    child.proc = await asyncio.create_subprocess_exec(
        *child.argv, preexec_fn=_parent_death_signal if sys.platform == "linux" else None
    )
    child.started = loop.time()
    log.info("started %s (pid %d)", child.name, child.proc.pid)


async def supervise(data: Path, web_processes: int, host: str, port: int) -> int:
    base = [sys.executable, "-m", "node"]
    children = [
        Child(
            f"web {i + 1}",
            [
                *base,
                "serve",
                "--data",
                str(data),
                "--no-workers",
                "--reuse-port",
                "--host",
                host,
                "--port",
                str(port),
            ],
        )  # fmt: skip
        for i in range(web_processes)
    ]
    children.append(Child("worker", [*base, "worker", "--data", str(data)]))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    code = 0
    try:
        for child in children:
            await _start(child)
        while not stop.is_set():
            waits = {
                asyncio.ensure_future(c.proc.wait()): c for c in children if c.proc is not None
            }
            stopping = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait([*waits, stopping], return_when=asyncio.FIRST_COMPLETED)
            for fut in [*waits, stopping]:
                if fut not in done:
                    fut.cancel()
            if stop.is_set():
                break
            for fut in done:
                if fut not in waits:
                    continue
                child = waits[fut]
                quick = loop.time() - child.started < QUICK_EXIT
                child.failed_starts = child.failed_starts + 1 if quick else 0
                log.error(
                    "%s exited with status %s%s",
                    child.name,
                    fut.result(),
                    "; restarting" if child.failed_starts < MAX_FAILED_STARTS else "",
                )
                if child.failed_starts >= MAX_FAILED_STARTS:
                    log.error(
                        "%s failed to start %d times in a row; stopping (see its errors above)",
                        child.name,
                        child.failed_starts,
                    )
                    code = 1
                    stop.set()
                    break
                await asyncio.sleep(min(2.0**child.failed_starts, 10.0) if quick else 0.5)
                child.restarts += 1
                await _start(child)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await _stop_all(children)
    return code


async def _stop_all(children: list[Child]) -> None:
    running = [c.proc for c in children if c.proc is not None and c.proc.returncode is None]
    for proc in running:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
    if not running:
        return
    waits = [asyncio.ensure_future(p.wait()) for p in running]
    _, pending = await asyncio.wait(waits, timeout=STOP_GRACE)
    for proc in running:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
    if pending:
        await asyncio.wait(pending, timeout=5)
