"""Figure (c): the node's resident memory, read with psutil on the serve process.

MB here means 2**20 bytes. Idle is read a fixed time after the node first
answers HTTP (nothing else has been asked of it); the other reading is
taken once a fan-out has been fully recorded in its database (bench.fanout
takes both readings on its node).
"""

from __future__ import annotations

import asyncio

import psutil

from bench.common import Figures, Server

MB = 2**20


def rss_mb(node: Server) -> float:
    node.check_alive()
    return float(psutil.Process(node.pid).memory_info().rss) / MB


async def idle_rss(node: Server, settle_seconds: float) -> float:
    await asyncio.sleep(settle_seconds)
    return rss_mb(node)


def report(figs: Figures, idle: float, after_fanout: float) -> None:
    figs.add("rss_idle_mb", idle, "MB")
    figs.add("rss_after_fanout_mb", after_fanout, "MB")
