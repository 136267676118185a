"""`python -m bench [--quick] [--out FILE]`: every figure, in one run.

Order: inbox ingest and its bare ceiling (bench.inbox), then the RSA
signing rate (bench.rsa, with no server running) and right after it the
fan-out it is compared with, and the node's memory (bench.fanout,
bench.memory), then settled SEL exchanges between two sections
(bench.sel). stdout gets one
`name: value unit` line per figure; diagnostics go to stderr with '# '.
Exit status 1 when a check fails: no figure is written from a run whose
work was not all done correctly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench import fanout, inbox, rsa, sel
from bench.common import BenchError, Figures, note

FIGURES = (
    "inbox_accepted_per_s",
    "inbox_ingest_per_s",
    "bare_ceiling_per_s",
    "inbox_ratio",
    "rsa_sign_per_s",
    "fanout_seconds",
    "fanout_deliveries_per_s",
    "fanout_ratio",
    "rss_idle_mb",
    "rss_after_fanout_mb",
    "sel_settled_per_s",
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
    "fanout": fanout.FanoutSizes(followers=1_000, inboxes=100, receiver_ports=4),
    "sel": sel.SelSizes(exchanges=30),
}


async def run_all(sizes: dict[str, object], work: Path) -> Figures:
    figs = Figures()
    inbox_sizes = sizes["inbox"]
    fanout_sizes = sizes["fanout"]
    assert isinstance(inbox_sizes, inbox.InboxSizes)
    assert isinstance(fanout_sizes, fanout.FanoutSizes)
    figs.settings["rsa_seconds"] = sizes["rsa_seconds"]
    await inbox.run(figs, inbox_sizes, work)
    # Right before the fan-out it is judged against, so both see the same machine.
    sign_rate = rsa.run(figs, float(sizes["rsa_seconds"]))  # type: ignore[arg-type]
    await fanout.run(figs, fanout_sizes, work, sign_rate)
    sel_sizes = sizes["sel"]
    assert isinstance(sel_sizes, sel.SelSizes)
    await sel.run(figs, sel_sizes, work)
    return figs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke check")
    p.add_argument(
        "--out",
        type=Path,
        help="where to write the figures (default bench/results.json, "
        "or bench/results-quick.json with --quick)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, databases)")
    args = p.parse_args(argv)
    sizes = QUICK if args.quick else FULL
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
        figs = asyncio.run(run_all(sizes, work))
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        print(f"bench: logs and databases kept in {work}", file=sys.stderr)
        return 1
    except BaseException:
        print(f"bench: logs and databases kept in {work}", file=sys.stderr)
        raise
    if args.keep:
        note(f"logs and databases kept in {work}")
    else:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    missing = [name for name in FIGURES if name not in figs.values]
    if missing:
        print(f"bench: figures not measured: {', '.join(missing)}", file=sys.stderr)
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
        "figures": {name: figs.values[name] for name in FIGURES},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    note(f"wrote {out} after {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
