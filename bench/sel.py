"""Figure (d): settled SEL exchanges between two sections per second.

Two nodes run as `python -m node serve` in their own processes, peered the
way an admin does it (mutual follow, `sel peer`, member accounts). This
process then records `count` exchanges from a member of the first section
to a member of the second, in one transaction with the same domain call
`coopnet sel exchange` makes, and times from that commit until every one is
settled at the origin (read-only polls of its SQLite file). Each exchange
is the whole protocol: Offer, the peer's decision and posting, Accept, the
origin's posting; SEL activities go in order per peer inbox, as required.
The run then checks the books: every exchange settled at the origin and
committed at the peer, clearings opposite, both ledgers verified.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    LOOPBACK,
    BenchError,
    Figures,
    ReadOnlyDb,
    free_port,
    node_server,
    note,
    wait_http,
    wait_until,
)

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class SelSizes:
    exchanges: int = 300


async def run(figs: Figures, sizes: SelSizes, work: Path) -> None:
    from datetime import timedelta

    from models.actors import get_node_actor
    from models.sel.origin import start
    from node import sel
    from node.actions import follow, init_node, list_following
    from node.config import load_config
    from node.context import Node

    ports = [free_port(), free_port()]
    datas = [work / "sel-lome", work / "sel-marseille"]
    for data, port, name in zip(datas, ports, ("lome", "marseille"), strict=True):
        config = await init_node(data, f"http://{LOOPBACK}:{port}", name, "section")
        config.delivery_poll_seconds = POLL_SECONDS
        config.save()
    servers = [node_server(d, work / f"{d.name}.log").start() for d in datas]
    figs.settings["sel"] = {"exchanges": sizes.exchanges, "delivery_poll_seconds": POLL_SECONDS}
    nodes = [await Node.open(load_config(d)) for d in datas]
    try:
        for port, server in zip(ports, servers, strict=True):
            await wait_http(f"http://{LOOPBACK}:{port}/.well-known/nodeinfo", server)
        handles = [f"{n.node_username}@{LOOPBACK}:{p}" for n, p in zip(nodes, ports, strict=True)]
        await follow(nodes[0], handles[1])
        await follow(nodes[1], handles[0])

        async def mutual() -> bool:
            for n in nodes:
                if not any(r.state == "accepted" for r in await list_following(n)):
                    return False
            return True

        await wait_until("mutual follows", mutual, 30, servers)
        await sel.peer_add(nodes[0], handles[1], "5000", "5000")
        await sel.peer_add(nodes[1], handles[0], "5000", "5000")
        await sel.account_open(nodes[0], "ama", "Ama", "-5000", "5000")
        await sel.account_open(nodes[1], "bob", "Bob", "-5000", "5000")

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
        origin = ReadOnlyDb(datas[0] / "coopnet.db")
        try:

            async def settled() -> bool:
                return (
                    origin.scalar("select count(*) from sel_exchanges where state = 'settled'")
                    == sizes.exchanges
                )

            finished = await wait_until(
                "every exchange settled", settled, 60 + sizes.exchanges / 5, servers, 0.02
            )
            held = origin.scalar("select count(*) from sel_exchanges where state != 'settled'")
        finally:
            origin.close()
        seconds = finished - started
        if held:
            raise BenchError(f"{held} exchanges did not settle")
        for node in nodes:
            report = await sel.verify(node)
            if not report.ok:
                raise BenchError(f"{node.node_username}: sel verify: {report.problems}")
        rec = await sel.reconcile(nodes[0], handles[1])
        if not rec.ok or rec.in_flight:
            raise BenchError(f"reconcile: {rec.differences} {rec.in_flight}")
        note(
            f"sel: {sizes.exchanges} exchanges settled in {seconds:.2f}s; "
            "ledgers verified and reconciled"
        )
        figs.add("sel_settled_per_s", sizes.exchanges / seconds, "exchanges/s")
    finally:
        for node in nodes:
            await node.close()
        for server in servers:
            server.stop()
