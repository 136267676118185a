"""Figure (a): inbox ingest on each setup, and the ceiling a bare handler reaches.

Setup: per setup, a node initialised in a temp dir (on PostgreSQL: on a
fresh database of the run's server) that already follows `actors` remote
actors (their RemoteActor rows with public keys and accepted Following
rows are written by this process into the node's database before it
starts, as if the follows had happened earlier). The node runs as its
setup says (bench.common.SETUPS): one `serve` process on SQLite; on
PostgreSQL a `serve --no-workers` web process that accepts and stores
inbox items, and one or two `worker` processes that process them. This
process is the remote side: it serves the actors' documents on its own
loopback port (the node may fetch them; it should not need to) and sends
pre-signed Create(Note) activities, draft-cavage signed exactly as
Mastodon signs them, `concurrency` at a time over keep-alive connections.
One warm-up activity per actor goes first and is waited for (connections,
caches, the inbox workers' first batches, the workers' LISTEN).

Figures per setup:
- inbox_accepted_per_s: activities answered 202 per second, from the first
  POST to the last answer (what a sender sees; the work may lag behind);
- inbox_ingest_per_s: activities fully processed per second, from the
  first POST until every inbox item is processed (polled read-only in the
  node's database, every 20 ms);
- inbox_accept_ratio, inbox_processed_ratio: those two divided by the
  bare ceiling.
Afterwards the run checks that every item is `done` with no error and every
Note was stored. The diagnostics give the CPU share of every process kind,
of the PostgreSQL server and of this process, while accepting and until
processed, and each process's memory once all is processed.

The ceiling, `bare_ceiling_per_s`, measured once per run before the nodes:
`bench.bare_inbox` in its own process receives the same load (signed for
its own URL) and only verifies digest + signature and parses the JSON.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bench import memory
from bench.common import (
    LOOPBACK,
    PYTHON,
    Backends,
    BenchError,
    Blast,
    CpuClock,
    Figures,
    NodeDb,
    NodeProcesses,
    PreparedRequest,
    Server,
    Setup,
    blast,
    free_port,
    note,
    open_db,
    process_cpu_seconds,
    wait_http,
    wait_until,
)
from federation.signatures import sign_request
from federation.vocab import ACCEPT_AP, ACTIVITY_JSON, AS_CONTEXT, PUBLIC, SECURITY_CONTEXT
from node.config import Config

#: Seconds between polls of the node's database while waiting for its work.
POLL_SECONDS = 0.02


@dataclass(frozen=True)
class InboxSizes:
    actors: int = 100
    requests: int = 3000
    concurrency: int = 32


@dataclass(frozen=True)
class RemoteActorKey:
    uri: str
    key_id: str
    private_key: rsa.RSAPrivateKey
    public_pem: str

    @property
    def username(self) -> str:
        return self.uri.rsplit("/", 1)[1]


def make_actors(base: str, n: int) -> list[RemoteActorKey]:
    actors = []
    for k in range(n):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )
        uri = f"{base}/users/member{k}"
        actors.append(RemoteActorKey(uri, f"{uri}#main-key", key, pem))
    return actors


def actor_document(base: str, actor: RemoteActorKey) -> dict[str, Any]:
    """Shaped like a Mastodon Person."""
    return {
        "@context": [AS_CONTEXT, SECURITY_CONTEXT],
        "id": actor.uri,
        "type": "Person",
        "preferredUsername": actor.username,
        "name": f"Membre {actor.username}",
        "summary": "<p>Membre d'une section voisine.</p>",
        "url": f"{base}/@{actor.username}",
        "inbox": f"{actor.uri}/inbox",
        "outbox": f"{actor.uri}/outbox",
        "followers": f"{actor.uri}/followers",
        "following": f"{actor.uri}/following",
        "endpoints": {"sharedInbox": f"{base}/inbox"},
        "manuallyApprovesFollowers": False,
        "publicKey": {"id": actor.key_id, "owner": actor.uri, "publicKeyPem": actor.public_pem},
    }


def create_note(base: str, actor: RemoteActorKey, serial: int, now: datetime) -> dict[str, Any]:
    """A Create(Note) of typical Mastodon size and shape (about 1.5 kB)."""
    published = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    note_id = f"{actor.uri}/statuses/{serial}"
    followers = f"{actor.uri}/followers"
    tag_href = f"{base}/tags/cooperative"
    content = (
        f"<p>Bulletin n°{serial} de la section : la réunion mensuelle aura lieu samedi à 15 h "
        "à la maison des associations. Ordre du jour : bilan des échanges SEL, nouvelles "
        "offres, accueil des nouveaux membres. "
        f'<a href="{tag_href}" class="mention hashtag" rel="tag">#<span>cooperative</span></a>'
        "</p><p>Merci de confirmer votre présence &amp; de relayer l'annonce.</p>"
    )
    return {
        "@context": [
            AS_CONTEXT,
            {
                "ostatus": "http://ostatus.org#",
                "sensitive": "as:sensitive",
                "Hashtag": "as:Hashtag",
            },
        ],
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": actor.uri,
        "published": published,
        "to": [PUBLIC],
        "cc": [followers],
        "object": {
            "id": note_id,
            "type": "Note",
            "summary": None,
            "inReplyTo": None,
            "published": published,
            "url": f"{base}/@{actor.username}/{serial}",
            "attributedTo": actor.uri,
            "to": [PUBLIC],
            "cc": [followers],
            "sensitive": False,
            "conversation": f"tag:127.0.0.1,2024:objectId={serial}:objectType=Conversation",
            "content": content,
            "contentMap": {"fr": content},
            "attachment": [],
            "tag": [{"type": "Hashtag", "href": tag_href, "name": "#cooperative"}],
            "replies": {
                "id": f"{note_id}/replies",
                "type": "Collection",
                "first": {
                    "type": "CollectionPage",
                    "next": f"{note_id}/replies?only_other_accounts=true&page=true",
                    "partOf": f"{note_id}/replies",
                    "items": [],
                },
            },
        },
    }


def sign_all(
    base: str, actors: list[RemoteActorKey], serials: range, inbox_url: str, inbox_path: str
) -> list[PreparedRequest]:
    now = datetime.now(UTC)
    out: list[PreparedRequest] = []
    for serial in serials:
        actor = actors[serial % len(actors)]
        body = json.dumps(create_note(base, actor, serial, now)).encode("utf-8")
        headers = {"Content-Type": ACTIVITY_JSON, "Accept": ACCEPT_AP}
        headers |= sign_request(
            "POST", inbox_url, headers, body, actor.key_id, actor.private_key, now
        )
        out.append((inbox_path, headers, body))
    return out


async def serve_documents(
    base: str, actors: list[RemoteActorKey], port: int
) -> tuple[web.AppRunner, dict[str, int]]:
    docs = {f"/users/{a.username}": json.dumps(actor_document(base, a)) for a in actors}
    hits = {"fetches": 0}

    async def get(request: web.Request) -> web.Response:
        doc = docs.get(request.path)
        if doc is None:
            raise web.HTTPNotFound()
        hits["fetches"] += 1
        return web.Response(text=doc, content_type=ACTIVITY_JSON)

    app = web.Application()
    app.router.add_get("/users/{name}", get)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, LOOPBACK, port).start()
    return runner, hits


async def prepare_node(
    data: Path, port: int, base: str, actors: list[RemoteActorKey], database: str | None
) -> Config:
    """init the node, then record that it already follows every actor (keys cached)."""
    from models.actors import get_node_actor, upsert_remote_actor
    from models.base import make_engine, make_sessionmaker, utcnow
    from models.follows import Following, FollowingState
    from node.actions import init_node

    config = await init_node(
        data, f"http://{LOOPBACK}:{port}", "bench", "section", "Bench", database=database
    )
    engine = make_engine(config.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            me = await get_node_actor(session)
            for i, actor in enumerate(actors):
                remote = await upsert_remote_actor(
                    session, actor_document(base, actor), key_id=actor.key_id
                )
                session.add(
                    Following(
                        local_actor_id=me.id,
                        remote_actor_id=remote.id,
                        follow_uri=f"{config.url}/activities/bench-follow-{i}",
                        state=FollowingState.ACCEPTED,
                        accepted_at=utcnow(),
                    )
                )
    finally:
        await engine.dispose()
    return config


async def _send(
    servers: list[Server], base_url: str, requests: list[PreparedRequest], c: int
) -> Blast:
    result = await blast(base_url, requests, c)
    for server in servers:
        server.check_alive()
    if set(result.statuses) != {202}:
        raise BenchError(f"{servers[0].name} answered {dict(result.statuses)}, expected only 202")
    return result


@dataclass
class Remote:
    """The remote side, shared by every setup: actors with keys, their documents served."""

    sizes: InboxSizes
    base: str
    actors: list[RemoteActorKey]
    docs: web.AppRunner
    doc_hits: dict[str, int]

    def sign(self, inbox_url: str) -> tuple[list[PreparedRequest], list[PreparedRequest]]:
        """(warm-up: one per actor, load: `requests`), signed for `inbox_url` (path /inbox)."""
        n = len(self.actors)
        warmup = sign_all(self.base, self.actors, range(n), inbox_url, "/inbox")
        t = time.perf_counter()
        load = sign_all(
            self.base, self.actors, range(n, n + self.sizes.requests), inbox_url, "/inbox"
        )
        note(f"inbox: pre-signed {len(load)} activities in {time.perf_counter() - t:.1f}s")
        return warmup, load

    async def close(self) -> None:
        await self.docs.cleanup()


async def start_remote(figs: Figures, sizes: InboxSizes) -> Remote:
    docs_port = free_port()
    base = f"http://{LOOPBACK}:{docs_port}"
    figs.settings["inbox"] = {
        "remote_actors": sizes.actors,
        "activities": sizes.requests,
        "concurrency": sizes.concurrency,
        "endpoint": "shared inbox POST /inbox, draft-cavage signatures, keep-alive",
        "poll_seconds": POLL_SECONDS,
    }
    t = time.perf_counter()
    actors = make_actors(base, sizes.actors)
    note(f"inbox: {sizes.actors} RSA-2048 actor keys in {time.perf_counter() - t:.1f}s")
    runner, hits = await serve_documents(base, actors, docs_port)
    return Remote(sizes, base, actors, runner, hits)


async def measure_bare(figs: Figures, remote: Remote, work: Path) -> float:
    """bare_ceiling_per_s: the same load on bench.bare_inbox, once per run."""
    sizes = remote.sizes
    bare_port = free_port()
    bare_url = f"http://{LOOPBACK}:{bare_port}"
    warmup, load = remote.sign(bare_url + "/inbox")
    keys_file = work / "bare-keys.json"
    keys_file.write_text(
        json.dumps({a.key_id: {"owner": a.uri, "pem": a.public_pem} for a in remote.actors}),
        encoding="utf-8",
    )
    bare = Server(
        "bare inbox",
        [
            PYTHON,
            "-m",
            "bench.bare_inbox",
            "--port",
            str(bare_port),
            "--public-url",
            bare_url,
            "--keys",
            str(keys_file),
        ],
        work / "bare-inbox.log",
    )
    try:
        bare.start()
        await wait_http(f"{bare_url}/health", bare)
        await _send([bare], bare_url, warmup, sizes.concurrency)
        cpu0 = process_cpu_seconds(bare.pid)
        ceiling = await _send([bare], bare_url, load, sizes.concurrency)
        bare_cpu = process_cpu_seconds(bare.pid) - cpu0
    finally:
        bare.stop()
    note(
        f"bare inbox: {sizes.requests} verified in {ceiling.seconds:.2f}s; server CPU "
        f"{bare_cpu / ceiling.seconds:.0%}, load-generator CPU "
        f"{ceiling.cpu_seconds / ceiling.seconds:.0%}"
    )
    return figs.add("bare_ceiling_per_s", sizes.requests / ceiling.seconds, "activities/s")


async def run(
    figs: Figures,
    setup: Setup,
    backends: Backends,
    remote: Remote,
    bare_rate: float,
    work: Path,
) -> None:
    """The four inbox figures of one setup."""
    sizes = remote.sizes
    node_port = free_port()
    node_url = f"http://{LOOPBACK}:{node_port}"
    label = f"inbox-{setup.name}"
    config = await prepare_node(
        work / label, node_port, remote.base, remote.actors, await backends.database_url(setup)
    )
    warmup, load = remote.sign(node_url + "/inbox")
    fetches0 = remote.doc_hits["fetches"]

    node = NodeProcesses(setup, work / label, work, label)
    db: NodeDb | None = None
    try:
        node.start()
        await node.ready(f"{node_url}/users/bench", headers={"Accept": ACTIVITY_JSON})
        db = await open_db(config.database_url)
        done_sql = "select count(*) from inbox_items where state != 'pending'"

        async def processed(n: int) -> bool:
            assert db is not None
            return await db.scalar(done_sql) >= n

        await _send(node.servers, node_url, warmup, sizes.concurrency)
        await wait_until(
            "warm-up processed", lambda: processed(len(warmup)), 60, node.servers, POLL_SECONDS
        )

        clock = CpuClock(node.groups(), backends.postmaster_pid(setup))
        cpu_start = clock.read()
        sent = await _send(node.servers, node_url, load, sizes.concurrency)
        cpu_sent = clock.read()
        total = len(warmup) + len(load)
        done_at = await wait_until(
            "all activities processed", lambda: processed(total), 300, node.servers, POLL_SECONDS
        )
        cpu_done = clock.read()
        rss_after = memory.readings(node)

        states = await db.counts("inbox_items")
        stored = await db.scalar("select count(*) from remote_objects")
        ignored = await db.scalar("select count(*) from inbox_items where error is not null")
        if states != {"done": total} or stored != total or ignored:
            raise BenchError(
                f"{setup.name}: inbox items {dict(states)}, {stored} notes stored, {ignored} "
                f"ignored; expected {total} done and stored:\n{node.tail()}"
            )
    finally:
        if db is not None:
            await db.close()
        node.stop()
    e2e = done_at - sent.started
    note(
        f"{setup.name} inbox: {sizes.requests} accepted in {sent.seconds:.2f}s, all processed "
        f"after {e2e:.2f}s; actor documents fetched by the node: "
        f"{remote.doc_hits['fetches'] - fetches0}"
    )
    note(f"{setup.name} inbox CPU while accepting: {CpuClock.shares(cpu_start, cpu_sent)}")
    note(f"{setup.name} inbox CPU until processed: {CpuClock.shares(cpu_start, cpu_done)}")
    note(f"{setup.name} inbox memory {memory.describe('once processed', rss_after)}")
    accepted = figs.add(
        "inbox_accepted_per_s", sizes.requests / sent.seconds, "activities/s", setup=setup
    )
    ingest = figs.add("inbox_ingest_per_s", sizes.requests / e2e, "activities/s", setup=setup)
    figs.add("inbox_accept_ratio", accepted / bare_rate, "ratio", digits=3, setup=setup)
    figs.add("inbox_processed_ratio", ingest / bare_rate, "ratio", digits=3, setup=setup)
