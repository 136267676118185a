"""`python -m bench --quick` runs end to end and reports every figure of every setup.

A smoke check of the benchmark harness only: it asserts that the run
succeeds (the bench itself checks that all the work was done correctly)
and that each figure of each setup (sqlite, postgresql-1, postgresql-2)
is a finite positive number, never how fast anything is (speed is
measured by bench/, not asserted by tests).

The bench starts its own PostgreSQL server (tests/pg.py's), whatever the
test pass: the test runs once, in the SQLite pass (``own_backends``).
Without PostgreSQL server binaries it checks the sqlite setup alone and
then skips, except under ``CI=true``, where their absence is a failure.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import pg

ROOT = Path(__file__).resolve().parent.parent

RUN_WIDE = {"bare_ceiling_per_s", "rsa_sign_per_s"}
PER_SETUP = {
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
}
PER_WORKER_SETUP = {"rss_worker_idle_mb", "rss_worker_after_mb"}
PSS = {"pss_web_idle_mb", "pss_web_after_mb"}
PSS_WORKER = {"pss_worker_idle_mb", "pss_worker_after_mb"}
SETUPS = ("sqlite", "postgresql-1", "postgresql-2")


def postgresql_binaries() -> bool:
    try:
        pg._bin_dir()
    except RuntimeError:
        if os.environ.get("CI") == "true":
            raise
        return False
    return True


def expected(setup: str, with_pss: bool) -> set[str]:
    names = set(PER_SETUP)
    workers = setup != "sqlite"
    if workers:
        names |= PER_WORKER_SETUP
    if with_pss:
        names |= PSS | (PSS_WORKER if workers else set())
    return names


@pytest.mark.slow
@pytest.mark.own_backends
def test_quick_bench_reports_every_figure(tmp_path: Path) -> None:
    with_postgresql = postgresql_binaries()
    setups = SETUPS if with_postgresql else SETUPS[:1]
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--setups",
            ",".join(setups),
            "--out",
            str(out),
        ],  # fmt: skip
        cwd=ROOT,
        capture_output=True,
        text=True,
        # A guard against a hang only: the bench bounds its own waits.
        timeout=480,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]

    data = json.loads(out.read_text(encoding="utf-8"))
    assert {"date", "machine", "mode", "settings", "figures"} <= set(data)
    assert data["mode"] == "quick"
    assert data["machine"]["cpu_count"] >= 1
    figures = data["figures"]
    assert set(figures) == RUN_WIDE | set(setups)
    # PSS is reported where psutil gives it: then on every setup.
    with_pss = "pss_web_idle_mb" in figures[setups[0]]
    flat: dict[str, dict[str, object]] = {name: figures[name] for name in RUN_WIDE}
    for setup in setups:
        assert set(figures[setup]) == expected(setup, with_pss), setup
        flat |= {f"{setup} {name}": fig for name, fig in figures[setup].items()}
    for label, figure in flat.items():
        value = figure["value"]
        assert isinstance(value, int | float) and not isinstance(value, bool), label
        assert math.isfinite(value) and value > 0, (label, value)
        assert figure["unit"], label
    if with_postgresql:
        assert data["settings"]["postgresql"]["fsync"] == "on"

    printed = dict(
        line.split(": ", 1) for line in proc.stdout.splitlines() if not line.startswith("#")
    )
    assert set(printed) == set(flat)
    for label, figure in flat.items():
        assert printed[label] == f"{figure['value']:g} {figure['unit']}"

    if not with_postgresql:
        pytest.skip("no PostgreSQL server binaries: only the sqlite setup was checked")
