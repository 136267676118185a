"""SEL exchanges between sections under faults and hostile input.

Two kinds of tests:

* ``kill -9`` in the middle of an inter-section exchange (``@pytest.mark.slow``): two
  real nodes run as ``coopnet serve`` subprocesses and are driven with the CLI as an
  operator would; one of them is killed with SIGKILL at a chosen point, restarted on
  the same port, and the exchange must complete exactly once on both sides. The
  origin sits behind a small reverse proxy (``Door``) that can hold what is delivered
  to it, which pins the most dangerous moment without any timing luck: the responder
  has committed and its Accept is in flight. The databases (SQLite or PostgreSQL, as
  under test) are read with plain SQL (tests/dbtools.py), not the product's models.
  After a restart the pending
  deliveries are made due at once (what an operator's "retry now" does) instead of
  waiting out the 30 s back-off.
* Bad inputs, in-process: a Mastodon-like test peer posing as a section (its actor
  says ``role: section``) sends hand-built, signed Offers and Accepts to a real node;
  each bad one is refused with a clear reason and changes no balance.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from models.accounts import OPERATOR
from models.inbox import InboxItem
from models.sel.accounts import Account
from models.sel.exchanges import CATEGORIES, Exchange
from models.sel.ledger import Entry
from node import sel
from node.actions import follow, list_following
from tests import dbtools
from tests.allies import ally_with_fake
from tests.conftest import MakeNode, RunningNode
from tests.peers.mastodon import MastodonLikePeer, ReceivedActivity
from tests.procs import coopnet, free_port

ROOT = Path(__file__).resolve().parents[2]
AS = "https://www.w3.org/ns/activitystreams"
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)

# ============================================================================================
# Part 1: kill -9 of either node in the middle of an exchange (subprocesses)
# ============================================================================================


async def ok(*args: str) -> str:
    code, out, err = await coopnet(*args)
    assert code == 0, f"coopnet {' '.join(args)} exited {code}\n{out}\n{err}"
    return out


def db_rows(data: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dbtools.Row]:
    """Read only (the test only looks), with plain SQL on the node's database; sync, so
    that polling predicates can call it."""
    return dbtools.rows(data, sql, *params)


def db_exec(data: Path, sql: str, params: tuple[Any, ...] = ()) -> int:
    return dbtools.execute(data, sql, *params)


@dataclass
class Section:
    """A node driven as an operator drives it: its data directory and its server."""

    name: str
    data: Path
    #: The public port, in the node's URL.
    port: int
    log_dir: Path
    #: The port ``serve`` listens on: the public one, or another behind a Door.
    serve_port: int = 0
    proc: asyncio.subprocess.Process | None = None
    starts: int = 0

    def __post_init__(self) -> None:
        self.serve_port = self.serve_port or self.port

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

    @property
    def db(self) -> Path:
        """What ``db_rows`` takes: the data directory (its configured database)."""
        return self.data

    def log(self) -> Path:
        return self.log_dir / f"{self.name}-serve-{self.starts}.log"

    def log_text(self) -> str:
        return "\n".join(
            f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:]
            for p in sorted(self.log_dir.glob(f"{self.name}-serve-*.log"))
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self) -> None:
        self.starts += 1
        with self.log().open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "node",
                "serve",
                "--data",
                str(self.data),
                "--port",
                str(self.serve_port),
                cwd=ROOT,
                stdout=log,
                stderr=log,
            )
        await self.wait_listening()

    async def wait_listening(self, within: float = 60.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            if not self.alive():
                pytest.fail(f"{self.name}: serve exited at start\n{self.log_text()}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.serve_port)
            except OSError:
                if loop.time() > deadline:
                    pytest.fail(f"{self.name}: not listening after {within} s\n{self.log_text()}")
                await asyncio.sleep(0.05)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return

    def freeze(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    async def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.proc.wait(), 15)

    async def stop(self) -> int | None:
        """SIGTERM, wait, SIGKILL if it does not exit."""
        if not self.alive():
            return None
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)  # in case a test froze it
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            return None

    def make_deliveries_due(self, *, clear_leases: bool = False) -> int:
        """The operator's "retry now": pending deliveries become due at once.

        ``clear_leases`` only for a node whose process was killed (its leases are
        held by nobody) and before it is started again.
        """
        if clear_leases:
            return db_exec(
                self.db,
                "UPDATE deliveries SET next_attempt_at = ?, locked_until = NULL "
                "WHERE state = 'pending'",
                (LONG_AGO,),
            )
        return db_exec(
            self.db,
            "UPDATE deliveries SET next_attempt_at = ? "
            "WHERE state = 'pending' AND next_attempt_at > ?",
            (LONG_AGO, LONG_AGO),
        )

    def exchange(self, uri: str) -> dbtools.Row | None:
        rows = db_rows(self.db, "SELECT * FROM sel_exchanges WHERE uri = ?", (uri,))
        return rows[0] if rows else None

    def balance(self, code: str) -> tuple[int, int]:
        (row,) = db_rows(self.db, "SELECT balance, held FROM sel_accounts WHERE code = ?", (code,))
        return int(row["balance"]), int(row["held"])

    def busy(self) -> list[str]:
        """What this node still has in flight: pending deliveries and inbox items."""
        out = [
            f"{r['state']} delivery {r['id']} to {r['inbox']} "
            f"(tries {r['attempts']}, {r['last_status']} {r['last_error']})"
            for r in db_rows(self.db, "SELECT * FROM deliveries WHERE state != 'delivered'")
        ]
        out += [
            f"inbox item {r['id']} {r['type']} {r['state']}"
            for r in db_rows(self.db, "SELECT * FROM inbox_items WHERE state != 'done'")
        ]
        return out


HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "upgrade",
    "proxy-connection",
}


class Door:
    """The origin's public address: a reverse proxy in front of its real port.

    It passes every request through, except that while ``holding`` it keeps POSTs
    (activities delivered to the origin) waiting, so the test knows for sure that an
    Accept sent by the responder has not reached the origin when it kills it. Released
    requests are answered 503, as a proxy whose backend died would (the sender retries).
    The node builds signed URLs from its configured public URL, so a proxy is invisible
    to signatures (node/web.py ``target_uri``).
    """

    def __init__(self, port: int, backend_port: int) -> None:
        self.port = port
        self.backend = f"http://127.0.0.1:{backend_port}"
        self.holding = False
        self.held: list[str] = []
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._client = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=20), auto_decompress=False
        )

    def hold(self) -> None:
        self.holding = True
        self._release.clear()

    def release(self) -> None:
        self.holding = False
        self._release.set()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if self.holding and request.method == "POST":
            self.held.append(request.path)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), 30)
            return web.Response(status=503, text="backend gone")
        assert self._client is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            async with self._client.request(
                request.method,
                self.backend + request.raw_path,
                headers=headers,
                data=body or None,
                allow_redirects=False,
            ) as resp:
                data = await resp.read()
                out = {k: v for k, v in resp.headers.items() if k.lower() not in HOP_BY_HOP}
                return web.Response(status=resp.status, body=data, headers=out)
        except (aiohttp.ClientError, TimeoutError):
            return web.Response(status=502, text="backend down")

    async def close(self) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()


@pytest.fixture
async def sections(tmp_path: Path) -> AsyncIterator[tuple[Section, Section, Door]]:
    """lome (the origin, behind a Door) and marseille (the responder)."""
    lome = Section("lome", tmp_path / "lome", free_port(), tmp_path, serve_port=free_port())
    mars = Section("marseille", tmp_path / "marseille", free_port(), tmp_path)
    door = Door(lome.port, lome.serve_port)
    await door.start()
    try:
        yield lome, mars, door
    finally:
        await door.close()
        for s in (lome, mars):
            await s.stop()


async def wait_for(
    what: str,
    pred: Callable[[], bool],
    nodes: tuple[Section, ...],
    within: float = 30.0,
    nudge: bool = False,
) -> None:
    """Poll ``pred`` (bounded); with ``nudge``, make pending deliveries due once a second."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    next_nudge = loop.time()
    while not pred():
        for n in nodes:
            if not n.alive():
                pytest.fail(f"{n.name}: serve exited while waiting for {what}\n{n.log_text()}")
        if loop.time() > deadline:
            state = "\n".join(f"{n.name}: {n.busy()}\n{n.log_text()}" for n in nodes)
            pytest.fail(f"timed out after {within} s waiting for {what}\n{state}")
        if nudge and loop.time() >= next_nudge:
            for n in nodes:
                n.make_deliveries_due()
            next_nudge = loop.time() + 1.0
        await asyncio.sleep(0.05)


