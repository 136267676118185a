"""A node's live resources: database, HTTP client, signer.

Used both by the web application (one per app, in its cleanup context) and
by CLI commands that work without a running server, so that every action
is a plain async function over a ``Node`` that the web UI can call too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.delivery import RetryPolicy
from federation.http import ApClient, Signer, make_session
from models import migrate
from models.actors import LocalActor, get_node_actor
from models.base import database_errors, make_engine, make_sessionmaker
from models.urls import Urls
from node.config import CONFIG_NAME, Config

log = logging.getLogger("coopnet.node")

#: Connections for fetches (keys, WebFinger, documents), in all and per remote host.
FETCH_CONNECTIONS = 64
FETCH_CONNECTIONS_PER_HOST = 4


#: Seconds a process trusts its copy of the blocked domains.
BLOCKS_TTL = 30.0


class NodeError(LookupError):
    """The data directory cannot be used as it is; the message says what to do."""


def keep_private(data_dir: Path, db_file: Path | None) -> None:
    """The data directory 0700, its config (it may hold the database password) and
    an SQLite database (it holds every private key) 0600.

    ``init`` creates them so whatever the umask; this repairs a directory
    made by an older version or loosened by hand, and says so in the log.
    """
    wanted = [(data_dir, 0o700), (data_dir / CONFIG_NAME, 0o600)]
    if db_file is not None:
        wanted += [
            (db_file.with_name(db_file.name + suffix), 0o600) for suffix in ("", "-wal", "-shm")
        ]
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


#: Session flags set by what queues work, and the channel each one notifies.
NOTIFY_CHANNELS = {"queued_deliveries": "coopnet_delivery", "stored_inbox": "coopnet_inbox"}


class _NoQueue:
    """PostgreSQL: writers do not queue in the process."""

    @contextlib.asynccontextmanager
    async def turn(self, urgent: bool = False) -> AsyncIterator[None]:
        yield


def behind_message(config: Config, current: str | None) -> str:
    if current is None:
        return (
            f"the database of {config.data_dir} is empty; create a node with coopnet init, "
            "or restore a backup with coopnet restore"
        )
    return (
        f"the database of {config.data_dir} is at schema {current}, this coopnet needs "
        f"{migrate.HEAD}: back it up (coopnet backup), then run "
        f"coopnet migrate --data {config.data_dir}"
    )


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
    inbox_writer: Any = None
    _writers: Any = None
    #: Blocked domains (models/network/blocks.py), re-read at most every
    #: BLOCKS_TTL seconds: another process's block takes effect here by then.
    blocked: frozenset[str] = frozenset()
    blocks_read_at: float = -1e9

    def __post_init__(self) -> None:
        from node.inbox_writer import InboxWriter

        self.inbox_writer = InboxWriter(self)
        if self.engine.dialect.name == "sqlite":
            from models.sqlite import WriterQueue

            self._writers = WriterQueue()
        else:
            self._writers = _NoQueue()

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_age=timedelta(hours=self.config.delivery_max_age_hours))

    @classmethod
    async def open(cls, config: Config) -> Node:
        """Connect, check the schema is this version's, load the signer.

        A missing SQLite file is an error, never silently a new empty node:
        the keys and followers are in it. A schema behind (after an upgrade)
        is an error naming ``coopnet migrate``: with several processes on one
        database, migrating is a step of its own, never a side effect of
        starting one of them.
        """
        db_file = sqlite_path(config.database_url)
        if db_file is not None and not db_file.is_file():
            raise NodeError(
                f"the database {db_file} is missing; restore it from a backup "
                "(the node's keys and followers are in it), or init a new data directory"
            )
        keep_private(config.data_dir, db_file)
        engine = make_engine(config.database_url)
        sessions = make_sessionmaker(engine)
        try:
            try:
                async with engine.connect() as conn:
                    current = await conn.run_sync(migrate.current_revision_sync)
            except database_errors() as exc:
                raise NodeError(
                    f"cannot reach the database of {config.data_dir}: {exc}; is the "
                    "database server running, and [database] url right?"
                ) from exc
            if current != migrate.HEAD:
                raise NodeError(behind_message(config, current))
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
        node = cls(
            config, urls, engine, sessions, actor.username, signer, http, delivery_http, client
        )
        client.refuse = node.refuses
        try:
            await node.refresh_blocks(force=True)
        except Exception:
            await node.close()
            raise
        return node

    async def refresh_blocks(self, *, force: bool = False) -> frozenset[str]:
        """The blocked domains, from the database when the copy here is stale."""
        from models.network.blocks import blocked_domains

        now = time.monotonic()
        if force or now - self.blocks_read_at > BLOCKS_TTL:
            async with self.sessions() as session:
                self.blocked = await blocked_domains(session)
            self.blocks_read_at = now
        return self.blocked

    def refuses(self, url: str) -> str | None:
        """Why a request to or from ``url`` is refused by a block, or None."""
        from models.network.blocks import url_blocked

        if not self.blocked:
            return None
        entry = url_blocked(self.blocked, url)
        return f"the domain {entry} is blocked by this node" if entry else None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextlib.asynccontextmanager
    async def write(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """A session in a write transaction; committed when the block ends.

        On SQLite, one writer at a time in this process (models/sqlite.py);
        ``urgent`` goes before waiting writers (someone waits for the answer).
        On PostgreSQL, a change that queued deliveries or inbox items also
        notifies (``NOTIFY``, sent on commit), so that workers in other
        processes wake at once. Never open a write inside another write of
        the same task.
        """
        async with self._writers.turn(urgent), self.sessions() as session, session.begin():
            yield session
            if not self.is_sqlite:
                for flag, channel in NOTIFY_CHANNELS.items():
                    if session.info.get(flag):
                        await session.execute(select(func.pg_notify(channel, "")))

    async def close(self) -> None:
        await self.http.close()
        await self.delivery_http.close()
        await self.engine.dispose()

    async def __aenter__(self) -> Node:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
