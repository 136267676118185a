"""What a node can be asked to do: one async function per action.

The CLI calls these today and the web interface will call the same ones;
each opens its own transaction and either commits the whole change (with
the deliveries it causes) or nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from federation.http import ApClient, FetchError, make_session
from federation.inbox import KeyGone, KeyInfo, KeyResolver, fetch_key
from federation.webfinger import WebFingerError, check_round_trip, lookup, parse_acct
from models import migrate
from models.accounts import Principal
from models.actors import (
    ActorDocumentError,
    LocalActor,
    RemoteActor,
    create_local_actor,
    get_local_actor,
    get_node_actor,
    get_remote_actor_by_key,
    upsert_remote_actor,
)
from models.base import database_errors, is_sqlite, make_engine, make_sessionmaker, utcnow
from models.errors import UserError
from models.follows import Following, FollowingState
from models.html import text_to_html
from models.outbox import (
    Delivery,
    DeliveryState,
    delivery_counts,
    enqueue,
    list_deliveries,
    new_uuid,
    retry_dead,
)
from models.posts import LocalObject, publish_note
from models.to_ap import follow_activity
from node.config import CONFIG_NAME, DB_NAME, Config
from node.context import Node

log = logging.getLogger("coopnet.actions")

KEY_REFRESH_SECONDS = 30.0
#: Keys stay in memory this long; a failed signature evicts at once (rotation).
KEY_CACHE_SECONDS = 3600.0
KEY_CACHE_SIZE = 10_000


class ActionError(UserError):
    """A user-facing failure: the message says what went wrong and what to do.

    Part of the ``UserError`` family, so a page shows it as it is (4xx)
    rather than as a bug (500).
    """


#: Suffix of the database while ``init`` builds it: only a file of that name
#: is ever removed, so init never deletes a node's database.
BUILDING = ".init-tmp"


def _prepare_data_dir(data_dir: Path) -> None:
    """A private data directory with no node in it (refused otherwise, nothing changed)."""
    if (data_dir / CONFIG_NAME).exists():
        raise ActionError(
            f"{data_dir} is already initialised ({CONFIG_NAME} exists); nothing changed"
        )
    database = data_dir / DB_NAME
    if any((data_dir / (DB_NAME + s)).exists() for s in ("", "-wal", "-shm")):
        raise ActionError(
            f"{data_dir} holds a database ({DB_NAME}) but no {CONFIG_NAME}. If you are "
            f"restoring a backup, put its {CONFIG_NAME} back beside the database; to start a "
            f"new node instead, move {database} away first. Nothing was changed."
        )
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        data_dir.chmod(0o700)
    except OSError as exc:
        raise ActionError(f"cannot create {data_dir}: {exc.strerror or exc}") from exc


def _start_sqlite_file(data_dir: Path) -> Path:
    """The file to build the SQLite database in, created private."""
    building = data_dir / (DB_NAME + BUILDING)
    try:
        for suffix in ("", "-wal", "-shm", "-journal"):
            # Leftovers of an init that died before it finished.
            (data_dir / (DB_NAME + BUILDING + suffix)).unlink(missing_ok=True)
        # Created private before SQLite opens it; SQLite gives its -wal and
        # -shm files the database's own permissions.
        os.close(os.open(building, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as exc:
        raise ActionError(f"cannot create {building}: {exc.strerror or exc}") from exc
    return building


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig or getattr(exc, "strerror", None) or exc)


async def _create_node(db_url: str, config: Config) -> None:
    """Schema at head, then the node actor with its keys, in a database with no node."""
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            revision = await conn.run_sync(migrate.current_revision_sync)
            holder = await conn.run_sync(migrate.node_actor_sync) if revision else None
    except database_errors() as exc:
        await engine.dispose()
        raise ActionError(f"cannot use the database: {_reason(exc)}") from exc
    if holder is not None:
        await engine.dispose()
        raise ActionError(
            f"the database already holds a coopnet node (@{holder}). To run it, restore its "
            f"{CONFIG_NAME} (coopnet restore); to start a new node, give an empty database. "
            "Nothing was changed."
        )
    try:
        await migrate.upgrade_async(db_url)
        async with make_sessionmaker(engine)() as session, session.begin():
            await create_local_actor(
                session,
                config.name,
                type_="Organization",
                name=config.title,
                summary=f"{config.title} : {'siège' if config.role == 'seat' else 'section'} "
                "du réseau coopnet.",
                is_node=True,
            )
    finally:
        await engine.dispose()


async def init_node(
    data_dir: Path,
    url: str,
    name: str,
    role: str,
    title: str | None = None,
    seat: str | None = None,
    database: str | None = None,
) -> Config:
    """Create a data directory: database at head, node actor with its key, then the config.

    SQLite (the default): the database is built under a temporary name and
    renamed when complete. PostgreSQL (``database``): the database must
    exist and hold no node. The config is written last, as it is what marks
    a directory as initialised: an init that fails half-way can simply be
    run again, and an existing node's database is never touched. ``seat`` is
    the network's seat actor URL, the trust anchor of a section (already
    resolved).
    """
    config = Config.new(data_dir, url, name, role, title, database=database)
    if seat:
        config.network_seat = seat
    _prepare_data_dir(data_dir)
    if not is_sqlite(config.database_url):
        await _create_node(config.database_url, config)
        config.save()
        return config
    building = _start_sqlite_file(data_dir)
    try:
        await _create_node(f"sqlite+aiosqlite:///{building}", config)
        for suffix in ("-wal", "-shm", ""):
            part = data_dir / (DB_NAME + BUILDING + suffix)
            if part.exists():
                part.rename(data_dir / (DB_NAME + suffix))
    except BaseException:
        for suffix in ("", "-wal", "-shm", "-journal"):
            (data_dir / (DB_NAME + BUILDING + suffix)).unlink(missing_ok=True)
        raise
    config.save()
    return config


async def resolve_seat(target: str, config: Config) -> str:
    """The seat's actor URL, for ``init --seat``: a URL as given, an account by WebFinger.

    Done before anything is created, with a client of its own (there is no
    node yet); an account that cannot be resolved stops init.
    """
    target = target.strip()
    if target.startswith(("https://", "http://")):
        parts = urlsplit(target)
        if not parts.hostname:
            raise ActionError(f"--seat {target!r} is not an actor URL")
        return target
    parsed = parse_acct(target)
    if parsed is None:
        raise ActionError(f"--seat {target!r} is neither name@host nor an http(s) actor URL")
    http = make_session(allow_private=config.allow_private_addresses, timeout=10.0, limit=4)
    try:
        client = ApClient(
            http,
            signer=None,
            allow_private=config.allow_private_addresses,
            allow_http=config.allows_http,
        )
        url = await lookup(client, target, scheme=_scheme_for_config(config, parsed[1]))
        doc = await client.fetch_object(url)
        await check_round_trip(client, doc, scheme=urlsplit(url).scheme)
    except (FetchError, WebFingerError) as exc:
        raise ActionError(
            f"cannot resolve the seat {target}: {exc}; give its actor URL instead "
            "(https://host/users/name), or try again when it answers"
        ) from exc
    finally:
        await http.close()
    return url


async def post_note(
    node: Node, text: str, *, by: Principal, once_within: timedelta | None = None
) -> LocalObject:
    """A public Note from the node actor (a coordinator speaks for the section).

    With ``once_within``, the same text posted that recently is returned
    instead of posted again (a form sent twice reaches followers once); the
    node actor's row is locked first, as for bulletins.
    """
    by.require_coordinator()
    async with node.write() as session:
        actor = await get_node_actor(session)
        if once_within is not None:
            await session.execute(
                select(LocalActor.id).where(LocalActor.id == actor.id).with_for_update()
            )
            same = await session.scalar(
                select(LocalObject)
                .where(
                    LocalObject.local_actor_id == actor.id,
                    LocalObject.type == "Note",
                    LocalObject.deleted_at.is_(None),
                    LocalObject.content == text_to_html(text.strip()),
                    LocalObject.published >= utcnow() - once_within,
                )
                .limit(1)
            )
            if same is not None:
                return same
        obj, _ = await publish_note(session, node.urls, actor, text)
    node.wake_delivery.set()
    return obj


def _scheme_for(node: Node, host: str) -> str:
    return _scheme_for_config(node.config, host)


def _scheme_for_config(config: Config, host: str) -> str:
    """Plain http only between local (loopback) nodes; https everywhere else."""
    hostname = host.rsplit(":", 1)[0].strip("[]") if ":" in host else host
    if config.allows_http:
        try:
            if ipaddress.ip_address(hostname).is_loopback:
                return "http"
        except ValueError:
            if hostname == "localhost":
                return "http"
    return "https"


async def resolve_actor(node: Node, target: str) -> RemoteActor:
    """An account address or actor URL to a stored remote actor, fetched fresh."""
    return (await resolve_actor_doc(node, target))[0]


async def resolve_actor_doc(node: Node, target: str) -> tuple[RemoteActor, dict[str, Any]]:
    """Like resolve_actor, with the actor document as fetched."""
    target = target.strip()
    try:
        if target.startswith(("http://", "https://")):
            url = target
        else:
            parsed = parse_acct(target)
            if parsed is None:
                raise ActionError(f"{target!r} is neither name@host nor an http(s) actor URL")
            url = await lookup(node.client, target, scheme=_scheme_for(node, parsed[1]))
        doc = await node.client.fetch_object(url)
        if parse_acct(target) is not None:
            await check_round_trip(node.client, doc, scheme=urlsplit(url).scheme)
        async with node.write() as session:
            return await upsert_remote_actor(session, doc), doc
    except (FetchError, WebFingerError, ActorDocumentError) as exc:
        raise ActionError(f"cannot reach {target}: {exc}") from exc


async def follow(node: Node, target: str, *, by: Principal) -> tuple[RemoteActor, Following]:
    """Queue a Follow from the node actor; state stays 'pending' until the Accept arrives."""
    by.require_coordinator()
    remote = await resolve_actor(node, target)
    if node.urls.is_local(remote.uri):
        raise ActionError("a node cannot follow itself")
    async with node.write() as session:
        actor = await get_node_actor(session)
        row = (
            await session.execute(
                select(Following).where(
                    Following.local_actor_id == actor.id, Following.remote_actor_id == remote.id
                )
            )
        ).scalar_one_or_none()
        if row is not None and row.state == FollowingState.ACCEPTED:
            return remote, row
        follow_uri = node.urls.activity(new_uuid())
        if row is None:
            row = Following(
                local_actor_id=actor.id, remote_actor_id=remote.id, follow_uri=follow_uri
            )
            session.add(row)
        else:
            row.move_to(FollowingState.PENDING)
            row.follow_uri = follow_uri
        await enqueue(
            session,
            actor,
            follow_activity(node.urls, actor, remote.uri, follow_uri),
            [remote.inbox],
        )
    node.wake_delivery.set()
    return remote, row


def key_resolver(node: Node) -> KeyResolver:
    """The inbox's key lookup: cache first; fetch (and store the actor) on a miss or refresh."""

    async def resolve(key_id: str, refresh: bool) -> KeyInfo | None:
        if not refresh:
            hit = node.key_cache.get(key_id)
            if hit is not None and hit[1] > time.monotonic():
                return hit[0]  # type: ignore[no-any-return]
            async with node.sessions() as session:
                cached = await get_remote_actor_by_key(session, key_id)
                if cached is not None and cached.public_key_pem and cached.deleted_at is None:
                    return remember(KeyInfo(key_id, cached.uri, cached.public_key_pem))
                username = node.urls.local_username(key_id.split("#", 1)[0])
                local = await get_local_actor(session, username) if username else None
                if local is not None and key_id == node.urls.key_id(local.username):
                    return KeyInfo(key_id, node.urls.actor(local.username), local.public_key_pem)
        else:
            node.key_cache.pop(key_id, None)
            # A failed signature refetches the key, at most once per key per
            # KEY_REFRESH_SECONDS: bad signatures must not make us hammer a server.
            now = time.monotonic()
            last = node.key_refreshed.get(key_id)
            if last is not None and now - last < KEY_REFRESH_SECONDS:
                return None
            node.key_refreshed[key_id] = now
            if len(node.key_refreshed) > 10_000:
                node.key_refreshed.clear()
        return await shared_fetch(key_id)

    async def shared_fetch(key_id: str) -> KeyInfo | None:
        """One fetch per keyId at a time: a burst signed with a new key waits on
        the same fetch instead of opening one connection per request."""
        running = node.key_fetches.get(key_id)
        if running is None:
            running = asyncio.ensure_future(fetch_and_store(key_id))
            node.key_fetches[key_id] = running

            def done(future: asyncio.Future[KeyInfo | None]) -> None:
                node.key_fetches.pop(key_id, None)
                if not future.cancelled():
                    future.exception()  # retrieved here even if every waiter left

            running.add_done_callback(done)
        # Shielded: one sender hanging up does not cancel the fetch for the others.
        result: KeyInfo | None = await asyncio.shield(running)
        return result

    async def fetch_and_store(key_id: str) -> KeyInfo | None:
        try:
            info, doc = await fetch_key(node.client, key_id)
        except KeyGone:
            raise
        except FetchError as exc:
            log.warning("key %s: %s", key_id, exc)
            return None
        try:
            async with node.write() as session:
                await upsert_remote_actor(session, doc, key_id=key_id)
        except ActorDocumentError as exc:
            log.warning("key %s: %s", key_id, exc)
            return None
        return remember(info)

    def remember(info: KeyInfo) -> KeyInfo:
        if len(node.key_cache) >= KEY_CACHE_SIZE:
            node.key_cache.clear()
        node.key_cache[info.key_id] = (info, time.monotonic() + KEY_CACHE_SECONDS)
        return info

    return resolve