async def two_peered_sections(lome: Section, mars: Section) -> None:
    """init, serve, mutual follow, ``sel peer`` both ways, one account on each side.

    Commands that do not depend on each other run at the same time (as two operators
    would): the CLI's start-up is what makes this test slow.
    """
    databases = [await dbtools.ainit_database_args() for _ in (lome, mars)]
    await asyncio.gather(
        *(
            ok("init", "--data", str(s.data), "--url", s.url, "--name", s.name, "--role", "section",
               *database)
            for s, database in zip((lome, mars), databases, strict=True)
        )
    )  # fmt: skip
    await asyncio.gather(
        lome.start(),
        mars.start(),
        ok("sel", "account", "--data", str(lome.data), "ama", "--name", "Ama"),
        ok("sel", "account", "--data", str(mars.data), "bob", "--name", "Bob"),
    )
    # SEL peering builds on an alliance: lome asks, mars's operator approves.
    await ok("peer", "add", "--data", str(lome.data), mars.acct)

    def alliance(s: Section, state: str) -> bool:
        return [r["state"] for r in db_rows(s.db, "SELECT state FROM alliances")] == [state]

    await wait_for(
        "lome's alliance request at mars", lambda: alliance(mars, "pending"), (lome, mars)
    )
    await ok("peer", "approve", "--data", str(mars.data), lome.acct)
    await wait_for("the alliance accepted", lambda: alliance(lome, "accepted"), (lome, mars))
    await asyncio.gather(
        ok("follow", "--data", str(lome.data), mars.acct),
        ok("follow", "--data", str(mars.data), lome.acct),
        ok("sel", "peer", "--data", str(lome.data), "--max-deficit", "10", "--max-surplus", "10",
           mars.acct),
        ok("sel", "peer", "--data", str(mars.data), "--max-deficit", "10", "--max-surplus", "10",
           lome.acct),
    )  # fmt: skip

    def mutual() -> bool:
        return all(
            [r["state"] for r in db_rows(s.db, "SELECT state FROM following")] == ["accepted"]
            for s in (lome, mars)
        )

    await wait_for("the mutual follow", mutual, (lome, mars))


