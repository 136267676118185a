"""The outgoing delivery queue, stepped by hand against a real receiver on loopback.

A node runs without its workers (``run_workers=False``); followers are stored with the real
domain functions, ``post_note`` queues a Create, and ``DeliveryWorker.run_once`` is called
explicitly. The receiver is a small aiohttp server written here: it records every POST and
answers a configurable status per path, so each branch of the delivery policy can be driven
from the wire and checked in the database.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from multidict import CIMultiDict
from sqlalchemy import select, update

from models.accounts import OPERATOR
from models.actors import get_node_actor, upsert_remote_actor
from models.follows import add_follower
from models.outbox import Activity, Delivery, DeliveryState
from node.actions import post_note
from node.cli import main as cli_main
from node.worker import DeliveryWorker
from tests.conftest import MakeNode, RunningNode, bound_socket

AS = "https://www.w3.org/ns/activitystreams"
STEP_TIMEOUT = 30.0


# --------------------------------------------------------------------------------------------
# The receiver
# --------------------------------------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: CIMultiDict[str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Gauge:
    """Requests being handled right now, and the most ever seen at once."""

    now: int = 0
    peak: int = 0


@dataclass
class Receiver:
    default_status: int = 202
    status: dict[str, int] = field(default_factory=dict)
    retry_after: dict[str, str] = field(default_factory=dict)
    hold: float = 0.0
    gauge: Gauge = field(default_factory=Gauge)
    received: list[Received] = field(default_factory=list)
    url: str = ""
    runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.gauge.now += 1
        self.gauge.peak = max(self.gauge.peak, self.gauge.now)
        try:
            body = await request.read()
            self.received.append(
                Received(request.method, request.path_qs, CIMultiDict(request.headers), body)
            )
            if self.hold:
                await asyncio.sleep(self.hold)
            status = self.status.get(request.path, self.default_status)
            headers = {}
            if request.path in self.retry_after:
                headers["Retry-After"] = self.retry_after[request.path]
            return web.Response(status=status, headers=headers)
        finally:
            self.gauge.now -= 1

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        sock = bound_socket()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        await web.SockSite(self.runner, sock).start()
        return self

    def paths(self) -> list[str]:
        return [r.path for r in self.received]


StartReceiver = Callable[..., Awaitable[Receiver]]


@pytest.fixture
async def receiver() -> AsyncIterator[StartReceiver]:
    started: list[Receiver] = []

    async def start(**kwargs: Any) -> Receiver:
        r = await Receiver(**kwargs).start()
        started.append(r)
        return r

    yield start
    for r in started:
        if r.runner is not None:
            await r.runner.cleanup()


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def actor_doc(base: str, name: str, *, shared: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [AS, "https://w3id.org/security/v1"],
        "id": f"{base}/users/{name}",
        "type": "Person",
        "preferredUsername": name,
        "inbox": f"{base}/users/{name}/inbox",
    }
    if shared:
        doc["endpoints"] = {"sharedInbox": shared}
    return doc


async def add_followers(rn: RunningNode, docs: list[dict[str, Any]]) -> None:
    async with rn.node.sessions() as session, session.begin():
        actor = await get_node_actor(session)
        for doc in docs:
            remote = await upsert_remote_actor(session, doc)
            await add_follower(session, actor.id, remote, f"{doc['id']}#follows/1")


async def deliveries(rn: RunningNode) -> list[Delivery]:
    async with rn.node.sessions() as session:
        rows = await session.execute(select(Delivery).order_by(Delivery.id))
        return list(rows.unique().scalars().all())


async def one_delivery(rn: RunningNode) -> Delivery:
    rows = await deliveries(rn)
    assert len(rows) == 1, [(r.inbox, r.state) for r in rows]
    return rows[0]


async def make_due(rn: RunningNode, **values: Any) -> None:
    """Emulate the passing of time: every pending row is due now."""
    async with rn.node.sessions() as session, session.begin():
        await session.execute(
            update(Delivery).values(
                next_attempt_at=datetime.now(UTC) - timedelta(seconds=1), **values
            )
        )


async def step(rn: RunningNode) -> int:
    return await asyncio.wait_for(DeliveryWorker(rn.node).run_once(), STEP_TIMEOUT)


async def node_with_one_follower(
    make_node: MakeNode, base: str, name: str = "bob", **overrides: Any
) -> RunningNode:
    rn = await make_node("lome", "section", run_workers=False, **overrides)
    await add_followers(rn, [actor_doc(base, name)])
    return rn


# --------------------------------------------------------------------------------------------
# (a) one delivery per inbox, shared inboxes collapse
# --------------------------------------------------------------------------------------------


async def test_shared_inbox_collapses_followers(
    make_node: MakeNode, receiver: StartReceiver
) -> None:
    recv = await receiver()
    rn = await make_node("lome", "section", run_workers=False)
    shared = f"{recv.url}/shared/inbox"
    docs = [actor_doc(recv.url, f"s{i}", shared=shared) for i in range(5)]
    docs += [actor_doc(recv.url, "own1"), actor_doc(recv.url, "own2")]
    await add_followers(rn, docs)

    obj = await post_note(rn.node, "Assemblée générale jeudi à 18 h.", by=OPERATOR)

    rows = await deliveries(rn)
    assert sorted(r.inbox for r in rows) == sorted(
        [shared, f"{recv.url}/users/own1/inbox", f"{recv.url}/users/own2/inbox"]
    )
    assert {r.state for r in rows} == {DeliveryState.PENDING}
    assert await rn.count(Activity) == 1
    activity_id = rows[0].activity.uri
    assert all(r.activity.uri == activity_id for r in rows)

    assert await step(rn) == 3
    assert sorted(recv.paths()) == ["/shared/inbox", "/users/own1/inbox", "/users/own2/inbox"]
    for got in recv.received:
        assert got.method == "POST"
        assert got.json["id"] == activity_id
        assert got.json["type"] == "Create"
        assert got.json["object"]["id"] == obj.uri
    rows = await deliveries(rn)
    assert [(r.state, r.attempts, r.last_status) for r in rows] == [
        (DeliveryState.DELIVERED, 1, 202)
    ] * 3
    assert all(r.finished_at is not None for r in rows)
    # Nothing left to do.
    assert await step(rn) == 0
    assert len(recv.received) == 3


# --------------------------------------------------------------------------------------------
# (b) the POST is signed, checked independently of federation.signatures
# --------------------------------------------------------------------------------------------


def parse_signature_header(value: str) -> dict[str, str]:
    params = dict(re.findall(r'(\w+)="([^"]*)"', value))
    assert {"keyId", "headers", "signature"} <= params.keys(), value
    return params


async def test_delivery_is_signed_with_the_published_key(
    make_node: MakeNode, receiver: StartReceiver, http: aiohttp.ClientSession
) -> None:
    recv = await receiver()
    rn = await node_with_one_follower(make_node, recv.url)
    await post_note(rn.node, "Signed, sealed, delivered.", by=OPERATOR)
    assert await step(rn) == 1
    assert len(recv.received) == 1
    got = recv.received[0]

    async with http.get(rn.actor_id, headers={"Accept": "application/activity+json"}) as resp:
        assert resp.status == 200
        actor = await resp.json(content_type=None)
    key_doc = actor["publicKey"]
    public_key = serialization.load_pem_public_key(key_doc["publicKeyPem"].encode())
    assert isinstance(public_key, rsa.RSAPublicKey)

    params = parse_signature_header(got.headers["Signature"])
    assert params["keyId"] == key_doc["id"]
    assert params.get("algorithm", "rsa-sha256") in ("rsa-sha256", "hs2019")
    names = params["headers"].split()
    assert {"(request-target)", "host", "date", "digest"} <= set(names)

    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {got.method.lower()} {got.path}")
        else:
            assert name in got.headers, f"signed header {name} missing from the request"
            lines.append(f"{name}: {got.headers[name]}")
    signing_string = "\n".join(lines).encode()
    # Raises InvalidSignature (and fails the test) if the signature does not match.
    public_key.verify(
        base64.b64decode(params["signature"]), signing_string, padding.PKCS1v15(), hashes.SHA256()
    )

    expected_digest = "SHA-256=" + base64.b64encode(hashlib.sha256(got.body).digest()).decode()
    assert got.headers["Digest"] == expected_digest
    assert got.headers["Host"] == recv.url.split("://", 1)[1]
    assert got.headers["Content-Type"].startswith("application/activity+json") or got.headers[
        "Content-Type"
    ].startswith("application/ld+json")
    sent_at = parsedate_to_datetime(got.headers["Date"])
    assert abs(sent_at - datetime.now(UTC)) < timedelta(minutes=5)
    assert got.json["actor"] == rn.actor_id


# --------------------------------------------------------------------------------------------
# (c)-(g) what each answer does to the row
# --------------------------------------------------------------------------------------------


async def test_500_is_retried_then_delivered(make_node: MakeNode, receiver: StartReceiver) -> None:
    recv = await receiver(default_status=500)
    rn = await node_with_one_follower(make_node, recv.url)
    await post_note(rn.node, "First try fails.", by=OPERATOR)

    assert await step(rn) == 1
    row = await one_delivery(rn)
    assert row.state == DeliveryState.PENDING
    assert row.attempts == 1
    assert row.last_status == 500
    assert row.next_attempt_at > datetime.now(UTC)
    assert row.locked_until is None
    assert row.finished_at is None
    # Not due yet: nothing is sent.
    assert await step(rn) == 0
    assert len(recv.received) == 1

    await make_due(rn)
    recv.default_status = 202
    assert await step(rn) == 1
    row = await one_delivery(rn)
    assert row.state == DeliveryState.DELIVERED
    assert row.attempts == 2
    assert row.last_status == 202
    assert row.finished_at is not None
    assert len(recv.received) == 2
    assert recv.received[0].body == recv.received[1].body


@pytest.mark.parametrize("status", [410, 403])
async def test_permanent_refusal_is_dead_at_once(
    make_node: MakeNode, receiver: StartReceiver, status: int
) -> None:
    recv = await receiver(default_status=status)
    rn = await node_with_one_follower(make_node, recv.url)
    await post_note(rn.node, "Nobody home.", by=OPERATOR)

    assert await step(rn) == 1
    row = await one_delivery(rn)
    assert row.state == DeliveryState.DEAD
    assert row.attempts == 1
    assert row.last_status == status
    assert row.finished_at is not None

    await make_due(rn)
    assert await step(rn) == 0
    assert len(recv.received) == 1
    assert (await one_delivery(rn)).state == DeliveryState.DEAD


async def test_429_retry_after_is_honoured(make_node: MakeNode, receiver: StartReceiver) -> None:
    recv = await receiver(default_status=429)
    rn = await node_with_one_follower(make_node, recv.url)
    recv.retry_after["/users/bob/inbox"] = "600"
    await post_note(rn.node, "Slow down.", by=OPERATOR)

    before = datetime.now(UTC)
    assert await step(rn) == 1
    row = await one_delivery(rn)
    assert row.state == DeliveryState.PENDING
    assert row.attempts == 1
    assert row.last_status == 429
    assert row.next_attempt_at >= before + timedelta(seconds=600)


async def test_unreachable_inbox_stays_pending_with_error(make_node: MakeNode) -> None:
    # Bound but never listening: connections are refused, and no one else can take the port.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{closed.getsockname()[1]}"
        rn = await node_with_one_follower(make_node, base)
        await post_note(rn.node, "Is anyone there?", by=OPERATOR)

        assert await step(rn) == 1
    row = await one_delivery(rn)
    assert row.state == DeliveryState.PENDING
    assert row.attempts == 1
    assert row.last_status is None
    assert row.last_error
    assert row.next_attempt_at > datetime.now(UTC)


async def test_failure_after_max_age_is_dead(make_node: MakeNode, receiver: StartReceiver) -> None:
    recv = await receiver(default_status=500)
    rn = await node_with_one_follower(make_node, recv.url)
    await post_note(rn.node, "Three days of trying.", by=OPERATOR)
    await make_due(rn, created_at=datetime.now(UTC) - timedelta(hours=73))

    assert await step(rn) == 1
    row = await one_delivery(rn)
    assert row.state == DeliveryState.DEAD
    assert row.attempts == 1
    assert row.last_status == 500
    assert len(recv.received) == 1


@pytest.mark.parametrize("retry_after", ["9" * 20, "²"])
async def test_absurd_retry_after_does_not_wedge_the_batch(
    make_node: MakeNode, receiver: StartReceiver, retry_after: str
) -> None:
    """One remote's silly Retry-After must not undo the outcome of the others in the batch."""
    recv = await receiver(status={"/users/odd/inbox": 429})
    recv.retry_after["/users/odd/inbox"] = retry_after
    rn = await make_node("lome", "section", run_workers=False)
    await add_followers(rn, [actor_doc(recv.url, "odd"), actor_doc(recv.url, "fine")])
    await post_note(rn.node, "Come back in a billion years.", by=OPERATOR)

    assert await step(rn) == 2
    rows = {r.inbox.removeprefix(recv.url): r for r in await deliveries(rn)}
    assert rows["/users/fine/inbox"].state == DeliveryState.DELIVERED
    # Beyond max_age means giving up; an unreadable value means the usual back-off.
    assert rows["/users/odd/inbox"].state in (DeliveryState.DEAD, DeliveryState.PENDING)
    assert rows["/users/odd/inbox"].attempts == 1
    assert rows["/users/odd/inbox"].last_status == 429