@dataclass(frozen=True)
class Relation:
    handle: str
    uri: str
    state: str
    since: str


async def list_followers(node: Node, *, by: Principal, limit: int | None = None) -> list[Relation]:
    from models.follows import list_followers as _list

    by.require_coordinator()
    async with node.sessions() as session:
        actor = await get_node_actor(session)
        return [
            Relation(r.handle, r.uri, "accepted", f.created_at.isoformat(timespec="seconds"))
            for f, r in await _list(session, actor.id, limit)
        ]


async def list_following(node: Node, *, by: Principal, limit: int | None = None) -> list[Relation]:
    from models.follows import list_following as _list

    by.require_coordinator()
    async with node.sessions() as session:
        actor = await get_node_actor(session)
        return [
            Relation(r.handle, r.uri, f.state, f.created_at.isoformat(timespec="seconds"))
            for f, r in await _list(session, actor.id, limit)
        ]


async def relation_counts(node: Node, *, by: Principal) -> tuple[int, int]:
    """How many follow the node, and how many it follows (any state)."""
    from sqlalchemy import func

    from models.follows import Follower

    by.require_coordinator()
    async with node.sessions() as session:
        actor = await get_node_actor(session)
        followers = await session.scalar(
            select(func.count()).select_from(Follower).where(Follower.local_actor_id == actor.id)
        )
        following = await session.scalar(
            select(func.count()).select_from(Following).where(Following.local_actor_id == actor.id)
        )
    return int(followers or 0), int(following or 0)