async def start_exchange(lome: Section, mars: Section) -> str:
    out = await ok(
        "sel", "exchange", "--data", str(lome.data), "--from", "ama", "--to", f"bob@{mars.host}",
        "--hours", "2", "--description", "x",
    )  # fmt: skip
    state, _, uri = out.strip().partition(": ")
    assert state == "held", out
    assert uri.startswith(f"{lome.url}/sel/exchanges/"), out
    return uri


async def first_row(
    s: Section, sql: str, params: tuple[Any, ...], what: str, within: float = 20.0
) -> dbtools.Row:
    """Poll ``s``'s database (read-only, tightly: the moment matters) until ``sql`` finds a row."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        rows = db_rows(s.db, sql, params)
        if rows:
            return rows[0]
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{s.log_text()}")
        await asyncio.sleep(0.002)


async def settle_and_check_exactly_once(lome: Section, mars: Section, uris: list[str]) -> None:
    """Wait (bounded) until the origin settled and nothing is in flight; then check once.

    ``uris``: every exchange made so far between the two, each of 2 h from ama to bob.
    """

    def settled() -> bool:
        rows = [lome.exchange(uri) for uri in uris]
        return all(row is not None and row["state"] == "settled" for row in rows)

    await wait_for("the exchange settled at the origin", settled, (lome, mars), nudge=True)
    # Let every retry, repeated Offer or repeated Accept still queued run its course, so
    # that a double count caused by one of them shows in the checks below.
    await wait_for(
        "both queues drained",
        lambda: not lome.busy() and not mars.busy(),
        (lome, mars),
        nudge=True,
    )

    for uri in uris:
        origin, responder = lome.exchange(uri), mars.exchange(uri)
        assert origin is not None and responder is not None
        assert (origin["state"], responder["state"]) == ("settled", "committed")
        assert origin["amount"] == responder["amount"] == 120
        assert origin["uuid"] == uri.rsplit("/", 1)[1]
        for s, row in ((lome, origin), (mars, responder)):
            entries = db_rows(
                s.db,
                "SELECT kind, amount FROM sel_entries WHERE exchange_uuid = ?",
                (row["uuid"],),
            )
            got = [(e["kind"], e["amount"]) for e in entries]
            assert got == [("exchange", 120)], (s.name, uri, got)
    n = len(uris)
    for s in (lome, mars):
        assert len(db_rows(s.db, "SELECT id FROM sel_entries")) == n, s.name
        assert len(db_rows(s.db, "SELECT id FROM sel_exchanges")) == n, s.name

    assert lome.balance("ama") == (-120 * n, 0)
    assert mars.balance("bob") == (120 * n, 0)
    assert lome.balance(f"clearing:{mars.actor_id}") == (120 * n, 0)
    assert mars.balance(f"clearing:{lome.actor_id}") == (-120 * n, 0)

    results = await asyncio.gather(
        coopnet("sel", "verify", "--data", str(lome.data)),
        coopnet("sel", "verify", "--data", str(mars.data)),
        coopnet("sel", "reconcile", "--data", str(lome.data), mars.acct),
    )
    for (code, out, err), what in zip(
        results, ("verify lome", "verify marseille", "reconcile"), strict=True
    ):
        assert code == 0, (what, out, err)
        assert "problem" not in out and "difference" not in out, (what, out)
    assert "in agreement" in results[2][1], results[2][1]


@pytest.mark.slow
async def test_responder_killed_mid_exchange_completes_exactly_once(
    sections: tuple[Section, Section, Door],
) -> None:
    lome, mars, door = sections
    await two_peered_sections(lome, mars)

    # 1. Right after the exchange is recorded (the Offer is queued at the origin; it may
    #    or may not have left yet).
    first = await start_exchange(lome, mars)
    await mars.kill9()
    mars.make_deliveries_due(clear_leases=True)
    await mars.start()
    await settle_and_check_exactly_once(lome, mars, [first])

    # 2. After the responder committed, while its Accept is on the way: the origin's door
    #    holds it, so the responder dies with its answer in flight (committed on its
    #    side, unknown at the origin: the window other systems leave open).
    door.hold()
    second = await start_exchange(lome, mars)
    committed = await first_row(
        mars, "SELECT state FROM sel_exchanges WHERE uri = ?", (second,), "the decision"
    )
    assert committed["state"] == "committed"
    await wait_for("the Accept at the origin's door", lambda: bool(door.held), (lome, mars))
    await mars.kill9()
    door.release()
    origin = lome.exchange(second)
    assert origin is not None and origin["state"] == "held"
    assert lome.balance("ama") == (-120, 120)
    mars.make_deliveries_due(clear_leases=True)
    await mars.start()
    await settle_and_check_exactly_once(lome, mars, [first, second])

    for s in (lome, mars):
        assert await s.stop() == 0, s.log_text()


@pytest.mark.slow
async def test_origin_killed_after_the_responder_committed_completes_exactly_once(
    sections: tuple[Section, Section, Door],
) -> None:
    lome, mars, door = sections
    await two_peered_sections(lome, mars)

    # The origin's door holds what is delivered to it: the responder commits and answers,
    # and the origin is killed with the Accept at its door, before it could process it.
    door.hold()
    uri = await start_exchange(lome, mars)
    row = await first_row(
        mars, "SELECT state FROM sel_exchanges WHERE uri = ?", (uri,), "the responder's decision"
    )
    assert row["state"] == "committed"
    await wait_for("the Accept at the origin's door", lambda: bool(door.held), (lome, mars))
    await lome.kill9()
    door.release()
    at_kill = lome.exchange(uri)
    assert at_kill is not None and at_kill["state"] == "held", at_kill and dict(at_kill)
    assert lome.balance("ama") == (0, 120)

    lome.make_deliveries_due(clear_leases=True)
    await lome.start()
    await settle_and_check_exactly_once(lome, mars, [uri])

    for s in (lome, mars):
        assert await s.stop() == 0, s.log_text()


# ============================================================================================
# Part 2: bad inputs from a (fake) peer section, in-process
# ============================================================================================


@pytest.fixture
async def fake() -> AsyncIterator[MastodonLikePeer]:
    """A Mastodon-like server posing as a section (its actor says role: section)."""
    async with MastodonLikePeer(usernames=("alice", "bob")) as peer:
        peer.actor_extra["alice"] = {"role": "section"}
        yield peer


@pytest.fixture
async def stranger() -> AsyncIterator[MastodonLikePeer]:
    """Another section, which the node never made a SEL peer."""
    async with MastodonLikePeer() as peer:
        peer.actor_extra["alice"] = {"role": "section"}
        yield peer


async def section_peered_with(make_node: MakeNode, peer: MastodonLikePeer) -> RunningNode:
    rn = await make_node("lome")
    await follow(rn.node, peer.acct(), by=OPERATOR)

    async def accepted() -> bool:
        return [r.state for r in await list_following(rn.node, by=OPERATOR)] == ["accepted"]

    await peer.wait_until(accepted, what="the node's follow accepted")
    await ally_with_fake(rn, peer.actor_id())
    await sel.peer_add(rn.node, peer.acct(), "5", "5", by=OPERATOR)  # trade-balance window: ±5 h
    await sel.account_open(rn.node, "bob", "Bob", None, None, by=OPERATOR)
    await sel.account_open(rn.node, "ama", "Ama", None, None, by=OPERATOR)
    return rn


def inbox(rn: RunningNode) -> str:
    return f"{rn.actor_id}/inbox"


def agreement(
    peer: MastodonLikePeer,
    rn: RunningNode,
    *,
    value: str = "60",
    unit: str = "minute",
    member: str = "bob",
    end: datetime | None = None,
    ident: str | None = None,
) -> dict[str, Any]:
    """An Agreement as models/sel/to_ap.py ``agreement_doc`` writes one, by hand."""
    end = end or datetime.now(UTC) + timedelta(hours=1)
    return {
        "id": ident or f"{peer.base_url}/sel/exchanges/{uuid.uuid4()}",
        "type": "Agreement",
        "name": "cours de couture",
        "category": "training",
        "published": datetime.now(UTC).isoformat(),
        "endTime": end.isoformat(),
        "stipulates": {
            "type": "Commitment",
            "action": "transfer",
            "provider": f"{peer.base_url}/sel/accounts/alice",
            "receiver": f"{rn.url}/sel/accounts/{member}",
            "resourceQuantity": {"hasUnit": unit, "hasNumericalValue": value},
        },
    }


def offer(
    peer: MastodonLikePeer, rn: RunningNode, obj: dict[str, Any], actor: str = "alice"
) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": f"{peer.actor_id()}/activities/{uuid.uuid4()}",
        "type": "Offer",
        "actor": peer.actor_id(actor),
        "to": [rn.actor_id],
        "object": obj,
    }


async def answer_to(peer: MastodonLikePeer, activity_id: str) -> ReceivedActivity:
    return await peer.wait_for(
        lambda r: r.type in ("Accept", "Reject") and r.object == activity_id, timeout=10
    )


async def balance(rn: RunningNode, code: str) -> tuple[int, int]:
    async with rn.node.sessions() as session:
        acc = (await session.execute(select(Account).where(Account.code == code))).scalar_one()
        return acc.balance, acc.held


async def exchange_row(rn: RunningNode, uri: str) -> Exchange | None:
    async with rn.node.sessions() as session:
        return (
            await session.execute(select(Exchange).where(Exchange.uri == uri))
        ).scalar_one_or_none()


async def processed(rn: RunningNode, activity_id: str, within: float = 10.0) -> InboxItem:
    """Wait until the inbox worker has processed the activity; return its inbox row."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        async with rn.node.sessions() as session:
            item = (
                await session.execute(
                    select(InboxItem).where(InboxItem.activity_uri == activity_id)
                )
            ).scalar_one_or_none()
        if item is not None and item.state != "pending":
            return item
        if loop.time() > deadline:
            raise AssertionError(f"{activity_id} not processed after {within} s ({item})")
        await asyncio.sleep(0.02)


