"""Nodes run as several processes on one PostgreSQL database, queue workers killed with SIGKILL.

Everything runs as an operator runs it: ``coopnet init`` on a PostgreSQL database, web
processes (``coopnet serve --no-workers --reuse-port``, or ``serve --workers N`` under its
supervisor) sharing one port, and queue-worker processes (``coopnet worker``), all real
subprocesses on loopback. A worker is killed with SIGKILL every 2 to 3 s while the node is
busy, and a new one is started in its place. The remote side is an aiohttp server in the
test process that serves actor documents and records every POST it gets. The database is
read with asyncpg, not through the product's models.

What must hold, and why it can:

* Inbox: an item is claimed ``FOR UPDATE SKIP LOCKED`` and processed in the claiming
  transaction, so a worker killed half-way through a batch rolls the whole batch back and
  another worker takes it: every activity is stored once and has its effect once (one
  Accept queued per Follow).
* Deliveries: a claimed delivery is leased (``delivery.lease_seconds``); a killed worker's
  leased rows go out again when the lease runs out. A POST that reached the remote but
  whose answer the killed worker had not yet recorded is therefore sent a second time:
  **delivery is at-least-once on the wire and exactly-once in effect** (receivers
  deduplicate by activity id, as real servers do, and as coopnet's own inbox does). The
  test counts those duplicates, checks that each was a delivery leased when a worker was
  killed, and that they stay within (kills x what one worker can hold leased).
* SEL between two sections: each exchange settles exactly once on both sides, the
  ledgers verify, the two sections' views of their clearing agree, and answers reach the
  origin in the responder's commit order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import psutil
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from models.accounts import OPERATOR
from node import sel
from node.config import load_config
from node.context import Node
from tests import pg
from tests.conftest import bound_socket
from tests.peers.mastodon import sign_cavage
from tests.procs import coopnet, free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgresql_only]

ROOT = Path(__file__).resolve().parents[2]
AS = "https://www.w3.org/ns/activitystreams"
SECURITY = "https://w3id.org/security/v1"

# Short timings, so that a killed worker's leased deliveries go out again within seconds.
HTTP_TIMEOUT = 3.0
LEASE_SECONDS = 6.0
POLL_SECONDS = 0.2


# ============================================================================================
# Processes
# ============================================================================================


class Proc:
    """One ``python -m node ...`` subprocess, its output in a log file."""

    def __init__(self, name: str, args: list[str], log_dir: Path) -> None:
        self.name = name
        self.args = args
        self.log = log_dir / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> Proc:
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "node", *self.args, cwd=ROOT, stdout=out, stderr=out
            )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def log_text(self, tail: int = 3000) -> str:
        try:
            return f"--- {self.name}\n" + self.log.read_text(errors="replace")[-tail:]
        except FileNotFoundError:
            return f"--- {self.name}: no log"

    async def wait_log(self, text: str, within: float = 30.0) -> None:
        """Until ``text`` appears in the log (the process says it is ready)."""
        deadline = time.monotonic() + within
        while text not in self.log.read_text(errors="replace"):
            if not self.alive():
                pytest.fail(f"{self.name} exited before saying {text!r}\n{self.log_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name}: no {text!r} after {within} s\n{self.log_text()}")
            await asyncio.sleep(0.05)

    async def kill9(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.proc.wait(), 15)

    async def stop(self, within: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited ``within`` seconds."""
        if not self.alive():
            return None
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), within)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()
            return None


@pytest.fixture
async def procs() -> AsyncIterator[list[Proc]]:
    """Every process a test starts; whatever still runs at the end is stopped."""
    started: list[Proc] = []
    yield started
    await asyncio.gather(*(p.stop() for p in started))


async def ok(*args: str, within: float = 60.0) -> str:
    code, out, err = await coopnet(*args, within=within)
    assert code == 0, f"coopnet {' '.join(args)} exited {code}\n{out}\n{err}"
    return out


