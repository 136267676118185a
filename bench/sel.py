"""Figure (d): settled SEL exchanges between two sections per second, on each setup.

Two nodes run in their own processes as the setup says (bench.common.SETUPS:
one `serve` each on SQLite; on PostgreSQL each has its own database on the
run's server, a `serve --no-workers` web process and one or two `worker`
processes), peered the way an admin does it (mutual follow, `sel peer`,
member accounts). This process then records `count` exchanges from a member
of the first section to a member of the second, in one transaction with the
same domain call `coopnet sel exchange` makes (written to the origin's own
database; on PostgreSQL its commit NOTIFYs the workers), and times from that
commit until every one is settled at the origin (read-only polls of its
database every 20 ms). Each exchange is the whole protocol: Offer, the
peer's decision and posting, Accept, the origin's posting; SEL activities
go in order per peer inbox, as required. Figure: sel_settled_per_s.
The run then checks the books: every exchange settled at the origin and
committed at the peer, clearings opposite, both ledgers verified. The
diagnostics give the CPU share of each node's process kinds, the PostgreSQL
server and this process over the timed part.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    LOOPBACK,
    Backends,
    BenchError,
    CpuClock,
    Figures,
    NodeProcesses,
    Setup,
    free_port,
    note,
    open_db,
    wait_until,
)
from models.accounts import OPERATOR

POLL_SECONDS = 0.1
#: Seconds between polls of the origin's database.
DB_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class SelSizes:
    exchanges: int = 300


def settings(figs: Figures, sizes: SelSizes) -> None:
    figs.settings["sel"] = {"exchanges": sizes.exchanges, "delivery_poll_seconds": POLL_SECONDS}


async def run(figs: Figures, setup: Setup, backends: Backends, sizes: SelSizes, work: Path) -> None:
    from datetime import timedelta

    from models.actors import get_node_actor
    from models.sel.origin import start
    from node import sel
    from node.actions import follow, init_node, list_following
    from node.config import load_config
    from node.context import Node
    from node.network.alliances import ally_nodes

    ports = [free_port(), free_port()]
    names = ("lome", "marseille")
    datas = [work / f"sel-{setup.name}-{name}" for name in names]
    for data, port, name in zip(datas, ports, names, strict=True):
        config = await init_node(
            data,
            f"http://{LOOPBACK}:{port}",
            name,
            "section",
            database=await backends.database_url(setup),
        )
        config.delivery_poll_seconds = POLL_SECONDS
        config.save()
    procs = [NodeProcesses(setup, d, work, d.name).start() for d in datas]
    servers = [s for p in procs for s in p.servers]
    nodes: list[Node] = []
    try:
        nodes = [await Node.open(load_config(d)) for d in datas]
        for port, proc in zip(ports, procs, strict=True):
            await proc.ready(f"http://{LOOPBACK}:{port}/.well-known/nodeinfo")
        handles = [f"{n.node_username}@{LOOPBACK}:{p}" for n, p in zip(nodes, ports, strict=True)]
        await follow(nodes[0], handles[1], by=OPERATOR)
        await follow(nodes[1], handles[0], by=OPERATOR)

        async def mutual() -> bool:
            for n in nodes:
                if not any(r.state == "accepted" for r in await list_following(n, by=OPERATOR)):
                    return False
            return True

        await wait_until("mutual follows", mutual, 30, servers)
        if not await ally_nodes(nodes[0], nodes[1], handles[1]):
            raise RuntimeError("the two nodes did not ally (SEL peering builds on an alliance)")
        await sel.peer_add(nodes[0], handles[1], "5000", "5000", by=OPERATOR)
        await sel.peer_add(nodes[1], handles[0], "5000", "5000", by=OPERATOR)
        await sel.account_open(nodes[0], "ama", "Ama", "-5000", "5000", by=OPERATOR)
        await sel.account_open(nodes[1], "bob", "Bob", "-5000", "5000", by=OPERATOR)

        groups: dict[str, list[int]] = {}
        for name, proc in zip(names, procs, strict=True):
            groups |= proc.groups(f"{name} ")
        clock = CpuClock(groups, backends.postmaster_pid(setup))
        origin = await open_db(nodes[0].config.database_url)
        try:
            async with nodes[0].write() as session:
                me = await get_node_actor(session)
                for _ in range(sizes.exchanges):
                    await start(
                        session,
                        nodes[0].urls,
                        me,
                        payer="ama",
                        payee=f"bob@{LOOPBACK}:{ports[1]}",
                        amount=1,
                        description="bench",
                        expires_in=timedelta(hours=1),
                    )
            started = time.time()
            cpu_start = clock.read()

            async def settled() -> bool:
                return (
                    await origin.scalar(
                        "select count(*) from sel_exchanges where state = 'settled'"
                    )
                    == sizes.exchanges
                )

            finished = await wait_until(
                "every exchange settled",
                settled,
                60 + sizes.exchanges / 5,
                servers,
                DB_POLL_SECONDS,
            )
            cpu_end = clock.read()
            held = await origin.scalar(
                "select count(*) from sel_exchanges where state != 'settled'"
            )
        finally:
            await origin.close()
        seconds = finished - started
        if held:
            raise BenchError(f"{setup.name}: {held} exchanges did not settle")
        for node in nodes:
            report = await sel.verify(node, by=OPERATOR)
            if not report.ok:
                raise BenchError(
                    f"{setup.name} {node.node_username}: sel verify: {report.problems}"
                )
        rec = await sel.reconcile(nodes[0], handles[1], by=OPERATOR)
        if not rec.ok or rec.in_flight:
            raise BenchError(f"{setup.name}: reconcile: {rec.differences} {rec.in_flight}")
        note(
            f"{setup.name} sel: {sizes.exchanges} exchanges settled in {seconds:.2f}s; "
            "ledgers verified and reconciled"
        )
        note(f"{setup.name} sel CPU until settled: {CpuClock.shares(cpu_start, cpu_end)}")
        figs.add("sel_settled_per_s", sizes.exchanges / seconds, "exchanges/s", setup=setup)
    finally:
        for node in nodes:
            await node.close()
        for proc in procs:
            for server in proc.servers:
                server.terminate()
        for proc in procs:
            proc.stop()