async def assert_nothing_moved(rn: RunningNode, peer: MastodonLikePeer) -> None:
    assert await balance(rn, "bob") == (0, 0)
    assert await balance(rn, "ama") == (0, 0)
    assert await balance(rn, f"clearing:{peer.actor_id()}") == (0, 0)
    assert await rn.count(Entry) == 0
    report = await sel.verify(rn.node, by=OPERATOR)
    assert report.ok, report.problems


async def test_bad_offers_are_refused_with_a_reason_and_move_nothing(
    make_node: MakeNode, fake: MastodonLikePeer, stranger: MastodonLikePeer
) -> None:
    rn = await section_peered_with(make_node, fake)
    past = datetime.now(UTC) - timedelta(minutes=5)
    wrong_payer = agreement(fake, rn)
    wrong_payer["stipulates"]["provider"] = "http://127.0.0.1:9/sel/accounts/alice"
    # (what, agreement, expected machine-readable reason)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("negative amount", agreement(fake, rn, value="-60"), "amount"),
        ("zero amount", agreement(fake, rn, value="0"), "amount"),
        ("absurd amount", agreement(fake, rn, value="99999999999"), "amount"),
        ("amount over 1000 h", agreement(fake, rn, value="60001"), "amount"),
        ("non-numeric amount", agreement(fake, rn, value="1e3"), "amount"),
        ("decimal amount", agreement(fake, rn, value="60.5"), "amount"),
        ("wrong unit", agreement(fake, rn, unit="hour"), "unit"),
        ("unknown member", agreement(fake, rn, member="nobody"), "unknown_member"),
        ("over the clearing limit (6 h > 5 h)", agreement(fake, rn, value="360"), "limit"),
        ("expired", agreement(fake, rn, end=past), "expired"),
        (
            "agreement id on another host",
            agreement(fake, rn, ident=f"http://127.0.0.1:9/sel/exchanges/{uuid.uuid4()}"),
            "malformed",
        ),
        (
            "payer on another host than the signer",
            wrong_payer,
            "malformed",
        ),
        (
            "paid into a clearing account",
            agreement(fake, rn, member=f"clearing:{fake.actor_id()}"),
            "unknown_member",
        ),
        (
            "agreement id on the node's own host",
            agreement(fake, rn, ident=f"{rn.url}/sel/exchanges/{uuid.uuid4()}"),
            "malformed",
        ),
    ]
    sent: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = []
    for what, obj, reason in cases:
        activity = offer(fake, rn, obj)
        assert await fake.sign_and_post(inbox(rn), activity) == 202, what
        sent.append((what, obj, reason, activity))
    # From another account on the peer's server: peering is with the section's actor.
    other = agreement(fake, rn)
    other_offer = offer(fake, rn, other, actor="bob")
    assert await fake.sign_and_post(inbox(rn), other_offer, username="bob") == 202
    # From a section that is not a SEL peer of this one: refused, nothing stored.
    foreign = agreement(stranger, rn)
    foreign_offer = offer(stranger, rn, foreign)
    assert await stranger.sign_and_post(inbox(rn), foreign_offer) == 202

    failures: list[str] = []
    for what, obj, reason, activity in sent:
        answer = await answer_to(fake, activity["id"])
        doc = answer.activity
        content = doc.get("content")
        if answer.type != "Reject":
            failures.append(f"{what}: answered {answer.type}, expected Reject ({reason})")
        elif doc.get("reason") != reason:
            failures.append(f"{what}: reason {doc.get('reason')!r}, expected {reason!r}")
        elif not isinstance(content, str) or len(content) <= len(reason) + 2:
            failures.append(f"{what}: no explanation for people in content: {content!r}")
        elif (row := await exchange_row(rn, obj["id"])) is not None:
            # Recorded as code and message; on the wire, as ever, "code: message".
            if (row.reason_code, content) != (reason, f"{reason}: {row.reason}"):
                failures.append(f"{what}: {row.reason_code!r} {row.reason!r} sent as {content!r}")
        if answer.actor != rn.actor_id:
            failures.append(f"{what}: answered by {answer.actor}")
    assert not failures, "\n".join(failures)

    answer = await answer_to(fake, other_offer["id"])
    assert answer.type == "Reject" and answer.activity["reason"] == "not_peer", answer.activity
    # The refusal is recorded (so a repeat gets the same answer, even after peering),
    # with no account and no amount: nothing moved.
    refused = await exchange_row(rn, other["id"])
    assert refused is not None and refused.state == "refused" and refused.amount == 0
    assert refused.payer_id is None and refused.payee_id is None

    answer = await answer_to(stranger, foreign_offer["id"])
    assert answer.type == "Reject"
    assert answer.activity["reason"] == "not_peer"
    assert "peer" in answer.activity["content"]
    # A non-peer's refusal is recorded under its own agreement id, with nothing moved.
    refused = await exchange_row(rn, foreign["id"])
    assert refused is not None and refused.state == "refused" and refused.amount == 0
    assert await rn.count(Exchange, Exchange.peer_uri == stranger.actor_id()) == 1

    await assert_nothing_moved(rn, fake)
    refused = {e.uri: e for e in await all_exchanges(rn)}
    for what, obj, _, _ in sent:
        row = refused.get(obj["id"])
        assert row is None or row.state == "refused", (what, row and row.state)


