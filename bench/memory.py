"""Figure (c): the node's memory, per process kind, read with psutil.

Read on the fan-out node (bench.fanout) of each setup, twice: idle, a fixed
time (3 s; 1 s with --quick) after every process is ready (the web process answers HTTP, each
worker process has said its queue workers run; nothing else has been asked
of the node), and after the fan-out, once every delivery is recorded as
delivered in the database.

Kinds: `web` is the `serve` process (on SQLite the only process: it also
runs the queue workers); `worker` is a `python -m node worker` process
(PostgreSQL setups only). With two worker processes the figure is the
larger of the two (each is listed in the diagnostics). Figures:
`rss_web_idle_mb`, `rss_web_after_mb`, `rss_worker_idle_mb`,
`rss_worker_after_mb`.

RSS (resident set size) is the headline: what `ps` and `top` show, and
what the processes cost if nothing is shared. PSS (proportional set size:
pages shared between processes, such as the interpreter's and the
libraries' code, counted in equal parts) is also reported as `pss_*_mb`
when psutil's memory_full_info gives it (Linux, readable /proc/PID/smaps),
again the larger of two workers: the sum of every process's PSS (listed in
the diagnostics) is what a node's processes cost together. MB here means
2**20 bytes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import psutil

from bench.common import Figures, NodeProcesses, Setup, note

MB = 2**20
KINDS = ("web", "worker")


@dataclass(frozen=True)
class Reading:
    rss_mb: float
    pss_mb: float | None


def read(pid: int) -> Reading:
    proc = psutil.Process(pid)
    rss = float(proc.memory_info().rss) / MB
    try:
        pss = getattr(proc.memory_full_info(), "pss", None)
    except (psutil.AccessDenied, NotImplementedError, OSError):
        pss = None
    return Reading(rss, None if pss is None else float(pss) / MB)


def readings(node: NodeProcesses) -> dict[str, list[Reading]]:
    """Every process of the node, by kind."""
    node.check_alive()
    out: dict[str, list[Reading]] = {}
    for server in node.servers:
        out.setdefault(server.kind, []).append(read(server.pid))
    return out


async def idle(node: NodeProcesses, settle_seconds: float) -> dict[str, list[Reading]]:
    await asyncio.sleep(settle_seconds)
    return readings(node)


def describe(when: str, by_kind: dict[str, list[Reading]]) -> str:
    parts = []
    for kind, rows in by_kind.items():
        for r in rows:
            pss = "" if r.pss_mb is None else f" (PSS {r.pss_mb:.1f})"
            parts.append(f"{kind} {r.rss_mb:.1f}{pss}")
    return f"{when}: " + ", ".join(parts) + " MB"


def report(
    figs: Figures,
    setup: Setup,
    idle: dict[str, list[Reading]],
    after: dict[str, list[Reading]],
) -> None:
    note(f"{setup.name} memory {describe('idle', idle)}; {describe('after', after)}")
    for kind in KINDS:
        for when, by_kind in (("idle", idle), ("after", after)):
            if kind in by_kind:
                rows = by_kind[kind]
                figs.add(f"rss_{kind}_{when}_mb", max(r.rss_mb for r in rows), "MB", setup=setup)
    for kind in KINDS:
        for when, by_kind in (("idle", idle), ("after", after)):
            pss = [r.pss_mb for r in by_kind.get(kind, [])]
            if pss and all(p is not None for p in pss):
                figs.add(
                    f"pss_{kind}_{when}_mb",
                    max(p for p in pss if p is not None),
                    "MB",
                    setup=setup,
                )