def dsn(url: str) -> str:
    """asyncpg's form of the node's SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@dataclass
class MultiNode:
    """A node on PostgreSQL run as web processes and worker processes."""

    name: str
    data: Path
    port: int
    database: str
    log_dir: Path
    procs: list[Proc]
    webs: list[Proc] = field(default_factory=list)
    workers: list[Proc] = field(default_factory=list)
    started_workers: int = 0
    db: asyncpg.Connection | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def acct(self) -> str:
        return f"{self.name}@{self.host}"

    @property
    def actor_id(self) -> str:
        return f"{self.url}/users/{self.name}"

    async def init(self) -> None:
        await ok(
            "init", "--data", str(self.data), "--url", self.url, "--name", self.name,
            "--role", "section", "--database", self.database,
        )  # fmt: skip
        config = load_config(self.data)
        config.http_timeout_seconds = HTTP_TIMEOUT
        config.delivery_lease_seconds = LEASE_SECONDS
        config.delivery_poll_seconds = POLL_SECONDS
        config.save()
        self.db = await asyncpg.connect(dsn(self.database))

    async def start_web(self, extra: tuple[str, ...] = ()) -> Proc:
        proc = Proc(
            f"{self.name}-web{len(self.webs) + 1}",
            ["serve", "--data", str(self.data), "--no-workers", "--reuse-port", *extra],
            self.log_dir,
        )
        self.procs.append(proc)
        self.webs.append(proc)
        await proc.start()
        await proc.wait_log("serving ")
        return proc

    async def start_worker(self) -> Proc:
        self.started_workers += 1
        proc = Proc(
            f"{self.name}-worker{self.started_workers}",
            ["worker", "--data", str(self.data)],
            self.log_dir,
        )
        self.procs.append(proc)
        self.workers.append(proc)
        await proc.start()
        await proc.wait_log("queue workers of")
        return proc

    def check_alive(self) -> None:
        for p in self.webs + self.workers:
            if not p.alive():
                pytest.fail(f"{p.name} exited\n{p.log_text()}")

    def logs(self) -> str:
        return "\n".join(p.log_text(1500) for p in self.webs + self.workers)

    async def scalar(self, sql: str, *args: Any) -> Any:
        assert self.db is not None
        return await self.db.fetchval(sql, *args)

    async def rows(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        assert self.db is not None
        return list(await self.db.fetch(sql, *args))

    async def busy(self) -> dict[str, int]:
        """What is still to do: pending inbox items and deliveries."""
        return {
            "inbox": int(
                await self.scalar("SELECT count(*) FROM inbox_items WHERE state = 'pending'")
            ),
            "deliveries": int(
                await self.scalar("SELECT count(*) FROM deliveries WHERE state = 'pending'")
            ),
        }

    async def leased(self) -> set[int]:
        """Deliveries claimed by some worker and not yet recorded (sent, or being sent)."""
        rows = await self.rows(
            "SELECT id FROM deliveries WHERE state = 'pending' AND locked_until IS NOT NULL"
        )
        return {r["id"] for r in rows}

    async def close(self) -> None:
        if self.db is not None:
            await self.db.close()


async def wait_until(
    what: str,
    pred: Callable[[], Any],
    nodes: list[MultiNode],
    within: float,
    every: float = 0.25,
) -> float:
    """Poll the async predicate until true (bounded); returns the seconds it took."""
    start = time.monotonic()
    while not await pred():
        for n in nodes:
            n.check_alive()
        if time.monotonic() - start > within:
            state = [f"{n.name}: {await n.busy()}" for n in nodes]
            logs = "\n".join(n.logs() for n in nodes)
            pytest.fail(f"timed out after {within} s waiting for {what}; {state}\n{logs}")
        await asyncio.sleep(every)
    return time.monotonic() - start


# ============================================================================================
# The remote side: actors with keys, inboxes that record what they get
# ============================================================================================


@dataclass
class RemoteActor:
    uri: str
    key: rsa.RSAPrivateKey
    pem: str

    @property
    def key_id(self) -> str:
        return f"{self.uri}#main-key"


def new_key() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return key, pem


@dataclass
class Received:
    path: str
    id: str
    type: str
    object_id: str | None


class Receiver:
    """Serves ``/users/aN`` actor documents; records every POST (answered 202 at once)."""

    def __init__(self) -> None:
        self.sock = bound_socket()
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.actors: dict[str, RemoteActor] = {}
        self.docs: dict[str, bytes] = {}
        self.got: list[Received] = []
        self.runner: web.AppRunner | None = None

    def add_actors(self, n: int) -> list[RemoteActor]:
        out = []
        for k in range(n):
            key, pem = new_key()
            actor = RemoteActor(f"{self.base}/users/a{k}", key, pem)
            self.actors[actor.uri] = actor
            self.docs[f"/users/a{k}"] = json.dumps(
                {
                    "@context": [AS, SECURITY],
                    "id": actor.uri,
                    "type": "Person",
                    "preferredUsername": f"a{k}",
                    "inbox": f"{actor.uri}/inbox",
                    "outbox": f"{actor.uri}/outbox",
                    "followers": f"{actor.uri}/followers",
                    "endpoints": {"sharedInbox": f"{self.base}/inbox"},
                    "publicKey": {"id": actor.key_id, "owner": actor.uri, "publicKeyPem": pem},
                }
            ).encode()
            out.append(actor)
        return out

    async def _get(self, request: web.Request) -> web.Response:
        doc = self.docs.get(request.path)
        if doc is None:
            raise web.HTTPNotFound()
        return web.Response(body=doc, content_type="application/activity+json")

    async def _post(self, request: web.Request) -> web.Response:
        doc = json.loads(await request.read())
        obj = doc.get("object")
        self.got.append(
            Received(
                request.path,
                str(doc.get("id")),
                str(doc.get("type")),
                obj.get("id") if isinstance(obj, dict) else obj,
            )
        )
        return web.Response(status=202)

    async def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_get("/users/{name}", self._get)
        app.router.add_post("/{tail:.*}", self._post)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self.runner.setup()
        await web.SockSite(self.runner, self.sock, backlog=1024).start()

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.close()


# ============================================================================================
# 1. Inbox and fan-out under SIGKILL
# ============================================================================================

ACTORS = 50
FOLLOWS = 5_000
FOLLOWERS = 10_000
SHARED_INBOXES = 1_000
SEND_CONCURRENCY = 64
WEB_PROCESSES = 2
WORKER_PROCESSES = 3
KILLS = 6
#: What one worker process can hold leased and unrecorded at once (node/worker.py
#: DeliveryWorker: 3 lanes, each claiming a batch of max(2 x concurrency, 16) rows
#: whose outcomes are recorded together once the whole batch was sent).
LANES = 3


def signed_follows(
    receiver: Receiver, actors: list[RemoteActor], node: MultiNode, n: int, seed: int
) -> list[tuple[str, dict[str, str], bytes]]:
    """``n`` Follows of the node actor with distinct ids, signed as Mastodon signs, shuffled."""
    inbox = f"{node.actor_id}/inbox"
    out = []
    for i in range(n):
        actor = actors[i % len(actors)]
        body = json.dumps(
            {
                "@context": AS,
                "id": f"{actor.uri}/follows/{i}",
                "type": "Follow",
                "actor": actor.uri,
                "object": node.actor_id,
            }
        ).encode()
        headers = sign_cavage("POST", inbox, actor.key_id, actor.key, body)
        out.append((inbox, headers, body))
    random.Random(seed).shuffle(out)
    return out


async def send_all(
    requests: list[tuple[str, dict[str, str], bytes]], concurrency: int
) -> Counter[int]:
    """POST every request, ``concurrency`` at a time; the statuses."""
    statuses: Counter[int] = Counter()
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def lane() -> None:
            for url, headers, body in queue:
                async with http.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    statuses[resp.status] += 1

        await asyncio.gather(*(lane() for _ in range(concurrency)))
    return statuses


async def add_followers(node: MultiNode, receiver: Receiver) -> list[str]:
    """``FOLLOWERS`` remote followers on ``SHARED_INBOXES`` shared inboxes, in bulk (as
    bench/fanout.py does); returns the shared inbox URLs."""
    inboxes = [f"{receiver.base}/i/{n}/inbox" for n in range(SHARED_INBOXES)]
    per_inbox = FOLLOWERS // SHARED_INBOXES
    now = datetime.now(UTC)
    conn = node.db
    assert conn is not None
    async with conn.transaction():
        me = await conn.fetchval("SELECT id FROM local_actors WHERE is_node")
        await conn.copy_records_to_table(
            "remote_actors",
            columns=[
                "uri", "key_id", "type", "preferred_username", "name", "inbox",
                "shared_inbox", "url", "fetched_at",
            ],
            records=[
                (
                    f"{receiver.base}/users/f{k}", f"{receiver.base}/users/f{k}#main-key",
                    "Person", f"f{k}", f"Follower {k}", f"{receiver.base}/users/f{k}/inbox",
                    inboxes[k // per_inbox], f"{receiver.base}/@f{k}",
                    now,
                )
                for k in range(FOLLOWERS)
            ],
        )  # fmt: skip
        await conn.execute(
            """
            INSERT INTO followers (local_actor_id, remote_actor_id, follow_uri, created_at)
            SELECT $1, id, 'http://127.0.0.1:1/follows/' || id, now() FROM remote_actors
            WHERE uri LIKE $2
            """,
            me,
            f"{receiver.base}/users/f%",
        )
    return inboxes


@dataclass
class Chaos:
    """Kills a worker process of ``node`` every 2-3 s and starts another in its place."""

    node: MultiNode
    rng: random.Random
    max_kills: int
    kills: list[dict[str, Any]] = field(default_factory=list)
    #: Per kill: the deliveries leased right after it (the victim's are among them).
    leased_at: list[set[int]] = field(default_factory=list)

    async def kill_one(self) -> None:
        victim = self.rng.choice([w for w in self.node.workers if w.alive()])
        await victim.kill9()
        # Right after the kill the rows it had leased are still marked (with live
        # workers' leases: a superset).
        leased = await self.node.leased()
        self.leased_at.append(leased)
        busy = await self.node.busy()
        self.kills.append({"worker": victim.name, "leased": len(leased), **busy})
        self.node.workers.remove(victim)
        await self.node.start_worker()

    async def run(self, done: Callable[[], Any]) -> None:
        while len(self.kills) < self.max_kills:
            await asyncio.sleep(self.rng.uniform(2.0, 3.0))
            if await done():
                return
            await self.kill_one()


async def test_inbox_and_fanout_exactly_once_in_effect_with_workers_killed(
    tmp_path: Path, receiver: Receiver, procs: list[Proc]
) -> None:
    started = time.monotonic()
    async with asyncio.timeout(240):
        server = await pg.server()
        node = MultiNode(
            "lome", tmp_path / "lome", free_port(), await server.new_database(), tmp_path, procs
        )
        try:
            await run_inbox_and_fanout(node, receiver, started)
        finally:
            await node.close()


async def run_inbox_and_fanout(node: MultiNode, receiver: Receiver, started: float) -> None:
    # Keys and signatures (CPU in a thread) while the node is created and started.
    async def remote_side() -> list[tuple[str, dict[str, str], bytes]]:
        actors = await asyncio.to_thread(receiver.add_actors, ACTORS)
        return await asyncio.to_thread(signed_follows, receiver, actors, node, FOLLOWS, 1)

    async def node_side() -> list[str]:
        await node.init()
        inboxes = await add_followers(node, receiver)
        await asyncio.gather(
            *(node.start_web() for _ in range(WEB_PROCESSES)),
            *(node.start_worker() for _ in range(WORKER_PROCESSES)),
        )
        return inboxes

    requests, inboxes = await asyncio.gather(remote_side(), node_side())
    ready = time.monotonic()

    chaos = Chaos(node, random.Random(7), KILLS)
    sending = asyncio.ensure_future(send_all(requests, SEND_CONCURRENCY))

    async def all_done() -> bool:
        return sending.done() and await node.busy() == {"inbox": 0, "deliveries": 0}

    async def create_on_the_wire() -> bool:
        counts = await node.rows(
            "SELECT d.state, d.locked_until IS NOT NULL AS leased, count(*) AS n "
            "FROM deliveries d JOIN activities a ON a.id = d.activity_id "
            "WHERE a.type = 'Create' GROUP BY 1, 2"
        )
        leased = sum(r["n"] for r in counts if r["state"] == "pending" and r["leased"])
        total = sum(r["n"] for r in counts)
        delivered = sum(r["n"] for r in counts if r["state"] == "delivered")
        return leased > 0 or (total > 0 and delivered == total)

    killing: asyncio.Future[None] | None = None
    try:
        # The post goes out while Follows come in, and the first kill is aimed at the
        # fan-out: it comes as soon as the Create's deliveries are leased (on the wire).
        await asyncio.sleep(1.0)
        out = await ok("post", "--data", str(node.data), "Assemblée générale samedi à 15 h.")
        note_id = out.strip()
        await wait_until("the Create on the wire", create_on_the_wire, [node], 30, every=0.01)
        await chaos.kill_one()
        killing = asyncio.ensure_future(chaos.run(all_done))
        statuses = await sending
        sent = time.monotonic()
        await killing
    finally:
        sending.cancel()
        if killing is not None:
            killing.cancel()
    assert statuses == {202: FOLLOWS}, statuses
    assert len(chaos.kills) >= 3, f"the load ended before 3 kills: {chaos.kills}"
    drained = await wait_until("every queue drained", all_done, [node], within=90)
    finished = time.monotonic()

    # --- Inbox: each Follow stored once, processed once, exactly one Accept queued for it.
    follow_ids = {json.loads(body)["id"] for _, _, body in requests}
    items = await node.rows("SELECT activity_uri, state, error FROM inbox_items")
    assert Counter(r["activity_uri"] for r in items) == Counter(follow_ids)
    bad = [dict(r) for r in items if r["state"] != "done" or r["error"] is not None]
    assert not bad, f"{len(bad)} inbox items not done cleanly, e.g. {bad[:3]}"
    accepts = await node.rows(
        "SELECT uri, object_uri FROM activities WHERE type = 'Accept' ORDER BY id"
    )
    per_follow = Counter(r["object_uri"] for r in accepts)
    assert set(per_follow) == follow_ids
    twice = {k: v for k, v in per_follow.items() if v != 1}
    assert not twice, f"Follows with more than one Accept: {list(twice.items())[:5]}"

    # --- Deliveries: all delivered; each reached its inbox at least once.
    create_id = await node.scalar(
        "SELECT uri FROM activities WHERE type = 'Create' AND object_uri = $1", note_id
    )
    deliveries = await node.rows(
        "SELECT d.id, d.inbox, d.state, a.uri, a.type FROM deliveries d "
        "JOIN activities a ON a.id = d.activity_id"
    )
    assert Counter(r["state"] for r in deliveries) == {"delivered": len(deliveries)}
    assert Counter(r["type"] for r in deliveries)["Accept"] == len(accepts)
    # The Create went to every shared inbox of the bulk followers, and to the remote
    # actors' shared inbox if one of their Follows was processed before the post.
    create_inboxes = {r["inbox"] for r in deliveries if r["uri"] == create_id}
    assert set(inboxes) <= create_inboxes <= {*inboxes, f"{receiver.base}/inbox"}
    expected = {(r["inbox"].removeprefix(receiver.base), r["uri"]): r["id"] for r in deliveries}
    on_wire = Counter((g.path, g.id) for g in receiver.got)
    missing = set(expected) - set(on_wire)
    assert not missing, f"{len(missing)} deliveries never arrived, e.g. {sorted(missing)[:3]}"
    unexpected = set(on_wire) - set(expected)
    assert not unexpected, f"POSTs for no delivery row: {sorted(unexpected)[:3]}"
    creates = {g.path for g in receiver.got if g.id == create_id}
    assert {f"/i/{n}/inbox" for n in range(SHARED_INBOXES)} <= creates
    accepted = {g.object_id for g in receiver.got if g.type == "Accept"}
    assert accepted == follow_ids

    # --- Duplicates on the wire: only deliveries leased when a worker was killed.
    dups = {pair: n - 1 for pair, n in on_wire.items() if n > 1}
    duplicates = sum(dups.values())
    in_flight_at_kills = set().union(*chaos.leased_at)
    not_in_flight = [pair for pair in dups if expected[pair] not in in_flight_at_kills]
    assert not not_in_flight, (
        f"{len(not_in_flight)} deliveries sent twice that no killed worker held: "
        f"{not_in_flight[:3]}"
    )
    config = load_config(node.data)
    per_worker = LANES * max(2 * config.delivery_concurrency, 16)
    bound = len(chaos.kills) * per_worker
    assert duplicates <= bound, (duplicates, bound)
    per_kill, seen = [], set()
    for leased in chaos.leased_at:
        per_kill.append(sum(n for pair, n in dups.items() if expected[pair] in leased - seen))
        seen |= leased

    print(
        f"\ninbox+fan-out: {FOLLOWS} Follows from {ACTORS} actors, {FOLLOWERS} followers on "
        f"{SHARED_INBOXES} shared inboxes; {WEB_PROCESSES} web + {WORKER_PROCESSES} worker "
        f"processes; set-up {ready - started:.1f}s, Follows sent in {sent - ready:.1f}s, "
        f"queues drained {drained:.1f}s later, total {finished - started:.1f}s; "
        f"{len(chaos.kills)} workers killed {chaos.kills}; {len(expected)} deliveries, "
        f"{len(receiver.got)} POSTs received, {duplicates} duplicates on the wire over "
        f"{len(dups)} deliveries (by kill {per_kill}; bound {per_worker} a kill, {bound} in all)"
    )


# ============================================================================================
# 2. SEL between two multi-process sections
# ============================================================================================

MEMBERS = ("m1", "m2", "m3")
WAVES = 6
PER_WAVE = 6  # each way: 2 x 6 x 6 = 72 exchanges
SEL_KILLS = 3  # per section


class Supervised:
    """``coopnet serve --workers N``: the supervisor, its web processes and its worker."""

    def __init__(self, node: MultiNode, webs: int) -> None:
        self.node = node
        self.webs = webs
        self.proc = Proc(
            f"{node.name}-serve", ["serve", "--data", str(node.data), "--workers", str(webs)],
            node.log_dir,
        )  # fmt: skip
        node.procs.append(self.proc)
        node.webs.append(self.proc)

    async def start(self) -> None:
        await self.proc.start()
        deadline = time.monotonic() + 40
        while True:
            text = self.proc.log.read_text(errors="replace")
            if text.count("serving ") >= self.webs and "queue workers of" in text:
                return
            if not self.proc.alive() or time.monotonic() > deadline:
                pytest.fail(f"{self.proc.name} did not start\n{self.proc.log_text()}")
            await asyncio.sleep(0.05)

    def worker(self) -> psutil.Process | None:
        """The supervisor's worker process (it restarts it when it dies)."""
        for child in psutil.Process(self.proc.pid).children():
            with contextlib.suppress(psutil.Error):
                if "worker" in child.cmdline() and child.status() != psutil.STATUS_ZOMBIE:
                    return child
        return None