async def all_exchanges(rn: RunningNode) -> list[Exchange]:
    async with rn.node.sessions() as session:
        return list((await session.execute(select(Exchange))).scalars().all())


async def test_valid_offer_commits_once_and_a_repeat_changes_nothing(
    make_node: MakeNode, fake: MastodonLikePeer
) -> None:
    rn = await section_peered_with(make_node, fake)
    # A refusal first: it must not take a sequence number.
    bad = offer(fake, rn, agreement(fake, rn, value="0"))
    assert await fake.sign_and_post(inbox(rn), bad) == 202
    assert (await answer_to(fake, bad["id"])).type == "Reject"

    good = agreement(fake, rn)
    first = offer(fake, rn, good)
    assert await fake.sign_and_post(inbox(rn), first) == 202
    answer = await answer_to(fake, first["id"])
    assert answer.type == "Accept", answer.activity
    assert answer.activity["result"]["id"] == good["id"]
    assert answer.activity["result"]["sequence"] == 1
    assert await balance(rn, "bob") == (60, 0)
    assert await balance(rn, f"clearing:{fake.actor_id()}") == (-60, 0)

    # The same Offer again, as a retry would send it (a new activity id).
    again = offer(fake, rn, good)
    assert await fake.sign_and_post(inbox(rn), again) == 202
    answer = await answer_to(fake, again["id"])
    assert answer.type == "Accept", answer.activity
    assert answer.activity["result"]["id"] == good["id"]
    assert answer.activity["result"]["sequence"] == 1
    # And once more with the amount changed: the recorded decision stands.
    changed = offer(
        fake, rn, {**good, "stipulates": agreement(fake, rn, value="120")["stipulates"]}
    )
    assert await fake.sign_and_post(inbox(rn), changed) == 202
    await answer_to(fake, changed["id"])

    row = await exchange_row(rn, good["id"])
    assert row is not None and row.state == "committed" and row.amount == 60
    assert await rn.count(Entry, Entry.exchange_uuid == row.uuid) == 1
    assert await rn.count(Entry) == 1
    assert await balance(rn, "bob") == (60, 0)
    assert await balance(rn, f"clearing:{fake.actor_id()}") == (-60, 0)
    report = await sel.verify(rn.node, by=OPERATOR)
    assert report.ok, report.problems


