"""Wake-ups across processes: PostgreSQL's LISTEN/NOTIFY.

In one process, whatever queues work sets an ``asyncio.Event`` and the
worker wakes at once. With several processes (web and workers, on one or
many machines) the event cannot cross: a commit that queued work also sends
``NOTIFY`` (see ``Node.write``), and this listener, in every process that
runs workers, turns the notification into the same event. Polling stays as
the fallback: a lost notification (listener reconnecting) delays work by
one poll, never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from node.context import NOTIFY_CHANNELS, Node

log = logging.getLogger("coopnet.wakeups")

#: Seconds between attempts to listen again after the connection was lost.
RECONNECT_SECONDS = 2.0


def asyncpg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


async def listen(node: Node, stop: asyncio.Event) -> None:
    """Until ``stop``: set the node's wake-up events when another process notifies."""
    events = {
        NOTIFY_CHANNELS["queued_deliveries"]: node.wake_delivery,
        NOTIFY_CHANNELS["stored_inbox"]: node.wake_inbox,
    }
    dsn = asyncpg_dsn(node.config.database_url)
    while not stop.is_set():
        conn: Any = None
        try:
            conn = await asyncpg.connect(dsn, timeout=10)
            lost = asyncio.Event()
            conn.add_termination_listener(_setter(lost))
            for channel, event in events.items():
                await conn.add_listener(channel, _setter(event))
            log.debug("listening for %s", ", ".join(events))
            # Work queued while we were not listening is found by this wake-up.
            for event in events.values():
                event.set()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
            if lost.is_set() and not stop.is_set():
                log.warning("lost the database notification connection; polling until it is back")
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log.warning("cannot listen for database notifications (%s); polling meanwhile", exc)
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)
        if not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RECONNECT_SECONDS)


def _setter(event: asyncio.Event) -> Callable[..., None]:
    def on_notify(*_: object) -> None:
        event.set()

    return on_notify