async def kill_a_worker(node: MultiNode, sup: Supervised, rng: random.Random) -> str:
    """SIGKILL one worker of ``node``: the supervisor's (restarted by it) when it has run
    long enough not to count as failing to start (node/supervisor.py QUICK_EXIT), else
    the standalone one, which the test starts again."""
    child = sup.worker()
    if child is not None and time.time() - child.create_time() > 6 and rng.random() < 0.5:
        child.send_signal(signal.SIGKILL)
        return f"{node.name} supervisor's worker (pid {child.pid})"
    victim = rng.choice([w for w in node.workers if w.alive()])
    await victim.kill9()
    node.workers.remove(victim)
    await node.start_worker()
    return victim.name


async def sel_section(
    name: str, database: str, tmp_path: Path, procs: list[Proc]
) -> tuple[MultiNode, Supervised]:
    node = MultiNode(name, tmp_path / name, free_port(), database, tmp_path, procs)
    await node.init()
    sup = Supervised(node, webs=2)
    await asyncio.gather(sup.start(), node.start_worker())
    return node, sup


async def test_sel_between_multiprocess_sections_settles_exactly_once(
    tmp_path: Path, procs: list[Proc]
) -> None:
    started = time.monotonic()
    nodes: list[MultiNode] = []
    try:
        async with asyncio.timeout(240):
            server = await pg.server()
            (lome, lsup), (mars, msup) = await asyncio.gather(
                sel_section("lome", await server.new_database(), tmp_path, procs),
                sel_section("marseille", await server.new_database(), tmp_path, procs),
            )
            nodes += [lome, mars]
            await run_sel(lome, lsup, mars, msup, started)
    finally:
        for n in nodes:
            await n.close()