async def test_forged_actor_is_refused_at_the_door(
    make_node: MakeNode, fake: MastodonLikePeer
) -> None:
    rn = await section_peered_with(make_node, fake)
    obj = agreement(fake, rn)
    forged = offer(fake, rn, obj, actor="bob")  # claims to be bob, signed with alice's key
    assert await fake.sign_and_post(inbox(rn), forged, username="alice") == 401
    assert await rn.count(InboxItem, InboxItem.activity_uri == forged["id"]) == 0
    assert await exchange_row(rn, obj["id"]) is None
    await assert_nothing_moved(rn, fake)


async def test_replayed_and_foreign_answers_settle_nothing_twice(
    make_node: MakeNode, fake: MastodonLikePeer, stranger: MastodonLikePeer
) -> None:
    rn = await section_peered_with(make_node, fake)
    row, _ = await sel.exchange(rn.node, "ama", f"carol@{fake.host}", "1", "x", by=OPERATOR)
    assert row.state == "held"
    got = await fake.wait_for(lambda r: r.type == "Offer", timeout=10)
    terms = got.activity["object"]["stipulates"]
    assert got.activity["object"]["id"] == row.uri
    assert terms["provider"] == f"{rn.url}/sel/accounts/ama"
    assert terms["receiver"] == f"{fake.base_url}/sel/accounts/carol"
    assert terms["resourceQuantity"] == {"hasUnit": "minute", "hasNumericalValue": "60"}
    clearing = f"clearing:{fake.actor_id()}"
    assert await balance(rn, "ama") == (0, 60)  # held, not posted

    def accept(ident: str | None = None) -> dict[str, Any]:
        return {
            "@context": AS,
            "id": ident or f"{fake.actor_id()}#accepts/{uuid.uuid4()}",
            "type": "Accept",
            "actor": fake.actor_id(),
            "object": got.activity["id"],
            "result": {"id": row.uri, "type": "Agreement", "sequence": 1},
        }

    async def unchanged() -> None:
        ex = await exchange_row(rn, row.uri)
        assert ex is not None and ex.state == "settled"
        assert await rn.count(Entry, Entry.exchange_uuid == row.uuid) == 1
        assert await rn.count(Entry) == 1
        assert await balance(rn, "ama") == (-60, 0)
        assert await balance(rn, clearing) == (60, 0)
        report = await sel.verify(rn.node, by=OPERATOR)
        assert report.ok, report.problems

    first = accept()
    assert await fake.sign_and_post(inbox(rn), first) == 202
    item = await processed(rn, first["id"])
    assert item.state == "done" and item.error is None, item.error
    await unchanged()

    # The same Accept again (same id): deduplicated at the door.
    assert await fake.sign_and_post(inbox(rn), first) == 202
    assert await rn.count(InboxItem, InboxItem.activity_uri == first["id"]) == 1
    # A new Accept for the same agreement: processed, ignored.
    second = accept()
    assert await fake.sign_and_post(inbox(rn), second) == 202
    item = await processed(rn, second["id"])
    assert item.error and item.error.startswith("ignored"), item.error
    await unchanged()

    # An Accept for that agreement from another section: not its exchange.
    foreign = {
        **accept(f"{stranger.actor_id()}#accepts/{uuid.uuid4()}"),
        "actor": stranger.actor_id(),
    }
    assert await stranger.sign_and_post(inbox(rn), foreign) == 202
    item = await processed(rn, foreign["id"])
    assert item.error and item.error.startswith("ignored"), item.error
    await unchanged()

    # A Reject after the settlement: too late, ignored.
    reject = {
        "@context": AS,
        "id": f"{fake.actor_id()}#rejects/{uuid.uuid4()}",
        "type": "Reject",
        "actor": fake.actor_id(),
        "object": got.activity["id"],
        "result": {"id": row.uri, "type": "Agreement"},
        "reason": "limit",
        "content": "limit: changed our mind",
    }
    assert await fake.sign_and_post(inbox(rn), reject) == 202
    item = await processed(rn, reject["id"])
    assert item.error and item.error.startswith("ignored"), item.error
    await unchanged()


