"""A node's live resources: database, HTTP client, signer.

Used both by the web application (one per app, in its cleanup context) and
by CLI commands that work without a running server, so that every action
is a plain async function over a ``Node`` that the web UI can call too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.delivery import RetryPolicy
from federation.http import ApClient, Signer, make_session
from models import migrate
from models.actors import LocalActor, get_node_actor
from models.base import make_engine, make_sessionmaker
from models.urls import Urls
from node.config import CONFIG_NAME, Config

log = logging.getLogger("coopnet.node")

#: Connections for fetches (keys, WebFinger, documents), in all and per remote host.
FETCH_CONNECTIONS = 64
FETCH_CONNECTIONS_PER_HOST = 4


class NodeError(LookupError):
    """The data directory cannot be used as it is; the message says what to do."""


def keep_private(db_file: Path) -> None:
    """The data directory 0700 and the database (which holds every private key) 0600.

    ``init`` creates them so whatever the umask; this repairs a directory
    made by an older version or loosened by hand, and says so in the log.
    """
    wanted = [(db_file.parent, 0o700)] + [
        (db_file.with_name(db_file.name + suffix), 0o600) for suffix in ("", "-wal", "-shm")
    ]
    wanted.append((db_file.parent / CONFIG_NAME, 0o600))
    for path, mode in wanted:
        try:
            current = path.stat().st_mode & 0o777
            if current & 0o077:
                path.chmod(mode)
                log.warning("%s was readable by others (%o); now %o", path, current, mode)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("cannot make %s private: %s", path, exc.strerror or exc)


def sqlite_path(url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) else None


@dataclass
class Node:
    config: Config
    urls: Urls
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    node_username: str
    signer: Signer
    http: aiohttp.ClientSession
    delivery_http: aiohttp.ClientSession
    client: ApClient
    #: Set when something was queued in this process, so the worker need not wait a poll.
    wake_delivery: asyncio.Event = field(default_factory=asyncio.Event)
    wake_inbox: asyncio.Event = field(default_factory=asyncio.Event)
    #: When each key was last refetched because a signature failed (monotonic seconds).
    key_refreshed: dict[str, float] = field(default_factory=dict)
    #: Verified keys by keyId, so a busy inbox does not read the database per request.
    key_cache: dict[str, Any] = field(default_factory=dict)
    #: Key fetches in flight by keyId: a burst signed with one new key fetches it once.
    key_fetches: dict[str, asyncio.Future[Any]] = field(default_factory=dict)
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    inbox_writer: Any = None

    def __post_init__(self) -> None:
        from node.inbox_writer import InboxWriter

        self.inbox_writer = InboxWriter(self)

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_age=timedelta(hours=self.config.delivery_max_age_hours))

    @classmethod
    async def open(cls, config: Config) -> Node:
        """Connect, bring the schema to head if it is behind (after an upgrade), load the signer.

        A missing SQLite file is an error, never silently a new empty node:
        the keys and followers are in it.
        """
        db_file = sqlite_path(config.database_url)
        if db_file is not None and not db_file.is_file():
            raise NodeError(
                f"the database {db_file} is missing; restore it from a backup "
                "(the node's keys and followers are in it), or init a new data directory"
            )
        if db_file is not None:
            keep_private(db_file)
        engine = make_engine(config.database_url)
        sessions = make_sessionmaker(engine)
        try:
            async with engine.connect() as conn:
                current = await conn.run_sync(migrate.current_revision_sync)
            if current != migrate.HEAD:
                log.info("migrating the database from %s to %s", current, migrate.HEAD)
                await migrate.upgrade_async(config.database_url)
            async with sessions() as session:
                actor: LocalActor = await get_node_actor(session)
        except Exception:
            await engine.dispose()
            raise
        urls = Urls(config.url)
        signer = Signer(urls.key_id(actor.username), actor.private_key_pem)
        agent = f"coopnet/0.1 (+{config.url}/)"
        # Two pools: fetches (keys, WebFinger, documents) answer someone who
        # is waiting and must not queue behind deliveries, nor the other way
        # round. A remote host gets a few fetch connections at a time, so a
        # slow one cannot take them all.
        http = make_session(
            allow_private=config.allow_private_addresses,
            timeout=config.http_timeout_seconds,
            limit=FETCH_CONNECTIONS,
            limit_per_host=FETCH_CONNECTIONS_PER_HOST,
            user_agent=agent,
        )
        delivery_http = make_session(
            allow_private=config.allow_private_addresses,
            timeout=config.http_timeout_seconds,
            limit=max(config.delivery_concurrency, 8),
            user_agent=agent,
        )
        client = ApClient(
            http,
            signer=signer,
            allow_private=config.allow_private_addresses,
            allow_http=config.allows_http,
            delivery_session=delivery_http,
        )
        return cls(
            config, urls, engine, sessions, actor.username, signer, http, delivery_http, client
        )

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session in a write transaction, one writer at a time in this process.

        SQLite has one writer; waiting here (an asyncio lock) costs nothing,
        while waiting in SQLite's busy handler sleeps in steps of up to 100 ms.
        Never open a write inside another write of the same task.
        """
        async with self.write_lock, self.sessions() as session, session.begin():
            yield session

    async def close(self) -> None:
        await self.http.close()
        await self.delivery_http.close()
        await self.engine.dispose()

    async def __aenter__(self) -> Node:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
