"""`python -m bench --quick` runs end to end and reports every figure.

A smoke check of the benchmark harness only: it asserts that the run
succeeds and that each figure is a positive number, never how fast
anything is (speed is measured by bench/, not asserted by tests).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FIGURES = {
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
}


@pytest.mark.slow
@pytest.mark.sqlite_only  # the benchmarks always build SQLite nodes (bench/ has no --database)
def test_quick_bench_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]

    data = json.loads(out.read_text(encoding="utf-8"))
    assert {"date", "machine", "figures"} <= set(data)
    assert data["machine"]["cpu_count"] >= 1
    assert set(data["figures"]) == FIGURES
    for name, figure in data["figures"].items():
        value = figure["value"]
        assert isinstance(value, int | float) and not isinstance(value, bool), name
        assert math.isfinite(value) and value > 0, (name, value)
        assert figure["unit"], name

    printed = dict(
        line.split(": ", 1) for line in proc.stdout.splitlines() if not line.startswith("#")
    )
    assert set(printed) == FIGURES
    for name, figure in data["figures"].items():
        assert printed[name] == f"{figure['value']:g} {figure['unit']}"