@dataclass(frozen=True)
class DeliveryReport:
    """The delivery queue at a glance: how many rows in each state, and some of them."""

    counts: dict[str, int]
    rows: list[Delivery]

    @property
    def dead(self) -> int:
        return self.counts.get(DeliveryState.DEAD, 0)


async def deliveries(
    node: Node, *, by: Principal, state: DeliveryState | None = None, limit: int = 50
) -> DeliveryReport:
    """Counts per state and the latest ``limit`` rows (of ``state`` only, if given)."""
    by.require_coordinator()
    async with node.sessions() as session:
        counts = await delivery_counts(session)
        rows = await list_deliveries(session, state, max(1, min(limit, 1000)))
    return DeliveryReport(counts, rows)


async def delivery_counts_of(node: Node, *, by: Principal) -> dict[str, int]:
    by.require_coordinator()
    async with node.sessions() as session:
        return await delivery_counts(session)


async def retry_dead_deliveries(node: Node, *, by: Principal) -> int:
    """Queue every dead delivery again (after the peer is fixed); returns how many."""
    by.require_coordinator()
    async with node.write() as session:
        n = await retry_dead(session, utcnow())
        # Workers in other processes (PostgreSQL) hear of it on commit.
        session.info["queued_deliveries"] = n > 0
    if n:
        node.wake_delivery.set()
    return n
