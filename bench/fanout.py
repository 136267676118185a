"""Figure (b): one post fanned out to `followers` followers on `inboxes` shared inboxes.

Setup: per setup, a node whose database (SQLite, or a fresh PostgreSQL
database) already holds the followers (RemoteActor and Follower rows,
bulk-inserted by this process before the node starts); each follower's
sharedInbox is one of `inboxes` distinct URLs /i/{n}/inbox served by
`bench.receivers` in its own process, spread over `receiver_ports` ports
(a few "servers"). The node runs as its setup says (bench.common.SETUPS):
on PostgreSQL the deliveries are made by the `worker` process(es), which
claim them from the shared queue; the web process only serves. This
process publishes the post with node.actions.post_note against the node's
database, exactly what `coopnet post` does (on PostgreSQL its commit
NOTIFYs the workers), and times from just before that call until the last
inbox has received the Create (arrival times are recorded by the
receivers, which also verify every signature with the node's key).

Figures per setup: fanout_seconds (that time), fanout_deliveries_per_s
(`inboxes` / fanout_seconds) and fanout_ratio (deliveries per second
divided by rsa_sign_per_s, the RSA-2048 signing rate of one core measured
once per run: a node signing on one core and doing nothing else would
reach 1.0; two worker processes can pass it). The run then checks that
every delivery is recorded `delivered` and that every inbox got exactly
one good POST. The diagnostics give the CPU share of each process kind,
the receivers, the PostgreSQL server and this process over the fan-out.

The node's delivery poll interval is set to 0.1 s (default 0.5 s): a post
made from another process (the CLI) waits for the worker's next poll on
SQLite (a NOTIFY wakes it at once on PostgreSQL), and that wait is not
what this figure is about; it stays included, at most 0.1 s.
Memory (figure c, bench.memory) is read on the same node: idle after
start, then once every delivery is recorded as delivered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench import memory
from bench.common import (
    LOOPBACK,
    PYTHON,
    Backends,
    BenchError,
    CpuClock,
    Figures,
    NodeDb,
    NodeProcesses,
    Server,
    Setup,
    free_port,
    note,
    open_db,
    wait_http,
    wait_until,
)
from federation.vocab import ACTIVITY_JSON
from node.config import Config

POLL_SECONDS = 0.1
#: Seconds between polls of the node's database (deliveries recorded).
DB_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class FanoutSizes:
    followers: int = 10_000
    inboxes: int = 1_000
    receiver_ports: int = 4
    #: Idle memory is read this long after every process of the node is ready.
    idle_settle_seconds: float = 3.0


async def prepare_node(
    data: Path, port: int, inbox_urls: list[str], followers: int, database: str | None
) -> tuple[Config, str]:
    """init the node and bulk-insert its followers; returns (its config, its public key)."""
    from sqlalchemy import insert, select

    from models.actors import LocalActor, RemoteActor
    from models.base import make_engine
    from models.follows import Follower
    from node.actions import init_node

    config = await init_node(
        data, f"http://{LOOPBACK}:{port}", "bench", "section", "Bench", database=database
    )
    config.delivery_poll_seconds = POLL_SECONDS
    config.save()
    per_inbox = -(-followers // len(inbox_urls))
    rows = []
    for k in range(followers):
        shared = inbox_urls[k // per_inbox]
        server = shared.split("/i/", 1)[0]
        uri = f"{server}/users/f{k}"
        rows.append(
            {
                "uri": uri,
                "key_id": f"{uri}#main-key",
                "type": "Person",
                "preferred_username": f"f{k}",
                "name": f"Follower {k}",
                "inbox": f"{uri}/inbox",
                "shared_inbox": shared,
                "url": uri,
            }
        )
    engine = make_engine(config.database_url)
    try:
        async with engine.begin() as conn:
            me = (
                await conn.execute(
                    select(LocalActor.id, LocalActor.public_key_pem).where(
                        LocalActor.is_node.is_(True)
                    )
                )
            ).one()
            await conn.execute(insert(RemoteActor.__table__), rows)
            ids = (await conn.execute(select(RemoteActor.id))).scalars().all()
            await conn.execute(
                insert(Follower.__table__),
                [
                    {
                        "local_actor_id": me.id,
                        "remote_actor_id": rid,
                        "follow_uri": f"http://{LOOPBACK}:1/follows/{rid}",
                    }
                    for rid in ids
                ],
            )
    finally:
        await engine.dispose()
    return config, str(me.public_key_pem)


async def publish(data: Path, text: str) -> tuple[float, float]:
    """`coopnet post`, minus the interpreter start: time.time() before and after the post."""
    from models.accounts import OPERATOR
    from node.actions import post_note
    from node.config import load_config
    from node.context import Node

    node = await Node.open(load_config(data))
    try:
        started = time.time()
        await post_note(node, text, by=OPERATOR)
        return started, time.time()
    finally:
        await node.close()


def settings(figs: Figures, sizes: FanoutSizes) -> None:
    figs.settings["fanout"] = {
        "followers": sizes.followers,
        "shared_inboxes": sizes.inboxes,
        "receiver_ports": sizes.receiver_ports,
        "delivery_poll_seconds": POLL_SECONDS,
        "rss_idle_after_seconds": sizes.idle_settle_seconds,
    }


async def run(
    figs: Figures,
    setup: Setup,
    backends: Backends,
    sizes: FanoutSizes,
    work: Path,
    sign_rate: float,
) -> None:
    node_port = free_port()
    ports = [free_port() for _ in range(sizes.receiver_ports)]
    if len(set(ports + [node_port])) != len(ports) + 1:
        raise BenchError("could not find distinct free ports")
    inbox_urls = [
        f"http://{LOOPBACK}:{ports[n % len(ports)]}/i/{n}/inbox" for n in range(sizes.inboxes)
    ]
    label = f"fanout-{setup.name}"
    data = work / label
    t = time.perf_counter()
    config, public_pem = await prepare_node(
        data, node_port, inbox_urls, sizes.followers, await backends.database_url(setup)
    )
    note(
        f"{setup.name} fan-out: node with {sizes.followers} followers ready in "
        f"{time.perf_counter() - t:.1f}s"
    )
    key_file = work / f"{label}-public.pem"
    key_file.write_text(public_pem, encoding="ascii")

    receivers = Server(
        "receivers",
        [
            PYTHON,
            "-m",
            "bench.receivers",
            "--ports",
            ",".join(map(str, ports)),
            "--key",
            str(key_file),
        ],
        work / f"{label}-receivers.log",
    )
    node = NodeProcesses(setup, data, work, label)
    watched = [*node.servers, receivers]
    stats_url = f"http://{LOOPBACK}:{ports[0]}/stats"
    db: NodeDb | None = None
    try:
        receivers.start()
        await wait_http(stats_url, receivers)
        node.start()
        await node.ready(
            f"http://{LOOPBACK}:{node_port}/users/bench", headers={"Accept": ACTIVITY_JSON}
        )
        rss_idle = await memory.idle(node, sizes.idle_settle_seconds)
        db = await open_db(config.database_url)
        clock = CpuClock(
            {**node.groups(), "receivers": [receivers.pid]}, backends.postmaster_pid(setup)
        )

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            stats: dict[str, float] = {}

            async def all_received() -> bool:
                nonlocal stats
                async with http.get(stats_url) as resp:
                    stats = await resp.json()
                return stats["distinct"] >= sizes.inboxes

            cpu_start = clock.read()
            text = "Assemblée générale samedi à 15 h : venez nombreux !"
            started, posted = await publish(data, text)
            await wait_until("every inbox to receive the post", all_received, 300, watched, 0.02)
        delivered_sql = "select count(*) from deliveries where state != 'pending'"

        async def recorded() -> bool:
            assert db is not None
            return await db.scalar(delivered_sql) >= sizes.inboxes

        recorded_at = await wait_until(
            "deliveries recorded", recorded, 60, watched, DB_POLL_SECONDS
        )
        cpu_end = clock.read()
        states = await db.counts("deliveries")
        rss_after = memory.readings(node)
        # Anything sent after the last one was recorded (a duplicate) shows here.
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            async with http.get(stats_url) as resp:
                stats = await resp.json()
    finally:
        if db is not None:
            await db.close()
        node.stop()
        receivers.stop()
    if states != {"delivered": sizes.inboxes} or stats["bad"] or stats["posts"] != sizes.inboxes:
        raise BenchError(
            f"{setup.name}: deliveries {dict(states)}; receivers saw {stats}; expected exactly "
            f"one good POST per inbox:\n{node.tail()}"
        )
    seconds = stats["last"] - started
    note(
        f"{setup.name} fan-out: post committed ({sizes.inboxes} deliveries queued) after "
        f"{posted - started:.2f}s, first inbox reached after {stats['first'] - started:.2f}s, "
        f"last after {seconds:.2f}s, all recorded delivered after {recorded_at - started:.2f}s"
    )
    note(f"{setup.name} fan-out CPU until recorded: {CpuClock.shares(cpu_start, cpu_end)}")
    figs.add("fanout_seconds", seconds, "s", digits=2, setup=setup)
    rate = figs.add("fanout_deliveries_per_s", sizes.inboxes / seconds, "deliveries/s", setup=setup)
    figs.add("fanout_ratio", rate / sign_rate, "ratio", digits=3, setup=setup)
    memory.report(figs, setup, rss_idle, rss_after)
