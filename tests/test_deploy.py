"""The systemd units in deploy/ work as written.

Their commands are run as systemd would run them, with only the installed
paths swapped for this checkout's (``/opt/coopnet/bin/coopnet`` → this
Python's ``-m node``, ``/var/lib/coopnet`` → a temporary data directory):
``ExecStartPre`` then ``ExecStart``, the node answers, and the unit's
``KillSignal`` stops it cleanly within ``TimeoutStopSec``.
"""

from __future__ import annotations

import asyncio
import shlex
import signal
import sys
from pathlib import Path

import aiohttp

from tests.pg import database_url
from tests.procs import ROOT, coopnet, free_port

DEPLOY = ROOT / "deploy"
BINARY = "/opt/coopnet/bin/coopnet"
DATA = "/var/lib/coopnet"


def unit(name: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def command(line: str, data: Path) -> list[str]:
    argv = shlex.split(line)
    assert argv[0] == BINARY, argv
    return [sys.executable, "-m", "node", *(str(data) if a == DATA else a for a in argv[1:])]


async def run_unit(name: str, data: Path, url: str) -> None:
    settings = unit(name)
    assert settings["UMask"] == ["0077"] and settings["KillSignal"] == ["SIGTERM"]
    for pre in settings.get("ExecStartPre", []):
        proc = await asyncio.create_subprocess_exec(*command(pre, data), cwd=ROOT)
        assert await asyncio.wait_for(proc.wait(), 60) == 0, pre
    [start] = settings["ExecStart"]
    proc = await asyncio.create_subprocess_exec(*command(start, data), cwd=ROOT)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            for _ in range(200):
                try:
                    async with http.get(
                        f"{url}/users/lome", headers={"Accept": "application/activity+json"}
                    ) as resp:
                        if resp.status == 200:
                            break
                except (aiohttp.ClientError, TimeoutError):
                    pass
                assert proc.returncode is None, f"{name} exited with {proc.returncode}"
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"{name}: the node never answered")
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    stop_within = float(settings["TimeoutStopSec"][0])
    assert await asyncio.wait_for(proc.wait(), stop_within) == 0


async def test_the_node_unit_runs_as_written(tmp_path: Path) -> None:
    data = tmp_path / "coopnet"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db = await database_url()
    code, _, err = await coopnet(
        "init", "--data", str(data), "--url", url, "--name", "lome", "--role", "section",
        *(["--database", db] if db else []),
    )  # fmt: skip
    assert code == 0, err
    await run_unit("coopnet.service", data, url)