async def test_answer_from_another_section_before_the_real_one_changes_nothing(
    make_node: MakeNode, fake: MastodonLikePeer, stranger: MastodonLikePeer
) -> None:
    """While the exchange is held, a third party's Accept or Reject must not decide it."""
    rn = await section_peered_with(make_node, fake)
    row, _ = await sel.exchange(rn.node, "ama", f"carol@{fake.host}", "1", "x", by=OPERATOR)
    got = await fake.wait_for(lambda r: r.type == "Offer", timeout=10)
    for kind in ("Reject", "Accept"):
        forged = {
            "@context": AS,
            "id": f"{stranger.actor_id()}#{kind.lower()}s/{uuid.uuid4()}",
            "type": kind,
            "actor": stranger.actor_id(),
            "object": got.activity["id"],
            "result": {"id": row.uri, "type": "Agreement", "sequence": 1},
        }
        assert await stranger.sign_and_post(inbox(rn), forged) == 202
        item = await processed(rn, forged["id"])
        assert item.error and item.error.startswith("ignored"), item.error
        ex = await exchange_row(rn, row.uri)
        assert ex is not None and ex.state == "held", kind
        assert await balance(rn, "ama") == (0, 60)
        assert await rn.count(Entry) == 0


async def test_text_from_a_peer_is_stored_as_one_clean_line(
    make_node: MakeNode, fake: MastodonLikePeer
) -> None:
    """A peer's description and category end up in ``sel history`` on the admin's terminal
    and in the CSV export: no control characters (a newline forging a history line, an
    escape sequence driving the terminal), and a category from the section's list, as
    for an exchange recorded here (models/sel/exchanges.py check_description/check_category).
    Refusing such an Offer would do as well as cleaning it."""
    rn = await section_peered_with(make_node, fake)
    obj = agreement(fake, rn)
    obj["name"] = "cours\n2026-01-01 confirmed   ama → kofi   99 h\x1b[2J\x07"
    obj["category"] = "not-a-category\r\n"
    activity = offer(fake, rn, obj)
    assert await fake.sign_and_post(inbox(rn), activity) == 202
    answer = await answer_to(fake, activity["id"])
    if answer.type == "Reject":
        assert answer.activity.get("content"), answer.activity
        await assert_nothing_moved(rn, fake)
        return
    row = await exchange_row(rn, obj["id"])
    assert row is not None and row.state == "committed"
    bad = [c for c in row.description if ord(c) < 32 or ord(c) == 127]
    assert not bad, f"control characters kept in the description: {row.description!r}"
    assert row.category in CATEGORIES, row.category
