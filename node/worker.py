"""The queue workers: deliveries out, inbox items in, periodic chores.

``run_once`` is the real API (tests step the world with it): do what is
due, return how many. ``run_forever`` only loops, sleeping until the next
poll or until something queued in this process wakes it. On shutdown the
batch in flight finishes and is recorded; anything not yet answered stays
``pending`` in the database and goes out after the restart.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update

from federation.delivery import Outcome, Verdict, classify, next_attempt
from federation.http import Signer
from federation.vocab import strip_fragment
from models.actors import get_node_actor
from models.base import utcnow
from models.inbox import BatchCache, InboxItem, InboxState, claim_pending, process_item
from models.network.alliance_protocol import trusted_seat
from models.offers import expire_due_offers
from models.outbox import Delivery, DeliveryState, claim_due
from models.sel.origin import reask_overdue
from node.certification import check_announced
from node.charter.polls import poll_chores
from node.context import Node
from node.network.backfill import backfill_soon, directory_chores

log = logging.getLogger("coopnet.delivery")
inbox_log = logging.getLogger("coopnet.inbox")


class DeliveryWorker:
    def __init__(self, node: Node, *, batch: int | None = None) -> None:
        self.node = node
        self.concurrency = node.config.delivery_concurrency
        self.batch = batch or max(self.concurrency * 2, 16)
        # A claimed row is ours for this long; a worker killed mid-send
        # releases it by expiry (then it is sent again: at least once).
        self.lease = timedelta(seconds=node.config.delivery_lease_seconds)
        self._sem = asyncio.Semaphore(self.concurrency)
        # Lanes of one worker claim one at a time: SQLite has no SKIP LOCKED, and
        # two overlapping claim transactions could lease the same rows.
        self._claiming = asyncio.Lock()

    async def _send(self, delivery: Delivery) -> Outcome:
        activity = delivery.activity
        actor = activity.actor
        signer = Signer(self.node.urls.key_id(actor.username), actor.private_key_pem)
        async with self._sem:
            return await self.node.client.post_activity(
                delivery.inbox, activity.body.encode("utf-8"), signer
            )

    async def run_once(self) -> int:
        now = utcnow()
        async with self._claiming, self.node.write() as session:
            due = await claim_due(session, now, self.batch, self.lease)
        if not due:
            return 0
        # Ordered rows go one inbox at a time, in order, stopping at the first
        # failure (the rest are released untried); the others all at once.
        runs: dict[str, list[Delivery]] = {}
        for d in due:
            if d.activity.ordered:
                runs.setdefault(d.inbox, []).append(d)
        results: dict[int, Outcome | None] = {}

        async def one(d: Delivery) -> None:
            results[d.id] = await self._send(d)

        async def in_order(run: list[Delivery]) -> None:
            for d in run:
                outcome = await self._send(d)
                results[d.id] = outcome
                if classify(outcome) is not Verdict.DELIVERED:
                    break

        tasks = [
            *(asyncio.ensure_future(one(d)) for d in due if not d.activity.ordered),
            *(asyncio.ensure_future(in_order(run)) for run in runs.values()),
        ]
        # The batch is recorded within its lease: past that, another worker may
        # claim the rows again. Sends still running then are given up (their
        # rows released untried, so an ordered run resumes where it stopped).
        _, late = await asyncio.wait(tasks, timeout=self.lease.total_seconds() * 0.75)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)
            log.warning("%d send(s) still running at the end of the lease; released", len(late))
        outcomes = [results.get(d.id) for d in due]
        now = utcnow()
        async with self.node.write() as session:
            rows = {
                r.id: r
                for r in (
                    await session.execute(
                        select(Delivery).where(Delivery.id.in_([d.id for d in due]))
                    )
                )
                .unique()
                .scalars()
            }
            for d, outcome in zip(due, outcomes, strict=True):
                row = rows.get(d.id)
                if row is None:
                    continue
                if outcome is None:  # an ordered row behind a failure: not tried
                    row.locked_until = None
                    continue
                try:
                    self._record(row, outcome, now)
                except Exception:
                    # One odd answer must not roll back the whole batch (which
                    # would re-send every delivered row when the lease expires).
                    log.exception("cannot record the delivery to %s; retrying later", row.inbox)
                    row.locked_until = None
                    row.next_attempt_at = now + self.node.retry_policy.cap
        return len(due)

    def _record(self, row: Delivery, outcome: Outcome, now: datetime) -> None:
        row.attempts += 1
        row.last_status = outcome.status
        row.last_error = outcome.error
        row.locked_until = None
        verdict = classify(outcome)
        what = f"HTTP {outcome.status}" if outcome.status else outcome.error
        if verdict is Verdict.DELIVERED:
            row.move_to(DeliveryState.DELIVERED)
            row.finished_at = now
            log.debug("delivered %s to %s", row.activity.type, row.inbox)
            return
        when = (
            next_attempt(row.attempts, outcome, now, row.created_at, self.node.retry_policy)
            if verdict is Verdict.RETRY
            else None
        )
        if when is None:
            row.move_to(DeliveryState.DEAD)
            row.finished_at = now
            log.warning(
                "gave up delivering %s to %s after %d attempt(s): %s",
                row.activity.type,
                row.inbox,
                row.attempts,
                what,
            )
        else:
            row.next_attempt_at = when
            log.info(
                "delivery of %s to %s failed (%s); attempt %d, next at %s",
                row.activity.type,
                row.inbox,
                what,
                row.attempts,
                when.isoformat(timespec="seconds"),
            )

    async def run_forever(self, stop: asyncio.Event, lanes: int = 3) -> None:
        """Several lanes claim and send in turn, so the queue never drains to zero
        while one batch waits for its slowest inbox. The semaphore still bounds
        deliveries in flight to ``concurrency``; leases keep lanes' rows disjoint."""
        await asyncio.gather(*(self._lane(stop) for _ in range(lanes)))

    async def _lane(self, stop: asyncio.Event) -> None:
        poll = self.node.config.delivery_poll_seconds
        while not stop.is_set():
            try:
                n = await self.run_once()
            except Exception:
                log.exception("delivery worker error; retrying in %.1fs", poll)
                n = 0
            if n:
                continue
            self.node.wake_delivery.clear()
            await _sleep_until(poll, stop, self.node.wake_delivery)


