"""Group commit for the inbox: requests that arrive together share one transaction.

SQLite commits one transaction at a time; committing each inbox POST alone
caps ingest at the commit rate. Here the first request starts a writer
task and the ones arriving while it commits queue up; the next round takes
them all in one transaction. No request waits longer than one commit, and
each still gets its answer only once its activity is durably stored.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from models.inbox import store_incoming_many

if TYPE_CHECKING:
    from node.context import Node

MAX_BATCH = 500

Pending = tuple[dict[str, Any], bytes, str, "asyncio.Future[bool]"]


class InboxWriter:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.pending: list[Pending] = []
        self.task: asyncio.Task[None] | None = None

    async def store(self, activity: dict[str, Any], raw: bytes, actor: str) -> bool:
        """True if the activity is new; returns after the commit that holds it."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.pending.append((activity, raw, actor, future))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._drain(), name="inbox-writer")
        return await future

    async def _drain(self) -> None:
        while self.pending:
            batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
            try:
                async with self.node.write(urgent=True) as session:
                    results = await store_incoming_many(
                        session, [(activity, raw, actor) for activity, raw, actor, _ in batch]
                    )
            except Exception as exc:  # the requests answer 500; nothing was stored
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (*_, future), new in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(new)