async def test_many_attempts_under_a_long_max_age_are_still_scheduled(
    make_node: MakeNode, receiver: StartReceiver
) -> None:
    """With delivery_max_age_hours raised to 30 days a row reaches ~100 attempts at the 6 h
    cap; the worker must keep scheduling it, not crash on the back-off arithmetic."""
    recv = await receiver(default_status=500)
    rn = await node_with_one_follower(make_node, recv.url, delivery_max_age_hours=720.0)
    await post_note(rn.node, "Persistence.", by=OPERATOR)
    await make_due(rn, attempts=60, created_at=datetime.now(UTC) - timedelta(days=15))

    assert await step(rn) == 1
    row = await one_delivery(rn)
    assert row.state == DeliveryState.PENDING
    assert row.attempts == 61
    assert row.next_attempt_at > datetime.now(UTC)
    assert row.locked_until is None


# --------------------------------------------------------------------------------------------
# (h) the operator's view: coopnet deliveries
# --------------------------------------------------------------------------------------------


async def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = await asyncio.wait_for(asyncio.to_thread(cli_main, argv), STEP_TIMEOUT)
    return code, capsys.readouterr().out


async def test_cli_lists_filters_and_revives_dead_deliveries(
    make_node: MakeNode, receiver: StartReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    recv = await receiver(status={"/users/gone/inbox": 410})
    rn = await make_node("lome", "section", run_workers=False)
    await add_followers(rn, [actor_doc(recv.url, "gone"), actor_doc(recv.url, "fine")])
    await post_note(rn.node, "One of you will not get this.", by=OPERATOR)
    assert await step(rn) == 2
    gone = f"{recv.url}/users/gone/inbox"
    fine = f"{recv.url}/users/fine/inbox"
    states = {r.inbox: r.state for r in await deliveries(rn)}
    assert states == {gone: DeliveryState.DEAD, fine: DeliveryState.DELIVERED}
    data = str(Path(rn.config.data_dir))

    code, out = await run_cli(["deliveries", "--data", data], capsys)
    assert code == 0
    assert "pending: 0" in out and "delivered: 1" in out and "dead: 1" in out
    dead_lines = [line for line in out.splitlines() if gone in line]
    assert len(dead_lines) == 1
    assert dead_lines[0].split()[0] == "dead"
    assert "410" in dead_lines[0]
    assert any(fine in line and line.split()[0] == "delivered" for line in out.splitlines())

    code, out = await run_cli(["deliveries", "--data", data, "--state", "dead"], capsys)
    assert code == 0
    assert gone in out
    assert fine not in out

    code, out = await run_cli(["deliveries", "--data", data, "--retry-dead"], capsys)
    assert code == 0
    rows = {r.inbox: r for r in await deliveries(rn)}
    assert rows[gone].state == DeliveryState.PENDING
    assert rows[gone].attempts == 0
    assert rows[gone].finished_at is None
    assert rows[fine].state == DeliveryState.DELIVERED

    # The peer was fixed: the revived row goes out on the next step.
    recv.status.clear()
    assert await step(rn) == 1
    rows = {r.inbox: r for r in await deliveries(rn)}
    assert rows[gone].state == DeliveryState.DELIVERED
    assert recv.paths().count("/users/gone/inbox") == 2
    assert recv.paths().count("/users/fine/inbox") == 1


# --------------------------------------------------------------------------------------------
# (i) bounded concurrency
# --------------------------------------------------------------------------------------------


async def test_concurrency_is_bounded(make_node: MakeNode, receiver: StartReceiver) -> None:
    # Five receivers on five ports (four inboxes each) sharing one gauge, so that the HTTP
    # client's per-host connection limit is not what keeps the count down.
    gauge = Gauge()
    recvs = [await receiver(hold=0.2, gauge=gauge) for _ in range(5)]
    rn = await make_node("lome", "section", run_workers=False, delivery_concurrency=4)
    docs = [actor_doc(recvs[i % 5].url, f"u{i}") for i in range(20)]
    await add_followers(rn, docs)
    await post_note(rn.node, "Twenty inboxes, four at a time.", by=OPERATOR)
    assert len(await deliveries(rn)) == 20

    sent = 0
    for _ in range(5):  # bounded; one batch is expected to take them all
        sent += await step(rn)
        if sent >= 20:
            break
    assert sent == 20
    received = [f"{r.url}{p}" for r in recvs for p in r.paths()]
    assert sorted(received) == sorted(d["inbox"] for d in docs)
    assert gauge.peak <= 4
    assert gauge.peak >= 2  # they do go out in parallel
    assert {r.state for r in await deliveries(rn)} == {DeliveryState.DELIVERED}


async def test_a_batch_is_recorded_within_its_lease(
    make_node: MakeNode, receiver: StartReceiver
) -> None:
    """Sends still running when the lease is almost over are given up and their rows
    released untried (no attempt counted), so no other worker can claim rows this one
    is still sending; the next pass delivers them."""
    recv = await receiver(hold=3.0)
    rn = await node_with_one_follower(
        make_node, recv.url, delivery_lease_seconds=1.0, http_timeout_seconds=10.0
    )
    await post_note(rn.node, "Lent à répondre", by=OPERATOR)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await step(rn) == 1
    assert loop.time() - started < 2.5  # gave up at 0.75 of the lease, not at the answer
    row = await one_delivery(rn)
    assert (row.state, row.attempts, row.locked_until) == ("pending", 0, None)
    recv.hold = 0.0
    assert await step(rn) == 1
    row = await one_delivery(rn)
    assert (row.state, row.attempts) == ("delivered", 1)