def _error_of(state: str, result: str | None) -> str | None:
    """What an item's ``error`` column keeps: why it was ignored, or why it failed."""
    if state == InboxState.FAILED:
        return (result or "")[:1000]
    return result if result and result.startswith("ignored") else None


class InboxWorker:
    def __init__(self, node: Node, *, batch: int = 100) -> None:
        self.node = node
        self.batch = batch
        #: Allies whose offers to read once the batch that accepted them committed.
        self._backfills: set[str] = set()

    async def run_once(self) -> int:
        """Process a batch in one transaction; returns how many items.

        One commit per batch instead of one per activity, and no savepoint
        per item on the way: when an item raises, the whole batch rolls back
        and is processed again with each item in its own savepoint, so the
        failing one is marked failed and the others go through.
        """
        try:
            items, queued, checks = await self._batch(isolate=False)
        except Exception as exc:
            inbox_log.info("an item of the batch failed (%s); going through it item by item", exc)
            items, queued, checks = await self._batch(isolate=True)
        if queued:
            # A Follow queued an Accept (an Offer its answer): send it now, not at the next poll.
            self.node.wake_delivery.set()
        if checks:
            # The seat announced an authorisation: fetch and check it now,
            # outside the batch's transaction.
            await check_announced(self.node)
        # Alliances accepted in the batch: read the new allies' offers now.
        for peer_uri in sorted(self._backfills):
            backfill_soon(self.node, peer_uri)
        self._backfills.clear()
        return items

    async def _batch(self, *, isolate: bool) -> tuple[int, bool, bool]:
        outcomes: list[tuple[InboxItem, str, str | None]] = []
        async with self.node.write() as session:
            items = await claim_pending(session, self.batch)
            # One sender's activities keep their order; different senders' are grouped,
            # so that every worker's batch locks the rows it shares with others (a
            # sender's follower row...) in the same order, and two batches wait for each
            # other instead of deadlocking. Arrival order across senders means nothing.
            items.sort(key=lambda item: (item.actor_uri, item.id))
            batch = BatchCache()
            # The configured seat, else the seat this section allied with.
            seat = await trusted_seat(session, self.node.config.network_seat)
            confirm = self.node.config.sel_confirm_incoming
            for item in items:
                if not isolate:
                    result = await process_item(
                        session, self.node.urls, item, batch, seat, sel_confirm=confirm
                    )
                    outcomes.append((item, InboxState.DONE, result))
                    continue
                try:
                    async with session.begin_nested():
                        result = await process_item(
                            session, self.node.urls, item, batch, seat, sel_confirm=confirm
                        )
                except Exception as exc:
                    batch = BatchCache()  # the savepoint's rollback expired what it had loaded
                    if _concurrent_conflict(exc):
                        # Another worker's batch held a row this item needed (PostgreSQL
                        # chose this one to end a deadlock): nothing of it was kept, and
                        # it is not the activity's fault. It stays pending for a later batch.
                        inbox_log.warning(
                            "inbox item %s met another worker's batch (%s); trying it again",
                            item.activity_uri,
                            type(getattr(exc, "orig", exc)).__name__,
                        )
                        continue
                    inbox_log.exception("failed to process inbox item %s", item.activity_uri)
                    outcomes.append((item, InboxState.FAILED, f"{type(exc).__name__}: {exc}"))
                    continue
                outcomes.append((item, InboxState.DONE, result))
            # The items' new states in one statement at the end: marking each
            # as it is done would make every later query flush an UPDATE first.
            if outcomes:
                now = utcnow()
                await session.execute(
                    update(InboxItem),
                    [
                        {
                            "id": item.id,
                            "state": state,
                            "processed_at": now,
                            "error": _error_of(state, line),
                        }
                        for item, state, line in outcomes
                    ],
                )
            queued = bool(session.info.get("queued_deliveries", False))
            checks = bool(session.info.get("queued_checks", False))
            self._backfills |= set(session.info.get("backfill_peers", ()))
        # Logged once committed: a batch that rolled back did nothing.
        for item, state, line in outcomes:
            if state == InboxState.DONE:
                inbox_log.info(
                    "%s %s from %s: %s",
                    item.type,
                    item.activity_uri,
                    strip_fragment(item.actor_uri),
                    line,
                )
        return len(items), queued, checks

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                n = await self.run_once()
            except Exception:
                inbox_log.exception("inbox worker error")
                n = 0
            if n:
                continue
            self.node.wake_inbox.clear()
            await _sleep_until(self.node.config.delivery_poll_seconds, stop, self.node.wake_inbox)


