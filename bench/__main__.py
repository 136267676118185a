"""`python -m bench [--quick] [--setups LIST] [--out FILE]`: every figure, in one run.

Each figure is measured on every selected setup (bench.common.SETUPS):
`sqlite` (one `serve` process), `postgresql-1` (a `serve --no-workers`
web process and one `worker` process on PostgreSQL) and `postgresql-2`
(the same with two `worker` processes). The PostgreSQL setups share one
throw-away server started for the run (tests/pg.py, with PostgreSQL's
default durability: fsync and synchronous_commit on); each node gets a
fresh database on it.

Order, phase by phase, each phase on every setup in turn so that the
setups of one figure are measured close together: the bare inbox
ceiling (once), inbox ingest (bench.inbox); the RSA signing rate (once,
bench.rsa, one core, no node running) and right after it the fan-out it
is compared with, with the node's memory (bench.fanout, bench.memory);
settled SEL exchanges between two sections (bench.sel).

stdout gets one line per figure: `name: value unit` for the run-wide
figures (bare_ceiling_per_s, rsa_sign_per_s), `SETUP name: value unit`
for the others; diagnostics (CPU shares of each process kind and of the
PostgreSQL server during each timed phase, memory of every process) go
to stderr with '# '. Exit status 1 when a check fails: no figure is
written from a run whose work was not all done correctly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench import fanout, inbox, rsa, sel
from bench.common import SETUPS, Backends, BenchError, Figures, Setup, note

#: Measured once per run, whatever the setups.
RUN_WIDE = ("bare_ceiling_per_s", "rsa_sign_per_s")
#: Measured on every setup, in this order in results.json.
PER_SETUP = (
    "inbox_accepted_per_s",
    "inbox_ingest_per_s",
    "inbox_accept_ratio",
    "inbox_processed_ratio",
    "fanout_seconds",
    "fanout_deliveries_per_s",
    "fanout_ratio",
    "sel_settled_per_s",
    "rss_web_idle_mb",
    "rss_web_after_mb",
)
#: Only where the node has worker processes (PostgreSQL setups).
PER_WORKER_SETUP = ("rss_worker_idle_mb", "rss_worker_after_mb")
#: Only where psutil gives PSS (memory_full_info); all of a setup's or none.
PSS = (
    "pss_web_idle_mb",
    "pss_web_after_mb",
    "pss_worker_idle_mb",
    "pss_worker_after_mb",
)

FULL = {
    "rsa_seconds": 2.0,
    "inbox": inbox.InboxSizes(actors=100, requests=3000, concurrency=32),
    "fanout": fanout.FanoutSizes(followers=10_000, inboxes=1_000, receiver_ports=4),
    "sel": sel.SelSizes(exchanges=300),
}
QUICK = {
    "rsa_seconds": 0.5,
    "inbox": inbox.InboxSizes(actors=20, requests=300, concurrency=32),
    "fanout": fanout.FanoutSizes(
        followers=1_000, inboxes=100, receiver_ports=4, idle_settle_seconds=1.0
    ),
    "sel": sel.SelSizes(exchanges=30),
}


def expected(setup: Setup) -> tuple[str, ...]:
    return PER_SETUP + (PER_WORKER_SETUP if setup.workers else ())


async def run_all(sizes: dict[str, object], setups: list[Setup], work: Path) -> Figures:
    figs = Figures()
    inbox_sizes = sizes["inbox"]
    fanout_sizes = sizes["fanout"]
    sel_sizes = sizes["sel"]
    assert isinstance(inbox_sizes, inbox.InboxSizes)
    assert isinstance(fanout_sizes, fanout.FanoutSizes)
    assert isinstance(sel_sizes, sel.SelSizes)
    rsa_seconds = sizes["rsa_seconds"]
    assert isinstance(rsa_seconds, float)
    figs.settings["rsa_seconds"] = rsa_seconds
    figs.settings["setups"] = {s.name: s.description for s in setups}
    fanout.settings(figs, fanout_sizes)
    sel.settings(figs, sel_sizes)
    figs.settings["memory"] = (
        "RSS and PSS (psutil memory_full_info) per process kind on the fan-out node: idle, "
        f"{fanout_sizes.idle_settle_seconds:g}s after every process is ready, and after the "
        "fan-out is recorded; with two worker processes the larger of the two"
    )

    backends = await Backends.start(setups)
    try:
        if backends.pg is not None:
            figs.settings["postgresql"] = backends.settings
        remote = await inbox.start_remote(figs, inbox_sizes)
        try:
            bare_rate = await inbox.measure_bare(figs, remote, work)
            for setup in setups:
                await inbox.run(figs, setup, backends, remote, bare_rate, work)
        finally:
            await remote.close()
        # Right before the fan-outs it is judged against, so they see the same machine.
        sign_rate = rsa.run(figs, rsa_seconds)
        for setup in setups:
            await fanout.run(figs, setup, backends, fanout_sizes, work, sign_rate)
        for setup in setups:
            await sel.run(figs, setup, backends, sel_sizes, work)
    finally:
        backends.stop(keep_log_in=work)
    return figs


def check(figs: Figures, setups: list[Setup]) -> list[str]:
    """What is missing or not a finite positive number (empty: all good)."""
    problems = []
    for name in RUN_WIDE:
        if name not in figs.run_wide:
            problems.append(f"{name} not measured")
    for setup in setups:
        got = figs.by_setup.get(setup.name, {})
        for name in expected(setup):
            if name not in got:
                problems.append(f"{setup.name} {name} not measured")
    for label, figure in _all(figs):
        value = figure["value"]
        if not (math.isfinite(value) and value > 0):
            problems.append(f"{label} is {value}")
    return problems


def _all(figs: Figures) -> list[tuple[str, dict[str, Any]]]:
    out = list(figs.run_wide.items())
    for setup, values in figs.by_setup.items():
        out += [(f"{setup} {name}", figure) for name, figure in values.items()]
    return out


def ordered(figs: Figures, setups: list[Setup]) -> dict[str, Any]:
    out: dict[str, Any] = {name: figs.run_wide[name] for name in RUN_WIDE}
    for setup in setups:
        got = figs.by_setup[setup.name]
        order = [n for n in expected(setup) + PSS if n in got]
        order += [n for n in got if n not in order]
        out[setup.name] = {name: got[name] for name in order}
    return out


def kept_in(work: Path) -> str:
    return (
        f"logs (the PostgreSQL server's too) and SQLite databases kept in {work}; "
        "the PostgreSQL databases are gone with their server"
    )


def parse_setups(value: str) -> list[Setup]:
    by_name = {s.name: s for s in SETUPS}
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in by_name]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown setup {', '.join(unknown) or '(none)'}: choose from {', '.join(by_name)}"
        )
    return [s for s in SETUPS if s.name in names]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke check")
    p.add_argument(
        "--setups",
        type=parse_setups,
        default=list(SETUPS),
        metavar="LIST",
        help="comma-separated setups to measure (default: all, "
        f"{','.join(s.name for s in SETUPS)}); the results hold only these",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="where to write the figures (default bench/results.json, "
        "or bench/results-quick.json with --quick)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, databases)")
    args = p.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    setups: list[Setup] = args.setups
    out = args.out or Path(__file__).with_name(
        "results-quick.json" if args.quick else "results.json"
    )
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    if load_before > 0.5:
        note(
            f"the machine is busy (1-min load average {load_before:.2f}): "
            "figures will be lower and noisier than on a quiet machine"
        )
    work = Path(tempfile.mkdtemp(prefix="coopnet-bench-"))
    try:
        figs = asyncio.run(run_all(sizes, setups, work))
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        print(f"bench: {kept_in(work)}", file=sys.stderr)
        return 1
    except BaseException:
        print(f"bench: {kept_in(work)}", file=sys.stderr)
        raise
    if args.keep:
        note(kept_in(work))
    else:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    problems = check(figs, setups)
    if problems:
        print(f"bench: {'; '.join(problems)}", file=sys.stderr)
        return 1
    result = {
        "date": date.today().isoformat(),
        "machine": {
            "cpu_count": os.cpu_count(),
            "python_version": platform.python_version(),
            "platform": platform.platform(),
            "load_average_1min_at_start": round(load_before, 2),
        },
        "mode": "quick" if args.quick else "full",
        "settings": figs.settings,
        "figures": ordered(figs, setups),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    note(f"wrote {out} after {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