async def run_sel(
    lome: MultiNode, lsup: Supervised, mars: MultiNode, msup: Supervised, started: float
) -> None:
    pair = [lome, mars]
    # SEL peering builds on an alliance (which also makes the two node actors
    # follow each other): lome asks, mars's operator approves.
    await ok("peer", "add", "--data", str(lome.data), mars.acct)

    async def alliance(n: MultiNode, state: str) -> bool:
        return [r["state"] for r in await n.rows("SELECT state FROM alliances")] == [state]

    await wait_until("lome's alliance request at mars", lambda: alliance(mars, "pending"), pair, 30)
    await ok("peer", "approve", "--data", str(mars.data), lome.acct)
    await wait_until("the alliance accepted", lambda: alliance(lome, "accepted"), pair, 30)
    setup = []
    for a, b in ((lome, mars), (mars, lome)):
        setup.append(
            ok("sel", "peer", "--data", str(a.data), b.acct,
               "--our-spending", "500", "--their-spending", "500")
        )  # fmt: skip
        setup += [ok("sel", "account", "--data", str(a.data), m, "--name", m) for m in MEMBERS]
    await asyncio.gather(*setup)

    async def mutual() -> bool:
        states = [[r["state"] for r in await n.rows("SELECT state FROM following")] for n in pair]
        return states == [["accepted"], ["accepted"]]

    await wait_until("the mutual follow", mutual, pair, 30)
    ready = time.monotonic()

    rng = random.Random(11)
    made: dict[str, tuple[MultiNode, MultiNode, str, str, int]] = {}  # uri -> who, amount
    kills: list[str] = []

    async def one_exchange(opened: Node, a: MultiNode, b: MultiNode) -> None:
        payer, payee, minutes = rng.choice(MEMBERS), rng.choice(MEMBERS), rng.randint(10, 60)
        row, _ = await sel.exchange(
            opened, payer, f"{payee}@{b.host}", f"{minutes}m", "aide", by=OPERATOR
        )
        assert row.state == "held", row.state
        made[row.uri] = (a, b, payer, payee, minutes)

    async def burst() -> None:
        async with (
            await Node.open(load_config(lome.data)) as nl,
            await Node.open(load_config(mars.data)) as nm,
        ):
            for _ in range(WAVES):
                await asyncio.gather(
                    *(one_exchange(nl, lome, mars) for _ in range(PER_WAVE)),
                    *(one_exchange(nm, mars, lome) for _ in range(PER_WAVE)),
                )
                await asyncio.sleep(1.0)

    async def chaos() -> None:
        for _ in range(SEL_KILLS):
            await asyncio.sleep(rng.uniform(2.0, 3.0))
            kills.extend(
                await asyncio.gather(kill_a_worker(lome, lsup, rng), kill_a_worker(mars, msup, rng))
            )

    await asyncio.gather(burst(), chaos())
    issued = time.monotonic()

    async def settled() -> bool:
        for n in pair:
            if await n.scalar("SELECT count(*) FROM sel_exchanges WHERE state = 'held'"):
                return False
            if await n.busy() != {"inbox": 0, "deliveries": 0}:
                return False
        return True

    drained = await wait_until("every exchange settled and the queues drained", settled, pair, 90)

    # --- Each exchange once on both sides: settled at the origin, committed at the responder,
    #     one ledger entry each, the same amount.
    expected_balance: Counter[tuple[str, str]] = Counter()
    refused = 0
    for uri, (a, b, payer, payee, minutes) in made.items():
        (origin,) = await a.rows("SELECT * FROM sel_exchanges WHERE uri = $1", uri)
        there = await b.rows("SELECT * FROM sel_exchanges WHERE uri = $1", uri)
        if origin["state"] != "settled":
            assert origin["state"] == "rejected", (uri, origin["state"], origin["reason"])
            assert [r["state"] for r in there] == ["refused"], (uri, there)
            refused += 1
            continue
        assert len(there) == 1 and there[0]["state"] == "committed", (uri, there)
        assert origin["amount"] == there[0]["amount"] == minutes, uri
        assert origin["peer_seq"] == there[0]["peer_seq"], uri
        for n, row in ((a, origin), (b, there[0])):
            entries = await n.rows(
                "SELECT kind, amount FROM sel_entries WHERE exchange_uuid = $1", row["uuid"]
            )
            assert [(e["kind"], e["amount"]) for e in entries] == [("exchange", minutes)], (
                n.name, uri, entries,
            )  # fmt: skip
        expected_balance[(a.name, payer)] -= minutes
        expected_balance[(b.name, payee)] += minutes
        expected_balance[(a.name, f"clearing:{b.actor_id}")] += minutes
        expected_balance[(b.name, f"clearing:{a.actor_id}")] -= minutes

    # --- Balances are the sum of the settled exchanges; nothing is left reserved.
    for n in pair:
        assert await n.scalar("SELECT count(*) FROM sel_exchanges") == len(made), n.name
        assert await n.scalar("SELECT count(*) FROM sel_entries") == len(made) - refused
        for acc in await n.rows("SELECT code, balance, held, held_in FROM sel_accounts"):
            assert (acc["balance"], acc["held"], acc["held_in"]) == (
                expected_balance[(n.name, acc["code"])], 0, 0,
            ), (n.name, dict(acc))  # fmt: skip

    # --- Answers reached each origin in the responder's commit order: the sequence numbers
    #     of the Accepts, in the order the origin stored them, only go up (1, 2, 3...).
    for origin, responder in ((lome, mars), (mars, lome)):
        bodies = await origin.rows(
            "SELECT body FROM inbox_items WHERE type = 'Accept' AND actor_uri = $1 ORDER BY id",
            responder.actor_id,
        )
        answers = [json.loads(r["body"]) for r in bodies]  # the Follow's Accept has no result
        seqs = [a["result"]["sequence"] for a in answers if isinstance(a.get("result"), dict)]
        committed = await responder.scalar(
            "SELECT count(*) FROM sel_exchanges WHERE role = 'responder' AND state = 'committed'"
        )
        assert seqs == list(range(1, committed + 1)), (origin.name, seqs)

    # --- The operator's checks agree.
    results = await asyncio.gather(
        coopnet("sel", "verify", "--data", str(lome.data)),
        coopnet("sel", "verify", "--data", str(mars.data)),
        coopnet("sel", "reconcile", "--data", str(lome.data), mars.acct),
        coopnet("sel", "reconcile", "--data", str(mars.data), lome.acct),
    )
    for code, out, err in results:
        assert code == 0, (out, err)
        assert "problem" not in out and "difference" not in out, out
    assert "ledger verified" in results[0][1] and "ledger verified" in results[1][1]
    assert "in agreement" in results[2][1] and "in agreement" in results[3][1]
    finished = time.monotonic()

    print(
        f"\nSEL: {len(made)} exchanges ({refused} refused) between two sections of 2 web + 2 "
        f"worker processes; set-up {ready - started:.1f}s, exchanges issued over "
        f"{issued - ready:.1f}s, settled {drained:.1f}s later, total {finished - started:.1f}s; "
        f"{len(kills)} workers killed: {kills}"
    )
