"""Driving `coopnet` as an operator does: real subprocesses on loopback ports."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def coopnet(
    *args: str | bytes, within: float = 60.0, umask: int | None = None
) -> tuple[int, str, str]:
    """``coopnet ARGS`` as a subprocess: (exit code, stdout, stderr).

    Bytes arguments are passed as they are (to test undecodable input);
    ``umask`` runs the command under that umask, as a shell would. Output
    is decoded with surrogateescape, so stray bytes show up in assertions.
    """
    argv: list[str | bytes] = [sys.executable, "-m", "node", *args]
    if umask is not None:
        argv = ["sh", "-c", f'umask {umask:03o}; exec "$0" "$@"', *argv]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), within)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return (
        proc.returncode,
        out.decode("utf-8", "surrogateescape"),
        err.decode("utf-8", "surrogateescape"),
    )