def _concurrent_conflict(exc: BaseException) -> bool:
    """A PostgreSQL error of class 40, "transaction rollback" (deadlock detected,
    serialisation failure): a collision with another transaction, gone on a retry."""
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(code, str) and code.startswith("40")


async def _sleep_until(seconds: float, stop: asyncio.Event, wake: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


class MaintenanceWorker:
    """Periodic chores: offers whose validity ended are expired (a Delete federates);
    polls whose closing time has come are closed, and the Updates of poll counts
    held back (at most one a minute per poll) go out;
    SEL exchanges held past their expiry are asked about again; authorisation
    checks that could not reach the seat are tried again."""

    def __init__(self, node: Node, *, interval: float = 60.0) -> None:
        self.node = node
        self.interval = interval

    async def run_once(self) -> int:
        now = utcnow()
        # Authorisation checks whose issuer could not be reached are retried here.
        checked = await check_announced(self.node)
        async with self.node.write() as session:
            expired = await expire_due_offers(session, self.node.urls, now)
            asked = await reask_overdue(session, self.node.urls, await get_node_actor(session), now)
        # Polls whose time has come close; the Updates of counts that waited go out.
        closed, updates = await poll_chores(self.node, now)
        # The offer directory: ended and unallied offers go; new allies' offers are read.
        listed = await directory_chores(self.node, now)
        if closed:
            log.info("%d poll(s) closed at their closing time; the result is published", closed)
        if expired:
            log.info("%d offer(s) expired; followers are told", expired)
        if asked:
            log.info("asked peers again about %d SEL exchange(s) past their expiry", asked)
        if expired or asked:
            self.node.wake_delivery.set()
        return checked + expired + asked + closed + updates + listed

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("maintenance error")
            await _sleep_until(self.interval, stop, asyncio.Event())


def start_workers(node: Node, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    """Every queue worker of a node, as tasks that end when ``stop`` is set.

    On PostgreSQL a listener also turns other processes' NOTIFY into wake-ups.
    """
    tasks = [
        asyncio.create_task(DeliveryWorker(node).run_forever(stop), name="delivery"),
        asyncio.create_task(InboxWorker(node).run_forever(stop), name="inbox"),
        asyncio.create_task(MaintenanceWorker(node).run_forever(stop), name="chores"),
    ]
    if not node.is_sqlite:
        from node.wakeups import listen

        tasks.append(asyncio.create_task(listen(node, stop), name="wakeups"))
    return tasks


#: Seconds a stopping worker has to finish and record the batch in flight.
STOP_GRACE = 15.0


async def stop_workers(tasks: list[asyncio.Task[None]]) -> None:
    """Let the batches in flight finish and be recorded; cancel what is still running."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=STOP_GRACE)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=5)
